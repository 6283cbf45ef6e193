// TLS interop with the real asyncio (CPython's, python3 from PATH) on the
// Asio backend; libevent_asyncio_tls_test.cc is its twin (the file comment
// there says what is and is not covered). Every wait is bounded; the Python
// process is killed if it outlives its test; no descriptor leaks.


#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "backends/asio/streams.h"
#include "conformance/peers/asyncio_peer.h"
#include "core/tls/testing/test_certs.h"
#include "core/testing/fd_count.h"
#include "gtest/gtest.h"

namespace sluice::asio_backend {
namespace {

using namespace std::chrono_literals;
using asio::use_awaitable;
using conformance::peers::AsyncioPeer;
using conformance::peers::Crc32;
using conformance::peers::interop_lines;
using conformance::peers::large_payload;
using sluice::testing::make_client_context;
using sluice::testing::make_server_context;
using sluice::testing::test_pki;

constexpr std::chrono::milliseconds kChildTimeout = 40s;

using sluice::testing::fd_count;

// run_until: runs `io` until `done()` or `timeout`; `done()` is checked at
// least every 5 ms (it may watch something outside `io`, e.g. the Python
// process).
template <typename Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok;
  while (!(ok = done()) && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(5ms);
    // Nothing to run: only the outside condition is left to poll.
    if (io.stopped() && !(ok = done())) std::this_thread::sleep_for(5ms);
  }
  return ok;
}

// The fixture: one io_context per test, run until it has nothing left
// before it goes, and no descriptor left open (the io_context's own
// included).
class AsyncioTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)test_pki();  // made once, before counting descriptors
    fds_before_ = fd_count();
    io_.emplace();
  }
  void TearDown() override {
    io_->restart();
    io_->run_for(5s);
    EXPECT_TRUE(io_->stopped()) << "the io_context still has work";
    io_.reset();
    EXPECT_EQ(fd_count(), fds_before_) << "descriptors left open";
  }

  // run: runs `body` to its end; a timeout or an exception fails the test.
  void run(asio::awaitable<void> body, std::chrono::milliseconds timeout = kChildTimeout) {
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(*io_, std::move(body), [&](std::exception_ptr e) {
      done = true;
      error = e;
    });
    if (!run_until(
            *io_, [&] { return done; }, timeout)) {
      ADD_FAILURE() << "timed out after " << timeout.count() << " ms";
      io_->stop();
      return;
    }
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "exception: " << e.what();
    }
  }

  // run_against_asyncio_server: `asyncio_peer.py server MODE --cert --key`,
  // `client(port)` run to its end, then the server is stopped and must exit
  // 0 (no connection went wrong on its side).
  template <typename Client>
  void run_against_asyncio_server(const std::string& mode, Client client) {
    AsyncioPeer server({"server", mode, "--cert", test_pki().server.cert_file, "--key",
                        test_pki().server.key_file});
    ASSERT_TRUE(server.started()) << "cannot start python3";
    std::optional<std::string> line = server.read_line(20s);
    ASSERT_TRUE(line && line->starts_with("port ")) << "the asyncio server did not start";
    run(client(static_cast<std::uint16_t>(std::stoi(line->substr(5)))));
    server.close_stdin();
    EXPECT_TRUE(run_until(
        *io_, [&] { return server.exited(); }, 20s));
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
    Server server = start_server(io_->get_executor(), std::move(handler), "127.0.0.1", 0, options);
    const auto port = std::get<asio::ip::tcp::endpoint>(server.sockets().front()).port();
    AsyncioPeer client({"client", mode, "127.0.0.1", std::to_string(port), "--cafile",
                        test_pki().ca_file, "--server-hostname", "localhost"});
    ASSERT_TRUE(client.started()) << "cannot start python3";
    EXPECT_TRUE(run_until(
        *io_, [&] { return client.exited(); }, kChildTimeout))
        << "the asyncio client did not finish";
    EXPECT_EQ(client.exit_code(), 0) << "the asyncio client failed (its reason is in the log)";
    server.close();
    EXPECT_TRUE(run_until(
        *io_, [&] { return server.active_connections() == 0; }, 20s));
  }

 private:
  std::optional<asio::io_context> io_;
  int fds_before_ = 0;
};

asio::awaitable<void> echo_lines(StreamReader reader, StreamWriter writer) {
  for (;;) {
    std::string line = co_await reader.async_readline(use_awaitable);
    if (line.empty()) break;
    writer.write(std::move(line));
    co_await writer.async_drain(use_awaitable);
  }
  writer.close();
  co_await writer.async_wait_closed(use_awaitable);
}

