// The network scenarios of issue 6, each written once and run on every event
// loop (a typed test suite over the adapters), plain and over TLS (issue 9:
// each loop's TLS variant). The facade is backend.h; the list, what does
// not run over TLS and why, and how to add a loop are in README.md.
//
// Rules the scenarios keep: only loopback; every wait is a condition with a
// generous deadline (a scenario fails, it never hangs); no sleep is used to
// synchronise. Proving that something does NOT happen (a drain that stays
// blocked) needs a window of time: the few places that do so run the loop
// for that window and assert only what holds however long it lasts.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "conformance/scenarios/asio_adapter.h"
#include "conformance/scenarios/backend.h"
#include "conformance/scenarios/libevent_adapter.h"
#include "conformance/scenarios/poll_adapter.h"
#include "conformance/scenarios/support.h"
#include "conformance/scenarios/tls_setup.h"
#include "core/stream_error.h"
#include "gtest/gtest.h"

namespace sluice::scenarios {
namespace {

using namespace std::chrono_literals;

// The deadline of one wait: generous, for loaded machines and sanitizers.
constexpr std::chrono::milliseconds kDeadline = 20s;
// The loops' receive chunk: the most a read adds past the pause threshold.
constexpr std::size_t kReceiveChunk = 64 * 1024;

std::error_code errno_code(int e) { return {e, std::system_category()}; }

// ---- Describing results ----------------------------------------------------------

std::string describe(const StreamError& e) {
  std::string s =
      "StreamErrc " + std::to_string(static_cast<int>(e.code)) + " (" + e.message() + ")";
  if (e.code == StreamErrc::kConnectionError)
    s += " errno " + std::to_string(e.connection_error.value());
  return s;
}

// text: the bytes of a successful read, or a description of its error (so
// that EXPECT_EQ shows what went wrong).
std::string text(const ReadResult& r) { return r.ok() ? *r : "<" + describe(r.error()) + ">"; }

std::string describe(const Status& s) { return s.ok() ? "ok" : describe(s.error()); }

template <typename R>
::testing::AssertionResult fails_with(const R& r, StreamErrc code) {
  if (r.ok()) return ::testing::AssertionFailure() << "succeeded";
  if (r.error().code != code) return ::testing::AssertionFailure() << describe(r.error());
  return ::testing::AssertionSuccess();
}

// fails_with_connection_error: a kConnectionError whose errno is one of
// `errnos` (system or generic category: the core's own "Connection lost" is
// std::errc::connection_reset).
template <typename R>
::testing::AssertionResult fails_with_connection_error(const R& r,
                                                       std::initializer_list<int> errnos) {
  if (r.ok()) return ::testing::AssertionFailure() << "succeeded";
  const StreamError& e = r.error();
  const std::error_category& category = e.connection_error.category();
  if (e.code == StreamErrc::kConnectionError &&
      (category == std::system_category() || category == std::generic_category()) &&
      std::find(errnos.begin(), errnos.end(), e.connection_error.value()) != errnos.end()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << describe(e);
}

// same_bytes: equal strings, or where they differ (not 64 KiB of output).
::testing::AssertionResult same_bytes(const ReadResult& got, const std::string& want) {
  if (!got.ok()) return ::testing::AssertionFailure() << describe(got.error());
  const std::string& g = *got;
  const auto [gi, wi] = std::mismatch(g.begin(), g.end(), want.begin(), want.end());
  if (gi == g.end() && wi == want.end()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << g.size() << " bytes, want " << want.size()
                                       << ", first difference at " << (gi - g.begin());
}

// What a wait gives when the deadline passed (the test has failed).
template <typename T>
T timed_out();
template <>
ReadResult timed_out<ReadResult>() {
  return StreamError::invalid_argument("scenario deadline passed");
}
template <>
Status timed_out<Status>() {
  return StreamError::invalid_argument("scenario deadline passed");
}
template <>
std::error_code timed_out<std::error_code>() {
  return std::make_error_code(std::errc::timed_out);
}
template <>
Connected timed_out<Connected>() {
  return Connected{nullptr, std::make_error_code(std::errc::timed_out)};
}

// RawPair: a stream of the loop under test connected to a raw peer.
struct RawPair {
  std::unique_ptr<Stream> stream;
  RawSocket peer;
};

// PeerRead: what a raw peer read while the loop ran.
struct PeerRead {
  StreamHash hash;
  std::string data;  // kept only when asked
  bool eof = false;
  int error = 0;
};

// ---- The fixture -----------------------------------------------------------------

// Scenario<Adapter>: one loop per test. Checks that no descriptor is left
// once the loop is gone, and provides the synchronous forms of the facade's
// operations (start, then run the loop until done, with a deadline). Over
// TLS (Adapter::kTls) the raw peers speak TLS too (listen_raw).
template <typename Adapter>
class Scenario : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    if (Adapter::kTls) (void)tls_setup();  // made once, before counting descriptors
    fds_before_ = fd_count();
    loop_ = Adapter::create();
  }
  void TearDown() override {
    loop_.reset();
    EXPECT_EQ(fd_count(), fds_before_) << "descriptors left open after the loop went";
  }

  Loop& loop() { return *loop_; }

  // run_until: run the loop until `done()`; a missed deadline fails the test.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds deadline = kDeadline) {
    const bool ok = loop_->run_until(done, deadline);
    EXPECT_TRUE(ok) << "not there after " << deadline.count() << " ms";
    return ok;
  }
  // finish: run the loop until `op` completes; its result.
  template <typename T>
  T finish(Op<T> op, std::chrono::milliseconds deadline = kDeadline) {
    if (!loop_->run_until([&] { return op.done(); }, deadline)) {
      ADD_FAILURE() << "operation not complete after " << deadline.count() << " ms";
      return timed_out<T>();
    }
    return op.take();
  }

