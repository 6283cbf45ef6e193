// File: backends/asio/stream_writer.h
//
// StreamWriter: the write half of a connection, asyncio's StreamWriter (and
// the write side of its transport) over Asio. write() queues without
// copying when given a std::string&&; async_drain() waits for flow control;
// close() flushes then closes; abort() resets; async_wait_closed() waits for
// the end.
//
//   writer.write("GET / HTTP/1.0\r\n\r\n");
//   co_await writer.async_drain(asio::use_awaitable);
//   writer.close();
//   co_await writer.async_wait_closed(asio::use_awaitable);
//
// Sending: writes are not sent inline. The first write of a loop turn posts
// one flush to the stream's executor; everything written during the turn then
// leaves in one gather write (send_calls() counts them), so pipelined small
// writes cost one system call. What the socket does not take at once is sent
// when it becomes writable.
//
// Errors: the rules and their order are asyncio's (core/stream_writer.h):
//   - write() after write_eof(): kWriteAfterEof; after close(), abort() or
//     the connection's loss the bytes are dropped silently (asyncio logs
//     from the 5th such write; this backend does not log).
//   - async_drain: completes (no error) when the buffer is at or below the
//     low water mark; fails with the connection's error (e.g.
//     asio::error::connection_reset, broken_pipe) once it failed, or with
//     asio::error::connection_reset ("Connection lost") after a clean close.
//     (Compare with asio::error values; see stream_reader.h.)
//   - async_wait_closed: completes when the connection is lost: no error if
//     cleanly, else the cause. Any number may wait.
//   - over TLS, a TLS failure (a bad certificate, a corrupt record, an
//     alert) fails drains and wait_closed with it: a sluice::tls_error_
//     category() code whose message() is the whole text with OpenSSL's
//     reason (is_tls_error(ec)); a TLS shutdown that times out
//     (ssl_shutdown_timeout) fails wait_closed with asio::error::timed_out.
//   Synchronous calls come in Asio's two forms: throwing std::system_error,
//   or setting a std::error_code&.
//   Completion signature of async_drain, async_wait_closed and
//   async_start_tls: void(std::error_code). Handlers are never invoked
//   inside the initiating function, and run on their associated executor.
//   Coroutine forms for sluice::Task (see stream_reader.h): co_await
//   writer.drain() and writer.wait_closed(); a drain that need not wait does
//   not suspend; failures throw the coroutine layer's exceptions.
//
// TLS (a connection made with StreamOptions::ssl, or upgraded by
// async_start_tls): write() takes plaintext; it is encrypted as it is sent,
// and the water marks count plaintext. close() sends what is queued, then
// close_notify, then waits for the peer's close_notify (or EOF) before
// closing the socket, at most ssl_shutdown_timeout (then it aborts).
// write_eof() fails with kNotSupported (TLS has no half-close).
//
//   co_await writer.async_start_tls(client_ctx, asio::use_awaitable);  // STARTTLS
//   std::string line = co_await reader.async_readline(asio::use_awaitable);  // plaintext
//
// Extra info: peername(), sockname() (captured when the stream was made, so
// still readable after the close), native_handle() (-1 once closed),
// ssl_object() (the TLS session, asyncio's 'ssl_object'), and
// get_extra_info(name) for
//   "peername", "sockname"  as to_string(Endpoint)
//   "socket"                the descriptor in decimal (nullopt once closed)
// and, for a TLS connection whose handshake succeeded (nullopt for a plain
// one, before the handshake, or after it failed; still readable after the
// close):
//   "peercert"         the peer certificate's subject, RFC 2253 ("CN=localhost");
//                      nullopt if the peer sent none (clients usually send none)
//   "peercert_der"     the peer certificate, DER bytes (Python's
//                      getpeercert(binary_form=True))
//   "cipher"           the cipher suite ("TLS_AES_256_GCM_SHA384")
//   "tls_version"      "TLSv1.3" / "TLSv1.2"
//   "alpn_protocol"    the negotiated ALPN protocol (nullopt if none)
//   "server_hostname"  a client's server_hostname; on a server the SNI name
//                      the client sent (nullopt if none)
// nullopt for any other name.
//
// Ownership and threading: as StreamReader (a shared handle; when the last
// handle of reader and writer is destroyed without close(), the connection
// is closed gracefully as by close(), like asyncio's StreamWriter.__del__;
// use it from its executor).

#ifndef SLUICE_BACKENDS_ASIO_STREAM_WRITER_H_
#define SLUICE_BACKENDS_ASIO_STREAM_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include "backends/asio/endpoint.h"
#include "backends/asio/internal/stream_state.h"
#include "backends/asio/internal/task_awaiters.h"
#include "backends/asio/options.h"
#include "core/stream_writer.h"
#include "core/tls/tls_context.h"
#include "core/tls/tls_session.h"

namespace sluice::asio_backend {

class StreamWriter {
 public:
  using executor_type = asio::any_io_executor;

  StreamWriter() = default;

  // operator bool: this handle refers to a connection.
  explicit operator bool() const { return owner_ != nullptr; }
  executor_type get_executor() const { return state().executor(); }

  // write: queue `data` (copied). Throws std::system_error(kWriteAfterEof)
  // after write_eof().
  void write(std::string_view data);
  void write(std::string_view data, std::error_code& ec) { ec = state().write(data); }
  // write: queue `data`, taking its storage without a copy (1 KiB or more).
  void write(std::string&& data);
  void write(std::string&& data, std::error_code& ec) { ec = state().write(std::move(data)); }
  // Disambiguates string literals.
  void write(const char* data) { write(std::string_view(data)); }
  void write(const char* data, std::error_code& ec) { write(std::string_view(data), ec); }
  // writelines: write() of each piece, in order.
  void writelines(std::span<const std::string_view> pieces);
  void writelines(std::span<const std::string_view> pieces, std::error_code& ec) {
    ec = state().writelines(pieces);
  }
  void writelines(std::initializer_list<std::string_view> pieces) {
    writelines(std::span<const std::string_view>(pieces.begin(), pieces.size()));
  }