// exchange_lines: the "lines" exchange, then a close (TLS has no write_eof).
asio::awaitable<void> exchange_lines(StreamReader reader, StreamWriter writer) {
  for (const std::string& line : interop_lines()) {
    writer.write(line);
    co_await writer.async_drain(use_awaitable);
    EXPECT_EQ(co_await reader.async_readline(use_awaitable), line);
  }
  writer.close();
  co_await writer.async_wait_closed(use_awaitable);
}

asio::awaitable<Stream> connect(std::uint16_t port, StreamOptions options) {
  co_return co_await async_open_connection(co_await asio::this_coro::executor, "127.0.0.1", port,
                                           options, use_awaitable);
}

StreamOptions client_options() {
  StreamOptions options;
  options.ssl = make_client_context(test_pki());
  return options;
}

// ---- A sluice client against an asyncio server. ---------------------------------

TEST_F(AsyncioTlsTest, SluiceTlsClientGetsItsLinesEchoedByAsyncioTlsServer) {
  run_against_asyncio_server("echo", [](std::uint16_t port) -> asio::awaitable<void> {
    StreamOptions options = client_options();
    options.server_hostname = "localhost";
    auto [reader, writer] = co_await connect(port, options);
    EXPECT_NE(writer.ssl_object(), nullptr);
    EXPECT_EQ(writer.get_extra_info("peercert"), std::string("CN=localhost,O=sluice tests"));
    co_await exchange_lines(reader, writer);
  });
}

TEST_F(AsyncioTlsTest, SluiceTlsClientGetsALargePayloadEchoedByAsyncioTlsServer) {
  run_against_asyncio_server("echo", [](std::uint16_t port) -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;  // NOLINT
    auto [reader, writer] = co_await connect(port, client_options());
    const std::string payload = large_payload();
    Crc32 sent, received;
    sent.update(payload);
    std::size_t size = 0;
    // Send and receive at once: the echo fills the buffers long before the
    // 8 MiB are sent. The end is counted: TLS has no write_eof.
    auto send = [&]() -> asio::awaitable<void> {
      for (std::size_t k = 0; k < payload.size(); k += 100000) {
        writer.write(std::string_view(payload).substr(k, 100000));
        co_await writer.async_drain(use_awaitable);
      }
    };
    auto receive = [&]() -> asio::awaitable<void> {
      while (size < payload.size()) {
        const std::string chunk = co_await reader.async_read(1 << 16, use_awaitable);
        if (chunk.empty()) break;
        received.update(chunk);
        size += chunk.size();
      }
    };
    co_await (send() && receive());
    EXPECT_EQ(size, payload.size());
    EXPECT_EQ(received.value(), sent.value());
    writer.close();
    co_await writer.async_wait_closed(use_awaitable);
  });
}

TEST_F(AsyncioTlsTest, SluiceClientUpgradesWithStartTlsAfterAsyncioServersOk) {
  run_against_asyncio_server("starttls", [](std::uint16_t port) -> asio::awaitable<void> {
    auto [reader, writer] = co_await connect(port, {});
    writer.write("STARTTLS\n");
    EXPECT_EQ(co_await reader.async_readline(use_awaitable), "OK\n");
    StartTlsOptions options;
    options.server_hostname = "localhost";
    co_await writer.async_start_tls(make_client_context(test_pki()), options, use_awaitable);
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
  run_asyncio_client(
      "starttls", false, [](StreamReader reader, StreamWriter writer) -> asio::awaitable<void> {
        EXPECT_EQ(co_await reader.async_readline(use_awaitable), "STARTTLS\n");
        writer.write("OK\n");
        co_await writer.async_start_tls(make_server_context(test_pki()), use_awaitable);
        EXPECT_NE(writer.ssl_object(), nullptr);
        co_await echo_lines(reader, writer);
      });
}

TEST_F(AsyncioTlsTest, AsyncioClientsClientHelloPipelinedBehindStarttlsIsHandedToTls) {
  run_asyncio_client(
      "starttls_pipelined", false,
      [](StreamReader reader, StreamWriter writer) -> asio::awaitable<void> {
        EXPECT_EQ(co_await reader.async_readline(use_awaitable), "STARTTLS\n");
        // The ClientHello came with the command: the reader holds it, and
        // start_tls hands it to TLS (StartTlsBuffered::kHandOver).
        EXPECT_GT(reader.buffered_size(), 0u);
        co_await writer.async_start_tls(make_server_context(test_pki()), use_awaitable);
        co_await echo_lines(reader, writer);
      });
}

}  // namespace
}  // namespace sluice::asio_backend
