#include "backends/libevent/internal/socket_ops.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

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

std::optional<libevent_backend::Endpoint> to_endpoint(
    const std::optional<backend_common::Sockaddr>& address) {
  if (!address) return std::nullopt;
  return libevent_backend::Endpoint(address->data(), address->size);
}

}  // namespace sluice::libevent_backend_internal
