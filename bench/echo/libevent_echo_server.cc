// File: bench/echo/libevent_echo_server.cc
//
// A peer: a line echo server on plain libevent, written the straightforward
// way: a bufferevent per connection, and in its read callback every complete
// line taken with evbuffer_readln and written back with bufferevent_write
// (libevent then flushes the output evbuffer when the socket is writable).
//
//   libevent_echo_server --host 127.0.0.1 --port P     (server_flags.h)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "bench/echo/libevent_main.h"
#include "bench/echo/server_flags.h"

namespace {

void on_read(bufferevent* bev, void*) {
  evbuffer* input = bufferevent_get_input(bev);
  std::size_t n;
  while (char* line = evbuffer_readln(input, &n, EVBUFFER_EOL_LF)) {
    bufferevent_write(bev, line, n);
    bufferevent_write(bev, "\n", 1);
    std::free(line);
  }
}

void on_event(bufferevent* bev, short events, void*) {
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr*, int, void*) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bufferevent* bev = bufferevent_socket_new(evconnlistener_get_base(listener), fd, BEV_OPT_CLOSE_ON_FREE);
  bufferevent_setcb(bev, on_read, nullptr, on_event, nullptr);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

}  // namespace

int main(int argc, char** argv) {
  const sluice::bench::ServerFlags flags =
      sluice::bench::parse_server_flags(argc, argv, "libevent_echo_server");
  return sluice::bench::serve_on_libevent(flags, "libevent_echo_server", on_accept);
}
