#include "backends/common/sockaddr_pair.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

namespace sluice::backend_common {
namespace {

sockaddr_in ipv4(const char* address, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, address, &a.sin_addr);
  return a;
}

sockaddr_in6 ipv6(const char* address, std::uint16_t port) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, address, &a.sin6_addr);
  return a;
}

bool same_bytes(const Sockaddr& got, const void* want, socklen_t want_len) {
  return got.size == want_len && std::memcmp(got.data(), want, want_len) == 0;
}

TEST(SockaddrPairTest, DefaultKnowsNeitherAddress) {
  const SockaddrPair pair;
  EXPECT_FALSE(pair.peer().has_value());
  EXPECT_FALSE(pair.local().has_value());
}

TEST(SockaddrPairTest, PackKeepsBothAddressesOfDifferentSizes) {
  const sockaddr_in6 peer = ipv6("2001:db8::1", 443);
  const sockaddr_in local = ipv4("192.0.2.7", 50000);
  const SockaddrPair pair =
      SockaddrPair::pack(reinterpret_cast<const sockaddr*>(&peer), sizeof(peer),
                         reinterpret_cast<const sockaddr*>(&local), sizeof(local));
  ASSERT_TRUE(pair.peer().has_value());
  ASSERT_TRUE(pair.local().has_value());
  EXPECT_TRUE(same_bytes(*pair.peer(), &peer, sizeof(peer)));
  EXPECT_TRUE(same_bytes(*pair.local(), &local, sizeof(local)));
}

TEST(SockaddrPairTest, ZeroLengthOrNullIsUnknown) {
  const sockaddr_in local = ipv4("127.0.0.1", 8080);
  const SockaddrPair no_peer = SockaddrPair::pack(
      nullptr, sizeof(local), reinterpret_cast<const sockaddr*>(&local), sizeof(local));
  EXPECT_FALSE(no_peer.peer().has_value());
  ASSERT_TRUE(no_peer.local().has_value());
  EXPECT_TRUE(same_bytes(*no_peer.local(), &local, sizeof(local)));

  const SockaddrPair no_local =
      SockaddrPair::pack(reinterpret_cast<const sockaddr*>(&local), sizeof(local),
                         reinterpret_cast<const sockaddr*>(&local), 0);
  ASSERT_TRUE(no_local.peer().has_value());
  EXPECT_FALSE(no_local.local().has_value());
}

TEST(SockaddrPairTest, LengthAboveSockaddrStorageIsTruncated) {
  unsigned char big[sizeof(sockaddr_storage) + 16];
  for (std::size_t i = 0; i < sizeof(big); ++i) big[i] = static_cast<unsigned char>(i);
  const SockaddrPair pair = SockaddrPair::pack(reinterpret_cast<const sockaddr*>(big),
                                               sizeof(big), nullptr, 0);
  ASSERT_TRUE(pair.peer().has_value());
  EXPECT_TRUE(same_bytes(*pair.peer(), big, sizeof(sockaddr_storage)));
}

TEST(SockaddrPairTest, CaptureOfTcpConnectionMatchesGetpeernameAndGetsockname) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in any = ipv4("127.0.0.1", 0);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&any), sizeof(any)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  sockaddr_in bound{};
  socklen_t bound_len = sizeof(bound);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &bound_len), 0);
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(client, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&bound), bound_len), 0);
  sockaddr_in local{};
  socklen_t local_len = sizeof(local);
  ASSERT_EQ(::getsockname(client, reinterpret_cast<sockaddr*>(&local), &local_len), 0);

  const SockaddrPair pair = SockaddrPair::capture(client);
  ASSERT_TRUE(pair.peer().has_value());
  ASSERT_TRUE(pair.local().has_value());
  EXPECT_TRUE(same_bytes(*pair.peer(), &bound, bound_len));
  EXPECT_TRUE(same_bytes(*pair.local(), &local, local_len));
  ::close(client);
  ::close(listener);
}

TEST(SockaddrPairTest, CaptureOfUnnamedUnixSocketKnowsItsFamily) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  const SockaddrPair pair = SockaddrPair::capture(fds[0]);
  ASSERT_TRUE(pair.local().has_value());
  EXPECT_EQ(pair.local()->storage.ss_family, AF_UNIX);
  ASSERT_TRUE(pair.peer().has_value());
  EXPECT_EQ(pair.peer()->storage.ss_family, AF_UNIX);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(SockaddrPairTest, CaptureOfNonSocketKnowsNeither) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const SockaddrPair pair = SockaddrPair::capture(fds[0]);
  EXPECT_FALSE(pair.peer().has_value());
  EXPECT_FALSE(pair.local().has_value());
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace sluice::backend_common
