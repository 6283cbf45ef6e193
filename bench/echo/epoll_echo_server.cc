// File: bench/echo/epoll_echo_server.cc
//
// The ceiling: a hand-written line echo server on raw epoll, one thread,
// that batches its writes. Every readable event is one recv() of up to 64 KiB
// and every complete line in it is echoed with one send() (partial lines wait
// for the rest), so many pipelined lines cost one read and one write. When a
// send would block, the rest is kept and reading stops until it is sent
// (backpressure). An idle connection holds no buffer.
//
//   epoll_echo_server --host 127.0.0.1 --port P     (server_flags.h)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/echo/server_flags.h"

namespace {

struct Conn {
  int fd;
  std::string in;   // a partial line
  std::string out;  // echoed bytes the socket did not take yet
};

int ep = -1;
char buf[64 << 10];

void set_events(Conn* c, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = c;
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

void drop(Conn* c) {
  close(c->fd);
  delete c;
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
      set_events(c, EPOLLOUT);
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
  // Every complete line, found one by one as a line server would.
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
    set_events(c, EPOLLIN);
  }
}

int listen_on(const std::string& host, int port, int* bound_port) {
  sockaddr_storage ss{};
  socklen_t len;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof *v6;
  } else {
    std::fprintf(stderr, "epoll_echo_server: --host must be a numeric address\n");
    return -1;
  }
  const int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 4096) != 0) {
    std::fprintf(stderr, "epoll_echo_server: %s\n", std::strerror(errno));
    return -1;
  }
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *bound_port = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  const sluice::bench::ServerFlags flags = sluice::bench::parse_server_flags(argc, argv, "epoll_echo_server");
  int port = 0;
  const int lfd = listen_on(flags.host, flags.port, &port);
  if (lfd < 0) return 1;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  const int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listener
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  static int signal_tag;
  ev.data.ptr = &signal_tag;
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
  sluice::bench::announce(flags.host, port);

  std::vector<epoll_event> events(1024);
  for (;;) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; ++i) {
      void* p = events[i].data.ptr;
      if (p == &signal_tag) return 0;  // SIGINT / SIGTERM
      if (p == nullptr) {
        for (;;) {
          const int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          const int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.ptr = new Conn{fd, {}, {}};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      Conn* c = static_cast<Conn*>(p);
      if (events[i].events & EPOLLOUT) on_writable(c);
      else on_readable(c);
    }
  }
}
