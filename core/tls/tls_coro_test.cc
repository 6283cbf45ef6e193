// The coroutine layer over TLS: the same co_await code as over plain bytes,
// plus co_await handshake() and co_await start_tls(). The in-memory pipe is
// the driver, a ManualExecutor the loop.

#include <functional>
#include <optional>
#include <string>

#include "core/coro/async_connection.h"
#include "core/coro/stream_exceptions.h"
#include "core/coro/task.h"
#include "core/testing/manual_executor.h"
#include "core/testing/memory_pipe.h"
#include "core/tls/testing/test_certs.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using testing::make_client_context;
using testing::make_server_context;
using testing::ManualExecutor;
using testing::MemoryPipe;
using testing::test_pki;

TlsOptions ClientTls(std::string host = "localhost") {
  return TlsOptions{.context = make_client_context(test_pki()), .role = TlsRole::kClient,
                    .server_hostname = std::move(host)};
}
TlsOptions ServerTls() {
  return TlsOptions{.context = make_server_context(test_pki()), .role = TlsRole::kServer};
}

class TlsCoroTest : public ::testing::Test {
 protected:
  TlsCoroTest(ConnectionOptions client, ConnectionOptions server)
      : client_(ex_, std::move(client)),
        server_(ex_, std::move(server)),
        pipe_(client_.connection(), server_.connection()) {
    pipe_.set_sink(MemoryPipe::kA, [this](Completions c) { client_.dispatch(std::move(c)); });
    pipe_.set_sink(MemoryPipe::kB, [this](Completions c) { server_.dispatch(std::move(c)); });
  }
  TlsCoroTest()
      : TlsCoroTest(ConnectionOptions{.tls = ClientTls()}, ConnectionOptions{.tls = ServerTls()}) {}

  // Runs rounds until done() holds; false if everything went quiet first.
  bool RunUntil(const std::function<bool()>& done) {
    while (!done()) {
      const std::size_t ran = ex_.run_queued();
      const bool pumped = pipe_.pump();
      if (ran == 0 && !pumped && ex_.queued() == 0) return done();
    }
    return true;
  }

  ManualExecutor ex_;
  AsyncConnection client_;
  AsyncConnection server_;
  MemoryPipe pipe_;
};

Task<int> EchoLines(AsyncConnection& c) {
  co_await c.handshake();
  int lines = 0;
  while (std::optional<std::string> line = co_await c.reader().next_line()) {
    c.writer().write(std::move(*line));
    co_await c.writer().drain();
    ++lines;
  }
  c.writer().close();
  co_await c.writer().wait_closed();
  co_return lines;
}

std::string Line(int i) { return "line " + std::to_string(i) + "\n"; }

Task<int> SendAndCheckLines(AsyncConnection& c, int n) {
  co_await c.handshake();
  int good = 0;
  for (int i = 0; i < n; ++i) {
    c.writer().write(Line(i));
    co_await c.writer().drain();
    if (co_await c.reader().readline() == Line(i)) ++good;
  }
  c.writer().close();
  co_await c.writer().wait_closed();
  co_return good;
}

TEST_F(TlsCoroTest, CoAwaitReadlineOverTls) {
  Task<int> server = EchoLines(server_);
  Task<int> client = SendAndCheckLines(client_, 1000);
  server.start();
  client.start();
  ASSERT_TRUE(RunUntil([&] { return server.done() && client.done(); }));
  EXPECT_EQ(client.result(), 1000);
  EXPECT_EQ(server.result(), 1000);
}

TEST_F(TlsCoroTest, HandshakeAwaitableCompletesAtOnceWhenEstablished) {
  auto wait = [](AsyncConnection& c) -> Task<Status> { co_return co_await c.handshake().as_result(); };
  Task<Status> first = wait(client_);
  first.start();
  EXPECT_FALSE(first.done());  // the handshake runs
  ASSERT_TRUE(RunUntil([&] { return first.done(); }));
  EXPECT_EQ(first.result(), Status(Ok{}));
  Task<Status> again = wait(client_);
  again.start();
  ASSERT_TRUE(again.done());
  EXPECT_EQ(again.result(), Status(Ok{}));
}

