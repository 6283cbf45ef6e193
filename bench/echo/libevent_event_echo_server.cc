// File: bench/echo/libevent_event_echo_server.cc
//
// libevent's loop alone: the epoll server (epoll_echo_server.cc) written on
// libevent's raw events instead of epoll, to show what libevent's own loop
// costs. One persistent event per connection (event_new, EV_READ |
// EV_PERSIST) and the same echo logic (batching_echo.h); under backpressure
// the event watches EV_WRITE instead of EV_READ until the rest is sent.
//
//   libevent_event_echo_server --host 127.0.0.1 --port P     (server_flags.h)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include <event2/event.h>
#include <event2/listener.h>

#include "bench/echo/batching_echo.h"
#include "bench/echo/server_flags.h"

namespace {

struct Conn {
  int fd;
  event* ev;
  sluice::bench::EchoBuffers buffers;
};

void on_io(evutil_socket_t fd, short what, void* arg);

void drop(Conn* c) {
  event_free(c->ev);
  close(c->fd);
  delete c;
}

// watch: re-assign the connection's one event to `events` (EV_READ or EV_WRITE).
void watch(Conn* c, short events) {
  event_base* base = event_get_base(c->ev);
  event_del(c->ev);
  event_assign(c->ev, base, c->fd, static_cast<short>(events | EV_PERSIST), on_io, c);
  event_add(c->ev, nullptr);
}

void on_io(evutil_socket_t, short what, void* arg) {
  Conn* c = static_cast<Conn*>(arg);
  auto interest = [c](sluice::bench::Interest i) {
    watch(c, i == sluice::bench::Interest::kRead ? EV_READ : EV_WRITE);
  };
  const bool ok = (what & EV_WRITE) ? sluice::bench::echo_writable(c->fd, c->buffers, interest)
                                    : sluice::bench::echo_readable(c->fd, c->buffers, interest);
  if (!ok) drop(c);
}

void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr*, int, void*) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Conn* c = new Conn{fd, nullptr, {}};
  c->ev = event_new(evconnlistener_get_base(listener), fd, EV_READ | EV_PERSIST, on_io, c);
  event_add(c->ev, nullptr);
}

void on_signal(evutil_socket_t, short, void* base) { event_base_loopbreak(static_cast<event_base*>(base)); }

}  // namespace

int main(int argc, char** argv) {
  const sluice::bench::ServerFlags flags =
      sluice::bench::parse_server_flags(argc, argv, "libevent_event_echo_server");
  sockaddr_storage ss{};
  int len;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  const std::string host = flags.host == "localhost" ? "127.0.0.1" : flags.host;
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(flags.port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(flags.port));
    len = sizeof *v6;
  } else {
    std::fprintf(stderr, "libevent_event_echo_server: --host must be a numeric address\n");
    return 1;
  }
  event_base* base = event_base_new();
  evconnlistener* listener =
      evconnlistener_new_bind(base, on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
                              reinterpret_cast<sockaddr*>(&ss), len);
  if (listener == nullptr) {
    std::fprintf(stderr, "libevent_event_echo_server: %s\n", std::strerror(errno));
    return 1;
  }
  event* sigint = evsignal_new(base, SIGINT, on_signal, base);
  event* sigterm = evsignal_new(base, SIGTERM, on_signal, base);
  event_add(sigint, nullptr);
  event_add(sigterm, nullptr);
  socklen_t slen = sizeof ss;
  getsockname(evconnlistener_get_fd(listener), reinterpret_cast<sockaddr*>(&ss), &slen);
  const int port = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  sluice::bench::announce(flags.host, port);
  event_base_dispatch(base);
  event_free(sigint);
  event_free(sigterm);
  evconnlistener_free(listener);
  event_base_free(base);
  return 0;
}
