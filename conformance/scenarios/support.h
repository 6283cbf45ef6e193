// File: conformance/scenarios/support.h
//
// Loop-independent helpers of the network scenarios: raw loopback sockets
// for peers that misbehave (never read, reset, half-close) or that must
// control exactly how bytes arrive, a deterministic payload with a streaming
// hash, and the process's descriptor and heap counters.
//
// Example:
//   RawListener listener;                       // 127.0.0.1, kernel-chosen port
//   Op<Connected> c = loop.start_connect(listener.port(), {});
//   ... run the loop until c.done() ...
//   RawSocket peer = listener.accept();         // the handshake is already done
//   peer.send_all("hello\n");
//   peer.reset();                               // RST
//
// Raw sockets block only where said: send_all() blocks until the kernel
// took everything (keep it small: the loop does not run meanwhile), recv()
// never blocks.
//
// Threading: none.

#ifndef SLUICE_CONFORMANCE_SCENARIOS_SUPPORT_H_
#define SLUICE_CONFORMANCE_SCENARIOS_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::scenarios {

// fd_count: open descriptors of this process (/proc/self/fd).
int fd_count();

// allocated_bytes: heap bytes in use now (ASan's allocator when built with
// it, else glibc's mallinfo2()).
std::size_t allocated_bytes();

// raise_fd_limit: raise RLIMIT_NOFILE's soft limit to at least `n` (capped
// by the hard limit). Returns the soft limit in force afterwards.
std::size_t raise_fd_limit(std::size_t n);

// RawSocket: one end of a loopback TCP connection, owned (closed by the
// destructor). Blocking, except recv().
class RawSocket {
 public:
  RawSocket() = default;
  explicit RawSocket(int fd) : fd_(fd) {}
  RawSocket(RawSocket&& other) noexcept;
  RawSocket& operator=(RawSocket&& other) noexcept;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  ~RawSocket();

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // send_all: everything, blocking. False on error.
  bool send_all(std::string_view data);

  // Recv: what one non-blocking recv() gave.
  struct Recv {
    std::string data;  // the bytes (empty if none)
    bool eof = false;  // the peer's FIN
    int error = 0;     // errno of a failure (0: none, EAGAIN is not one)
  };
  // recv: at most `max` bytes, without blocking.
  Recv recv(std::size_t max);

  // shutdown_write: send FIN, keep reading.
  void shutdown_write();
  // reset: close with SO_LINGER {1, 0}: the peer gets an RST.
  void reset();
  // close: an orderly close (FIN).
  void close();

 private:
  int fd_ = -1;
};

// RawListener: a listening socket on 127.0.0.1, kernel-chosen port.
class RawListener {
 public:
  // receive_buffer > 0: SO_RCVBUF of the accepted sockets (set before
  // listen(), so the TCP window is small from the start).
  explicit RawListener(int receive_buffer = 0);
  RawListener(const RawListener&) = delete;
  RawListener& operator=(const RawListener&) = delete;
  ~RawListener();

  std::uint16_t port() const { return port_; }
  // accept: the next connection (blocking). Call it once a connect
  // completed: the kernel has finished the handshake by then.
  RawSocket accept();

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// pattern: the bytes at [offset, offset + size) of an endless deterministic
// stream (a 64-bit xorshift per 8-byte word), every byte value included.
std::string pattern(std::uint64_t offset, std::size_t size);

// StreamHash: a 64-bit hash of a byte stream that does not depend on how
// the stream is cut into pieces (FNV-1a over 8-byte words, the tail bytes
// carried over to the next update), plus its length.
class StreamHash {
 public:
  void update(std::string_view data);
  std::uint64_t value() const;
  std::uint64_t size() const { return size_; }

 private:
  void mix(std::uint64_t word);
  std::uint64_t h_ = 14695981039346656037ull;
  std::uint64_t size_ = 0;
  char pending_[8] = {};
  std::size_t pending_size_ = 0;
};

// WriterRegistry: a handle on every connection an adapter made, so that its
// loop can abort what is left when it goes. Lost connections (native_handle()
// < 0) are pruned, so it does not grow with the connections served. Writer is
// a backend's StreamWriter handle type.
template <typename Writer>
class WriterRegistry {
 public:
  void add(const Writer& w) {
    if (writers_.size() >= 2 * live_after_prune_ + 64) prune();
    writers_.push_back(w);
  }
  std::size_t live() {
    prune();
    return writers_.size();
  }
  void abort_all() {
    prune();
    for (Writer& w : writers_) w.abort();
  }
  void clear() { writers_.clear(); }

 private:
  void prune() {
    std::erase_if(writers_, [](const Writer& w) { return w.native_handle() < 0; });
    live_after_prune_ = writers_.size();
  }
  std::vector<Writer> writers_;
  std::size_t live_after_prune_ = 0;
};

}  // namespace sluice::scenarios

#endif  // SLUICE_CONFORMANCE_SCENARIOS_SUPPORT_H_
