// http_headers: the "get HTTP headers" example of asyncio's streams docs, on
// sluice's Asio backend: sends "HEAD path HTTP/1.0" and prints each
// non-empty header line of the response as "HTTP header> LINE".
//
//   http_headers http://127.0.0.1:8000/index.html
//
// http:// only for now (https:// needs TLS). Exit status: 0; 1 when the
// connection fails; 2 for a bad command line or URL.

#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "backends/asio/streams.h"
#include "examples/asio/run.h"
#include "examples/url.h"

namespace sab = sluice::asio_backend;
using sluice::examples::Url;

asio::awaitable<void> print_http_headers(Url url) {
  auto executor = co_await asio::this_coro::executor;
  auto [reader, writer] =
      co_await sab::async_open_connection(executor, url.host, url.port, asio::use_awaitable);
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
  absl::SetProgramUsageMessage("http_headers URL");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: http_headers URL\n");
    return 2;
  }
  sluice::Result<Url, std::string> url = sluice::examples::parse_url(args[1]);
  if (!url.ok()) {
    std::fprintf(stderr, "http_headers: %s\n", url.error().c_str());
    return 2;
  }
  if (url->scheme != "http") {
    std::fprintf(stderr, "http_headers: %s:// needs TLS, which is not there yet\n",
                 url->scheme.c_str());
    return 2;
  }
  return sluice::examples::run_main("http_headers", print_http_headers(*url));
}
