#include "conformance/scenarios/support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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

int fd_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

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

RawSocket::RawSocket(RawSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RawSocket& RawSocket::operator=(RawSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RawSocket::~RawSocket() { close(); }

bool RawSocket::send_all(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

RawSocket::Recv RawSocket::recv(std::size_t max) {
  Recv r;
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

void RawSocket::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void RawSocket::reset() {
  if (fd_ < 0) return;
  linger hard{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close();
}

void RawSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// ---- RawListener ----------------------------------------------------------------

RawListener::RawListener(int receive_buffer) {
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

RawSocket RawListener::accept() {
  return RawSocket(::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC));
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
