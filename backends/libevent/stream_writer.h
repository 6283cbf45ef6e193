// File: backends/libevent/stream_writer.h
//
// StreamWriter: the write half of a connection on a libevent event_base,
// asyncio's StreamWriter (and the write side of its transport). write()
// queues (without copying when given a std::string&& of 1 KiB or more);
// drain() waits for flow control; close() flushes then closes; abort() resets;
// wait_closed() waits for the end. drain and wait_closed come as sluice
// coroutine awaitables and as callbacks:
//
//   writer.write("GET / HTTP/1.0\r\n\r\n");
//   co_await writer.drain();                       // throws ConnectionError
//   writer.close();
//   Status s = co_await writer.wait_closed().as_result();   // no throw
//   writer.drain([](Status s) {...});              // callback form
//
// Sending: writes are never sent inside write(). The first write of a loop
// turn schedules one flush for the end of that turn, so everything written
// during the turn leaves in one system call (send_calls() counts them: a
// gather sendmsg(), or send() when the queue is one contiguous view):
// pipelined small writes cost one system call. What the socket does not take
// at once is sent when it becomes writable.
//
// Errors: the rules and their order are asyncio's (core/stream_writer.h):
//   - write() after write_eof(): kWriteAfterEof (throws StreamException;
//     try_write() returns it); after close(), abort() or the connection's
//     loss the bytes are dropped silently.
//   - drain: completes when the buffer is at or below the low water mark;
//     fails with kConnectionError{errno} (e.g. connection_reset, broken_pipe)
//     once the connection failed, or kConnectionError{connection_reset}
//     ("Connection lost") after a clean close.
//   - wait_closed: completes when the connection is lost: Ok if cleanly, else
//     kConnectionError{cause}. Any number may wait.
//   A callback is never invoked inside the call that started it; a waiting
//   coroutine is resumed from the loop, never inside a socket callback.
//
// TLS (asyncio's ssl=, StreamWriter.start_tls): over a TLS connection
// (StreamOptions::ssl, or after start_tls) everything above works unchanged
// on plaintext - the water marks, drain and write() count plaintext bytes -
// with asyncio's SSLProtocol differences (core/connection.h section 4):
//   - can_write_eof() is false and write_eof() throws kNotSupported;
//   - close() sends close_notify, then waits (reading) for the peer's, at
//     most ssl_shutdown_timeout (30 s): past it the connection is aborted
//     and wait_closed() fails with kConnectionError{std::errc::timed_out};
//   - a TLS failure (a bad record, the peer's alert) fails drains and
//     wait_closed with kTlsError, whose tls_reason is OpenSSL's.
// start_tls(context, options) upgrades a plain connection in place
// (STARTTLS): it waits for drain(), then starts TLS in context.role() (bytes
// the reader buffered and nobody read are handed to TLS as the peer's first
// ciphertext by default, see StartTlsOptions::buffered), and completes when
// the handshake does, or fails with its error: kTlsError (e.g. certificate
// verify failed), kConnectionError (reset, timed_out after
// ssl_handshake_timeout), kInvalidArgument (bad options, or a connection
// that cannot be upgraded: closing, after EOF or write_eof(), a read
// waiting, already TLS). The StreamReader stays the same object and reads
// plaintext from then on.
//
// Extra info: peername(), sockname() (captured when the stream was made, so
// still readable after the close), native_handle() (the descriptor, -1 once
// closed), and get_extra_info(name) for "peername", "sockname" (as
// to_string(Endpoint)) and "socket" (the descriptor in decimal) - the Asio
// backend's exact answers - and, over TLS once the handshake succeeded:
//   "peercert"        the peer certificate's subject, RFC 2253 ("CN=localhost")
//   "peercert_der"    the peer certificate, DER bytes
//   "cipher"          the cipher suite ("TLS_AES_256_GCM_SHA384")
//   "tls_version"     "TLSv1.3" / "TLSv1.2"
//   "alpn_protocol"   the negotiated ALPN protocol
//   "server_hostname" a client's server_hostname; a server: the SNI received
// nullopt for anything else, for the TLS names on a plain connection or
// before the handshake, and for a value that is absent (no certificate, no
// ALPN, no SNI). ssl_object() is the TlsSession itself (asyncio's
// 'ssl_object'), for everything else.
//
// Ownership and threading: as StreamReader (a shared handle; the connection
// is closed when the last handle of reader and writer is destroyed; the
// event_base's thread only).

#ifndef SLUICE_BACKENDS_LIBEVENT_STREAM_WRITER_H_
#define SLUICE_BACKENDS_LIBEVENT_STREAM_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "backends/libevent/callback.h"
#include "backends/libevent/endpoint.h"
#include "backends/libevent/internal/stream_state.h"
#include "backends/libevent/options.h"
#include "core/coro/async_connection.h"
#include "core/coro/task.h"
#include "core/result.h"
#include "core/stream_writer.h"
#include "core/tls/tls_context.h"
#include "core/tls/tls_session.h"

struct event_base;

namespace sluice::libevent_backend {

struct HandleAccess;

class StreamWriter {
 public:
  // StatusCallback: receives drain's or wait_closed's Status.
  using StatusCallback = Callback<void(Status)>;

  StreamWriter() = default;

