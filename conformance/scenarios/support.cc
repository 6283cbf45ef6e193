#include "conformance/scenarios/support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#define SLUICE_SCENARIOS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLUICE_SCENARIOS_ASAN 1
#endif
#endif

#ifdef SLUICE_SCENARIOS_ASAN
// From <sanitizer/allocator_interface.h>, which not every toolchain ships.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace sluice::scenarios {


std::size_t allocated_bytes() {
#ifdef SLUICE_SCENARIOS_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  return ::mallinfo2().uordblks;
#endif
}

std::size_t raise_fd_limit(std::size_t n) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < n) {
    lim.rlim_cur = std::min<rlim_t>(n, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

// ---- RawSocket ------------------------------------------------------------------

RawSocket::RawSocket(RawSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), tls_(std::move(other.tls_)) {}

RawSocket& RawSocket::operator=(RawSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    tls_ = std::move(other.tls_);
  }
  return *this;
}

RawSocket::~RawSocket() { close(); }

bool RawSocket::handshake() {
  if (!tls_) return true;
  while (tls_->state() == TlsState::kHandshaking) {
    tls_->handshake();
    flush_tls(true);  // handshake messages are small: the kernel takes them
    if (tls_->state() != TlsState::kHandshaking) break;
    const long n = receive_tls();
    if (n == 0) tls_->input_eof();
    if (n <= 0 && errno != EINTR && tls_->state() == TlsState::kHandshaking) return false;
  }
  return tls_->state() != TlsState::kFailed;  // established, or closing since
}

std::string RawSocket::tls_error() const {
  return tls_ && tls_->error() ? tls_->error()->message() : "";
}

bool RawSocket::send_all(std::string_view data) {
  if (tls_) {
    if (tls_->state() != TlsState::kEstablished || tls_->write(data) != data.size()) return false;
    return flush_tls(true);
  }
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawSocket::flush_tls(bool block) {
  std::array<std::string_view, 1> view;
  while (tls_->output_size() > 0) {
    tls_->peek_output(view);
    const std::string_view next = view[0];
    const int flags = MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT);
    const ssize_t n = ::send(fd_, next.data(), next.size(), flags);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return !block && (errno == EAGAIN || errno == EWOULDBLOCK);
    tls_->consume_output(static_cast<std::size_t>(n));
  }
  return true;
}

long RawSocket::receive_tls() {
  std::span<char> space = tls_->prepare_input(64 * 1024);
  const ssize_t n = ::recv(fd_, space.data(), space.size(), MSG_DONTWAIT);
  const int e = errno;
  tls_->commit_input(n > 0 ? static_cast<std::size_t>(n) : 0);
  errno = e;
  return n;
}

RawSocket::Recv RawSocket::recv(std::size_t max) {
  Recv r;
  if (tls_) {
    if (!handshake()) {
      if (tls_->state() == TlsState::kFailed) r.error = EPROTO;
      return r;
    }
    r.data.resize(max);
    for (;;) {
      const TlsRead t = tls_->read(r.data);
      if (t.kind == TlsRead::Kind::kData) {
        r.data.resize(t.size);
        return r;
      }
      if (t.kind == TlsRead::Kind::kCloseNotify || tls_->input_ended()) {
        if (tls_->state() == TlsState::kEstablished) tls_->shutdown();  // our answer
        flush_tls(false);
        r.data.clear();
        r.eof = true;
        return r;
      }
      if (t.kind == TlsRead::Kind::kFailed) {
        r.data.clear();
        r.error = EPROTO;
        return r;
      }
      const long n = receive_tls();  // kWantInput
      if (n > 0) continue;
      r.data.clear();
      if (n == 0) {
        tls_->input_eof();  // a FIN without close_notify: EOF all the same
        r.eof = true;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        r.error = errno;
      }
      return r;
    }
  }
  r.data.resize(max);
  const ssize_t n = ::recv(fd_, r.data.data(), max, MSG_DONTWAIT);
  if (n > 0) {
    r.data.resize(static_cast<std::size_t>(n));
    return r;
  }
  r.data.clear();
  if (n == 0) {
    r.eof = true;
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    r.error = errno;
  }
  return r;
}

void RawSocket::shutdown_write() {
  if (tls_) {
    if (tls_->state() == TlsState::kEstablished) tls_->shutdown();
    flush_tls(true);
    return;
  }
  ::shutdown(fd_, SHUT_WR);
}

void RawSocket::reset() {
  if (fd_ < 0) return;
  tls_.reset();  // nothing more is said, not even close_notify
  linger hard{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close();
}

void RawSocket::close() {
  if (fd_ >= 0 && tls_ && tls_->state() == TlsState::kEstablished) {
    tls_->shutdown();
    flush_tls(false);  // never blocks: a peer that does not read gets a FIN only
  }
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// ---- RawListener ----------------------------------------------------------------

RawListener::RawListener(int receive_buffer, std::optional<TlsContext> tls) : tls_(std::move(tls)) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof in;
  ::bind(fd_, reinterpret_cast<sockaddr*>(&in), len);
  ::listen(fd_, 64);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &len);
  port_ = ntohs(in.sin_port);
}

RawListener::~RawListener() {
  if (fd_ >= 0) ::close(fd_);
}

RawSocket RawListener::accept() { return adopt(::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)); }

