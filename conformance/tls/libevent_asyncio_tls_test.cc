// TLS interop with the real asyncio (CPython's, python3 from PATH) on the
// libevent backend; asio_asyncio_tls_test.cc is its twin. The Python side is
// conformance/peers/asyncio_peer.py: asyncio.start_server(ssl=...) and
// asyncio.open_connection(ssl=...) with the test PKI's files
// (//core/tls/testing:test_certs, made at test time), and STARTTLS with
// asyncio's StreamWriter.start_tls() both ways, including an asyncio client
// whose ClientHello comes in the same segment as its "STARTTLS\n". Not
// tested: a sluice client pipelining its ClientHello to an asyncio server,
// which asyncio cannot take (the bytes its reader buffered are not handed to
// TLS: cpython gh-142352). TLS has no write_eof, so exchanges end by count
// and close. Every wait is bounded; the Python process is killed if it
// outlives its test; no descriptor leaks.

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/libevent/streams.h"
#include "conformance/peers/asyncio_peer.h"
#include "core/tls/testing/test_certs.h"
#include "core/testing/fd_count.h"
#include "gtest/gtest.h"

namespace sluice::libevent_backend {
namespace {

using namespace std::chrono_literals;
using conformance::peers::AsyncioPeer;
using conformance::peers::Crc32;
using conformance::peers::interop_lines;
using conformance::peers::large_payload;
using sluice::testing::make_client_context;
using sluice::testing::make_server_context;
using sluice::testing::test_pki;

constexpr std::chrono::milliseconds kChildTimeout = 40s;

using sluice::testing::fd_count;

// run_until: runs the loop of `base` until `done()` or `timeout`; `done()`
// is checked at least every 5 ms (it may watch something outside the loop,
// e.g. the Python process), never while the 5 ms timer is pending.
template <typename Done>
bool run_until(event_base* base, Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  event* tick = evtimer_new(
      base, [](evutil_socket_t, short, void*) {}, nullptr);
  bool ok;
  while (!(ok = done()) && std::chrono::steady_clock::now() < deadline) {
    const timeval tv = {0, 5000};
    evtimer_add(tick, &tv);
    event_base_loop(base, EVLOOP_ONCE);
    evtimer_del(tick);
  }
  event_free(tick);
  return ok;
}

// The fixture: one event_base, left empty and freed after each test, and no
// descriptor left open.
class AsyncioTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)test_pki();  // made once, before counting descriptors
    fds_before_ = fd_count();
    base_ = event_base_new();
  }
  void TearDown() override {
    EXPECT_TRUE(run_until(
        base_,
        [&] {
          return event_base_get_num_events(base_,
                                           EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) == 0;
        },
        5s))
        << "the loop still has work";
    event_base_free(base_);
    EXPECT_EQ(fd_count(), fds_before_) << "descriptors left open";
  }

  event_base* base() { return base_; }

  // run: runs `task` to its end; a timeout or an exception fails the test.
  void run(Task<void> task, std::chrono::milliseconds timeout = kChildTimeout) {
    task.start();
    if (!run_until(
            base_, [&] { return task.done(); }, timeout)) {
      ADD_FAILURE() << "timed out after " << timeout.count() << " ms";
      // Its resumption may be posted: destroying it would be undefined.
      static auto* abandoned = new std::vector<Task<void>>;
      abandoned->push_back(std::move(task));
      return;
    }
    try {
      task.result();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "exception: " << e.what();
    }
  }

  // run_against_asyncio_server: `asyncio_peer.py server MODE --cert --key`,
  // `client(base, port)` run to its end, then the server is stopped and must
  // exit 0 (no connection went wrong on its side).
  template <typename Client>
  void run_against_asyncio_server(const std::string& mode, Client client) {
    AsyncioPeer server({"server", mode, "--cert", test_pki().server.cert_file, "--key",
                        test_pki().server.key_file});
    ASSERT_TRUE(server.started()) << "cannot start python3";
    std::optional<std::string> line = server.read_line(20s);
    ASSERT_TRUE(line && line->starts_with("port ")) << "the asyncio server did not start";
    run(client(base_, static_cast<std::uint16_t>(std::stoi(line->substr(5)))));
    server.close_stdin();
    EXPECT_TRUE(run_until(
        base_, [&] { return server.exited(); }, 20s));
    EXPECT_EQ(server.exit_code(), 0) << "the asyncio server failed (its reason is in the log)";
  }

  // run_asyncio_client: a sluice server (TLS from the first byte when `tls`)
  // serving `handler`, and `asyncio_peer.py client MODE 127.0.0.1 PORT
  // --cafile CA`, which must exit 0.
  void run_asyncio_client(const std::string& mode, bool tls, ClientConnectedCallback handler) {
    ServerOptions options;
    if (tls) options.stream.ssl = make_server_context(test_pki());
    options.on_handler_exception = [](std::exception_ptr e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        ADD_FAILURE() << "the sluice handler threw: " << x.what();
      }
    };
    Server server = start_server(base_, std::move(handler), "127.0.0.1", 0, options);
    const std::uint16_t port = server.sockets().front().port();
    AsyncioPeer client({"client", mode, "127.0.0.1", std::to_string(port), "--cafile",
                        test_pki().ca_file, "--server-hostname", "localhost"});
    ASSERT_TRUE(client.started()) << "cannot start python3";
    EXPECT_TRUE(run_until(
        base_, [&] { return client.exited(); }, kChildTimeout))
        << "the asyncio client did not finish";
    EXPECT_EQ(client.exit_code(), 0) << "the asyncio client failed (its reason is in the log)";
    server.close();
    EXPECT_TRUE(run_until(
        base_, [&] { return server.active_connections() == 0; }, 20s));
  }

 private:
  event_base* base_ = nullptr;
  int fds_before_ = 0;
};

