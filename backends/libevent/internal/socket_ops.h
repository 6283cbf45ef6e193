// File: backends/libevent/internal/socket_ops.h
//
// Small POSIX socket helpers shared by the libevent backend's streams,
// connectors and servers: an owning descriptor (UniqueFd), errno as a
// std::error_code, socket options, and the endpoints of a socket. Private to
// the backend. All calls are non-blocking system calls; none touches the
// event_base.

#ifndef SLUICE_BACKENDS_LIBEVENT_INTERNAL_SOCKET_OPS_H_
#define SLUICE_BACKENDS_LIBEVENT_INTERNAL_SOCKET_OPS_H_

#include <optional>
#include <system_error>
#include <utility>

#include "backends/common/sockaddr_pair.h"
#include "backends/libevent/endpoint.h"

namespace sluice::libevent_backend_internal {

// UniqueFd: owns a descriptor; closes it when destroyed (unless released).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // release: give up ownership; returns the descriptor.
  int release() { return std::exchange(fd_, -1); }
  // reset: close the owned descriptor (if any), own `fd` instead.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// errno_error: the current errno (or `err`) in std::system_category().
std::error_code errno_error();
std::error_code errno_error(int err);

// set_nonblocking: O_NONBLOCK and FD_CLOEXEC on `fd`.
std::error_code set_nonblocking(int fd);

// socket_family: AF_INET, AF_INET6, AF_UNIX... of a socket (SO_DOMAIN), or an
// error (ENOTSOCK for a descriptor that is not a socket).
std::error_code socket_family(int fd, int& family);

// set_tcp_nodelay: TCP_NODELAY on.
std::error_code set_tcp_nodelay(int fd);

// set_linger_zero: SO_LINGER {on, 0}: the next close() sends an RST and drops
// what is unsent (asyncio's transport.abort()).
void set_linger_zero(int fd);

// local_endpoint / peer_endpoint: getsockname / getpeername, nullopt on error.
std::optional<libevent_backend::Endpoint> local_endpoint(int fd);
std::optional<libevent_backend::Endpoint> peer_endpoint(int fd);

// to_endpoint: an address of a connection's SockaddrPair (the packed peer and
// local addresses every StreamState keeps, backends/common/sockaddr_pair.h)
// as an Endpoint; nullopt stays nullopt.
std::optional<libevent_backend::Endpoint> to_endpoint(
    const std::optional<backend_common::Sockaddr>& address);

}  // namespace sluice::libevent_backend_internal

#endif  // SLUICE_BACKENDS_LIBEVENT_INTERNAL_SOCKET_OPS_H_
