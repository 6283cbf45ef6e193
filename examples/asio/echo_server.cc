// echo_server: the TCP echo server of asyncio's streams docs, on sluice's
// Asio backend. Every client's lines are written back (drained) until the
// client's EOF, then that connection is closed. Serves until SIGINT or
// SIGTERM, then closes the server and its clients and exits 0.
//
//   echo_server --host 127.0.0.1 --port 8888     (--port 0: any free port)
//   echo_server --cert cert.pem --key key.pem    TLS (asyncio's ssl=)
//
// Prints "Serving on HOST:PORT" (the bound address, so the real port) once
// listening, then a line for every line it echoes and every connection it
// closes. Over TLS a client whose handshake fails is closed silently.
// Exit status: 0; 1 when it cannot listen or load --cert/--key (the reason
// on standard error); 2 for a bad command line.

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "backends/asio/streams.h"
#include "examples/cli.h"
#include "examples/show.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "address to listen on");
ABSL_FLAG(int, port, 8888, "port to listen on (0: any free port)");
ABSL_FLAG(std::string, cert, "", "serve TLS with this certificate chain (PEM)");
ABSL_FLAG(std::string, key, "", "the private key of --cert (PEM)");

namespace sab = sluice::asio_backend;
using sluice::examples::show;

asio::awaitable<void> handle_echo(sab::StreamReader reader, sab::StreamWriter writer) {
  const std::string peer = writer.get_extra_info("peername").value_or("?");
  for (;;) {
    std::string line = co_await reader.async_readline(asio::use_awaitable);
    if (line.empty()) break;  // the client's EOF
    std::printf("Received %s from %s\n", show(line).c_str(), peer.c_str());
    std::fflush(stdout);
    writer.write(std::move(line));
    co_await writer.async_drain(asio::use_awaitable);
  }
  std::printf("Close the connection with %s\n", peer.c_str());
  std::fflush(stdout);
  writer.close();
  co_await writer.async_wait_closed(asio::use_awaitable);
}

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("echo_server --host H --port P [--cert FILE --key FILE]");
  if (sluice::examples::parse_command_line(argc, argv).size() > 1) {
    std::fprintf(stderr, "echo_server: no arguments expected (see --help)\n");
    return 2;
  }
  const int port = absl::GetFlag(FLAGS_port);
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "echo_server: --port must be in 0..65535\n");
    return 2;
  }
  sluice::Result<std::optional<sluice::TlsContext>, int> ssl = sluice::examples::tls_server_flags(
      "echo_server", absl::GetFlag(FLAGS_cert), absl::GetFlag(FLAGS_key));
  if (!ssl.ok()) return ssl.error();
  sab::ServerOptions options;
  options.stream.ssl = std::move(*ssl);
  asio::io_context io;
  sab::Server server;
  try {
    server = sab::start_server(io.get_executor(), handle_echo, absl::GetFlag(FLAGS_host),
                               static_cast<std::uint16_t>(port), options);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
  // The first signal closes the server and its clients cleanly (a pending
  // read sees EOF, so each handler closes its connection); a second one
  // resets the clients that are still there (a client that does not read
  // can hold a close up).
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code ec, int) {
    if (ec) return;
    server.close();
    server.close_clients();
    signals.async_wait([&](std::error_code ec, int) {
      if (!ec) server.abort_clients();
    });
  });
  server.async_wait_closed([&](std::error_code) { signals.cancel(); });

  std::string addresses;
  for (const sab::Endpoint& e : server.sockets()) {
    addresses += (addresses.empty() ? "" : ", ") + sab::to_string(e);
  }
  std::printf("Serving on %s\n", addresses.c_str());
  std::fflush(stdout);
  io.run();  // until the server and every connection are closed
  return 0;
}
