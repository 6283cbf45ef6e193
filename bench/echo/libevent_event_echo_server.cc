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
#include "bench/echo/libevent_main.h"
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

}  // namespace

int main(int argc, char** argv) {
  const sluice::bench::ServerFlags flags =
      sluice::bench::parse_server_flags(argc, argv, "libevent_event_echo_server");
  return sluice::bench::serve_on_libevent(flags, "libevent_event_echo_server", on_accept);
}
