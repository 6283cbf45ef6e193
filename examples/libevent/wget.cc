// wget: fetches a URL with "GET path HTTP/1.0" over sluice's libevent
// backend and writes the response body, byte for byte, to standard output.
//
//   wget http://127.0.0.1:8000/file.bin > file.bin
//   wget [--cafile ca.pem] https://example.com/ > index.html
//
// https:// speaks TLS (default port 443), trusting --cafile's CA
// certificates, else the system store. Exit status: 0; 1 when the
// connection or its TLS handshake fails, the status is not 2xx (nothing is
// written then) or the body is shorter than its Content-Length; 2 for a bad
// command line or URL.

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "backends/libevent/streams.h"
#include "examples/cli.h"
#include "examples/libevent/run.h"
#include "examples/url.h"

ABSL_FLAG(std::string, cafile, "", "https: trust these CA certificates (PEM), not the system's");

namespace sle = sluice::libevent_backend;
using sluice::examples::HttpCommand;
using sluice::examples::Url;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string strip(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

sluice::Task<void> wget(event_base* base, HttpCommand command) {
  const Url& url = command.url;
  sle::StreamOptions options;
  options.ssl = command.ssl;
  auto [reader, writer] = co_await sle::open_connection(base, url.host, url.port, options);
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
  absl::SetProgramUsageMessage("wget [--cafile FILE] URL");
  std::vector<char*> args = sluice::examples::parse_command_line(argc, argv);
  sluice::Result<HttpCommand, int> command =
      sluice::examples::http_command("wget", args, absl::GetFlag(FLAGS_cafile));
  if (!command.ok()) return command.error();
  return sluice::examples::run_main("wget",
                                    [&](event_base* base) { return wget(base, *command); });
}
