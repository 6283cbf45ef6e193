// File: bench/echo/libevent_main.h
//
// serve_on_libevent: the main() the raw libevent echo servers share
// (libevent_echo_server.cc with bufferevents, libevent_event_echo_server.cc
// with plain events): listen on flags.host:flags.port (a numeric address,
// server_flags.h) with an evconnlistener calling `on_accept`, announce the
// bound port, dispatch until SIGINT or SIGTERM, free everything. Returns
// main's exit status (1 after printing why, if it could not listen).

#ifndef SLUICE_BENCH_ECHO_LIBEVENT_MAIN_H_
#define SLUICE_BENCH_ECHO_LIBEVENT_MAIN_H_

#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <event2/event.h>
#include <event2/listener.h>

#include "bench/echo/server_flags.h"

namespace sluice::bench {

inline int serve_on_libevent(const ServerFlags& flags, const char* program,
                             evconnlistener_cb on_accept) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!numeric_address(flags.host, flags.port, &ss, &len)) {
    std::fprintf(stderr, "%s: --host must be a numeric address\n", program);
    return 1;
  }
  event_base* base = event_base_new();
  evconnlistener* listener =
      evconnlistener_new_bind(base, on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                              4096, reinterpret_cast<sockaddr*>(&ss), static_cast<int>(len));
  if (listener == nullptr) {
    std::fprintf(stderr, "%s: %s\n", program, std::strerror(errno));
    event_base_free(base);
    return 1;
  }
  auto on_signal = [](evutil_socket_t, short, void* b) {
    event_base_loopbreak(static_cast<event_base*>(b));
  };
  event* sigint = evsignal_new(base, SIGINT, on_signal, base);
  event* sigterm = evsignal_new(base, SIGTERM, on_signal, base);
  event_add(sigint, nullptr);
  event_add(sigterm, nullptr);
  announce(flags.host, bound_port(evconnlistener_get_fd(listener)));
  event_base_dispatch(base);
  event_free(sigint);
  event_free(sigterm);
  evconnlistener_free(listener);
  event_base_free(base);
  return 0;
}

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_ECHO_LIBEVENT_MAIN_H_
