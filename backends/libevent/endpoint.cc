#include "backends/libevent/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace sluice::libevent_backend {

Endpoint::Endpoint(const sockaddr* sa, socklen_t len) {
  size_ = std::min<socklen_t>(len, sizeof(storage_));
  std::memcpy(&storage_, sa, size_);
}

std::string Endpoint::address() const {
  char text[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&storage_);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      return text;
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      return text;
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
      const std::size_t offset = offsetof(sockaddr_un, sun_path);
      if (size_ <= offset) return "";
      std::size_t n = size_ - offset;
      // A pathname is NUL-terminated (the kernel may count the NUL); an
      // abstract name (leading NUL) is exactly n bytes.
      if (un->sun_path[0] != '\0') n = ::strnlen(un->sun_path, n);
      return std::string(un->sun_path, n);
    }
    default:
      return "";
  }
}

std::uint16_t Endpoint::port() const {
  switch (family()) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

bool operator==(const Endpoint& a, const Endpoint& b) {
  return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
}

std::string to_string(const Endpoint& endpoint) {
  switch (endpoint.family()) {
    case AF_INET:
      return endpoint.address() + ":" + std::to_string(endpoint.port());
    case AF_INET6:
      return "[" + endpoint.address() + "]:" + std::to_string(endpoint.port());
    default:
      return endpoint.address();
  }
}

}  // namespace sluice::libevent_backend
