// File: core/connection.h
//
// Connection: one byte-stream connection (TCP, UNIX socket, pipe pair; plain
// or TLS) as sluice sees it: a StreamReader and a StreamWriter bound
// together the way asyncio's StreamReaderProtocol binds them. It is also the
// whole contract between sluice and an event loop: to run sluice on a loop we
// have never seen, write a *driver* that moves bytes between one socket and
// one Connection by the rules below. Nothing else is needed. No I/O, no
// threads, no clocks, no exceptions, no callbacks.
//
// Roles. The *user* (application code, or the coroutine layer on its behalf)
// calls reader() and writer(): read*, write*, drain, close, abort,
// wait_closed; and handshake() and start_tls() for TLS (section 4). The
// *driver* (event-loop glue) calls everything else. Both run on one thread;
// no call is ever made from inside another.
//
// 1. The driver calls in when something happened:
//      data_received(bytes)          bytes arrived (copied into the reader), or
//      prepare_receive(n) then       zero-copy: recv() straight into the
//        commit_received(k)          reader's buffer, then commit k <= n bytes
//      eof_received()                the peer shut down its write side
//      bytes_sent(n)                 the first n bytes of next_send() left
//      write_eof_sent()              you shut down the write side as asked
//      connection_lost(error)        the socket is closed; error empty = clean
//                                    (closed as asked), else the cause
//    Event order, as asyncio's transports guarantee: data*, eof?, lost, and
//    nothing after connection_lost(). "Writable again" needs no call: it only
//    means the driver may send what next_send() offers.
//
// 2. The driver asks, after every call in and whenever user code has run:
//      want_read()     read from the socket now? False while the reader is
//                      paused (more than 2*limit buffered: backpressure),
//                      after EOF, once closing (TLS: once closed, see
//                      section 4), and after the loss.
//      write_action()  kSend: send next_send()'s views, report bytes_sent();
//                      kShutdownWrite: everything is sent, half-close (FIN),
//                        report write_eof_sent();
//                      kClose: everything is sent, close the socket, report
//                        connection_lost();
//                      kAbort: close at once, unsent bytes dropped (RST),
//                        report connection_lost();
//                      kNone: nothing to do.
//      next_send(out)  the next bytes as up to out.size() views (gather
//                      write). A view stays valid until bytes_sent() covers
//                      it or the connection is lost; later writes never move
//                      it, so an asynchronous send may stay in flight.
//                      Not const: over TLS this is where plaintext is
//                      encrypted (lazily, when the driver asks what to
//                      send). Call it only when write_action() is kSend;
//                      it then offers at least one byte, except in the one
//                      case where encrypting just failed: it returns 0
//                      views - report bytes_sent(0) and re-ask.
//    A readiness loop (epoll, libevent) maps want_read() to read interest and
//    kSend to write interest; a completion loop (Asio, io_uring) keeps at
//    most one receive and one send in flight. The user side changes these
//    answers (a write, a read that resumes reading, close), so re-ask after
//    running user code; the coroutine layer tells you when (Executor::wake).
//
// 3. Completions: every call in that can complete a user operation returns
//    them, once, in a Completions value ([[nodiscard]]: ignoring it does not
//    compile under -Werror). Hand it to whoever keeps the waiting operations:
//    the coroutine layer (AsyncConnection::dispatch resumes the coroutines
//    through your executor, never inside your call), or your own callbacks or
//    futures. Completions holds at most: the pending read's result (there is
//    at most one pending read), a Status for every pending drain, and a
//    Status for every pending wait_closed. The Connection has finished
//    changing state when it returns, so whoever receives them may call back
//    in at once. Nothing is completed anywhere else: a user call either
//    completes at once (its return value) or later through a Completions.
//    Over TLS, Completions also carries the handshake's result (once per
//    handshake, whether or not anybody asked), and work done in next_send()
//    (encrypting plaintext may release drains) or start_tls() is returned
//    by the next call that returns Completions - in practice the
//    bytes_sent() or connection_lost() that follows (while such completions
//    wait, write_action() asks for a send or a close).
//
// 4. TLS. With ConnectionOptions::tls set (or after start_tls()) the driver
//    keeps making exactly the same calls; they now carry ciphertext, and a
//    TlsSession (core/tls/tls_session.h) sits between them and the
//    reader/writer, which still see plaintext. asyncio's SSLProtocol rules,
//    spec section 8:
//      - the reader's limit and pausing apply to plaintext; want_read() is
//        false while the reader is paused, so no more ciphertext comes in.
//        What was received is decrypted at once, whole (so no ciphertext
//        ever waits for a reader that resumes - a resume needs no call - and
//        the reader overshoots 2*limit by at most one receive, exactly as
//        with plain bytes; asyncio instead keeps undecrypted bytes in its
//        incoming BIO and re-runs on resume_reading).
//      - the writer's water marks apply to plaintext; next_send() encrypts
//        only while less than TlsOptions::outgoing_limit of ciphertext
//        waits, so the ciphertext queue stays below that plus one record.
//      - can_write_eof() is false and write_eof() fails with kNotSupported.
//      - handshake(): the handshake's result (user side, like drain: Ok at
//        once, an error at once, or pending until Completions::handshake).
//        Failures are kTlsError with OpenSSL's reason (bad certificate,
//        hostname mismatch, a peer not speaking TLS); EOF or loss during
//        the handshake is kConnectionError{connection_reset} (asyncio's
//        ConnectionResetError). A failure - in the handshake or later
//        (corrupt record, alert) - fails the pending read and every later
//        one with that error, drops unsent plaintext, lets the driver send
//        OpenSSL's alert and asks it to close (kClose); drains and
//        wait_closed then fail with it too.
//      - close() (also during the handshake, which then finishes first)
//        encrypts what is queued, sends close_notify, then - like asyncio's
//        SSLProtocol, and so that closing never resets a peer still
//        sending - keeps reading until the peer's close_notify or EOF
//        (application data arriving meanwhile is dropped, as asyncio's
//        SHUTDOWN state does), then asks the driver to close. A peer that
//        never answers keeps it there: that is what the backend's shutdown
//        timeout is for. abort() gives up at once (kAbort), handshake
//        included.
//      - the peer's close_notify is EOF for the reader, and the connection
//        closes itself (asyncio's SSLProtocol: is_closing() turns true,
//        queued plaintext is still sent, later writes are dropped, our
//        close_notify answers). TCP EOF after the handshake without
//        close_notify is the same (asyncio reports EOF, not an error).
//      - start_tls() upgrades a plain connection in place (STARTTLS): bytes
//        the reader already buffered are handed to TLS as ciphertext
//        (cpython gh-142352), or dropped, or refused (kTlsError, still
//        plain): StartTlsBuffered. Plaintext already queued for sending goes
//        out first, in clear.
//    Time stays out: handshake_in_progress() and shutdown_in_progress() say
//    when a backend should run its handshake (asyncio: 60 s) and shutdown
//    (30 s) timers; on expiry it aborts the socket and reports
//    connection_lost(std::errc::timed_out).
//
// A minimal driver (blocking style, for illustration; see
// core/testing/memory_pipe.cc for a complete one):
//
//   Connection conn;
//   std::array<std::string_view, 16> iov;
//   for (;;) {
//     switch (conn.write_action()) {
//       case WriteAction::kSend: {
//         std::size_t n = send_gather(fd, iov.data(), conn.next_send(iov));
//         deliver(conn.bytes_sent(n));
//         continue;
//       }
//       case WriteAction::kShutdownWrite: shutdown(fd, SHUT_WR); conn.write_eof_sent(); continue;
//       case WriteAction::kClose: ::close(fd); deliver(conn.connection_lost()); return;
//       case WriteAction::kAbort: reset_and_close(fd); deliver(conn.connection_lost()); return;
//       case WriteAction::kNone: break;
//     }
//     if (!conn.want_read()) break;                 // wait for the user
//     std::span<char> space = conn.prepare_receive(64 * 1024);
//     ssize_t k = ::recv(fd, space.data(), space.size(), 0);
//     if (k > 0) deliver(conn.commit_received(k));
//     else { (void)conn.commit_received(0);
//            deliver(k == 0 ? conn.eof_received()
//                           : conn.connection_lost({errno, std::system_category()})); }
//   }
//
// asyncio's StreamReaderProtocol rules kept:
//   - connection_lost(error): the reader gets feed_eof() when clean, else
//     set_exception(error) (so reads fail with kConnectionError{error} even
//     with bytes buffered); the writer fails drains and wait_closed with the
//     same error (see core/stream_writer.h for the clean case).
//   - eof_received() keeps the connection open (asyncio returns True for
//     plain transports): the user may still write, and must close() when
//     done. When both directions are finished nothing closes by itself,
//     exactly like asyncio.
//   - close() and abort() stop reading (want_read() turns false), as the
//     selector transport removes its reader (over TLS, close() reads on
//     until the peer's close_notify: section 4).
//
// Driver bugs (asserted in debug builds, ignored in release): data or EOF
// after connection_lost(), data after eof_received(), a second
// connection_lost(), bytes_sent() beyond what was offered.
//
// Threading: none. A Connection is used from one thread at a time.

