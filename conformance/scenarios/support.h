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
// Over TLS (the scenarios' TLS variants): a RawListener given a server
// context accepts RawSockets that are the server end of a TLS connection,
// driven by hand with a core TlsSession: handshake() runs its side, then
// send_all() encrypts, recv() decrypts, and the "clean" ends are TLS's
// (shutdown_write() and close() send close_notify first). reset() is a bare
// RST either way.
//
//   RawListener listener(0, server_context);
//   RawSocket peer = listener.try_accept();     // once the client connected
//   while (!peer.handshake()) run_the_loop();   // the client's side runs there
//
// Threading: none.

#ifndef SLUICE_CONFORMANCE_SCENARIOS_SUPPORT_H_
#define SLUICE_CONFORMANCE_SCENARIOS_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/tls/tls_context.h"
#include "core/testing/fd_count.h"
#include "core/tls/tls_session.h"

namespace sluice::scenarios {

// fd_count: open descriptors of this process (/proc/self/fd).
using sluice::testing::fd_count;

// allocated_bytes: heap bytes in use now (ASan's allocator when built with
// it, else glibc's mallinfo2()).
std::size_t allocated_bytes();

// raise_fd_limit: raise RLIMIT_NOFILE's soft limit to at least `n` (capped
// by the hard limit). Returns the soft limit in force afterwards.
std::size_t raise_fd_limit(std::size_t n);

// RawSocket: one end of a loopback TCP connection, owned (closed by the
// destructor). Blocking, except recv() and handshake().
class RawSocket {
 public:
  RawSocket() = default;
  explicit RawSocket(int fd) : fd_(fd) {}
  // Over TLS: `session` is this end's (not started yet).
  RawSocket(int fd, std::unique_ptr<TlsSession> session) : fd_(fd), tls_(std::move(session)) {}
  RawSocket(RawSocket&& other) noexcept;
  RawSocket& operator=(RawSocket&& other) noexcept;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  ~RawSocket();

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  bool tls() const { return tls_ != nullptr; }

  // handshake: over TLS, run this end's handshake as far as the bytes
  // received allow, without waiting for more. True once it completed (at
  // once for a plain socket); false while it runs, or once the session
  // failed (tls_error() then says why).
  bool handshake();
  // tls_error: why the TLS session failed ("" if it did not).
  std::string tls_error() const;

  // send_all: everything, blocking. False on error. Over TLS: precondition
  // handshake() is true.
  bool send_all(std::string_view data);

  // Recv: what one non-blocking recv() gave.
  struct Recv {
    std::string data;  // the bytes (empty if none)
    bool eof = false;  // the peer's FIN (TLS: its close_notify, or a FIN)
    int error = 0;     // errno of a failure (0: none, EAGAIN is not one;
                       // EPROTO: the TLS session failed)
  };
  // recv: at most `max` bytes, without blocking. Over TLS the peer's
  // close_notify is answered with ours at once (asyncio's SSLProtocol does
  // the same), so that its close completes.
  Recv recv(std::size_t max);

  // shutdown_write: send FIN, keep reading. TLS has no half-close: this
  // sends close_notify (the peer's reader sees EOF), and keeps reading.
  void shutdown_write();
  // reset: close with SO_LINGER {1, 0}: the peer gets an RST.
  void reset();
  // close: an orderly close (FIN; over TLS close_notify first, sent only if
  // the socket takes it at once).
  void close();

 private:
  // TLS: send the session's output; `block`: all of it, else what the
  // socket takes at once. False on a send error.
  bool flush_tls(bool block);
  // TLS: one non-blocking recv() into the session: > 0 bytes, 0 at EOF,
  // < 0 on error or nothing there (errno says which).
  long receive_tls();

  int fd_ = -1;
  std::unique_ptr<TlsSession> tls_;
};

// RawListener: a listening socket on 127.0.0.1, kernel-chosen port.
class RawListener {
 public:
  // receive_buffer > 0: SO_RCVBUF of the accepted sockets (set before
  // listen(), so the TCP window is small from the start). tls (a server
  // context): the accepted sockets speak TLS as servers.
  explicit RawListener(int receive_buffer = 0, std::optional<TlsContext> tls = std::nullopt);
  RawListener(const RawListener&) = delete;
  RawListener& operator=(const RawListener&) = delete;
  ~RawListener();

  std::uint16_t port() const { return port_; }
  // accept: the next connection (blocking). Call it once a connect
  // completed: the kernel has finished the handshake by then.
  RawSocket accept();
  // try_accept: the next connection if one is waiting, else an invalid
  // RawSocket (never blocks).
  RawSocket try_accept();

 private:
  RawSocket adopt(int fd);

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::optional<TlsContext> tls_;
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
