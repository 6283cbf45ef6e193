// File: core/connection.h
//
// Connection: one byte-stream connection (TCP, UNIX socket, pipe pair, TLS
// plaintext...) as sluice sees it: a StreamReader and a StreamWriter bound
// together the way asyncio's StreamReaderProtocol binds them. It is also the
// whole contract between sluice and an event loop: to run sluice on a loop we
// have never seen, write a *driver* that moves bytes between one socket and
// one Connection by the rules below. Nothing else is needed. No I/O, no
// threads, no clocks, no exceptions, no callbacks.
//
// Roles. The *user* (application code, or the coroutine layer on its behalf)
// calls reader() and writer(): read*, write*, drain, close, abort,
// wait_closed. The *driver* (event-loop glue) calls everything else. Both run
// on one thread; no call is ever made from inside another.
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
//                      after EOF, once closing, and after the loss.
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
//     selector transport removes its reader.
//
// Driver bugs (asserted in debug builds, ignored in release): data or EOF
// after connection_lost(), data after eof_received(), a second
// connection_lost(), bytes_sent() beyond what was offered.
//
// Threading: none. A Connection is used from one thread at a time.

#ifndef SLUICE_CORE_CONNECTION_H_
#define SLUICE_CORE_CONNECTION_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

#include "core/result.h"
#include "core/stream_reader.h"
#include "core/stream_writer.h"

namespace sluice {

struct ConnectionOptions {
  // The reader's limit (asyncio's `limit`; pause threshold is 2*limit).
  std::size_t limit = kDefaultLimit;
  // False for transports without a half-close (TLS): write_eof() fails.
  bool can_write_eof = true;
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

  bool empty() const { return !read && !drain && !closed; }
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

  // ---- Driver calls in (section 1). -------------------------------------------

  // data_received: `data` arrived from the peer (copied).
  Completions data_received(std::string_view data);
  // prepare_receive: writable space of at least n bytes in the reader's
  // buffer, valid until the next call on this connection; commit_received(k)
  // then feeds its first k bytes (k == 0 releases it).
  std::span<char> prepare_receive(std::size_t n) { return reader_.prepare(n); }
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
  WriteAction write_action() const { return writer_.action(); }
  std::size_t next_send(std::span<std::string_view> out) const { return writer_.peek(out); }
  // is_lost: connection_lost() was called.
  bool is_lost() const { return lost_; }

  // Asserts every internal invariant (no-op in NDEBUG builds).
  void check_invariants() const;

 private:
  StreamReader reader_;
  StreamWriter writer_;
  bool lost_ = false;
};

}  // namespace sluice

#endif  // SLUICE_CORE_CONNECTION_H_
