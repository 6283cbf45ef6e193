// File: bench/echo/asio_echo_server.cc
//
// A peer: a line echo server on plain Asio, written the straightforward way
// (one coroutine per connection, async_read_until a '\n', then async_write
// that line and wait for it), as an Asio user would write it without sluice.
// One async_write, so one send(), per line: what the pipelined benchmark
// shows against the batching servers.
//
//   asio_echo_server --host 127.0.0.1 --port P     (server_flags.h)

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <system_error>

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "bench/echo/server_flags.h"

namespace {

using asio::ip::tcp;

asio::awaitable<void> echo(tcp::socket socket) {
  std::string buffer;
  try {
    for (;;) {
      const std::size_t n =
          co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), '\n', asio::use_awaitable);
      co_await asio::async_write(socket, asio::buffer(buffer.data(), n), asio::use_awaitable);
      buffer.erase(0, n);
    }
  } catch (const std::system_error&) {
    // EOF or a reset: the connection is over.
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const sluice::bench::ServerFlags flags = sluice::bench::parse_server_flags(argc, argv, "asio_echo_server");
  asio::io_context io(1);
  tcp::acceptor acceptor(io);
  try {
    const tcp::endpoint endpoint(asio::ip::make_address(flags.host == "localhost" ? "127.0.0.1" : flags.host),
                                 static_cast<unsigned short>(flags.port));
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(4096);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_echo_server: %s\n", e.what());
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) { io.stop(); });
  asio::co_spawn(io, listen(acceptor), asio::detached);
  sluice::bench::announce(flags.host, acceptor.local_endpoint().port());
  io.run();
  return 0;
}
