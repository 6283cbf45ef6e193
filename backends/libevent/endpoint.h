// File: backends/libevent/endpoint.h
//
// Endpoint: the address of one end of a stream or of a listening socket: IPv4,
// IPv6 or a UNIX socket path, kept as the sockaddr the kernel returned (so it
// goes straight back into C APIs: bind, connect, evutil_format_sockaddr_port).
// What asyncio returns as get_extra_info('peername') / ('sockname') and what
// server.sockets' getsockname() gives. The Asio backend has the same name and
// the same to_string() text (backends/asio/endpoint.h).
//
// Example:
//   if (std::optional<Endpoint> peer = writer.peername())
//     std::printf("connection from %s\n", to_string(*peer).c_str());
//   std::uint16_t port = server.sockets().front().port();
//
// A default-constructed Endpoint is empty (family() == AF_UNSPEC).

#ifndef SLUICE_BACKENDS_LIBEVENT_ENDPOINT_H_
#define SLUICE_BACKENDS_LIBEVENT_ENDPOINT_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace sluice::libevent_backend {

class Endpoint {
 public:
  Endpoint() = default;
  // Endpoint(sa, len): a copy of the first `len` bytes of `sa` (truncated to
  // sizeof(sockaddr_storage)).
  Endpoint(const sockaddr* sa, socklen_t len);

  // family: AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC when empty.
  int family() const { return storage_.ss_family; }
  bool empty() const { return size_ == 0; }
  // data/size: the sockaddr, for C APIs. Valid while this Endpoint lives.
  const sockaddr* data() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const { return size_; }

  // address: "127.0.0.1", "::1" (no brackets), or the UNIX socket's path
  // ("" for an unnamed socket such as a socketpair end; an abstract name
  // starts with '\0').
  std::string address() const;
  // port: the TCP port (host order), 0 for UNIX sockets.
  std::uint16_t port() const;

  // Byte-wise equality of the sockaddrs.
  friend bool operator==(const Endpoint& a, const Endpoint& b);

 private:
  sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

// to_string: "127.0.0.1:8080", "[::1]:8080", or the UNIX socket's path
// ("" for an unnamed socket).
std::string to_string(const Endpoint& endpoint);

}  // namespace sluice::libevent_backend

#endif  // SLUICE_BACKENDS_LIBEVENT_ENDPOINT_H_