  std::unique_ptr<Server> start_server(Behaviour behaviour, const ServerConfig& config = {}) {
    return loop_->start_server(behaviour, config);
  }
  // connect, accept, connect_raw also check that the stream speaks TLS
  // exactly when the loop should.
  std::unique_ptr<Stream> connect(std::uint16_t port, const StreamConfig& config = {}) {
    Connected c = finish(loop_->start_connect(port, config));
    EXPECT_FALSE(c.error) << "connect: " << c.error.message();
    if (c.stream) {
      EXPECT_EQ(c.stream->tls(), Adapter::kTls);
    }
    return std::move(c.stream);
  }
  // listen_raw: a listener for raw peers, which speak TLS (as servers)
  // when the loop does.
  RawListener listen_raw(int receive_buffer = 0) {
    if (!Adapter::kTls) return RawListener(receive_buffer);
    return RawListener(receive_buffer, tls_setup().server);
  }
  // connect_raw: a stream connected to a raw peer of `listener`. Over TLS
  // the peer runs its side of the handshake while the loop runs the
  // stream's; both are established when this returns.
  RawPair connect_raw(RawListener& listener, const StreamConfig& config = {}) {
    RawPair p;
    Op<Connected> c = loop_->start_connect(listener.port(), config);
    const bool connected = run_until([&] {
      if (!p.peer.valid()) p.peer = listener.try_accept();
      return p.peer.valid() && p.peer.handshake() && c.done();
    });
    EXPECT_EQ(p.peer.tls_error(), "");
    if (!connected) return p;
    Connected x = c.take();
    EXPECT_FALSE(x.error) << "connect: " << x.error.message();
    if (x.stream) {
      EXPECT_EQ(x.stream->tls(), Adapter::kTls);
    }
    p.stream = std::move(x.stream);
    return p;
  }
  // accept: the next connection of a Behaviour::kHold server.
  std::unique_ptr<Stream> accept(Server& server) {
    run_until([&] { return server.accepted_waiting() > 0; });
    std::unique_ptr<Stream> s = server.take_accepted();
    if (s) {
      EXPECT_EQ(s->tls(), Adapter::kTls);
    }
    return s;
  }

  ReadResult read(Stream& s, std::int64_t n) { return finish(s.start_read(n)); }
  ReadResult readline(Stream& s) { return finish(s.start_readline()); }
  ReadResult readexactly(Stream& s, std::int64_t n) { return finish(s.start_readexactly(n)); }
  ReadResult readuntil(Stream& s, std::string separator) {
    return finish(s.start_readuntil(std::move(separator)));
  }
  Status drain(Stream& s) { return finish(s.start_drain()); }
  Status wait_closed(Stream& s) { return finish(s.start_wait_closed()); }

  // flush: run the loop until everything written was sent.
  void flush(Stream& s) {
    run_until([&] { return s.write_buffer_size() == 0; });
  }
  // wait_received: run the loop until `s` has read `n` bytes from its socket.
  void wait_received(Stream& s, std::uint64_t n) {
    run_until([&] { return s.bytes_received() >= n; });
  }

  // peer_read: run the loop while `peer` reads until it has `n` bytes in
  // all (counting what `got` already holds), EOF or an error.
  PeerRead peer_read(RawSocket& peer, std::uint64_t n = std::numeric_limits<std::uint64_t>::max(),
                     bool keep = true, PeerRead got = {}) {
    run_until(
        [&] {
          while (got.hash.size() < n && !got.eof && got.error == 0) {
            RawSocket::Recv r = peer.recv(
                static_cast<std::size_t>(std::min<std::uint64_t>(n - got.hash.size(), 256 * 1024)));
            got.hash.update(r.data);
            if (keep) got.data += r.data;
            got.eof = r.eof;
            got.error = r.error;
            if (r.data.empty() && !r.eof && r.error == 0) return false;  // nothing yet
          }
          return true;
        },
        60s);
    return got;
  }

 private:
  std::unique_ptr<Loop> loop_;
  int fds_before_ = 0;
};

struct AdapterNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

// Every scenario runs on every loop, plain and over TLS, except those of
// HalfCloseScenario below.
using Adapters = ::testing::Types<AsioAdapter, LibeventAdapter, PollAdapter, AsioTlsAdapter,
                                  LibeventTlsAdapter, PollTlsAdapter>;
TYPED_TEST_SUITE(Scenario, Adapters, AdapterNames);

// HalfCloseScenario: the scenarios of half-closed connections, on the plain
// loops only. TLS has no half-close: write_eof() is asyncio's
// NotImplementedError (kNotSupported), and the peer's EOF (close_notify)
// closes the connection (asyncio's SSLProtocol) where a plain one stays open
// for writing (eof_received returns True).
template <typename Adapter>
class HalfCloseScenario : public Scenario<Adapter> {};
using PlainAdapters = ::testing::Types<AsioAdapter, LibeventAdapter, PollAdapter>;
TYPED_TEST_SUITE(HalfCloseScenario, PlainAdapters, AdapterNames);

// ---- Echo ------------------------------------------------------------------------------

TYPED_TEST(Scenario, EchoesLines) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoLines);
  std::unique_ptr<Stream> client = this->connect(server->port());
  ASSERT_TRUE(client);
  std::vector<std::string> lines;
  std::string all;
  for (int i = 0; i < 1000; ++i) {
    lines.push_back(
        std::to_string(i) + ":" +
        std::string(static_cast<std::size_t>(i % 200), static_cast<char>('a' + i % 26)) + "\n");
    all += lines.back();
  }
  lines.push_back("\n");  // an empty line
  all += "\n";
  ASSERT_TRUE(client->write(all).ok());  // pipelined
  for (const std::string& want : lines) ASSERT_EQ(text(this->readline(*client)), want);
  client->close();
  EXPECT_EQ(describe(this->wait_closed(*client)), "ok");
}

