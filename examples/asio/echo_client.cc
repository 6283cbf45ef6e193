// echo_client: the TCP echo client of asyncio's streams docs, on sluice's
// Asio backend. Sends each MESSAGE as a line, prints "Received: ..." for each
// line echoed back (without its line end), then closes.
//
//   echo_client --host 127.0.0.1 --port 8888 MESSAGE...
//   echo_client --tls --cafile ca.pem [--server-hostname NAME] ... MESSAGE...
//
// --tls connects over TLS (asyncio's ssl=), trusting --cafile's CA
// certificates (else the system store) and checking that the server's
// certificate names --server-hostname (default: --host).
//
// Exit status: 0; 1 when the connection or its TLS handshake fails (the
// reason on standard error); 2 for a bad command line.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "backends/asio/streams.h"
#include "examples/asio/run.h"
#include "examples/cli.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "the server's host");
ABSL_FLAG(int, port, 8888, "the server's port");
ABSL_FLAG(bool, tls, false, "connect over TLS");
ABSL_FLAG(std::string, cafile, "",
          "with --tls: trust these CA certificates (PEM), not the system's");
ABSL_FLAG(std::string, server_hostname, "",
          "with --tls: the name the server's certificate must have (default: --host)");

namespace sab = sluice::asio_backend;

asio::awaitable<void> tcp_echo_client(std::string host, std::uint16_t port,
                                      sab::StreamOptions options,
                                      std::vector<std::string> messages) {
  auto executor = co_await asio::this_coro::executor;
  auto [reader, writer] =
      co_await sab::async_open_connection(executor, host, port, options, asio::use_awaitable);
  for (const std::string& message : messages) {
    writer.write(message + "\n");
    co_await writer.async_drain(asio::use_awaitable);
    std::string line = co_await reader.async_readline(asio::use_awaitable);
    if (line.empty()) throw std::runtime_error("the server closed the connection");
    if (line.back() == '\n') line.pop_back();
    std::printf("Received: %s\n", line.c_str());
  }
  writer.close();
  co_await writer.async_wait_closed(asio::use_awaitable);
}

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "echo_client --host H --port P [--tls [--cafile FILE] [--server-hostname NAME]] MESSAGE...");
  std::vector<char*> args = sluice::examples::parse_command_line(argc, argv);
  const int port = absl::GetFlag(FLAGS_port);
  if (args.size() < 2 || port < 1 || port > 65535) {
    std::fprintf(stderr,
                 "usage: echo_client --host H --port P [--tls [--cafile FILE] "
                 "[--server-hostname NAME]] MESSAGE... (port 1..65535)\n");
    return 2;
  }
  const std::string server_hostname = absl::GetFlag(FLAGS_server_hostname);
  sluice::Result<std::optional<sluice::TlsContext>, int> ssl = sluice::examples::tls_client_flags(
      "echo_client", absl::GetFlag(FLAGS_tls), absl::GetFlag(FLAGS_cafile), server_hostname);
  if (!ssl.ok()) return ssl.error();
  sab::StreamOptions options;
  options.ssl = std::move(*ssl);
  if (!server_hostname.empty()) options.server_hostname = server_hostname;
  return sluice::examples::run_main(
      "echo_client",
      tcp_echo_client(absl::GetFlag(FLAGS_host), static_cast<std::uint16_t>(port), options,
                      std::vector<std::string>(args.begin() + 1, args.end())));
}