class TlsCoroMismatchTest : public TlsCoroTest {
 protected:
  TlsCoroMismatchTest()
      : TlsCoroTest(ConnectionOptions{.tls = ClientTls("wrong.example")},
                    ConnectionOptions{.tls = ServerTls()}) {}
};

TEST_F(TlsCoroMismatchTest, AFailedHandshakeThrowsTlsError) {
  auto client = [](AsyncConnection& c) -> Task<std::string> {
    try {
      co_await c.handshake();
    } catch (const TlsError& e) {
      co_return e.reason();
    }
    co_return "no error";
  };
  Task<std::string> t = client(client_);
  t.start();
  ASSERT_TRUE(RunUntil([&] { return t.done(); }));
  EXPECT_NE(t.result().find("hostname mismatch"), std::string::npos) << t.result();
}

class TlsCoroStartTlsTest : public TlsCoroTest {
 protected:
  TlsCoroStartTlsTest() : TlsCoroTest(ConnectionOptions{}, ConnectionOptions{}) {}
};

TEST_F(TlsCoroStartTlsTest, StartTlsUpgradesAPlainConversation) {
  auto server = [](AsyncConnection& c) -> Task<std::string> {
    std::string command = co_await c.reader().readline();
    if (command != "STARTTLS\r\n") co_return "bad command: " + command;
    c.writer().write("220 go ahead\r\n");
    co_await c.start_tls(ServerTls());
    std::string secret = co_await c.reader().readline();
    c.writer().write("got " + secret);
    c.writer().close();
    co_await c.writer().wait_closed();
    co_return secret;
  };
  auto client = [](AsyncConnection& c) -> Task<std::string> {
    c.writer().write("STARTTLS\r\n");
    std::string answer = co_await c.reader().readline();
    if (answer != "220 go ahead\r\n") co_return "bad answer: " + answer;
    co_await c.start_tls(ClientTls());
    if (c.tls() == nullptr || c.tls()->protocol_version() != "TLSv1.3") co_return "not TLS";
    c.writer().write("password\r\n");
    std::string reply = co_await c.reader().read();  // to EOF (the server closes)
    c.writer().close();
    co_await c.writer().wait_closed();
    co_return reply;
  };
  Task<std::string> s = server(server_);
  Task<std::string> c = client(client_);
  s.start();
  c.start();
  ASSERT_TRUE(RunUntil([&] { return s.done() && c.done(); }));
  EXPECT_EQ(s.result(), "password\r\n");
  EXPECT_EQ(c.result(), "got password\r\n");
}

// A server upgrading with nothing to send and a read already wanted changes
// neither want_read() nor write_action(): only handshake_in_progress(). The
// driver must still hear of it, to arm its handshake timer.
TEST_F(TlsCoroStartTlsTest, ServerStartTlsWakesTheDriverForItsHandshakeTimer) {
  auto server = [](AsyncConnection& c) -> Task<void> { co_await c.start_tls(ServerTls()); };
  Task<void> s = server(server_);
  const std::uint64_t before = ex_.wakes();
  s.start();
  EXPECT_TRUE(server_.connection().handshake_in_progress());
  EXPECT_GT(ex_.wakes(), before);
}

TEST_F(TlsCoroStartTlsTest, AnImmediateStartTlsRefusalCompletesAtOnce) {
  auto client = [](AsyncConnection& c) -> Task<Status> {
    c.writer().close();
    co_return co_await c.start_tls(ClientTls()).as_result();
  };
  Task<Status> t = client(client_);
  t.start();
  ASSERT_TRUE(t.done());
  const Status s = t.result();  // result() moves the value out: call it once
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kInvalidArgument);
}

}  // namespace
}  // namespace sluice