TYPED_TEST(Scenario, EchoesLinesOverAUnixSocketAndRemovesItsFileOnClose) {
  const std::string path = "/tmp/sluice_scenario_" + std::to_string(::getpid()) + ".sock";
  ServerConfig config;
  config.unix_path = path;
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoLines, config);
  EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  Connected c = this->finish(this->loop().start_connect_unix(path, {}));
  ASSERT_FALSE(c.error) << c.error.message();
  Stream& client = *c.stream;
  EXPECT_EQ(client.tls(), TypeParam::kTls);
  ASSERT_TRUE(client.write("over a path\nand another\n").ok());
  EXPECT_EQ(text(this->readline(client)), "over a path\n");
  EXPECT_EQ(text(this->readline(client)), "and another\n");
  client.close();
  EXPECT_EQ(describe(this->wait_closed(client)), "ok");
  server->close();
  EXPECT_EQ(this->finish(server->start_wait_closed()), std::error_code());
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // asyncio 3.13's cleanup_socket
}

TYPED_TEST(Scenario, EchoesEveryByteValue) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoBytes);
  std::unique_ptr<Stream> client = this->connect(server->port());
  ASSERT_TRUE(client);
  // Every byte value at every position modulo 256 (NUL, '\n', '\r', 0xff...).
  std::string data;
  for (int row = 0; row < 256; ++row) {
    for (int b = 0; b < 256; ++b) data.push_back(static_cast<char>((b + row) & 0xff));
  }
  ASSERT_TRUE(client->write(data).ok());
  EXPECT_TRUE(same_bytes(this->readexactly(*client, static_cast<std::int64_t>(data.size())), data));
  client->close();
  EXPECT_EQ(describe(this->wait_closed(*client)), "ok");
}

TYPED_TEST(Scenario, EchoesOneByteWrites) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoBytes);
  std::unique_ptr<Stream> client = this->connect(server->port());
  ASSERT_TRUE(client);
  // One byte per segment: each is sent before the next is written.
  for (int i = 0; i < 512; ++i) {
    const std::string byte(1, static_cast<char>(i & 0xff));
    ASSERT_TRUE(client->write(byte).ok());
    this->flush(*client);
    ASSERT_EQ(text(this->readexactly(*client, 1)), byte) << "byte " << i;
  }
  // Many one-byte writes in one turn.
  std::string want;
  for (int i = 0; i < 4096; ++i) {
    const std::string byte(1, static_cast<char>((i * 7) & 0xff));
    ASSERT_TRUE(client->write(byte).ok());
    want += byte;
  }
  EXPECT_TRUE(same_bytes(this->readexactly(*client, 4096), want));
  client->close();
  EXPECT_EQ(describe(this->wait_closed(*client)), "ok");
}

TYPED_TEST(Scenario, Echoes64MiBWrittenAtOnce) {
  constexpr std::size_t kSize = 64 << 20;
  constexpr std::int64_t kReadSize = 1 << 20;
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoBytes);
  std::unique_ptr<Stream> client = this->connect(server->port());
  ASSERT_TRUE(client);
  StreamHash sent;
  {
    std::string payload = pattern(0, kSize);
    sent.update(payload);
    ASSERT_TRUE(client->write(std::move(payload)).ok());  // one write; no copy kept here
  }
  // Read as it comes, hashing: nothing accumulates on the receiving side.
  StreamHash received;
  std::string failure;
  Op<ReadResult> rd = client->start_read(kReadSize);
  this->run_until(
      [&] {
        while (rd.done()) {
          ReadResult r = rd.take();
          if (!r.ok() || r->empty()) {
            failure = r.ok() ? "EOF" : describe(r.error());
            return true;
          }
          received.update(*r);
          if (received.size() >= kSize) return true;
          rd = client->start_read(kReadSize);
        }
        return false;
      },
      120s);
  EXPECT_EQ(failure, "");
  EXPECT_EQ(received.size(), kSize);
  EXPECT_EQ(received.value(), sent.value());
  client->close();
  EXPECT_EQ(describe(this->wait_closed(*client)), "ok");
}

// ---- Half-close and at_eof (plain only: HalfCloseScenario) ------------------------------

TYPED_TEST(HalfCloseScenario, EchoesAnUnterminatedLastLineAfterWriteEofThenEof) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoLines);
  std::unique_ptr<Stream> client = this->connect(server->port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->write("line\ntail").ok());
  client->write_eof();
  EXPECT_EQ(text(this->readline(*client)), "line\n");
  EXPECT_EQ(text(this->readline(*client)), "tail");
  EXPECT_EQ(text(this->readline(*client)), "");
  EXPECT_TRUE(client->at_eof());
  client->close();
  EXPECT_EQ(describe(this->wait_closed(*client)), "ok");
}

TYPED_TEST(HalfCloseScenario, WriteEofThePeerReadsToEofAndStillAnswers) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kReadToEofThenAnswer);
  std::unique_ptr<Stream> client = this->connect(server->port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->write(std::string(100000, 'x')).ok());
  client->write_eof();
  EXPECT_FALSE(client->is_closing());  // only the write side is shut
  EXPECT_TRUE(fails_with(client->write("more"), StreamErrc::kWriteAfterEof));
  EXPECT_EQ(text(this->readline(*client)), "received 100000 bytes\n");
  EXPECT_EQ(text(this->readline(*client)), "");
  EXPECT_TRUE(client->at_eof());
  client->close();
  EXPECT_EQ(describe(this->wait_closed(*client)), "ok");
}

