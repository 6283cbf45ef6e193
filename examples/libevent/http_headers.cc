// http_headers: the "get HTTP headers" example of asyncio's streams docs, on
// sluice's libevent backend: sends "HEAD path HTTP/1.0" and prints each
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

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "backends/libevent/streams.h"
#include "examples/libevent/run.h"
#include "examples/url.h"

namespace sle = sluice::libevent_backend;
using sluice::examples::Url;

sluice::Task<void> print_http_headers(event_base* base, Url url) {
  auto [reader, writer] = co_await sle::open_connection(base, url.host, url.port);
  writer.write("HEAD " + url.target + " HTTP/1.0\r\nHost: " + url.host_header() + "\r\n\r\n");
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) std::printf("HTTP header> %s\n", line.c_str());
  }
  // Ignore the body, close the socket.
  writer.close();
  co_await writer.wait_closed();
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
  return sluice::examples::run_main(
      "http_headers", [&](event_base* base) { return print_http_headers(base, *url); });
}
