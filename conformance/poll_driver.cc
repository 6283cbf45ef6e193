#include "conformance/poll_driver.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string_view>
#include <system_error>

namespace sluice::conformance {
namespace {

std::error_code last_error() { return {errno, std::system_category()}; }

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

PollLoop::~PollLoop() {
  for (auto& s : sockets_) {
    if (s->fd >= 0) ::close(s->fd);
  }
  for (const Listener& l : listeners_) ::close(l.fd);
}

std::shared_ptr<AsyncConnection> PollLoop::adopt(int fd, ConnectionOptions options) {
  set_nonblocking(fd);
  auto s = std::make_unique<Socket>();
  s->fd = fd;
  s->conn = std::make_shared<AsyncConnection>(*this, options);
  sockets_.push_back(std::move(s));
  return sockets_.back()->conn;
}

void PollLoop::listen(int fd, std::function<void(int)> on_accept) {
  set_nonblocking(fd);
  listeners_.push_back({fd, std::move(on_accept)});
}

void PollLoop::stop_listening(int fd) {
  std::erase_if(listeners_, [fd](const Listener& l) {
    if (l.fd == fd) ::close(fd);
    return l.fd == fd;
  });
}

std::size_t PollLoop::open_connections() const {
  std::size_t n = 0;
  for (const auto& s : sockets_) n += s->fd >= 0;
  return n;
}

void PollLoop::lose(Socket& s, std::error_code error) {
  ::close(s.fd);
  s.fd = -1;
  s.conn->dispatch(s.conn->connection().connection_lost(error));
}

// The write half of the seam: do what write_action() says until it says
// nothing more can be done now.
void PollLoop::act(Socket& s) {
  Connection& c = s.conn->connection();
  while (s.fd >= 0) {
    switch (c.write_action()) {
      case WriteAction::kNone:
        s.want_write = false;
        return;
      case WriteAction::kSend: {
        std::array<std::string_view, 16> views;
        std::array<iovec, 16> iov;
        const std::size_t n = c.next_send(views);
        for (std::size_t i = 0; i < n; ++i) {
          iov[i] = {const_cast<char*>(views[i].data()), views[i].size()};
        }
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = n;
        const ssize_t sent = ::sendmsg(s.fd, &msg, MSG_NOSIGNAL);
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          s.want_write = true;
          return;
        }
        if (sent < 0) {
          lose(s, last_error());
          return;
        }
        s.conn->dispatch(c.bytes_sent(static_cast<std::size_t>(sent)));
        break;
      }
      case WriteAction::kShutdownWrite:
        ::shutdown(s.fd, SHUT_WR);
        c.write_eof_sent();
        break;
      case WriteAction::kClose:
        lose(s, {});
        return;
      case WriteAction::kAbort: {
        linger hard{1, 0};  // RST: unsent bytes are dropped
        ::setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        lose(s, {});
        return;
      }
    }
  }
}

// The read half: receive straight into the reader's buffer.
void PollLoop::receive(Socket& s) {
  Connection& c = s.conn->connection();
  if (!c.want_read()) return;
  std::span<char> room = c.prepare_receive(64 * 1024);
  const ssize_t n = ::recv(s.fd, room.data(), room.size(), 0);
  if (n > 0) {
    s.conn->dispatch(c.commit_received(static_cast<std::size_t>(n)));
  } else if (n == 0) {
    (void)c.commit_received(0);
    s.conn->dispatch(c.eof_received());
  } else {
    (void)c.commit_received(0);
    if (errno != EAGAIN && errno != EWOULDBLOCK) lose(s, last_error());
  }
}

void PollLoop::run_once(std::chrono::milliseconds timeout) {
  // 1. User code: resume what completed (it may write, close, read...).
  const bool resumed = !ready_.empty();
  for (std::size_t n = ready_.size(); n > 0 && !ready_.empty(); --n) {
    std::coroutine_handle<> h = ready_.front();
    ready_.pop_front();
    h.resume();
  }
  // 2. Let every connection act on what user code asked for, and forget the
  // closed ones (their users may still hold them).
  for (std::size_t i = 0; i < sockets_.size(); ++i) act(*sockets_[i]);
  std::erase_if(sockets_, [](const std::unique_ptr<Socket>& s) { return s->fd < 0; });
  // 3. Wait for the sockets.
  std::vector<pollfd> fds;
  std::vector<Socket*> owners;
  for (auto& s : sockets_) {
    if (s->fd < 0) continue;
    const short events = static_cast<short>((s->conn->connection().want_read() ? POLLIN : 0) |
                                             (s->want_write ? POLLOUT : 0));
    if (events == 0) continue;
    fds.push_back({s->fd, events, 0});
    owners.push_back(s.get());
  }
  const std::size_t first_listener = fds.size();
  for (const Listener& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
  const int wait = ready_.empty() && !resumed ? static_cast<int>(timeout.count()) : 0;
  if (::poll(fds.data(), fds.size(), wait) <= 0) return;
  for (std::size_t i = 0; i < first_listener; ++i) {
    Socket& s = *owners[i];
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) receive(s);
    if (s.fd >= 0 && (fds[i].revents & (POLLOUT | POLLERR))) act(s);
  }
  for (std::size_t i = first_listener; i < fds.size(); ++i) {
    if (!(fds[i].revents & POLLIN)) continue;
    // Copy: on_accept may add or remove listeners.
    std::function<void(int)> on_accept = listeners_[i - first_listener].on_accept;
    for (int k = 0; k < 64; ++k) {  // the queue, bounded per turn
      const int fd = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;
      on_accept(fd);
    }
  }
}

bool PollLoop::run_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    run_once(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace sluice::conformance