TYPED_TEST(HalfCloseScenario, PeerWriteEofThisSideReadsToEofAndStillAnswers) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kHold);
  std::unique_ptr<Stream> client = this->connect(server->port());
  ASSERT_TRUE(client);
  std::unique_ptr<Stream> peer = this->accept(*server);
  ASSERT_TRUE(peer);
  ASSERT_TRUE(peer->write("hello\nworld\n").ok());
  peer->write_eof();
  EXPECT_EQ(text(this->readline(*client)), "hello\n");
  EXPECT_EQ(text(this->readline(*client)), "world\n");
  EXPECT_EQ(text(this->readline(*client)), "");
  EXPECT_TRUE(client->at_eof());
  EXPECT_FALSE(client->is_closing());  // asyncio keeps the connection open after EOF
  ASSERT_TRUE(client->write("answer\n").ok());
  EXPECT_EQ(text(this->readline(*peer)), "answer\n");
  client->close();
  EXPECT_EQ(text(this->readline(*peer)), "");
  EXPECT_TRUE(peer->at_eof());
  peer->close();
  EXPECT_EQ(describe(this->wait_closed(*client)), "ok");
  EXPECT_EQ(describe(this->wait_closed(*peer)), "ok");
}

TYPED_TEST(HalfCloseScenario, AtEofIsTrueExactlyWhenEofWasReceivedAndNothingIsBuffered) {
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  EXPECT_FALSE(client.at_eof());
  ASSERT_TRUE(p.peer.send_all("abc"));
  this->wait_received(client, 3);
  EXPECT_FALSE(client.at_eof());  // bytes, no EOF
  p.peer.shutdown_write();
  this->run_until([&] { return client.eof_received(); });
  EXPECT_FALSE(client.at_eof());  // EOF, but 3 bytes buffered
  EXPECT_EQ(client.buffered_size(), 3u);
  EXPECT_EQ(text(this->read(client, 2)), "ab");
  EXPECT_FALSE(client.at_eof());
  EXPECT_EQ(text(this->read(client, 5)), "c");
  EXPECT_TRUE(client.at_eof());
  EXPECT_EQ(text(this->read(client, 5)), "");
  EXPECT_EQ(text(this->readline(client)), "");
  const ReadResult r = this->readexactly(client, 1);
  ASSERT_TRUE(fails_with(r, StreamErrc::kIncompleteRead));
  EXPECT_EQ(r.error().partial, "");
  EXPECT_EQ(r.error().expected, std::optional<std::size_t>(1));
  EXPECT_TRUE(client.at_eof());
  // The connection stays open after the peer's EOF: this side still writes.
  EXPECT_FALSE(client.is_closing());
  ASSERT_TRUE(client.write("bye").ok());
  EXPECT_EQ(this->peer_read(p.peer, 3).data, "bye");
  client.close();
  EXPECT_TRUE(this->peer_read(p.peer).eof);
  EXPECT_EQ(describe(this->wait_closed(client)), "ok");
}

// ---- The reader's limit over real network chunks ---------------------------------------

TYPED_TEST(Scenario, ReadlineOverTheLimitWithoutItsNewlineDiscardsWhatWasBuffered) {
  StreamConfig config;
  config.limit = 64;
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener, config);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  Op<ReadResult> line = client.start_readline();
  ASSERT_TRUE(p.peer.send_all(std::string(40, 'a')));
  this->wait_received(client, 40);
  EXPECT_FALSE(line.done());  // 40 <= limit: it waits
  ASSERT_TRUE(p.peer.send_all(std::string(40, 'b')));
  const ReadResult r = this->finish(line);
  ASSERT_TRUE(fails_with(r, StreamErrc::kLimitOverrun));
  EXPECT_EQ(r.error().consumed, 80u);  // asyncio: the offset reached, 80 > 64
  EXPECT_EQ(r.error().overrun, LimitOverrunKind::kSeparatorNotFound);
  EXPECT_EQ(client.buffered_size(), 0u);  // readline clears the buffer
  // asyncio's quirk: the rest of the over-long line comes as a line.
  ASSERT_TRUE(p.peer.send_all("tail\nnext\n"));
  EXPECT_EQ(text(this->readline(client)), "tail\n");
  EXPECT_EQ(text(this->readline(client)), "next\n");
}

TYPED_TEST(Scenario, ReadlineOverTheLimitWithItsNewlineDiscardsTheLine) {
  StreamConfig config;
  config.limit = 64;
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener, config);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  ASSERT_TRUE(p.peer.send_all(std::string(70, 'x') + "\nrest\n"));
  this->wait_received(client, 76);
  const ReadResult r = this->readline(client);
  ASSERT_TRUE(fails_with(r, StreamErrc::kLimitOverrun));
  EXPECT_EQ(r.error().consumed, 70u);  // where the separator starts
  EXPECT_EQ(r.error().overrun, LimitOverrunKind::kSeparatorFound);
  EXPECT_EQ(client.buffered_size(), 5u);  // the line and its "\n" went, "rest\n" stays
  EXPECT_EQ(text(this->readline(client)), "rest\n");
}

TYPED_TEST(Scenario, ReaduntilOverTheLimitLeavesTheBufferUntouched) {
  StreamConfig config;
  config.limit = 64;
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener, config);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  // Three chunks of 30 under a pending readuntil("\r\n"): asyncio's offsets
  // are 29, 59, then 89 > 64.
  Op<ReadResult> until = client.start_readuntil("\r\n");
  for (int i = 1; i <= 2; ++i) {
    ASSERT_TRUE(p.peer.send_all(std::string(30, 'a')));
    this->wait_received(client, 30u * static_cast<unsigned>(i));
    EXPECT_FALSE(until.done()) << "after chunk " << i;
  }
  ASSERT_TRUE(p.peer.send_all(std::string(30, 'a')));
  ReadResult r = this->finish(until);
  ASSERT_TRUE(fails_with(r, StreamErrc::kLimitOverrun));
  EXPECT_EQ(r.error().consumed, 89u);
  EXPECT_EQ(r.error().overrun, LimitOverrunKind::kSeparatorNotFound);
  EXPECT_EQ(client.buffered_size(), 90u);  // untouched: "can be read again"
  // The separator arrives: found, but too far.
  ASSERT_TRUE(p.peer.send_all("\r\nok\r\n"));
  this->wait_received(client, 96);
  r = this->readuntil(client, "\r\n");
  ASSERT_TRUE(fails_with(r, StreamErrc::kLimitOverrun));
  EXPECT_EQ(r.error().consumed, 90u);
  EXPECT_EQ(r.error().overrun, LimitOverrunKind::kSeparatorFound);
  EXPECT_EQ(client.buffered_size(), 96u);
  EXPECT_EQ(text(this->read(client, 92)), std::string(90, 'a') + "\r\n");
  EXPECT_EQ(text(this->readuntil(client, "\r\n")), "ok\r\n");
}

