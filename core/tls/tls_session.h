// File: core/tls/tls_session.h
//
// TlsSession: one TLS connection as a sans-IO state machine over OpenSSL.
// Ciphertext goes in (from the socket) and out (to the socket) through two
// buffers the session owns; plaintext goes in and out through calls. No I/O,
// no threads, no clocks, no exceptions, no callbacks out. It is the engine
// Connection (core/connection.h) runs when a connection uses TLS; it can
// also be driven on its own (tests, the fuzz target).
//
// Buffers, and why OpenSSL sees custom BIOs rather than memory BIOs
// (asyncio's sslproto uses two ssl.MemoryBIOs; this is the same split with
// one copy less each way):
//   - incoming ciphertext lives in a ByteBuffer (core/byte_buffer.h). The
//     driver recv()s straight into it: prepare_input(n), commit_input(k), or
//     copies with append_input(). OpenSSL's read BIO takes from its front.
//   - outgoing ciphertext is appended by OpenSSL's write BIO to an
//     OutputQueue (core/output_queue.h): peek_output() gives views for a
//     gather send, stable until consume_output() covers them or
//     clear_output() drops them (later output never moves them, so an
//     asynchronous send may stay in flight while the session runs).
//   - plaintext is read straight into the caller's span (Connection gives
//     the StreamReader's prepare() space) and written from the caller's
//     views (the StreamWriter's queue): no intermediate plaintext buffer.
//
// States (TlsState), every transition in TlsSession::transition():
//
//   kHandshaking --handshake() succeeds--> kEstablished
//   kEstablished --shutdown()-->           kShuttingDown  (our close_notify queued)
//   kEstablished --shutdown()-->           kClosed        (the peer's close_notify or
//                                                          input EOF came first)
//   kShuttingDown --peer's close_notify, or input_eof()--> kClosed
//   kHandshaking, kEstablished, kShuttingDown --failure--> kFailed
//     (a failure is anything OpenSSL refuses, or input EOF while handshaking)
//
//   kHandshaking   handshake() runs the handshake on the input; a client's
//                  first call writes its ClientHello.
//   kEstablished   read() decrypts, write() encrypts. A close_notify from the
//                  peer is reported by read() (kCloseNotify) and remembered
//                  (close_notify_received()); the state stays, so that our
//                  own remaining plaintext can still go out before shutdown().
//   kShuttingDown  our close_notify is queued; read() still decrypts (the
//                  caller discards) until the peer's close_notify (or input
//                  EOF) completes the shutdown.
//   kClosed        both directions are finished (terminal).
//   kFailed        error() says why (terminal). OpenSSL's alert, if it wrote
//                  one, is still in the output: send it, then close.
//
// Errors: handshake failures (bad certificate, hostname mismatch, a peer
// that is not speaking TLS), corrupt records and alerts from the peer are
// kTlsError, carrying OpenSSL's reason (see core/stream_error.h); input EOF
// during the handshake is kConnectionError{connection_reset} (asyncio's
// ConnectionResetError). Input EOF after the handshake is not an error here:
// what it means (asyncio: EOF for the application) is the caller's policy.
//
// Example (a client over some byte pipe `net`):
//   Result<std::unique_ptr<TlsSession>> s =
//       TlsSession::create({.context = ctx, .role = TlsRole::kClient,
//                           .server_hostname = "example.com"});
//   (*s)->handshake();                           // writes the ClientHello
//   net.send((*s)->peek_output(views)...); (*s)->consume_output(sent);
//   net.recv_into((*s)->prepare_input(16384)); (*s)->commit_input(k);
//   if ((*s)->handshake() == TlsState::kEstablished) { ... read()/write() ... }
//
// Threading: none; one thread at a time.

#ifndef SLUICE_CORE_TLS_TLS_SESSION_H_
#define SLUICE_CORE_TLS_TLS_SESSION_H_

#include <openssl/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/byte_buffer.h"
#include "core/output_queue.h"
#include "core/result.h"
#include "core/stream_error.h"
#include "core/tls/tls_context.h"

