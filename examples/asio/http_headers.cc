// http_headers: the "get HTTP headers" example of asyncio's streams docs, on
// sluice's Asio backend: sends "HEAD path HTTP/1.0" and prints each
// non-empty header line of the response as "HTTP header> LINE".
//
//   http_headers http://127.0.0.1:8000/index.html
//   http_headers [--cafile ca.pem] https://example.com/
//
// https:// speaks TLS (default port 443), trusting --cafile's CA
// certificates, else the system store. Exit status: 0; 1 when the
// connection or its TLS handshake fails; 2 for a bad command line or URL.

#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "backends/asio/streams.h"
#include "examples/asio/run.h"
#include "examples/cli.h"
#include "examples/url.h"

ABSL_FLAG(std::string, cafile, "", "https: trust these CA certificates (PEM), not the system's");

namespace sab = sluice::asio_backend;
using sluice::examples::HttpCommand;
using sluice::examples::Url;

asio::awaitable<void> print_http_headers(HttpCommand command) {
  const Url& url = command.url;
  sab::StreamOptions options;
  options.ssl = command.ssl;
  auto executor = co_await asio::this_coro::executor;
  auto [reader, writer] = co_await sab::async_open_connection(executor, url.host, url.port,
                                                              options, asio::use_awaitable);
  writer.write("HEAD " + url.target + " HTTP/1.0\r\nHost: " + url.host_header() + "\r\n\r\n");
  for (;;) {
    std::string line = co_await reader.async_readline(asio::use_awaitable);
    if (line.empty()) break;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) std::printf("HTTP header> %s\n", line.c_str());
  }
  // Ignore the body, close the socket.
  writer.close();
  co_await writer.async_wait_closed(asio::use_awaitable);
}

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("http_headers [--cafile FILE] URL");
  std::vector<char*> args = sluice::examples::parse_command_line(argc, argv);
  sluice::Result<HttpCommand, int> command =
      sluice::examples::http_command("http_headers", args, absl::GetFlag(FLAGS_cafile));
  if (!command.ok()) return command.error();
  return sluice::examples::run_main("http_headers", print_http_headers(*command));
}