  // operator bool: this handle refers to a connection.
  explicit operator bool() const { return owner_ != nullptr; }
  // base: the event_base the connection runs on.
  event_base* base() const { return state().base(); }

  // ---- Writing. -------------------------------------------------------------

  // write: queue `data` (copied; a std::string&& of 1 KiB or more is taken
  // without a copy). Throws StreamException(kWriteAfterEof) after
  // write_eof().
  void write(std::string_view data) { async().write(data); }
  void write(std::string&& data) { async().write(std::move(data)); }
  void write(const char* data) { async().write(std::string_view(data)); }
  // writelines: write() of each piece, in order.
  void writelines(std::span<const std::string_view> pieces) { async().writelines(pieces); }
  void writelines(std::initializer_list<std::string_view> pieces) { async().writelines(pieces); }
  // try_write: write() returning the error instead of throwing.
  Status try_write(std::string_view data) { return async().try_write(data); }
  Status try_write(std::string&& data) { return async().try_write(std::move(data)); }
  Status try_write(const char* data) { return async().try_write(std::string_view(data)); }

  // can_write_eof: true for TCP and UNIX sockets (they can half-close);
  // false over TLS.
  bool can_write_eof() const { return core().can_write_eof(); }
  // write_eof: shut down the write side (FIN) once everything queued is sent;
  // reading goes on. A no-op when closing or already called.
  void write_eof() { async().write_eof(); }

  // close: flush, then close. Idempotent; stops reading.
  void close() { async().close(); }
  // abort: drop what is queued and reset the connection (RST) now.
  void abort() { async().abort(); }
  // is_closing: close(), abort() or the connection's loss happened.
  bool is_closing() const { return core().is_closing(); }

  // ---- Waiting. -------------------------------------------------------------

  // drain: wait for the write buffer to drain to the low water mark.
  StatusOp drain() { return async().drain(); }
  void drain(StatusCallback cb);
  // wait_closed: wait until the connection is lost (closed, aborted or
  // failed). Does not close by itself.
  StatusOp wait_closed() { return async().wait_closed(); }
  void wait_closed(StatusCallback cb);

  // ---- TLS. -----------------------------------------------------------------------

  // start_tls: upgrade this plain connection to TLS in place (see the file
  // comment): drain, then TLS in context.role() with `options`, then the
  // handshake. The Task is lazy (nothing happens before it is co_awaited or
  // started) and throws sluice::TlsError, ConnectionError or
  // StreamException(kInvalidArgument); it keeps the connection alive while
  // it runs. The callback form starts at once (so writes made after the
  // call are encrypted) and gets the Status (never inside the call).
  Task<void> start_tls(TlsContext context, StartTlsOptions options = {});
  void start_tls(TlsContext context, StartTlsOptions options, StatusCallback cb);
  // ssl_object: the TLS session (peer certificate, cipher, version, ALPN:
  // core/tls/tls_session.h; asyncio's get_extra_info('ssl_object')), owned
  // by the connection and valid while a handle is; null for a plain
  // connection (until start_tls begins).
  const TlsSession* ssl_object() const { return state().connection().tls(); }

  // ---- Flow control. -----------------------------------------------------------

  // set_write_buffer_limits: asyncio's rules (only high: low = high/4; only
  // low: high = 4*low; neither: 64 KiB / 16 KiB). Throws
  // StreamException(kInvalidArgument) for negative values or low > high.
  void set_write_buffer_limits(std::optional<std::int64_t> high = std::nullopt,
                               std::optional<std::int64_t> low = std::nullopt) {
    async().set_write_buffer_limits(high, low);
  }
  // get_write_buffer_limits: (low, high), like asyncio.
  WriteBufferLimits get_write_buffer_limits() const { return core().get_write_buffer_limits(); }
  // get_write_buffer_size: bytes queued and not yet sent.
  std::size_t get_write_buffer_size() const { return core().get_write_buffer_size(); }

  // ---- Extra info. --------------------------------------------------------------

  std::optional<Endpoint> peername() const { return state().peername(); }
  std::optional<Endpoint> sockname() const { return state().sockname(); }
  int native_handle() const { return state().fd(); }
  // get_extra_info: "peername", "sockname", "socket"; over TLS after the
  // handshake "peercert", "peercert_der", "cipher", "tls_version",
  // "alpn_protocol", "server_hostname" (see the file comment); nullopt
  // otherwise.
  std::optional<std::string> get_extra_info(std::string_view name) const;

  // ---- Introspection. ------------------------------------------------------------

  // send_calls: send() / sendmsg() calls made so far on this connection.
  std::uint64_t send_calls() const { return state().send_calls(); }
  // core: the sans-IO writer.
  const sluice::StreamWriter& core() const { return state().connection().writer(); }

 private:
  friend struct HandleAccess;

  explicit StreamWriter(std::shared_ptr<libevent_backend_internal::StreamOwner> owner)
      : owner_(std::move(owner)) {}

  libevent_backend_internal::StreamState& state() const { return *owner_->state; }
  AsyncWriter& async() const { return owner_->state->async().writer(); }

  std::shared_ptr<libevent_backend_internal::StreamOwner> owner_;
};

}  // namespace sluice::libevent_backend

#endif  // SLUICE_BACKENDS_LIBEVENT_STREAM_WRITER_H_