namespace sluice {

// The most plaintext one TLS record carries (2^14, all TLS versions).
inline constexpr std::size_t kTlsMaxRecordPlaintext = 16 * 1024;
// The default bound on outgoing ciphertext Connection lets queue before it
// stops encrypting (see TlsOptions::outgoing_limit).
inline constexpr std::size_t kDefaultTlsOutgoingLimit = 64 * 1024;
// asyncio's defaults for the timers backends run while
// Connection::handshake_in_progress() / shutdown_in_progress() (the core
// keeps no clock; these are for the drivers).
inline constexpr std::chrono::milliseconds kDefaultTlsHandshakeTimeout{60'000};
inline constexpr std::chrono::milliseconds kDefaultTlsShutdownTimeout{30'000};

// TlsOptions: what one TLS connection needs (Connection takes them in
// ConnectionOptions::tls and in start_tls()).
struct TlsOptions {
  // The shared settings. Its role must equal `role`.
  TlsContext context = {};
  TlsRole role = TlsRole::kClient;
  // Client: the name sent as SNI and, while the context's check_hostname()
  // is on, required in the server's certificate (an IP address literal is
  // checked as an IP and sent without SNI, as Python does). Empty: no SNI,
  // and the context must not check hostnames. asyncio's server_hostname;
  // backends default it to the host they connect to. Ignored by servers.
  std::string server_hostname = {};
  // Connection encrypts more plaintext only while less than this much
  // ciphertext waits to be sent (so plaintext water marks keep their
  // meaning, and the ciphertext queue stays under outgoing_limit plus one
  // record). Ignored by TlsSession itself.
  std::size_t outgoing_limit = kDefaultTlsOutgoingLimit;
};

// The lifecycle of a TLS session. See the diagram in the file comment.
enum class TlsState { kHandshaking, kEstablished, kShuttingDown, kClosed, kFailed };
std::string_view to_string(TlsState state);

// TlsRead: what one read() produced.
struct TlsRead {
  enum class Kind {
    kData,         // `size` plaintext bytes were written to the span
    kWantInput,    // nothing more until more ciphertext arrives
    kCloseNotify,  // the peer's close_notify: no more application data
    kFailed,       // the session failed (state() == kFailed, see error())
  };
  Kind kind = Kind::kWantInput;
  std::size_t size = 0;
};

class TlsSession {
 public:
  // create: a session for `options`, not started (call handshake()). Fails
  // with kInvalidArgument for a context that is empty or of the other role,
  // or a client that must check hostnames without a server_hostname; with
  // kTlsError if OpenSSL refuses (e.g. a server_hostname it cannot use).
  static Result<std::unique_ptr<TlsSession>> create(const TlsOptions& options);
  // failed: a session that is kFailed from the start with `error` (for a
  // connection whose TLS setup failed; it has no OpenSSL object).
  static std::unique_ptr<TlsSession> failed(StreamError error);

  ~TlsSession();
  // Not movable: OpenSSL's BIO points at the session.
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  TlsState state() const { return state_; }
  TlsRole role() const { return role_; }

  // ---- Ciphertext in. ---------------------------------------------------------

  // prepare_input / commit_input: receive in place (as ByteBuffer's
  // prepare/commit); the span is valid until the next call on the session.
  std::span<char> prepare_input(std::size_t n) { return input_.prepare(n); }
  void commit_input(std::size_t k) { input_.commit(k); }
  // append_input: copy `bytes` in.
  void append_input(std::string_view bytes) { input_.append(bytes); }
  // input_size: ciphertext received and not yet taken by OpenSSL (which
  // itself holds at most one partial record).
  std::size_t input_size() const { return input_.size(); }
  // clear_input: drop the ciphertext not yet processed (after a failure, a
  // close, or the peer's close_notify: whatever follows is not read).
  void clear_input() { input_.clear(); }
  // input_eof: the transport's EOF (no more ciphertext). While handshaking
  // the session fails with kConnectionError{connection_reset}; while
  // shutting down the shutdown is complete (kClosed). Idempotent.
  void input_eof();
  bool input_ended() const { return input_ended_; }

  // ---- The engine. --------------------------------------------------------------

  // handshake: kHandshaking only. Runs the handshake as far as the input
  // allows; returns the new state (kHandshaking: needs more input,
  // kEstablished, kFailed).
  TlsState handshake();
  // read: after the handshake. Decrypts up to out.size() bytes of
  // application data into `out` (OpenSSL keeps the rest of a record for the
  // next call). Loop until it returns something else than kData to take
  // everything received. Once the peer's close_notify came it keeps
  // returning kCloseNotify; kFailed in kFailed.
  TlsRead read(std::span<char> out);
  // has_pending_plaintext: read() may produce data without more input
  // (input is buffered, or OpenSSL holds decrypted bytes).
  bool has_pending_plaintext() const;
  // write: kEstablished, before shutdown(). Encrypts all of `plaintext`
  // (one record per kTlsMaxRecordPlaintext bytes) into the output. Returns
  // plaintext.size(), or 0 if the session failed doing it.
  std::size_t write(std::string_view plaintext);
  // shutdown: kEstablished only. Queues our close_notify; the state becomes
  // kClosed if the peer's close_notify or input EOF came already, else
  // kShuttingDown; kFailed if OpenSSL refuses.
  TlsState shutdown();

  // ---- Ciphertext out. ----------------------------------------------------------

  // peek_output: views of the next ciphertext to send (at most out.size());
  // returns how many were filled. See "Buffers" for their lifetime.
  std::size_t peek_output(std::span<std::string_view> out) const { return output_.peek(out); }
  // consume_output: the first n bytes were sent. Precondition: n <= output_size().
  void consume_output(std::size_t n) { output_.consume(n); }
  std::size_t output_size() const { return output_.size(); }
  // clear_output: drop unsent ciphertext (the connection is gone).
  std::size_t clear_output() { return output_.clear(); }

  // ---- Results. -------------------------------------------------------------------

  // error: why the session failed (set exactly in kFailed).
  const std::optional<StreamError>& error() const { return error_; }
  // close_notify_received: the peer sent close_notify.
  bool close_notify_received() const { return close_notify_received_; }

  // ---- Peer information (after the handshake; empty before or when absent),
  // the equivalents of Python's SSLObject methods for get_extra_info(). ----

  // protocol_version: "TLSv1.2", "TLSv1.3" (SSLObject.version()).
  std::string_view protocol_version() const;
  // cipher: the negotiated cipher suite's OpenSSL name, e.g.
  // "TLS_AES_256_GCM_SHA384" (SSLObject.cipher()[0]).
  std::string_view cipher() const;
  // alpn_protocol: the negotiated ALPN protocol, "" if none
  // (SSLObject.selected_alpn_protocol()).
  std::string_view alpn_protocol() const;
  // peer_certificate_der: the peer's certificate, DER-encoded
  // (SSLObject.getpeercert(binary_form=True)); "" if it sent none.
  std::string peer_certificate_der() const;
  // peer_certificate_subject: its subject as RFC 2253 text, e.g.
  // "CN=localhost"; "" if none.
  std::string peer_certificate_subject() const;
  // server_name: a client's server_hostname; on a server the SNI name the
  // client sent ("" if none).
  std::string_view server_name() const;
  // native_handle: the SSL object, for anything else (null for a session
  // made by failed()). Do not do I/O on it.
  SSL* native_handle() const { return ssl_; }

  // ---- Introspection. ---------------------------------------------------------------

  // Heap bytes held by the two ciphertext buffers (0 when idle).
  std::size_t buffer_capacity() const { return input_.capacity() + output_.block_bytes(); }
  // Totals: ciphertext received and produced, plaintext decrypted and
  // encrypted.
  std::uint64_t ciphertext_in() const { return ciphertext_in_; }
  std::uint64_t ciphertext_out() const { return ciphertext_out_; }
  std::uint64_t plaintext_in() const { return plaintext_in_; }
  std::uint64_t plaintext_out() const { return plaintext_out_; }
  // Asserts every internal invariant (no-op in NDEBUG builds).
  void check_invariants() const;

 private:
  friend struct TlsBio;
  TlsSession() = default;

  void transition(TlsState to);
  // Fails with OpenSSL's reason for the call that returned `ret`.
  void fail_from_openssl(const char* detail, int ret);
  void fail(StreamError error);

  TlsContext context_;  // keeps the SSL_CTX's settings (ALPN) alive
  TlsRole role_ = TlsRole::kClient;
  std::string server_hostname_;
  SSL* ssl_ = nullptr;
  TlsState state_ = TlsState::kHandshaking;
  // Invariant: set exactly in kFailed.
  std::optional<StreamError> error_;
  ByteBuffer input_;
  OutputQueue output_;
  bool input_ended_ = false;
  bool close_notify_received_ = false;
  std::uint64_t ciphertext_in_ = 0;
  std::uint64_t ciphertext_out_ = 0;
  std::uint64_t plaintext_in_ = 0;
  std::uint64_t plaintext_out_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_CORE_TLS_TLS_SESSION_H_
