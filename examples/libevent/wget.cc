// wget: fetches a URL with "GET path HTTP/1.0" over sluice's libevent
// backend and writes the response body, byte for byte, to standard output.
//
//   wget http://127.0.0.1:8000/file.bin > file.bin
//
// http:// only for now (https:// needs TLS). Exit status: 0; 1 when the
// connection fails, the status is not 2xx (nothing is written then) or the
// body is shorter than its Content-Length; 2 for a bad command line or URL.

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "backends/libevent/streams.h"
#include "examples/libevent/run.h"
#include "examples/url.h"

namespace sle = sluice::libevent_backend;
using sluice::examples::Url;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string strip(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

sluice::Task<void> wget(event_base* base, Url url) {
  auto [reader, writer] = co_await sle::open_connection(base, url.host, url.port);
  writer.write("GET " + url.target + " HTTP/1.0\r\nHost: " + url.host_header() + "\r\n\r\n");

  // The status line ("HTTP/1.0 200 OK") and the headers, up to a blank line.
  const std::string status = strip(co_await reader.readline());
  const std::size_t space = status.find(' ');
  if (!status.starts_with("HTTP/") || space == std::string::npos || status.size() < space + 4) {
    throw std::runtime_error("not an HTTP response: \"" + status + "\"");
  }
  if (status[space + 1] != '2') throw std::runtime_error(status);
  std::optional<std::uint64_t> length;
  for (;;) {
    const std::string line = strip(co_await reader.readline());
    if (line.empty()) break;
    if (lower(line).starts_with("content-length:")) length = std::stoull(line.substr(15));
  }

  // The body, to the end of the stream.
  std::uint64_t received = 0;
  for (;;) {
    std::string chunk = co_await reader.read(64 * 1024);
    if (chunk.empty()) break;
    received += chunk.size();
    if (std::fwrite(chunk.data(), 1, chunk.size(), stdout) != chunk.size()) {
      throw std::runtime_error("cannot write to standard output");
    }
  }
  writer.close();
  co_await writer.wait_closed();
  if (std::fflush(stdout) != 0) throw std::runtime_error("cannot write to standard output");
  if (length && received < *length) {
    throw std::runtime_error("the body ended after " + std::to_string(received) + " of " +
                             std::to_string(*length) + " bytes");
  }
}

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("wget URL");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: wget URL\n");
    return 2;
  }
  sluice::Result<Url, std::string> url = sluice::examples::parse_url(args[1]);
  if (!url.ok()) {
    std::fprintf(stderr, "wget: %s\n", url.error().c_str());
    return 2;
  }
  if (url->scheme != "http") {
    std::fprintf(stderr, "wget: %s:// needs TLS, which is not there yet\n", url->scheme.c_str());
    return 2;
  }
  return sluice::examples::run_main("wget", [&](event_base* base) { return wget(base, *url); });
}
