// echo_client: the TCP echo client of asyncio's streams docs, on sluice's
// libevent backend. Sends each MESSAGE as a line, prints "Received: ..." for
// each line echoed back (without its line end), then closes.
//
//   echo_client --host 127.0.0.1 --port 8888 MESSAGE...
//
// Exit status: 0; 1 when the connection fails (the reason on standard
// error); 2 for a bad command line.

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "backends/libevent/streams.h"
#include "examples/libevent/run.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "the server's host");
ABSL_FLAG(int, port, 8888, "the server's port");

namespace sle = sluice::libevent_backend;

sluice::Task<void> tcp_echo_client(event_base* base, std::string host, std::uint16_t port,
                                   std::vector<std::string> messages) {
  auto [reader, writer] = co_await sle::open_connection(base, host, port);
  for (const std::string& message : messages) {
    writer.write(message + "\n");
    co_await writer.drain();
    std::string line = co_await reader.readline();
    if (line.empty()) throw std::runtime_error("the server closed the connection");
    if (line.back() == '\n') line.pop_back();
    std::printf("Received: %s\n", line.c_str());
  }
  writer.close();
  co_await writer.wait_closed();
}

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("echo_client --host H --port P MESSAGE...");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const int port = absl::GetFlag(FLAGS_port);
  if (args.size() < 2 || port < 1 || port > 65535) {
    std::fprintf(stderr, "usage: echo_client --host H --port P MESSAGE... (port 1..65535)\n");
    return 2;
  }
  return sluice::examples::run_main("echo_client", [&](event_base* base) {
    return tcp_echo_client(base, absl::GetFlag(FLAGS_host), static_cast<std::uint16_t>(port),
                           std::vector<std::string>(args.begin() + 1, args.end()));
  });
}
