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

void on_signal(evutil_socket_t, short, void* base) { event_base_loopbreak(static_cast<event_base*>(base)); }

}  // namespace

int main(int argc, char** argv) {
  const sluice::bench::ServerFlags flags = sluice::bench::parse_server_flags(argc, argv, "libevent_echo_server");
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
    std::fprintf(stderr, "libevent_echo_server: --host must be a numeric address\n");
    return 1;
  }
  event_base* base = event_base_new();
  evconnlistener* listener =
      evconnlistener_new_bind(base, on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 4096,
                              reinterpret_cast<sockaddr*>(&ss), len);
  if (listener == nullptr) {
    std::fprintf(stderr, "libevent_echo_server: %s\n", std::strerror(errno));
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
