// Interop with the real asyncio (CPython's, python3 from PATH): a Python
// asyncio streams client against a sluice server, and a sluice client against
// a Python asyncio streams server (conformance/peers/asyncio_peer.py is the
// Python side, shared with the libevent backend's twin of this test): echoed
// lines, a large payload (8 MiB, hash-checked) and half-closes (write_eof;
// the other side reads to EOF and still answers). Every wait is bounded; the
// Python process is killed if it outlives its test.

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "backends/asio/streams.h"
#include "backends/asio/test_support.h"
#include "conformance/peers/asyncio_peer.h"
#include "gtest/gtest.h"

namespace sluice::asio_backend {
namespace {

using namespace test_support;  // NOLINT
using asio::use_awaitable;

using conformance::peers::AsyncioPeer;
using conformance::peers::interop_lines;
using conformance::peers::large_payload;
using conformance::peers::summary;

constexpr auto kChildTimeout = std::chrono::milliseconds(40000);

// run_polling: runs `io` until `done()` (something outside `io`, checked
// every few milliseconds) or `timeout`; false on timeout.
template <typename Done>
bool run_polling(asio::io_context& io, Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
    if (io.stopped()) ::usleep(5000);  // `io` has nothing to do: wait a moment
  }
  return true;
}

// ---- A Python asyncio client against a sluice server. --------------------------

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

asio::awaitable<void> summarize(StreamReader reader, StreamWriter writer) {
  const std::string all = co_await reader.async_read(-1, use_awaitable);
  writer.write(summary(all));
  co_await writer.async_drain(use_awaitable);
  writer.close();
  co_await writer.async_wait_closed(use_awaitable);
}

// Runs `asyncio_peer.py client MODE 127.0.0.1 PORT` against a sluice server
// serving `handler`; expects it to exit 0.
void run_asyncio_client(const std::string& mode, ClientConnectedCallback handler) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), std::move(handler), "127.0.0.1", 0);
  const auto port = std::get<asio::ip::tcp::endpoint>(server.sockets().front()).port();
  AsyncioPeer client({"client", mode, "127.0.0.1", std::to_string(port)});
  ASSERT_TRUE(client.started()) << "cannot start python3";
  EXPECT_TRUE(run_polling(
      io, [&] { return client.exited(); }, kChildTimeout))
      << "the asyncio client did not finish";
  EXPECT_EQ(client.exit_code(), 0) << "the asyncio client failed (its reason is in the log)";
  server.close();
  EXPECT_TRUE(run_until(io, [&] { return server.active_connections() == 0; }));
}

TEST(AsyncioInteropTest, AsyncioClientGetsItsLinesEchoedBySluiceServer) {
  run_asyncio_client("lines", echo_lines);
}

TEST(AsyncioInteropTest, AsyncioClientGetsALargePayloadEchoedBySluiceServer) {
  run_asyncio_client("large", echo_lines);
}

TEST(AsyncioInteropTest, SluiceServerReadsToEofAfterAsyncioClientsWriteEofAndStillAnswers) {
  run_asyncio_client("half_close", summarize);
}

// ---- A sluice client against a Python asyncio server. ---------------------------

// Starts `asyncio_peer.py server MODE`, runs `client(port)` to its end, then
// stops the server and expects it to exit 0 (no connection went wrong).
template <typename Client>
void run_against_asyncio_server(const std::string& mode, Client client) {
  AsyncioPeer server({"server", mode});
  ASSERT_TRUE(server.started()) << "cannot start python3";
  std::optional<std::string> line = server.read_line(std::chrono::seconds(20));
  ASSERT_TRUE(line && line->starts_with("port ")) << "the asyncio server did not start";
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(5)));
  asio::io_context io;
  run(io, client(port), kChildTimeout);
  server.close_stdin();
  EXPECT_TRUE(run_polling(
      io, [&] { return server.exited(); }, std::chrono::seconds(20)));
  EXPECT_EQ(server.exit_code(), 0) << "the asyncio server failed (its reason is in the log)";
}

asio::awaitable<Stream> connect(std::uint16_t port) {
  co_return co_await async_open_connection(co_await asio::this_coro::executor, "127.0.0.1", port,
                                           use_awaitable);
}

TEST(AsyncioInteropTest, SluiceClientGetsItsLinesEchoedByAsyncioServer) {
  run_against_asyncio_server("echo", [](std::uint16_t port) -> asio::awaitable<void> {
    auto [reader, writer] = co_await connect(port);
    for (const std::string& line : interop_lines()) {
      writer.write(line);
      co_await writer.async_drain(use_awaitable);
      const std::string echoed = co_await reader.async_readline(use_awaitable);
      EXPECT_EQ(echoed, line);
    }
    writer.write_eof();
    const std::string rest = co_await reader.async_read(-1, use_awaitable);
    EXPECT_EQ(rest, "");
    writer.close();
    co_await writer.async_wait_closed(use_awaitable);
  });
}

TEST(AsyncioInteropTest, SluiceClientGetsALargePayloadEchoedByAsyncioServer) {
  run_against_asyncio_server("echo", [](std::uint16_t port) -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;  // NOLINT
    auto [reader, writer] = co_await connect(port);
    const std::string payload = large_payload();
    StreamHash sent, received;
    sent.update(payload);
    std::size_t received_size = 0;
    auto send = [&]() -> asio::awaitable<void> {
      for (std::size_t k = 0; k < payload.size(); k += 100000) {
        writer.write(std::string_view(payload).substr(k, 100000));
        co_await writer.async_drain(use_awaitable);
      }
      writer.write_eof();
    };
    auto receive = [&]() -> asio::awaitable<void> {
      for (;;) {
        const std::string chunk = co_await reader.async_read(1 << 16, use_awaitable);
        if (chunk.empty()) break;
        received.update(chunk);
        received_size += chunk.size();
      }
    };
    co_await (send() && receive());
    EXPECT_EQ(received_size, payload.size());
    EXPECT_EQ(received.value(), sent.value());
    writer.close();
    co_await writer.async_wait_closed(use_awaitable);
  });
}

TEST(AsyncioInteropTest, AsyncioServerReadsToEofAfterSluiceClientsWriteEofAndStillAnswers) {
  run_against_asyncio_server("summarize", [](std::uint16_t port) -> asio::awaitable<void> {
    auto [reader, writer] = co_await connect(port);
    std::string payload = large_payload();
    const std::string want = summary(payload);
    writer.write(std::move(payload));
    co_await writer.async_drain(use_awaitable);
    writer.write_eof();
    const std::string answer = co_await reader.async_read(-1, use_awaitable);
    EXPECT_EQ(answer, want);
    writer.close();
    co_await writer.async_wait_closed(use_awaitable);
  });
}

}  // namespace
}  // namespace sluice::asio_backend
