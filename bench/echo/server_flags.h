// File: bench/echo/server_flags.h
//
// The command line every echo server in bench/echo shares with the examples'
// echo_server, so the harness starts them all the same way:
//
//   SERVER --host 127.0.0.1 --port P      (--port 0: any free port)
//
// and each prints "Serving on HOST:PORT" once listening, then serves until
// SIGINT or SIGTERM.

#ifndef SLUICE_BENCH_ECHO_SERVER_FLAGS_H_
#define SLUICE_BENCH_ECHO_SERVER_FLAGS_H_

#include <cstdio>
#include <cstdlib>
#include <string>

namespace sluice::bench {

struct ServerFlags {
  std::string host = "127.0.0.1";
  int port = 8888;
};

// parse_server_flags: --host H --port P (or --host=H --port=P); exits with
// status 2 and a usage line on anything else.
inline ServerFlags parse_server_flags(int argc, char** argv, const char* program) {
  ServerFlags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    const std::size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      arg.clear();
    }
    if (arg == "--host") {
      f.host = value;
    } else if (arg == "--port" && !value.empty()) {
      f.port = std::atoi(value.c_str());
    } else {
      std::fprintf(stderr, "usage: %s --host H --port P\n", program);
      std::exit(2);
    }
  }
  if (f.port < 0 || f.port > 65535) {
    std::fprintf(stderr, "%s: --port must be in 0..65535\n", program);
    std::exit(2);
  }
  return f;
}

// announce: the "Serving on HOST:PORT" line, flushed.
inline void announce(const std::string& host, int port) {
  std::printf("Serving on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
}

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_ECHO_SERVER_FLAGS_H_
