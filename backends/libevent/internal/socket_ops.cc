#include "backends/libevent/internal/socket_ops.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice::libevent_backend_internal {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::error_code errno_error() { return errno_error(errno); }
std::error_code errno_error(int err) { return {err, std::system_category()}; }

std::error_code set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return errno_error();
  if (!(flags & O_NONBLOCK) && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return errno_error();
  const int fd_flags = ::fcntl(fd, F_GETFD);
  if (fd_flags < 0) return errno_error();
  if (!(fd_flags & FD_CLOEXEC) && ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0) {
    return errno_error();
  }
  return {};
}

std::error_code socket_family(int fd, int& family) {
  socklen_t len = sizeof(family);
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0) return errno_error();
  return {};
}

std::error_code set_tcp_nodelay(int fd) {
  const int on = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0) return errno_error();
  return {};
}

void set_linger_zero(int fd) {
  const linger l{1, 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

std::optional<libevent_backend::Endpoint> local_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return std::nullopt;
  return libevent_backend::Endpoint(reinterpret_cast<const sockaddr*>(&ss), len);
}

std::optional<libevent_backend::Endpoint> peer_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return std::nullopt;
  return libevent_backend::Endpoint(reinterpret_cast<const sockaddr*>(&ss), len);
}

EndpointPair EndpointPair::capture(int fd) {
  sockaddr_storage peer{};
  sockaddr_storage local{};
  socklen_t peer_len = sizeof(peer);
  socklen_t local_len = sizeof(local);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) < 0) peer_len = 0;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) < 0) local_len = 0;
  peer_len = std::min<socklen_t>(peer_len, sizeof(peer));
  local_len = std::min<socklen_t>(local_len, sizeof(local));
  EndpointPair pair;
  if (peer_len == 0 && local_len == 0) return pair;
  pair.data_ = std::make_unique<unsigned char[]>(2 + peer_len + local_len);
  pair.data_[0] = static_cast<unsigned char>(peer_len);
  pair.data_[1] = static_cast<unsigned char>(local_len);
  std::memcpy(&pair.data_[2], &peer, peer_len);
  std::memcpy(&pair.data_[2 + peer_len], &local, local_len);
  return pair;
}

std::optional<libevent_backend::Endpoint> EndpointPair::get(int which) const {
  if (!data_) return std::nullopt;
  const std::size_t len = data_[which];
  if (len == 0) return std::nullopt;
  const std::size_t offset = 2 + (which == 0 ? 0 : data_[0]);
  // Copied out first: the packed bytes are not aligned for a sockaddr.
  sockaddr_storage ss{};
  std::memcpy(&ss, &data_[offset], len);
  return libevent_backend::Endpoint(reinterpret_cast<const sockaddr*>(&ss),
                                    static_cast<socklen_t>(len));
}

}  // namespace sluice::libevent_backend_internal