TYPED_TEST(Scenario, ReadexactlyFailsWithIncompleteReadWhenThePeerClosesMidMessage) {
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  Op<ReadResult> exactly = client.start_readexactly(10);
  ASSERT_TRUE(p.peer.send_all("hello"));
  p.peer.close();
  const ReadResult r = this->finish(exactly);
  ASSERT_TRUE(fails_with(r, StreamErrc::kIncompleteRead));
  EXPECT_EQ(r.error().partial, "hello");
  EXPECT_EQ(r.error().expected, std::optional<std::size_t>(10));
  EXPECT_EQ(client.buffered_size(), 0u);
  EXPECT_TRUE(client.at_eof());
}

TYPED_TEST(Scenario, ReaduntilFailsWithIncompleteReadWhenThePeerClosesMidMessage) {
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  Op<ReadResult> until = client.start_readuntil("\r\n");
  ASSERT_TRUE(p.peer.send_all("no separator\r"));
  p.peer.close();
  const ReadResult r = this->finish(until);
  ASSERT_TRUE(fails_with(r, StreamErrc::kIncompleteRead));
  EXPECT_EQ(r.error().partial, "no separator\r");
  EXPECT_EQ(r.error().expected, std::nullopt);
  EXPECT_EQ(client.buffered_size(), 0u);
  EXPECT_TRUE(client.at_eof());
}

// ---- Backpressure -------------------------------------------------------------------------

TYPED_TEST(Scenario, SlowConsumerStopsReadingFromTheSocketAndBlocksTheSendersDrain) {
  constexpr std::size_t kLimit = 16 * 1024;
  constexpr std::size_t kPiece = 64 * 1024;
  // Far more than the kernel's buffers can hold: the producer must block
  // long before.
  constexpr std::uint64_t kCap = std::uint64_t{64} << 20;
  const std::size_t bound = 2 * kLimit + kReceiveChunk;
  std::unique_ptr<Server> server = this->start_server(Behaviour::kHold);
  StreamConfig config;
  config.limit = kLimit;
  std::unique_ptr<Stream> consumer = this->connect(server->port(), config);
  ASSERT_TRUE(consumer);
  std::unique_ptr<Stream> producer = this->accept(*server);
  ASSERT_TRUE(producer);

  std::uint64_t sent = 0;
  StreamHash sent_hash;
  Op<Status> drain;
  // A well-behaved producer: write a piece, drain, repeat.
  auto produce = [&] {
    std::string piece = pattern(sent, kPiece);
    sent_hash.update(piece);
    sent += kPiece;
    (void)producer->write(std::move(piece));
    drain = producer->start_drain();
  };
  std::size_t max_buffered = 0;
  std::optional<std::uint64_t> received_at_pause;
  bool read_while_paused = false;
  auto observe = [&] {
    max_buffered = std::max(max_buffered, consumer->buffered_size());
    if (!consumer->reading_paused()) return;
    if (!received_at_pause) {
      received_at_pause = consumer->bytes_received();
    } else if (consumer->bytes_received() != *received_at_pause) {
      read_while_paused = true;
    }
  };

  // 1. The consumer does not read. Produce until a drain stays blocked.
  produce();
  bool blocked = false;
  while (!blocked && sent < kCap) {
    if (!this->run_until([&] {
          observe();
          return drain.done() || consumer->reading_paused();
        })) {
      break;
    }
    if (!drain.done()) {
      // The consumer paused and a drain waits: blocked if it stays so.
      blocked = !this->loop().run_until(
          [&] {
            observe();
            return drain.done();
          },
          300ms);
      if (blocked) break;
    }
    const Status s = drain.take();
    ASSERT_TRUE(s.ok()) << describe(s);
    produce();
  }
  EXPECT_TRUE(blocked) << "the producer never blocked; " << sent << " bytes sent";
  EXPECT_TRUE(consumer->reading_paused());
  EXPECT_FALSE(read_while_paused) << "the loop kept reading from the socket while paused";
  EXPECT_LE(max_buffered, bound);
  EXPECT_FALSE(drain.done());
  EXPECT_GT(producer->write_buffer_size(), 16u * 1024);  // above the low water mark

  // 2. The consumer reads again: everything flows, nothing is lost (until
  // 4 MiB more were sent and all of it received).
  const std::uint64_t target = sent + (std::uint64_t{4} << 20);
  StreamHash received;
  std::string failure;
  Op<ReadResult> rd = consumer->start_read(kPiece);
  this->run_until(
      [&] {
        max_buffered = std::max(max_buffered, consumer->buffered_size());
        while (rd.done()) {
          ReadResult r = rd.take();
          if (!r.ok() || r->empty()) {
            failure = "read: " + (r.ok() ? std::string("EOF") : describe(r.error()));
            return true;
          }
          received.update(*r);
          rd = consumer->start_read(kPiece);
        }
        if (drain.valid() && drain.done()) {
          const Status s = drain.take();
          drain = Op<Status>();
          if (!s.ok()) {
            failure = "drain: " + describe(s);
            return true;
          }
          if (sent < target) produce();
        }
        return sent >= target && !drain.valid() && received.size() >= sent;
      },
      60s);
  rd.cancel();
  EXPECT_EQ(failure, "");
  EXPECT_EQ(received.size(), sent);
  EXPECT_EQ(received.value(), sent_hash.value());
  EXPECT_LE(max_buffered, bound);
}

