// Interop with the real asyncio (CPython's, python3 from PATH), as the Asio
// backend's twin of this test does: a Python asyncio streams client against
// a sluice libevent server, and a sluice libevent client against a Python
// asyncio streams server (conformance/peers/asyncio_peer.py is the Python
// side): echoed lines, a large payload (8 MiB, CRC-checked) and half-closes
// (write_eof; the other side reads to EOF and still answers). Every wait is
// bounded; the Python process is killed if it outlives its test; the loop is
// left empty and no descriptor leaks (LoopTest).

#include <event2/event.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/libevent/streams.h"
#include "backends/libevent/test_support.h"
#include "conformance/peers/asyncio_peer.h"
#include "gtest/gtest.h"

namespace sluice::libevent_backend {
namespace {

using conformance::peers::AsyncioPeer;
using conformance::peers::Crc32;
using conformance::peers::interop_lines;
using conformance::peers::large_payload;
using conformance::peers::summary;
using test_support::run;
using test_support::run_until;

constexpr auto kChildTimeout = std::chrono::milliseconds(40000);

class AsyncioInteropTest : public test_support::LoopTest {};

// run_polling: runs the loop of `base` until `done()` (something outside
// the loop, checked every few milliseconds) or `timeout`; false on timeout.
template <typename Done>
bool run_polling(event_base* base, Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // At most 5 ms, less if something happens.
    run_until(
        base, [] { return false; }, std::chrono::milliseconds(5));
  }
  return true;
}

// ---- A Python asyncio client against a sluice server. --------------------------

Task<void> echo_lines(StreamReader reader, StreamWriter writer) {
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;
    writer.write(std::move(line));
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

Task<void> summarize(StreamReader reader, StreamWriter writer) {
  const std::string all = co_await reader.read(-1);
  writer.write(summary(all));
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}

// Runs `asyncio_peer.py client MODE 127.0.0.1 PORT` against a sluice server
// serving `handler`; expects it to exit 0.
void run_asyncio_client(event_base* base, const std::string& mode,
                        ClientConnectedCallback handler) {
  Server server = start_server(base, std::move(handler), "127.0.0.1", 0);
  const std::uint16_t port = server.sockets().front().port();
  AsyncioPeer client({"client", mode, "127.0.0.1", std::to_string(port)});
  ASSERT_TRUE(client.started()) << "cannot start python3";
  EXPECT_TRUE(run_polling(
      base, [&] { return client.exited(); }, kChildTimeout))
      << "the asyncio client did not finish";
  EXPECT_EQ(client.exit_code(), 0) << "the asyncio client failed (its reason is in the log)";
  server.close();
  EXPECT_TRUE(run_until(base, [&] { return server.active_connections() == 0; }));
}

TEST_F(AsyncioInteropTest, AsyncioClientGetsItsLinesEchoedBySluiceServer) {
  run_asyncio_client(base(), "lines", echo_lines);
}

TEST_F(AsyncioInteropTest, AsyncioClientGetsALargePayloadEchoedBySluiceServer) {
  run_asyncio_client(base(), "large", echo_lines);
}

TEST_F(AsyncioInteropTest, SluiceServerReadsToEofAfterAsyncioClientsWriteEofAndStillAnswers) {
  run_asyncio_client(base(), "half_close", summarize);
}

// ---- A sluice client against a Python asyncio server. ---------------------------

// Starts `asyncio_peer.py server MODE`, runs `client(base, port)` to its end,
// then stops the server and expects it to exit 0 (no connection went wrong).
// (`client` is a captureless coroutine lambda; it lives until the task ends.)
template <typename Client>
void run_against_asyncio_server(event_base* base, const std::string& mode, Client client) {
  AsyncioPeer server({"server", mode});
  ASSERT_TRUE(server.started()) << "cannot start python3";
  std::optional<std::string> line = server.read_line(std::chrono::seconds(20));
  ASSERT_TRUE(line && line->starts_with("port ")) << "the asyncio server did not start";
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(5)));
  run(base, client(base, port), kChildTimeout);
  server.close_stdin();
  EXPECT_TRUE(run_polling(
      base, [&] { return server.exited(); }, std::chrono::seconds(20)));
  EXPECT_EQ(server.exit_code(), 0) << "the asyncio server failed (its reason is in the log)";
}

Task<void> send_payload(StreamWriter writer, const std::string& payload) {
  for (std::size_t k = 0; k < payload.size(); k += 100000) {
    writer.write(std::string_view(payload).substr(k, 100000));
    co_await writer.drain();
  }
  writer.write_eof();
}

// receive_all: reads to EOF; the size and CRC-32 of what came.
Task<std::pair<std::size_t, std::uint32_t>> receive_all(StreamReader reader) {
  Crc32 crc;
  std::size_t size = 0;
  for (;;) {
    const std::string chunk = co_await reader.read(1 << 16);
    if (chunk.empty()) break;
    crc.update(chunk);
    size += chunk.size();
  }
  co_return std::pair{size, crc.value()};
}

TEST_F(AsyncioInteropTest, SluiceClientGetsItsLinesEchoedByAsyncioServer) {
  auto client = [](event_base* base, std::uint16_t port) -> Task<void> {
    auto [reader, writer] = co_await open_connection(base, "127.0.0.1", port);
    for (const std::string& line : interop_lines()) {
      writer.write(line);
      co_await writer.drain();
      const std::string echoed = co_await reader.readline();
      EXPECT_EQ(echoed, line);
    }
    writer.write_eof();
    const std::string rest = co_await reader.read(-1);
    EXPECT_EQ(rest, "");
    writer.close();
    co_await writer.wait_closed();
  };
  run_against_asyncio_server(base(), "echo", client);
}

TEST_F(AsyncioInteropTest, SluiceClientGetsALargePayloadEchoedByAsyncioServer) {
  auto client = [](event_base* base, std::uint16_t port) -> Task<void> {
    auto [reader, writer] = co_await open_connection(base, "127.0.0.1", port);
    const std::string payload = large_payload();
    Crc32 sent;
    sent.update(payload);
    // Send and receive at once (asyncio.gather): the echo fills the socket
    // buffers long before the 8 MiB are sent.
    Task<void> sending = send_payload(writer, payload);
    Task<std::pair<std::size_t, std::uint32_t>> receiving = receive_all(reader);
    sending.start();
    receiving.start();
    co_await sending;
    const auto [size, crc] = co_await receiving;
    EXPECT_EQ(size, payload.size());
    EXPECT_EQ(crc, sent.value());
    writer.close();
    co_await writer.wait_closed();
  };
  run_against_asyncio_server(base(), "echo", client);
}

TEST_F(AsyncioInteropTest, AsyncioServerReadsToEofAfterSluiceClientsWriteEofAndStillAnswers) {
  run_against_asyncio_server(
      base(), "summarize", [](event_base* base, std::uint16_t port) -> Task<void> {
        auto [reader, writer] = co_await open_connection(base, "127.0.0.1", port);
        std::string payload = large_payload();
        const std::string want = summary(payload);
        writer.write(std::move(payload));
        co_await writer.drain();
        writer.write_eof();
        const std::string answer = co_await reader.read(-1);
        EXPECT_EQ(answer, want);
        writer.close();
        co_await writer.wait_closed();
      });
}

}  // namespace
}  // namespace sluice::libevent_backend
