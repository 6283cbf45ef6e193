// File: bench/echo/server_flags.h
//
// The command line every echo server in bench/echo shares with the examples'
// echo_server, so the harness starts them all the same way:
//
//   SERVER --host 127.0.0.1 --port P      (--port 0: any free port)
//
// and each prints "Serving on HOST:PORT" once listening, then serves until
// SIGINT or SIGTERM. Also the address helpers the raw servers share.

#ifndef SLUICE_BENCH_ECHO_SERVER_FLAGS_H_
#define SLUICE_BENCH_ECHO_SERVER_FLAGS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
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

// numeric_address: `host` ("localhost" or a numeric IPv4/IPv6 address) and
// `port` as a socket address; false if `host` is not numeric.
inline bool numeric_address(const std::string& host, int port, sockaddr_storage* ss,
                            socklen_t* len) {
  *ss = sockaddr_storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    *len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    *len = sizeof *v6;
    return true;
  }
  return false;
}

// bound_port: the port a listening socket is bound to.
inline int bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// announce: the "Serving on HOST:PORT" line, flushed.
inline void announce(const std::string& host, int port) {
  std::printf("Serving on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
}

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_ECHO_SERVER_FLAGS_H_