TYPED_TEST(Scenario, DrainWaitsAboveTheHighWaterMarkAndResumesAtTheLowOne) {
  constexpr std::size_t kHigh = 512 * 1024;
  constexpr std::size_t kLow = 128 * 1024;
  constexpr std::size_t kTotal = 4 << 20;
  constexpr std::size_t kPeerStep = 32 * 1024;  // the peer's reads: slow, in small steps
  RawListener listener = this->listen_raw(64 * 1024);  // a small receive window
  StreamConfig config;
  config.write_high_water = kHigh;
  config.write_low_water = kLow;
  RawPair p = this->connect_raw(listener, config);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  int sndbuf = 64 * 1024;  // a small send buffer: the kernel holds little
  ::setsockopt(client.native_handle(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

  StreamHash want;
  {
    std::string payload = pattern(0, kTotal);
    want.update(payload);
    ASSERT_TRUE(client.write(std::move(payload)).ok());
  }
  Op<Status> d1 = client.start_drain();
  // The peer does not read: the kernel takes what it can, the rest waits.
  this->run_until([&] { return client.write_buffer_size() < kTotal; });
  EXPECT_FALSE(d1.done());
  EXPECT_GT(client.write_buffer_size(), kHigh);

  // The peer reads in small steps; every turn compares the drains with
  // get_write_buffer_size() (which only shrinks: nothing is written).
  PeerRead got;
  Op<Status> d2;
  bool saw_between_marks = false;
  std::size_t size_when_d1_seen_done = 0;
  bool d1_seen_done = false;
  std::string violation;
  this->run_until(
      [&] {
        RawSocket::Recv r = p.peer.recv(kPeerStep);
        got.hash.update(r.data);
        if (r.error != 0 || r.eof) violation = "the peer's read failed";
        const std::size_t size = client.write_buffer_size();
        if (d1.done() && !d1_seen_done) {
          d1_seen_done = true;
          size_when_d1_seen_done = size;
        }
        if (!d1.done() && size > kLow && size <= kHigh) {
          saw_between_marks = true;
          if (!d2.valid()) {
            // Below the high mark but still paused: a new drain waits too.
            d2 = client.start_drain();
            if (d2.done()) violation = "a drain between the marks completed at once while paused";
          }
        }
        if (d1.done() && size > kLow) violation = "a drain completed above the low water mark";
        if (d2.valid() && d2.done() && size > kLow) {
          violation = "the second drain completed above the low water mark";
        }
        return !violation.empty() || (d1.done() && (!d2.valid() || d2.done()));
      },
      60s);
  EXPECT_EQ(violation, "");
  EXPECT_TRUE(saw_between_marks);
  EXPECT_TRUE(d1_seen_done);
  EXPECT_LE(size_when_d1_seen_done, kLow);
  if (d1.done()) {
    EXPECT_EQ(describe(d1.peek()), "ok");
  }
  if (d2.done()) {
    EXPECT_EQ(describe(d2.peek()), "ok");
  }
  // Everything arrives, intact.
  client.close();
  got = this->peer_read(p.peer, std::numeric_limits<std::uint64_t>::max(), false, std::move(got));
  EXPECT_TRUE(got.eof);
  EXPECT_EQ(got.hash.size(), kTotal);
  EXPECT_EQ(got.hash.value(), want.value());
  EXPECT_EQ(describe(this->wait_closed(client)), "ok");
}

// ---- Reset by the peer ---------------------------------------------------------------------

TYPED_TEST(Scenario, PeerResetDuringAReadFailsTheReaderAndTheWriter) {
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  Op<ReadResult> line = client.start_readline();
  p.peer.reset();
  EXPECT_TRUE(fails_with_connection_error(this->finish(line), {ECONNRESET}));
  EXPECT_TRUE(fails_with_connection_error(this->drain(client), {ECONNRESET}));
  EXPECT_TRUE(fails_with_connection_error(this->wait_closed(client), {ECONNRESET}));
  // Sticky.
  EXPECT_TRUE(fails_with_connection_error(this->read(client, 1), {ECONNRESET}));
  EXPECT_TRUE(client.is_closing());
  EXPECT_EQ(client.native_handle(), -1);
}

TYPED_TEST(Scenario, PeerResetDuringADrainFailsTheDrainAndTheReader) {
  constexpr std::size_t kSize = 8 << 20;
  RawListener listener = this->listen_raw(64 * 1024);
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  ASSERT_TRUE(client.write(std::string(kSize, 'x')).ok());
  Op<Status> drain = client.start_drain();
  this->run_until([&] { return client.write_buffer_size() < kSize; });
  EXPECT_FALSE(drain.done());
  p.peer.reset();
  EXPECT_TRUE(fails_with_connection_error(this->finish(drain), {ECONNRESET, EPIPE}));
  EXPECT_TRUE(fails_with_connection_error(this->readline(client), {ECONNRESET, EPIPE}));
  EXPECT_TRUE(fails_with_connection_error(this->wait_closed(client), {ECONNRESET, EPIPE}));
  EXPECT_EQ(client.native_handle(), -1);
}

TYPED_TEST(Scenario, PeerResetDuringALargeWriteFailsTheWriterAndTheReader) {
  constexpr std::size_t kSize = 16 << 20;
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  ASSERT_TRUE(client.write(pattern(0, kSize)).ok());
  Op<Status> closed = client.start_wait_closed();
  // The peer takes 1 MiB of it, then resets.
  EXPECT_EQ(this->peer_read(p.peer, 1 << 20, false).hash.size(), 1u << 20);
  p.peer.reset();
  EXPECT_TRUE(fails_with_connection_error(this->finish(closed), {ECONNRESET, EPIPE}));
  EXPECT_EQ(client.write_buffer_size(), 0u);  // the loss drops what was queued
  EXPECT_TRUE(fails_with_connection_error(this->read(client, 1), {ECONNRESET, EPIPE}));
  EXPECT_TRUE(fails_with_connection_error(this->drain(client), {ECONNRESET, EPIPE}));
  EXPECT_TRUE(client.write("late").ok());  // dropped silently, as asyncio does
  EXPECT_EQ(client.native_handle(), -1);
}

// ---- close, wait_closed, abort -----------------------------------------------------------

TYPED_TEST(Scenario, CloseFlushesThenClosesAndWaitClosedCompletes) {
  constexpr std::size_t kSize = 1 << 20;
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  StreamHash want;
  {
    std::string payload = pattern(0, kSize);
    want.update(payload);
    ASSERT_TRUE(client.write(std::move(payload)).ok());
  }
  client.close();
  EXPECT_TRUE(client.is_closing());
  EXPECT_TRUE(client.write("late").ok());  // dropped silently
  Op<Status> closed = client.start_wait_closed();
  PeerRead got = this->peer_read(p.peer, std::numeric_limits<std::uint64_t>::max(), false);
  EXPECT_TRUE(got.eof);  // everything, then FIN
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.hash.size(), kSize);
  EXPECT_EQ(got.hash.value(), want.value());
  EXPECT_EQ(describe(this->finish(closed)), "ok");
  EXPECT_EQ(client.native_handle(), -1);
  // asyncio: drain after the close fails with "Connection lost"; the
  // reader saw a clean EOF.
  EXPECT_TRUE(fails_with_connection_error(this->drain(client), {ECONNRESET}));
  EXPECT_EQ(text(this->readline(client)), "");
}

TYPED_TEST(Scenario, AbortDropsQueuedBytesAndResetsThePeer) {
  constexpr std::size_t kSize = 8 << 20;
  RawListener listener = this->listen_raw(64 * 1024);
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  ASSERT_TRUE(client.write(std::string(kSize, 'x')).ok());
  this->run_until([&] { return client.write_buffer_size() < kSize; });
  client.abort();
  EXPECT_TRUE(client.is_closing());
  EXPECT_EQ(client.write_buffer_size(), 0u);             // dropped at once
  EXPECT_EQ(describe(this->wait_closed(client)), "ok");  // asyncio: a clean loss
  EXPECT_EQ(client.native_handle(), -1);
  PeerRead got = this->peer_read(p.peer, std::numeric_limits<std::uint64_t>::max(), false);
  EXPECT_EQ(got.error, ECONNRESET);
  EXPECT_FALSE(got.eof);
  EXPECT_LT(got.hash.size(), kSize);
  EXPECT_EQ(text(this->readline(client)), "");  // the reader saw EOF
}

// Plain only: over TLS the peer's close_notify closes this side too.
TYPED_TEST(HalfCloseScenario, APeerThatClosesAtOnceIsEofForTheReader) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kCloseAtOnce);
  std::unique_ptr<Stream> client = this->connect(server->port());
  ASSERT_TRUE(client);
  EXPECT_EQ(text(this->readline(*client)), "");
  EXPECT_TRUE(client->at_eof());
  EXPECT_FALSE(client->is_closing());
  client->close();
  EXPECT_EQ(describe(this->wait_closed(*client)), "ok");
}

