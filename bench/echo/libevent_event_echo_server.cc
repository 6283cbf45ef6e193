// File: bench/echo/libevent_event_echo_server.cc
//
// libevent's loop alone: the epoll server (epoll_echo_server.cc) written on
// libevent's raw events instead of epoll, to show what libevent's own loop
// costs. One persistent event per connection (event_new, EV_READ |
// EV_PERSIST); every readable event is one recv() of up to 64 KiB and every
// complete line in it is echoed with one send() (partial lines wait for the
// rest). When a send would block, the rest is kept and the event watches
// EV_WRITE instead of EV_READ until it is sent (backpressure).
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

#include "bench/echo/server_flags.h"

namespace {

struct Conn {
  int fd;
  event* ev;
  std::string in;   // a partial line
  std::string out;  // echoed bytes the socket did not take yet
};

char buf[64 << 10];

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

// send_all: sends `data`; what does not fit goes to c->out, and reading
// pauses until it is sent. False when the connection failed.
bool send_all(Conn* c, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t k = send(c->fd, data, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      c->out.assign(data, n);
      watch(c, EV_WRITE);
      return true;
    }
    data += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

void on_readable(Conn* c) {
  const ssize_t n = recv(c->fd, buf, sizeof buf, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
    drop(c);
    return;
  }
  if (n < 0) return;
  const char* data = buf;
  std::size_t len = static_cast<std::size_t>(n);
  if (!c->in.empty()) {
    c->in.append(buf, len);
    data = c->in.data();
    len = c->in.size();
  }
  std::size_t end = 0;
  while (const void* nl = std::memchr(data + end, '\n', len - end)) {
    end = static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1;
  }
  std::string rest(data + end, len - end);
  if (end > 0 && !send_all(c, data, end)) {
    drop(c);
    return;
  }
  c->in = std::move(rest);
}

void on_writable(Conn* c) {
  const ssize_t k = send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
  if (k < 0) {
    if (errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK) drop(c);
    return;
  }
  c->out.erase(0, static_cast<std::size_t>(k));
  if (c->out.empty()) {
    std::string().swap(c->out);
    watch(c, EV_READ);
  }
}

void on_io(evutil_socket_t, short what, void* arg) {
  Conn* c = static_cast<Conn*>(arg);
  if (what & EV_WRITE) {
    on_writable(c);
  } else {
    on_readable(c);
  }
}

void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr*, int, void*) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Conn* c = new Conn{fd, nullptr, {}, {}};
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