#ifndef SLUICE_CORE_CONNECTION_H_
#define SLUICE_CORE_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

#include "core/buffer_pool.h"
#include "core/result.h"
#include "core/stream_reader.h"
#include "core/stream_writer.h"
#include "core/tls/tls_session.h"

namespace sluice {

struct ConnectionOptions {
  // The reader's limit (asyncio's `limit`; pause threshold is 2*limit).
  std::size_t limit = kDefaultLimit;
  // False for transports without a half-close: write_eof() fails. Forced
  // false with TLS.
  bool can_write_eof = true;
  // TLS from the first byte (asyncio's ssl=): the driver's bytes are
  // ciphertext, the reader and writer see plaintext. A client starts its
  // handshake at once (the ClientHello is the first thing to send). If the
  // session cannot be set up (see TlsSession::create) the connection starts
  // failed: handshake() holds the error and write_action() is kClose.
  std::optional<TlsOptions> tls = std::nullopt;
  // The event loop's block pool (core/buffer_pool.h), or null. The reader's
  // buffer and the writer's coalescing blocks then come from it and go back
  // to it when the connection idles (instead of malloc/free per request);
  // an idle connection still holds no heap memory. The pool must outlive
  // the connection. (Over TLS, the ciphertext buffers do not use it.)
  BufferPool* pool = nullptr;
};

// Completions: what one driver call completed. Empty members mean "nothing
// of that kind". See section 3 of the file comment.
struct [[nodiscard]] Completions {
  // The pending read's result.
  ReadPoll read;
  // Complete every pending drain with this.
  std::optional<Status> drain;
  // Complete every pending wait_closed with this.
  std::optional<Status> closed;
  // TLS: the handshake finished with this (Ok, or why it failed). Set once
  // per handshake; complete every pending handshake() wait, and
  // open_connection / start_tls in a backend.
  std::optional<Status> handshake;