// ---- Servers -------------------------------------------------------------------------------

TYPED_TEST(Scenario, ServerCloseKeepsLiveClientsUntilCloseClients) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoLines);
  const std::uint16_t port = server->port();
  std::vector<std::unique_ptr<Stream>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(this->connect(port));
    ASSERT_TRUE(clients.back());
    const std::string line = "hello " + std::to_string(i) + "\n";
    ASSERT_TRUE(clients.back()->write(line).ok());
    ASSERT_EQ(text(this->readline(*clients.back())), line);
  }
  EXPECT_EQ(server->active_connections(), 3u);
  Op<std::error_code> closed = server->start_wait_closed();
  server->close();
  EXPECT_FALSE(server->is_serving());
  EXPECT_EQ(this->finish(this->loop().start_connect(port, {})).error, errno_code(ECONNREFUSED));
  // The live connections are still served.
  for (auto& c : clients) {
    ASSERT_TRUE(c->write("still\n").ok());
    EXPECT_EQ(text(this->readline(*c)), "still\n");
  }
  EXPECT_FALSE(closed.done());  // closed, but with active connections
  EXPECT_EQ(server->active_connections(), 3u);
  server->close_clients();
  for (auto& c : clients) {
    EXPECT_EQ(text(this->readline(*c)), "");  // FIN
    EXPECT_TRUE(c->at_eof());
  }
  EXPECT_EQ(this->finish(closed), std::error_code());
  EXPECT_EQ(server->active_connections(), 0u);
}

TYPED_TEST(Scenario, ServerAbortClientsResetsLiveClients) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoLines);
  std::vector<std::unique_ptr<Stream>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(this->connect(server->port()));
    ASSERT_TRUE(clients.back());
    ASSERT_TRUE(clients.back()->write("hello\n").ok());
    ASSERT_EQ(text(this->readline(*clients.back())), "hello\n");
  }
  Op<std::error_code> closed = server->start_wait_closed();
  server->close();
  server->abort_clients();
  for (auto& c : clients) {
    EXPECT_TRUE(fails_with_connection_error(this->readline(*c), {ECONNRESET}));
  }
  EXPECT_EQ(this->finish(closed), std::error_code());
  EXPECT_EQ(server->active_connections(), 0u);
}