Task<void> echo_lines(StreamReader reader, StreamWriter writer) {
  while (std::optional<std::string> line = co_await reader.next_line()) {
    writer.write(std::move(*line));
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

// exchange_lines: the "lines" exchange, then a close (TLS has no write_eof).
Task<void> exchange_lines(StreamReader reader, StreamWriter writer) {
  for (const std::string& line : interop_lines()) {
    writer.write(line);
    co_await writer.drain();
    EXPECT_EQ(co_await reader.readline(), line);
  }
  writer.close();
  co_await writer.wait_closed();
}

StreamOptions client_options() {
  StreamOptions options;
  options.ssl = make_client_context(test_pki());
  return options;
}

// ---- A sluice client against an asyncio server. ---------------------------------

TEST_F(AsyncioTlsTest, SluiceTlsClientGetsItsLinesEchoedByAsyncioTlsServer) {
  run_against_asyncio_server("echo", [](event_base* base, std::uint16_t port) -> Task<void> {
    StreamOptions options = client_options();
    options.server_hostname = "localhost";
    auto [reader, writer] = co_await open_connection(base, "127.0.0.1", port, options);
    EXPECT_NE(writer.ssl_object(), nullptr);
    EXPECT_EQ(writer.get_extra_info("peercert"), std::string("CN=localhost,O=sluice tests"));
    co_await exchange_lines(reader, writer);
  });
}

TEST_F(AsyncioTlsTest, SluiceTlsClientGetsALargePayloadEchoedByAsyncioTlsServer) {
  run_against_asyncio_server("echo", [](event_base* base, std::uint16_t port) -> Task<void> {
    auto [reader, writer] = co_await open_connection(base, "127.0.0.1", port, client_options());
    const std::string payload = large_payload();
    Crc32 sent, received;
    sent.update(payload);
    // Send and receive at once: the echo fills the buffers long before the
    // 8 MiB are sent. The end is counted: TLS has no write_eof.
    auto send = [](StreamWriter w, const std::string& p) -> Task<void> {
      for (std::size_t k = 0; k < p.size(); k += 100000) {
        w.write(std::string_view(p).substr(k, 100000));
        co_await w.drain();
      }
    };
    Task<void> sending = send(writer, payload);
    sending.start();
    std::size_t size = 0;
    while (size < payload.size()) {
      const std::string chunk = co_await reader.read(1 << 16);
      if (chunk.empty()) break;
      received.update(chunk);
      size += chunk.size();
    }
    co_await sending;
    EXPECT_EQ(size, payload.size());
    EXPECT_EQ(received.value(), sent.value());
    writer.close();
    co_await writer.wait_closed();
  });
}

TEST_F(AsyncioTlsTest, SluiceClientUpgradesWithStartTlsAfterAsyncioServersOk) {
  run_against_asyncio_server("starttls", [](event_base* base, std::uint16_t port) -> Task<void> {
    auto [reader, writer] = co_await open_connection(base, "127.0.0.1", port);
    writer.write("STARTTLS\n");
    EXPECT_EQ(co_await reader.readline(), "OK\n");
    StartTlsOptions options;
    options.server_hostname = "localhost";
    co_await writer.start_tls(make_client_context(test_pki()), options);
    EXPECT_EQ(writer.get_extra_info("peercert"), std::string("CN=localhost,O=sluice tests"));
    co_await exchange_lines(reader, writer);
  });
}

// ---- An asyncio client against a sluice server. ---------------------------------

TEST_F(AsyncioTlsTest, AsyncioTlsClientGetsItsLinesEchoedBySluiceTlsServer) {
  run_asyncio_client("lines", true, echo_lines);
}

TEST_F(AsyncioTlsTest, AsyncioTlsClientGetsALargePayloadEchoedBySluiceTlsServer) {
  run_asyncio_client("large", true, echo_lines);
}

TEST_F(AsyncioTlsTest, AsyncioClientsStartTlsUpgradesTheSluiceServersConnection) {
  run_asyncio_client("starttls", false, [](StreamReader reader, StreamWriter writer) -> Task<void> {
    EXPECT_EQ(co_await reader.readline(), "STARTTLS\n");
    writer.write("OK\n");
    co_await writer.start_tls(make_server_context(test_pki()));
    EXPECT_NE(writer.ssl_object(), nullptr);
    co_await echo_lines(reader, writer);
  });
}

TEST_F(AsyncioTlsTest, AsyncioClientsClientHelloPipelinedBehindStarttlsIsHandedToTls) {
  run_asyncio_client(
      "starttls_pipelined", false, [](StreamReader reader, StreamWriter writer) -> Task<void> {
        EXPECT_EQ(co_await reader.readline(), "STARTTLS\n");
        // The ClientHello came with the command: the reader holds it, and
        // start_tls hands it to TLS (StartTlsBuffered::kHandOver).
        EXPECT_GT(reader.buffered_size(), 0u);
        co_await writer.start_tls(make_server_context(test_pki()));
        co_await echo_lines(reader, writer);
      });
}

}  // namespace
}  // namespace sluice::libevent_backend