  bool empty() const { return !read && !drain && !closed && !handshake; }
};

// StartTlsBuffered: what start_tls() does with bytes the reader received
// before it and nobody read (peers.md item 6: the STARTTLS policy).
enum class StartTlsBuffered {
  // Hand them to TLS as the first ciphertext: a peer that pipelined its
  // ClientHello behind the STARTTLS command works (cpython gh-142352).
  kHandOver,
  // Drop them (counted in reader().bytes_discarded()): nothing a peer sent
  // in clear can be mistaken for protected data (cpython gh-118642).
  kDiscard,
  // Refuse: start_tls() fails with kTlsError and the connection stays plain
  // (the peer sent more than the protocol allows; the caller should abort).
  kRefuse,
};

class Connection {
 public:
  explicit Connection(ConnectionOptions options = {});

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // ---- User side. -----------------------------------------------------------

  StreamReader& reader() { return reader_; }
  const StreamReader& reader() const { return reader_; }
  StreamWriter& writer() { return writer_; }
  const StreamWriter& writer() const { return writer_; }

  // handshake: the TLS handshake's result: Ok at once for a plain connection
  // or once established; the error at once if it failed; pending (nullopt)
  // while it runs - Completions::handshake then brings the result.
  StatusPoll handshake() const;

  // start_tls: upgrade this plain connection to TLS in place (STARTTLS,
  // asyncio's StreamWriter.start_tls without its drain). Plaintext already
  // queued is sent first, in clear; bytes already received are treated as
  // `buffered` says; then everything is TLS and the handshake starts (a
  // client's ClientHello is queued at once). Fails, changing nothing, with
  // kInvalidArgument if the connection already uses TLS, is closing or
  // lost, saw EOF, called write_eof(), or has a read pending (it may be
  // waiting on those buffered bytes); with kTlsError under kRefuse when
  // bytes are buffered; or with TlsSession::create's error. The handshake's
  // outcome comes as for a TLS connection (handshake(), Completions).
  Status start_tls(TlsOptions options, StartTlsBuffered buffered = StartTlsBuffered::kHandOver);

  // tls: the TLS session (peer certificate, cipher, version, ALPN: see
  // core/tls/tls_session.h), or null for a plain connection.
  const TlsSession* tls() const { return tls_ ? tls_->session.get() : nullptr; }

