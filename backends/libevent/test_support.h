// File: backends/libevent/test_support.h
//
// Test helpers for the libevent backend's tests: an event_base fixture that
// checks no descriptor leaks, running the loop until a condition holds with a
// deadline (a test never hangs), a sleep awaitable, connected stream pairs
// over loopback TCP (IPv4, IPv6) and UNIX socketpairs, and a deterministic
// payload with its checker.

#ifndef SLUICE_BACKENDS_LIBEVENT_TEST_SUPPORT_H_
#define SLUICE_BACKENDS_LIBEVENT_TEST_SUPPORT_H_

#include <arpa/inet.h>
#include <dirent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/libevent/streams.h"
#include "core/testing/fd_count.h"
#include "gtest/gtest.h"

namespace sluice::libevent_backend::test_support {

using namespace std::chrono_literals;

// fd_count: open descriptors of this process.
using sluice::testing::fd_count;

// run_until: run the loop of `base` until `done()` or `timeout`; false on
// timeout. A deadline timer keeps EVLOOP_ONCE from blocking forever.
template <typename Done>
bool run_until(event_base* base, Done done, std::chrono::milliseconds timeout = 5000ms) {
  bool expired = false;
  event* deadline = evtimer_new(
      base, [](int, short, void* flag) { *static_cast<bool*>(flag) = true; }, &expired);
  const timeval tv = {static_cast<time_t>(timeout.count() / 1000),
                      static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  evtimer_add(deadline, &tv);
  while (!done() && !expired) event_base_loop(base, EVLOOP_ONCE);
  event_free(deadline);
  return done();
}

// run_until_idle: run until nothing is left on `base` (no event added or
// active: every connection lost, every server closed). False on timeout.
inline bool run_until_idle(event_base* base, std::chrono::milliseconds timeout = 5000ms) {
  // The deadline timer itself is the one event allowed.
  return run_until(
      base,
      [&] {
        return event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) <=
               1;
      },
      timeout);
}

// report: fails the test with the exception `task` ended with, if any.
template <typename T>
void expect_no_exception(Task<T>& task) {
  try {
    (void)task.result();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "exception: " << e.what();
  } catch (...) {
    ADD_FAILURE() << "unknown exception";
  }
}

// abandon: a task that timed out may have a resumption posted, so destroying
// it is undefined: it is leaked instead (the test has failed anyway).
template <typename T>
void abandon(Task<T>&& task) {
  static auto* leaked = new std::vector<Task<T>>;
  leaked->push_back(std::move(task));
}

// run: start `task` and run the loop until it finishes. A timeout or an
// exception escaping it fails the test.
inline void run(event_base* base, Task<void> task, std::chrono::milliseconds timeout = 5000ms) {
  task.start();
  if (!run_until(
          base, [&] { return task.done(); }, timeout)) {
    ADD_FAILURE() << "timed out after " << timeout.count() << " ms";
    abandon(std::move(task));
    return;
  }
  expect_no_exception(task);
}

// run_all: start every task (in order) and run the loop until all finish. A
// timeout or an exception escaping one fails the test.
template <typename... Tasks>
void run_all(event_base* base, std::chrono::milliseconds timeout, Tasks... tasks) {
  (tasks.start(), ...);
  if (!run_until(
          base, [&] { return (tasks.done() && ...); }, timeout)) {
    ADD_FAILURE() << "timed out after " << timeout.count() << " ms";
    (abandon(std::move(tasks)), ...);
    return;
  }
  (expect_no_exception(tasks), ...);
}

// sleep_for: co_await sleep_for(base, 10ms) suspends the calling coroutine.
class SleepFor {
 public:
  SleepFor(event_base* base, std::chrono::milliseconds d) : base_(base), d_(d) {}
  SleepFor(const SleepFor&) = delete;
  SleepFor& operator=(const SleepFor&) = delete;
  ~SleepFor() {
    if (ev_) event_free(ev_);
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    h_ = h;
    ev_ = evtimer_new(
        base_, [](int, short, void* self) { static_cast<SleepFor*>(self)->h_.resume(); }, this);
    const timeval tv = {static_cast<time_t>(d_.count() / 1000),
                        static_cast<suseconds_t>((d_.count() % 1000) * 1000)};
    evtimer_add(ev_, &tv);
  }
  void await_resume() const noexcept {}

