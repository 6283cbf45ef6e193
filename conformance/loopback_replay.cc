#include "conformance/loopback_replay.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "core/stream_reader.h"

namespace sluice::conformance {

namespace {

std::error_code last_error() { return std::error_code(errno, std::system_category()); }

// The kernel's view of the reader's socket.
struct SocketView {
  std::uint64_t queued = 0;  // bytes received by the kernel, not yet read
  int state = TCP_ESTABLISHED;
};

bool view_socket(int fd, SocketView& view) {
  int queued = 0;
  if (::ioctl(fd, SIOCINQ, &queued) != 0) return false;
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return false;
  view.queued = static_cast<std::uint64_t>(queued);
  view.state = info.tcpi_state;
  return true;
}

// connect_loopback: a loopback TCP connection (one connection per vector,
// through a throwaway listener). Returns the reader's end (blocking); sets
// `peer` to the other end, made non-blocking, with TCP_NODELAY: each feed
// leaves at once (Nagle would hold small sends back until the reader's kernel
// acknowledges the previous ones). -1 and `ec` on failure (nothing left
// open).
int connect_loopback(int& peer, std::error_code& ec) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int client = -1, accepted = -1;
  const int one = 1;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) != 0 ||
      (client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
      ::connect(client, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      (accepted = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) < 0 ||
      ::fcntl(client, F_SETFL, ::fcntl(client, F_GETFL) | O_NONBLOCK) != 0 ||
      ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    ec = last_error();
    for (int fd : {listener, client, accepted}) {
      if (fd >= 0) ::close(fd);
    }
    return -1;
  }
  ::close(listener);
  peer = client;
  return accepted;
}

}  // namespace

LoopbackReplayBackend::LoopbackReplayBackend(std::string name,
                                             std::chrono::milliseconds settle_timeout)
    : name_(std::move(name)), settle_timeout_(settle_timeout) {}

LoopbackReplayBackend::~LoopbackReplayBackend() { close_peer(); }

void LoopbackReplayBackend::close_peer() {
  if (peer_ >= 0) ::close(peer_);
  peer_ = -1;
}

void LoopbackReplayBackend::fail(std::string message) {
  if (!error_) error_ = name_ + ": " + std::move(message);
}

Status LoopbackReplayBackend::open(std::int64_t limit) {
  // The core decides what a bad limit is (and how it is reported).
  Result<sluice::StreamReader> check = sluice::StreamReader::create(limit);
  if (!check.ok()) return std::move(check).error();

  std::error_code ec;
  const int fd = connect_loopback(peer_, ec);
  if (!ec) ec = wrap(fd, static_cast<std::size_t>(limit));
  if (ec) {
    close_peer();
    fail("cannot set up a loopback connection: " + ec.message());
    return StreamError::connection(ec, "replay: no loopback connection");
  }
  return Ok{};
}

void LoopbackReplayBackend::feed(std::string_view bytes, std::vector<Completion>& done) {
  if (!reset_sent_ && !bytes.empty()) {
    outbox_.append(bytes);
    sent_ += bytes.size();
  }
  settle(done);
}

void LoopbackReplayBackend::feed_eof(std::vector<Completion>& done) {
  if (!reset_sent_ && !eof_sent_) {
    eof_sent_ = true;
    flush_peer();  // the FIN goes after the bytes; settle() sends it when they are out
  }
  settle(done);
}

void LoopbackReplayBackend::set_exception(std::vector<Completion>& done) {
  if (!reset_sent_ && peer_ >= 0) {
    // Everything sent before is in the reader's socket (the last settle()
    // saw to it), so the RST destroys nothing in flight.
    reset_sent_ = true;
    const linger reset{1, 0};
    ::setsockopt(peer_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close_peer();
  }
  settle(done);
}

void LoopbackReplayBackend::start_read(std::size_t i, const Op& op, std::vector<Completion>& done) {
  if (!is_read(op.kind)) {
    fail("start_read: not a read op");
    return;
  }
  begin_read(i, op);
  settle(done);
}

void LoopbackReplayBackend::flush_peer() {
  if (peer_ < 0) return;
  while (!outbox_.empty()) {
    const ssize_t n = ::send(peer_, outbox_.data(), outbox_.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      fail("the peer cannot send: " + last_error().message());
      outbox_.clear();
      return;
    }
    outbox_.erase(0, static_cast<std::size_t>(n));
  }
  if (eof_sent_ && ::shutdown(peer_, SHUT_WR) != 0) {  // idempotent
    fail("the peer cannot shut down: " + last_error().message());
  }
}

bool LoopbackReplayBackend::settled() {
  if (!outbox_.empty()) return false;
  const ReaderView reader = reader_view();
  if (reader.fd < 0) return true;  // the reader's connection is lost: nothing more arrives
  SocketView view;
  if (!view_socket(reader.fd, view)) {
    fail("cannot inspect the reader's socket");
    return true;
  }
  // Everything sent has reached the reader's socket...
  if (reader.bytes_received + view.queued != sent_) return false;
  if (eof_sent_ && view.state == TCP_ESTABLISHED) return false;
  if (reset_sent_ && view.state != TCP_CLOSE) return false;
  // ...and the reader does not read now, or it has taken all of it.
  if (!reader.reading || reader.eof_received) return true;
  return view.queued == 0 && (!eof_sent_ || reader.eof_received) && !reset_sent_;
}

void LoopbackReplayBackend::settle(std::vector<Completion>& done) {
  const auto deadline = std::chrono::steady_clock::now() + settle_timeout_;
  while (!error_) {
    if (std::chrono::steady_clock::now() >= deadline) {
      fail("the connection did not settle within " + std::to_string(settle_timeout_.count()) +
           " ms");
      break;
    }
    if (eof_sent_ || !outbox_.empty()) flush_peer();
    if (run_ready()) continue;  // quiescent first
    if (settled()) break;
    run_briefly();  // wait for the socket (or, with nothing to wait on, a moment)
  }
  for (Completion& c : sink_->completed) done.push_back(std::move(c));
  sink_->completed.clear();
}

}  // namespace sluice::conformance
