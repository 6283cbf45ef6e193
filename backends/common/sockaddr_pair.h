// File: backends/common/sockaddr_pair.h
//
// SockaddrPair: a connection's peer and local addresses, as the kernel gave
// them (getpeername / getsockname), captured once (when the stream is made,
// as asyncio does, so they stay readable after the close) and kept packed in
// one small heap block sized to fit. Both backends keep one per connection,
// so it stays small: a sockaddr_storage is 128 bytes (an Endpoint of either
// backend holds one or a union as big), while the block of an IPv4 pair is
// 34 bytes and of an IPv6 pair 58; the object itself is one pointer.
//
// Each backend turns a Sockaddr back into its own Endpoint type; this
// library knows neither.
//
// Example:
//   SockaddrPair pair = SockaddrPair::capture(fd);
//   if (std::optional<Sockaddr> peer = pair.peer())
//     connect(other_fd, peer->data(), peer->size);
//
// Ownership: a SockaddrPair owns its block (move-only). Threading: none.

#ifndef SLUICE_BACKENDS_COMMON_SOCKADDR_PAIR_H_
#define SLUICE_BACKENDS_COMMON_SOCKADDR_PAIR_H_

#include <sys/socket.h>

#include <memory>
#include <optional>

namespace sluice::backend_common {

// Sockaddr: one address copied out of a SockaddrPair, aligned for use as a
// sockaddr (the packed bytes are not).
struct Sockaddr {
  sockaddr_storage storage{};
  socklen_t size = 0;

  const sockaddr* data() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

class SockaddrPair {
 public:
  // An empty pair: both addresses unknown (no block).
  SockaddrPair() = default;

  // pack: copies of `peer` and `local` (a null pointer or a length of 0:
  // unknown; a length above sizeof(sockaddr_storage) is truncated to it).
  static SockaddrPair pack(const sockaddr* peer, socklen_t peer_len, const sockaddr* local,
                           socklen_t local_len);
  // capture: getpeername / getsockname of `fd` (either may fail: unknown).
  static SockaddrPair capture(int fd);

  // peer / local: the address, nullopt if unknown.
  std::optional<Sockaddr> peer() const { return get(0); }
  std::optional<Sockaddr> local() const { return get(1); }

 private:
  std::optional<Sockaddr> get(int which) const;

  // [peer length][local length][peer bytes][local bytes]; a length of 0
  // means unknown. Null when both are unknown.
  std::unique_ptr<unsigned char[]> data_;
};

}  // namespace sluice::backend_common

#endif  // SLUICE_BACKENDS_COMMON_SOCKADDR_PAIR_H_