 private:
  event_base* base_;
  std::chrono::milliseconds d_;
  event* ev_ = nullptr;
  std::coroutine_handle<> h_;
};
inline SleepFor sleep_for(event_base* base, std::chrono::milliseconds d) { return {base, d}; }

// Transport: how a test pair is connected.
enum class Transport { kTcp4, kTcp6, kUnix };

inline std::string transport_name(const ::testing::TestParamInfo<Transport>& info) {
  switch (info.param) {
    case Transport::kTcp4:
      return "Tcp4";
    case Transport::kTcp6:
      return "Tcp6";
    case Transport::kUnix:
      return "Unix";
  }
  return "?";
}

// ipv6_available: the host can bind a socket to [::1] (tests over IPv6 skip
// themselves when it cannot).
inline bool ipv6_available() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&in6), sizeof(in6)) == 0;
  ::close(fd);
  return ok;
}

// connected_fds: two connected, blocking descriptors over `transport`
// (loopback TCP through a throwaway listener, or a socketpair).
inline std::pair<int, int> connected_fds(Transport transport) {
  if (transport == Transport::kUnix) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return {-1, -1};
    return {fds[0], fds[1]};
  }
  sockaddr_storage ss{};
  socklen_t len;
  const int family = transport == Transport::kTcp4 ? AF_INET : AF_INET6;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  }
  const int listener = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::bind(listener, reinterpret_cast<sockaddr*>(&ss), len);
  ::listen(listener, 1);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&ss), &len);
  const int client = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::connect(client, reinterpret_cast<sockaddr*>(&ss), len);
  const int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  return {client, server};
}

// stream_pair: two Streams connected over `transport`.
inline std::pair<Stream, Stream> stream_pair(event_base* base, Transport transport,
                                             const StreamOptions& a = {},
                                             const StreamOptions& b = {}) {
  auto [x, y] = connected_fds(transport);
  return {make_stream(base, x, a), make_stream(base, y, b)};
}

// unix_socket_path: a short, unique path for a UNIX socket (sun_path is
// small; Bazel's TEST_TMPDIR may be too long).
inline std::string unix_socket_path(std::string_view name) {
  return "/tmp/sluice_libevent_" + std::to_string(::getpid()) + "_" + std::string(name) + ".sock";
}

// Payload: the deterministic byte stream of a large transfer: byte i is a
// function of i alone (a 64-bit xorshift per 8-byte word), so the receiver
// checks every byte against its position, whatever the chunking.
class Payload {
 public:
  // piece: the bytes at [offset, offset + size). offset must be a multiple
  // of 8.
  static std::string piece(std::uint64_t offset, std::size_t size) {
    std::string out(size, '\0');
    for (std::size_t k = 0; k < size; k += 8) {
      const std::uint64_t w = word((offset + k) / 8);
      std::memcpy(out.data() + k, &w, std::min<std::size_t>(8, size - k));
    }
    return out;
  }

  // check: feed received bytes in order; false at the first wrong byte.
  bool check(std::string_view data) {
    const std::uint64_t start = offset_ & ~std::uint64_t{7};
    const std::size_t skip = static_cast<std::size_t>(offset_ - start);
    const std::string expected = piece(start, skip + data.size());
    if (std::memcmp(expected.data() + skip, data.data(), data.size()) != 0) return false;
    offset_ += data.size();
    return true;
  }
  std::uint64_t checked() const { return offset_; }

 private:
  static std::uint64_t word(std::uint64_t i) {
    std::uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
  std::uint64_t offset_ = 0;
};

// LoopTest: a fixture with an event_base; checks that no descriptor leaked
// once everything on the base is finished. (Fixtures deriving from it may
// GTEST_SKIP before calling its SetUp, e.g. IPv6 cases on hosts without
// IPv6.)
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = fd_count();
    base_ = event_base_new();
    ASSERT_NE(base_, nullptr);
  }
  void TearDown() override {
    if (base_ == nullptr) return;  // skipped before SetUp
    EXPECT_TRUE(run_until_idle(base_)) << "connections or servers left on the loop";
    event_base_free(base_);
    EXPECT_EQ(fd_count(), fds_before_) << "descriptor leak";
  }
  event_base* base() const { return base_; }

 private:
  event_base* base_ = nullptr;
  int fds_before_ = 0;
};

}  // namespace sluice::libevent_backend::test_support

#endif  // SLUICE_BACKENDS_LIBEVENT_TEST_SUPPORT_H_