RawSocket RawListener::try_accept() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) != 1) return RawSocket();
  return accept();
}

RawSocket RawListener::adopt(int fd) {
  if (fd < 0 || !tls_) return RawSocket(fd);
  // Each record goes out when written: without this, a small record sent
  // after the handshake waits for a delayed ACK (40 ms, Nagle).
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  Result<std::unique_ptr<TlsSession>> session =
      TlsSession::create(TlsOptions{.context = *tls_, .role = TlsRole::kServer});
  if (!session.ok()) {  // only if OpenSSL cannot allocate: the handshake then fails
    return RawSocket(fd, TlsSession::failed(session.error()));
  }
  return RawSocket(fd, std::move(*session));
}

// ---- Payload ----------------------------------------------------------------------

namespace {

std::uint64_t word_at(std::uint64_t i) {
  std::uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

}  // namespace

std::string pattern(std::uint64_t offset, std::size_t size) {
  std::string out(size, '\0');
  std::size_t k = 0;
  while (k < size) {
    const std::uint64_t pos = offset + k;
    const std::uint64_t w = word_at(pos / 8);
    const std::size_t skip = static_cast<std::size_t>(pos % 8);
    const std::size_t n = std::min<std::size_t>(8 - skip, size - k);
    std::memcpy(out.data() + k, reinterpret_cast<const char*>(&w) + skip, n);
    k += n;
  }
  return out;
}

void StreamHash::mix(std::uint64_t word) {
  h_ ^= word;
  h_ *= 1099511628211ull;
  h_ ^= h_ >> 29;
}

void StreamHash::update(std::string_view data) {
  size_ += data.size();
  while (!data.empty() && pending_size_ > 0) {
    pending_[pending_size_++] = data.front();
    data.remove_prefix(1);
    if (pending_size_ == 8) {
      std::uint64_t w;
      std::memcpy(&w, pending_, 8);
      mix(w);
      pending_size_ = 0;
    }
  }
  while (data.size() >= 8) {
    std::uint64_t w;
    std::memcpy(&w, data.data(), 8);
    mix(w);
    data.remove_prefix(8);
  }
  for (char c : data) pending_[pending_size_++] = c;
}

std::uint64_t StreamHash::value() const {
  std::uint64_t h = h_;
  for (std::size_t i = 0; i < pending_size_; ++i) {
    h ^= static_cast<unsigned char>(pending_[i]);
    h *= 1099511628211ull;
  }
  return h ^ size_;
}

}  // namespace sluice::scenarios
