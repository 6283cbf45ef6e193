// File: bench/echo/sluice_asio_echo_server.cc
//
// sluice's Asio backend serving the asyncio docs' echo handler (readline,
// write, drain) exactly as examples/asio/echo_server does, minus its log
// line per echoed line (a printf and an fflush, so one write(2) per line): the
// benchmark reports both, so the library's cost and the example's are told
// apart.
//
// Built twice (bench/echo/BUILD.bazel): sluice_asio_echo_server runs the
// handler as an asio::awaitable on the async_ forms (use_awaitable);
// sluice_asio_task_echo_server (SLUICE_ECHO_TASK) runs the same handler as a
// sluice::Task on the coroutine forms (start_server takes it as it is),
// where a buffered line is read without a trip through the scheduler.
//
//   sluice_asio_echo_server --host 127.0.0.1 --port P     (server_flags.h)

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include "backends/asio/streams.h"
#include "bench/echo/server_flags.h"
#include "core/coro/task.h"

namespace {

namespace sab = sluice::asio_backend;

#ifdef SLUICE_ECHO_TASK
sluice::Task<void> handle_echo(sab::StreamReader reader, sab::StreamWriter writer) {
  try {
    while (std::optional<std::string> line = co_await reader.next_line()) {
      writer.write(std::move(*line));
      co_await writer.drain();
    }
  } catch (const std::system_error&) {
    // a reset connection: it is over
  }
  writer.close();
}
#else
asio::awaitable<void> handle_echo(sab::StreamReader reader, sab::StreamWriter writer) {
  try {
    for (;;) {
      std::string line = co_await reader.async_readline(asio::use_awaitable);
      if (line.empty()) break;  // the client's EOF
      writer.write(std::move(line));
      co_await writer.async_drain(asio::use_awaitable);
    }
  } catch (const std::system_error&) {
    // a reset connection: it is over
  }
  writer.close();
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const sluice::bench::ServerFlags flags = sluice::bench::parse_server_flags(argc, argv, "sluice_asio_echo_server");
  asio::io_context io(1);
  sab::Server server;
  try {
    server = sab::start_server(io.get_executor(), handle_echo, flags.host, static_cast<std::uint16_t>(flags.port));
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "sluice_asio_echo_server: %s\n", e.what());
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code ec, int) {
    if (ec) return;
    server.close();
    server.abort_clients();
  });
  server.async_wait_closed([&](std::error_code) { signals.cancel(); });
  std::printf("Serving on %s\n", sab::to_string(server.sockets().front()).c_str());
  std::fflush(stdout);
  io.run();
  return 0;
}
