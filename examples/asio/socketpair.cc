// socketpair: the "register an open socket to wait for data using streams"
// example of asyncio's streams docs, on sluice's Asio backend: one end of a
// socketpair is wrapped in a stream (make_stream, asyncio's
// open_connection(sock=...)), the other end writes to it.
//
//   socketpair        prints "Received: abc"

#include <cstdio>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "backends/asio/streams.h"
#include "examples/asio/run.h"

namespace sab = sluice::asio_backend;

asio::awaitable<void> wait_for_data() {
  auto executor = co_await asio::this_coro::executor;
  // Create a pair of connected sockets.
  asio::local::stream_protocol::socket rsock(executor), wsock(executor);
  asio::local::connect_pair(rsock, wsock);

  // Register the open socket to wait for data.
  auto [reader, writer] = sab::make_stream(std::move(rsock));

  // Simulate the reception of data from the network.
  asio::post(executor, [&wsock] { asio::write(wsock, asio::buffer("abc", 3)); });

  // Wait for data.
  std::string data = co_await reader.async_read(100, asio::use_awaitable);

  // Got data, we are done: close the socket.
  std::printf("Received: %s\n", data.c_str());
  writer.close();
  co_await writer.async_wait_closed(asio::use_awaitable);

  // Close the second socket.
  wsock.close();
}

int main() { return sluice::examples::run_main("socketpair", wait_for_data()); }
