#include "backends/common/sockaddr_pair.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace sluice::backend_common {

namespace {

socklen_t clamp(const sockaddr* sa, socklen_t len) {
  if (sa == nullptr) return 0;
  return std::min<socklen_t>(len, sizeof(sockaddr_storage));
}

}  // namespace

SockaddrPair SockaddrPair::pack(const sockaddr* peer, socklen_t peer_len, const sockaddr* local,
                                socklen_t local_len) {
  peer_len = clamp(peer, peer_len);
  local_len = clamp(local, local_len);
  SockaddrPair pair;
  if (peer_len == 0 && local_len == 0) return pair;
  // A length fits in a byte: sizeof(sockaddr_storage) is 128.
  static_assert(sizeof(sockaddr_storage) <= 255);
  pair.data_ = std::make_unique_for_overwrite<unsigned char[]>(2 + peer_len + local_len);
  pair.data_[0] = static_cast<unsigned char>(peer_len);
  pair.data_[1] = static_cast<unsigned char>(local_len);
  if (peer_len != 0) std::memcpy(&pair.data_[2], peer, peer_len);
  if (local_len != 0) std::memcpy(&pair.data_[2 + peer_len], local, local_len);
  return pair;
}

SockaddrPair SockaddrPair::capture(int fd) {
  sockaddr_storage peer{};
  sockaddr_storage local{};
  socklen_t peer_len = sizeof(peer);
  socklen_t local_len = sizeof(local);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) < 0) peer_len = 0;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) < 0) local_len = 0;
  return pack(reinterpret_cast<const sockaddr*>(&peer), peer_len,
              reinterpret_cast<const sockaddr*>(&local), local_len);
}

std::optional<Sockaddr> SockaddrPair::get(int which) const {
  if (!data_) return std::nullopt;
  const std::size_t len = data_[which];
  if (len == 0) return std::nullopt;
  const std::size_t offset = 2 + (which == 0 ? 0 : data_[0]);
  Sockaddr out;
  std::memcpy(&out.storage, &data_[offset], len);
  out.size = static_cast<socklen_t>(len);
  return out;
}

}  // namespace sluice::backend_common