  // can_write_eof: true for TCP and UNIX sockets (they can half-close);
  // false over TLS.
  bool can_write_eof() const { return state().connection().writer().can_write_eof(); }
  // write_eof: shut down the write side (FIN) once everything queued is sent;
  // reading goes on. A no-op when closing or already called. Over TLS:
  // kNotSupported.
  void write_eof();
  void write_eof(std::error_code& ec) { ec = state().write_eof(); }

  // close: flush, then close. Idempotent; stops reading.
  void close() { state().close(); }
  // is_closing: close(), abort() or the connection's loss happened.
  bool is_closing() const { return state().connection().writer().is_closing(); }
  // abort: drop what is queued and reset the connection (RST) now.
  void abort() { state().abort(); }

  // get_write_buffer_size: bytes queued and not yet sent.
  std::size_t get_write_buffer_size() const {
    return state().connection().writer().get_write_buffer_size();
  }
  // get_write_buffer_limits: (low, high), like asyncio.
  WriteBufferLimits get_write_buffer_limits() const {
    return state().connection().writer().get_write_buffer_limits();
  }
  // set_write_buffer_limits: asyncio's rules (only high: low = high/4; only
  // low: high = 4*low; neither: 64 KiB / 16 KiB). Throws (or sets ec to)
  // kInvalidArgument for negative values or low > high.
  void set_write_buffer_limits(std::optional<std::int64_t> high = std::nullopt,
                               std::optional<std::int64_t> low = std::nullopt);
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low,
                               std::error_code& ec) {
    ec = state().set_write_buffer_limits(high, low);
  }

  // async_drain: wait for the write buffer to drain to the low water mark.
  template <typename Token>
  auto async_drain(Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        asio_backend_internal::InitiateDrain{owner_->state}, token);
  }

  // Coroutine forms (file comment): co_await them in a sluice::Task.
  auto drain() const {
    return asio_backend_internal::StatusAwaiter(owner_->state,
                                                asio_backend_internal::StatusAwaiter::Kind::kDrain);
  }
  auto wait_closed() const {
    return asio_backend_internal::StatusAwaiter(
        owner_->state, asio_backend_internal::StatusAwaiter::Kind::kWaitClosed);
  }

  // async_wait_closed: wait until the connection is lost (closed, aborted or
  // failed). Does not close by itself.
  template <typename Token>
  auto async_wait_closed(Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        asio_backend_internal::InitiateWaitClosed{owner_->state}, token);
  }

  // async_start_tls: upgrade this plain connection to TLS in place
  // (STARTTLS), asyncio's StreamWriter.start_tls(sslcontext, *,
  // server_hostname, ssl_handshake_timeout, ssl_shutdown_timeout). It waits
  // for the writer to drain, then switches (plaintext still queued goes out
  // first, in clear; bytes the peer sent after its STARTTLS command and
  // nobody read are handled as options.buffered says: by default they are
  // the first TLS bytes), then completes when the handshake does. The
  // context's role is this end's: a server answering STARTTLS passes a
  // TlsContext::server(). The reader keeps working: the same StreamReader
  // reads plaintext afterwards.
  // Errors: kInvalidArgument for bad options (see options.h), a connection
  // already on TLS, another async_start_tls still waiting, a read pending,
  // or a connection closing or at EOF; the handshake's failure (a
  // sluice.tls code with OpenSSL's reason, is_tls_error(ec)); connection
  // errors (a failed drain, connection_reset for EOF during the handshake,
  // asio::error::timed_out after ssl_handshake_timeout). After a failure the
  // connection is closed (or closing). Not cancellable.
  template <typename Token>
  auto async_start_tls(TlsContext context, StartTlsOptions options, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        asio_backend_internal::InitiateStartTls{owner_->state}, token, std::move(context),
        std::move(options));
  }
  template <typename Token>
  auto async_start_tls(TlsContext context, Token&& token) {
    return async_start_tls(std::move(context), StartTlsOptions{}, std::forward<Token>(token));
  }

  // ---- Extra info. --------------------------------------------------------

  std::optional<Endpoint> peername() const { return state().peername(); }
  std::optional<Endpoint> sockname() const { return state().sockname(); }
  int native_handle() const { return state().native_handle(); }
  // ssl_object: the TLS session (peer certificate, cipher, version, ALPN,
  // native SSL*: core/tls/tls_session.h), asyncio's 'ssl_object'; null for a
  // plain connection. Non-null from the moment TLS starts (its peer
  // information is empty until the handshake succeeds); owned by the
  // connection, valid while a handle lives. Do no I/O on its SSL*.
  const TlsSession* ssl_object() const { return state().connection().tls(); }
  // get_extra_info: the names in the file comment; nullopt otherwise.
  std::optional<std::string> get_extra_info(std::string_view name) const;

  // ---- Introspection. ------------------------------------------------------

  // send_calls: write_some system calls made so far on this connection.
  std::uint64_t send_calls() const { return state().send_calls(); }

 private:
  friend struct asio_backend_internal::HandleAccess;

  explicit StreamWriter(std::shared_ptr<asio_backend_internal::StreamOwner> owner)
      : owner_(std::move(owner)) {}

  asio_backend_internal::StreamState& state() const { return *owner_->state; }

  std::shared_ptr<asio_backend_internal::StreamOwner> owner_;
};

}  // namespace sluice::asio_backend

#endif  // SLUICE_BACKENDS_ASIO_STREAM_WRITER_H_