TYPED_TEST(Scenario, ServeForeverReturnsWhenTheServerIsClosed) {
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoLines);
  Op<std::error_code> serving = server->start_serve_forever();
  std::unique_ptr<Stream> client = this->connect(server->port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->write("ping\n").ok());
  EXPECT_EQ(text(this->readline(*client)), "ping\n");
  EXPECT_FALSE(serving.done());
  EXPECT_TRUE(server->is_serving());
  // asyncio's RuntimeErrors: already being awaited...
  EXPECT_EQ(this->finish(server->start_serve_forever()), errno_code(EALREADY));
  server->close();
  EXPECT_EQ(this->finish(serving), std::error_code());
  // ...and the server is closed.
  EXPECT_EQ(this->finish(server->start_serve_forever()), errno_code(EBADF));
  client->close();
  EXPECT_EQ(describe(this->wait_closed(*client)), "ok");
  EXPECT_EQ(this->finish(server->start_wait_closed()), std::error_code());
}

TYPED_TEST(Scenario, TwoThousandConcurrentConnectionsAllCompleteWithoutLeaks) {
  constexpr std::size_t kConnections = 2000;
  // Both ends of every connection are in this process.
  ASSERT_GE(raise_fd_limit(2 * kConnections + 512), 2 * kConnections + 512);
  std::unique_ptr<Server> server = this->start_server(Behaviour::kEchoLines);
  const std::uint16_t port = server->port();

  // One round: n connections open at once, each exchanges a line, all close.
  auto round = [&](std::size_t n) {
    std::vector<Op<Connected>> connects;
    for (std::size_t i = 0; i < n; ++i) connects.push_back(this->loop().start_connect(port, {}));
    auto all_done = [](auto& ops) {
      return [&ops, next = std::size_t{0}]() mutable {
        while (next < ops.size() && ops[next].done()) ++next;
        return next == ops.size();
      };
    };
    this->run_until(all_done(connects), 60s);
    std::vector<std::unique_ptr<Stream>> clients;
    std::size_t errors = 0;
    for (Op<Connected>& c : connects) {
      if (!c.done()) continue;
      Connected x = c.take();
      if (x.error) {
        ++errors;
      } else {
        clients.push_back(std::move(x.stream));
      }
    }
    EXPECT_EQ(errors, 0u);
    std::vector<Op<ReadResult>> replies;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      (void)clients[i]->write("line " + std::to_string(i) + "\n");
      replies.push_back(clients[i]->start_readline());
    }
    this->run_until(all_done(replies), 60s);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (!replies[i].done() || text(replies[i].take()) != "line " + std::to_string(i) + "\n") {
        ++wrong;
      }
    }
    EXPECT_EQ(wrong, 0u);
    std::vector<Op<Status>> closes;
    for (auto& c : clients) {
      c->close();
      closes.push_back(c->start_wait_closed());
    }
    this->run_until(all_done(closes), 60s);
    std::size_t failed = 0;
    for (Op<Status>& c : closes) failed += !c.done() || !c.peek().ok();
    EXPECT_EQ(failed, 0u);
    clients.clear();
    this->run_until([&] { return server->active_connections() == 0; }, 60s);
  };

  // Warm-up: the loop's own descriptors, and the pools, tables and
  // containers that grow once to the size of a round.
  round(kConnections);
  const int fds = fd_count();
  const std::size_t heap_before = allocated_bytes();
  round(kConnections);
  EXPECT_EQ(fd_count(), fds) << "descriptors left after a round of " << kConnections;
  round(kConnections);
  EXPECT_EQ(fd_count(), fds) << "descriptors left after two rounds of " << kConnections;
  const std::size_t heap_after = allocated_bytes();
  // Two more rounds reuse what the warm-up grew; what stays per connection
  // shows here (256 KiB is < 32 bytes per connection end).
  const std::size_t growth = heap_after > heap_before ? heap_after - heap_before : 0;
  this->RecordProperty("heap_growth_bytes",
                       static_cast<int>(std::min<std::size_t>(growth, 1 << 30)));
  EXPECT_LE(growth, 256u * 1024) << "the heap grew by " << growth << " bytes over "
                                 << 2 * kConnections << " more connections";
}

// ---- Cancellation ----------------------------------------------------------------------------

TYPED_TEST(Scenario, CancellingAPendingReadexactlyLosesNoBytes) {
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  Op<ReadResult> exactly = client.start_readexactly(10);
  ASSERT_TRUE(p.peer.send_all("01234"));
  this->wait_received(client, 5);
  EXPECT_FALSE(exactly.done());
  exactly.cancel();
  ASSERT_TRUE(p.peer.send_all("56789"));
  EXPECT_EQ(text(this->readexactly(client, 10)), "0123456789");
  EXPECT_FALSE(exactly.done());
}

TYPED_TEST(Scenario, CancellingAPendingReadToEofLosesNoBytes) {
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  // read(-1) collects what arrives inside the pending read.
  Op<ReadResult> all = client.start_read(-1);
  ASSERT_TRUE(p.peer.send_all("abc"));
  this->wait_received(client, 3);
  EXPECT_FALSE(all.done());
  all.cancel();
  ASSERT_TRUE(p.peer.send_all("def"));
  p.peer.shutdown_write();
  EXPECT_EQ(text(this->read(client, -1)), "abcdef");
}

TYPED_TEST(Scenario, CancellingAPendingReadlineLosesNoBytes) {
  RawListener listener = this->listen_raw();
  RawPair p = this->connect_raw(listener);
  ASSERT_TRUE(p.stream);
  Stream& client = *p.stream;
  Op<ReadResult> line = client.start_readline();
  ASSERT_TRUE(p.peer.send_all("par"));
  this->wait_received(client, 3);
  EXPECT_FALSE(line.done());
  line.cancel();
  ASSERT_TRUE(p.peer.send_all("tial\n"));
  EXPECT_EQ(text(this->readline(client)), "partial\n");
}

}  // namespace
}  // namespace sluice::scenarios
