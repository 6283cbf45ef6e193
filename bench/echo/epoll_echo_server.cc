// File: bench/echo/epoll_echo_server.cc
//
// The ceiling: a hand-written line echo server on raw epoll, one thread,
// that batches its writes (batching_echo.h: one recv per readable event, one
// send of every complete line in it, backpressure; an idle connection holds
// no buffer).
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

#include "bench/echo/batching_echo.h"
#include "bench/echo/server_flags.h"

namespace {

struct Conn {
  int fd;
  sluice::bench::EchoBuffers buffers;
};

int ep = -1;

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

void on_ready(Conn* c, bool writable) {
  auto watch = [c](sluice::bench::Interest i) {
    set_events(c, i == sluice::bench::Interest::kRead ? EPOLLIN : EPOLLOUT);
  };
  const bool ok = writable ? sluice::bench::echo_writable(c->fd, c->buffers, watch)
                           : sluice::bench::echo_readable(c->fd, c->buffers, watch);
  if (!ok) drop(c);
}

int listen_on(const std::string& host, int port, int* bound) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!sluice::bench::numeric_address(host, port, &ss, &len)) {
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
  *bound = sluice::bench::bound_port(fd);
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
          cev.data.ptr = new Conn{fd, {}};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      Conn* c = static_cast<Conn*>(p);
      on_ready(c, (events[i].events & EPOLLOUT) != 0);
    }
  }
}