  // ---- Driver calls in (section 1). -------------------------------------------

  // data_received: `data` arrived from the peer (copied).
  Completions data_received(std::string_view data);
  // prepare_receive: writable space of at least n bytes in the reader's
  // buffer (over TLS: the ciphertext buffer), valid until the next call on
  // this connection; commit_received(k) then feeds its first k bytes (k == 0
  // releases it).
  std::span<char> prepare_receive(std::size_t n) {
    return tls_ ? tls_->session->prepare_input(n) : reader_.prepare(n);
  }
  Completions commit_received(std::size_t k);
  // eof_received: the peer shut down its write side. Idempotent.
  Completions eof_received();
  // bytes_sent: the first n bytes offered by next_send() were sent.
  Completions bytes_sent(std::size_t n);
  // write_eof_sent: the write side was shut down as write_action() asked.
  void write_eof_sent() { writer_.eof_sent(); }
  // connection_lost: the connection is closed. `error` empty = clean.
  Completions connection_lost(std::error_code error = {});

  // ---- Driver asks (section 2). -------------------------------------------------

  bool want_read() const;
  WriteAction write_action() const;
  std::size_t next_send(std::span<std::string_view> out);
  // is_lost: connection_lost() was called (the writer knows: it is closed
  // exactly then).
  bool is_lost() const { return writer_.state() == WriterState::kClosed; }
  // handshake_in_progress: a TLS handshake runs (arm the handshake timeout).
  bool handshake_in_progress() const;
  // shutdown_in_progress: a TLS connection is closing (by close(), the
  // peer's close_notify or EOF, or a failure) and the driver has not been
  // asked to close yet: flushing, or waiting for the peer's close_notify
  // (arm the shutdown timeout).
  bool shutdown_in_progress() const;

  // tls_bytes_discarded: application data decrypted after close() began and
  // dropped (nobody reads it any more; see section 4).
  std::uint64_t tls_bytes_discarded() const { return tls_ ? tls_->bytes_discarded : 0; }

  // Asserts every internal invariant (no-op in NDEBUG builds).
  void check_invariants() const;

 private:
  // ---- TLS (connection.cc, "TLS"). ----
  // The session; precondition: tls_.
  TlsSession& session() const { return *tls_->session; }
  // Installs a session; runs the first handshake step. `raw_prefix`: the
  // plaintext queued before, still to be sent in clear.
  void begin_tls(std::unique_ptr<TlsSession> new_session, std::size_t outgoing_limit,
                 std::size_t raw_prefix);
  // Runs the session on the ciphertext received: handshake, decryption into
  // the reader, the wait for the peer's close_notify.
  void process_input();
  void decrypt_into_reader();
  void discard_application_data();
  // Encrypts queued plaintext (within the bound) and, once a closing
  // writer's queue is empty, queues close_notify.
  void produce_output();
  // The peer is done sending (close_notify or TCP EOF after the handshake):
  // EOF for the reader, and the connection closes itself.
  void on_peer_finished();
  // The session failed: the reader, the handshake and the writer learn it.
  void on_tls_failed();
  void finish_handshake(Status result);
  // Plaintext queued before start_tls(), still to be sent in clear.
  std::size_t raw_pending() const;
  // Adds what a writer or reader call released to the stash.
  void stash(WriterRelease release);
  void stash(ReadPoll read);
  Completions take_stash();

  // What only TLS needs, boxed so a plain Connection stays small (issue 8
  // counts bytes per idle connection).
  struct TlsParts {
    std::unique_ptr<TlsSession> session;
    std::size_t outgoing_limit = kDefaultTlsOutgoingLimit;
    // Bytes at the front of the writer's queue that were queued before
    // start_tls(): sent as they are, before any TLS byte.
    std::size_t raw_prefix = 0;
    // Application data decrypted after close() and dropped.
    std::uint64_t bytes_discarded = 0;
    // The current handshake's result once known.
    std::optional<Status> handshake_result;
    // Completions produced outside a call that returns them (next_send,
    // start_tls, the constructor), returned by the next one that does.
    Completions stash;
  };

  StreamReader reader_;
  StreamWriter writer_;
  // TLS: the session and its state (null: plain). Made by begin_tls().
  std::unique_ptr<TlsParts> tls_;
};

}  // namespace sluice

#endif  // SLUICE_CORE_CONNECTION_H_
