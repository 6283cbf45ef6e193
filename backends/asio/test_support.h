// File: backends/asio/test_support.h
//
// Test helpers for the Asio backend's tests: run a coroutine on an io_context
// with a deadline (a test never hangs), connected stream pairs over loopback
// TCP and UNIX socketpairs, a streaming hash, descriptor counting.

#ifndef SLUICE_BACKENDS_ASIO_TEST_SUPPORT_H_
#define SLUICE_BACKENDS_ASIO_TEST_SUPPORT_H_

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "backends/asio/streams.h"
#include "core/testing/fd_count.h"
#include "gtest/gtest.h"

namespace sluice::asio_backend::test_support {

using namespace std::chrono_literals;

// run_until: run `io` until `done()` or `timeout`; false on timeout.
template <typename Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.run_one_until(deadline) == 0 && io.stopped()) {
      io.restart();
      if (!done()) ::usleep(1000);
    }
  }
  return true;
}

// run: co_spawn `body` on `io` and run until it finishes. A timeout or an
// exception escaping `body` fails the test.
inline void run(asio::io_context& io, asio::awaitable<void> body,
                std::chrono::milliseconds timeout = 5000ms) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  if (!run_until(
          io, [&] { return done; }, timeout)) {
    ADD_FAILURE() << "timed out after " << timeout.count() << " ms";
    return;
  }
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "exception: " << e.what();
    } catch (...) {
      ADD_FAILURE() << "unknown exception";
    }
  }
}

// sleep_for: suspend the calling coroutine.
inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(asio::use_awaitable);
}

// tcp_pair: two streams connected over loopback TCP (IPv4).
inline std::pair<Stream, Stream> tcp_pair(asio::io_context& io, const StreamOptions& a = {},
                                          const StreamOptions& b = {}) {
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  asio::ip::tcp::socket server = acceptor.accept();
  return {make_stream(std::move(client), a), make_stream(std::move(server), b)};
}

// unix_pair: two streams over a UNIX socketpair.
inline std::pair<Stream, Stream> unix_pair(asio::io_context& io, const StreamOptions& a = {},
                                           const StreamOptions& b = {}) {
  asio::local::stream_protocol::socket x(io), y(io);
  asio::local::connect_pair(x, y);
  return {make_stream(std::move(x), a), make_stream(std::move(y), b)};
}

// port_of: the port of a TCP endpoint (e.g. server.sockets().front()).
inline std::uint16_t port_of(const Endpoint& e) {
  return std::get<asio::ip::tcp::endpoint>(e).port();
}

// connect: async_open_connection on the calling coroutine's executor.
inline asio::awaitable<Stream> connect(std::string host, std::uint16_t port) {
  auto ex = co_await asio::this_coro::executor;
  co_return co_await async_open_connection(ex, host, port, asio::use_awaitable);
}

// record_what: a handler-exception hook that appends what() of each
// reported exception to `out`.
inline HandlerExceptionHook record_what(std::vector<std::string>& out) {
  return [&out](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      out.push_back(x.what());
    } catch (...) {
      out.push_back("unknown exception");
    }
  };
}

// fd_count: open descriptors of this process.
using sluice::testing::fd_count;

// unix_socket_path: a short, unique path for a UNIX socket (sun_path is
// small, Bazel's TEST_TMPDIR may be too long).
inline std::string unix_socket_path(std::string_view name) {
  return "/tmp/sluice_asio_" + std::to_string(::getpid()) + "_" + std::string(name) + ".sock";
}

// StreamHash: a streaming 64-bit hash of a byte stream, independent of how
// the stream is chunked (FNV-1a style over 8-byte little-endian words; the
// tail bytes are carried to the next update).
class StreamHash {
 public:
  void update(std::string_view data) {
    while (!data.empty() && pending_size_ > 0 && pending_size_ < 8) {
      pending_[pending_size_++] = data.front();
      data.remove_prefix(1);
      if (pending_size_ == 8) {
        mix(pending_);
        pending_size_ = 0;
      }
    }
    while (data.size() >= 8) {
      mix(data.data());
      data.remove_prefix(8);
    }
    for (char c : data) pending_[pending_size_++] = c;
  }
  std::uint64_t value() const {
    std::uint64_t h = h_;
    for (std::size_t i = 0; i < pending_size_; ++i) {
      h ^= static_cast<unsigned char>(pending_[i]);
      h *= 1099511628211ull;
    }
    return h ^ total_;
  }

 private:
  void mix(const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h_ ^= w;
    h_ *= 1099511628211ull;
    h_ ^= h_ >> 29;
    total_ += 8;
  }

  std::uint64_t h_ = 14695981039346656037ull;
  std::uint64_t total_ = 0;
  char pending_[8] = {};
  std::size_t pending_size_ = 0;
};

// pattern_chunk: deterministic pseudo-random bytes (chunk number `i`).
inline std::string pattern_chunk(std::uint64_t i, std::size_t size) {
  std::string out(size, '\0');
  std::uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
  for (std::size_t k = 0; k < size; k += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(out.data() + k, &x, std::min<std::size_t>(8, size - k));
  }
  return out;
}

}  // namespace sluice::asio_backend::test_support

#endif  // SLUICE_BACKENDS_ASIO_TEST_SUPPORT_H_
