// File: backends/libevent/stream_reader.h
//
// StreamReader: the read half of a connection on a libevent event_base,
// asyncio's StreamReader. Every read comes in two forms:
//
//   - a sluice coroutine awaitable (core/coro/async_connection.h), for code
//     running as a sluice Task:
//       std::string line = co_await reader.readline();
//       ReadResult r = co_await reader.readexactly(4).as_result();  // no throw
//       while (auto line = co_await reader.next_line()) {...}       // async for
//   - a callback, invoked with the ReadResult:
//       reader.readline([](ReadResult r) { if (r.ok()) use(*r); });
//
// Results, errors and their order of checks are asyncio's exactly (the
// sans-IO core, core/stream_reader.h, decides them). The throwing awaitables
// raise the exceptions of core/coro/stream_exceptions.h (IncompleteReadError
// with partial() and expected(), LimitOverrunError with consumed(),
// ConnectionError whose code() is the errno, e.g. std::errc::
// connection_reset); as_result() and callbacks get the StreamError with the
// same fields instead. Connection errors are sticky: every later read fails
// with it, even with bytes buffered (asyncio's rule).
//
// Over TLS (StreamOptions::ssl, StreamWriter::start_tls) the reads see
// plaintext and behave the same; a TLS failure (the handshake refused, a
// corrupt record, the peer's alert) fails the pending read and every later
// one with kTlsError (sluice::TlsError, whose reason() is OpenSSL's), and the
// peer's close_notify is EOF. A read made before the handshake finished
// waits for it.
//
// One read at a time may wait (asyncio's rule): a second read that would have
// to wait fails with kConcurrentRead, whichever form started either.
//
// When things run: a read starts inside the call (co_await, or the callback
// form's call), so reads are ordered as they were issued. A coroutine that
// must wait is resumed from the event loop in a later turn, never inside the
// backend's socket callbacks. A callback is never invoked inside the call that
// started it: one whose read completes at once is invoked in the next loop
// turn. An awaitable must be co_awaited at once; readuntil's separators must
// stay alive until then (the callback forms copy them). GCC 12 cannot compile
// a braced list inside co_await; name the array (see async_connection.h).
//
// Flow control: the backend stops reading from the socket while more than
// 2*limit bytes are buffered and resumes when a read brings it down to limit
// (or starts waiting): a slow consumer makes the peer's drain() block, and
// never buffers more than 2*limit plus one receive chunk (64 KiB).
//
// Ownership: a StreamReader is a cheap, copyable handle. The reader and the
// writer of one connection share it; when the last handle of both (including
// those held by pending callback operations) is destroyed, the connection is
// closed if it was not already (flush, then FIN: asyncio's
// StreamWriter.__del__). A coroutine waiting on a read must keep a handle
// alive. A default-constructed StreamReader has no connection; calling
// anything but operator bool on it is a precondition violation.
//
// Threading: the event_base's thread only (the loop's); not thread-safe.

#ifndef SLUICE_BACKENDS_LIBEVENT_STREAM_READER_H_
#define SLUICE_BACKENDS_LIBEVENT_STREAM_READER_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "backends/libevent/callback.h"
#include "backends/libevent/internal/stream_state.h"
#include "core/coro/async_connection.h"
#include "core/stream_reader.h"

struct event_base;

namespace sluice::libevent_backend {

struct HandleAccess;

class StreamReader {
 public:
  // ReadCallback: receives the read's result (bytes, or the StreamError).
  using ReadCallback = Callback<void(ReadResult)>;

  StreamReader() = default;

  // operator bool: this handle refers to a connection.
  explicit operator bool() const { return owner_ != nullptr; }
  // base: the event_base the connection runs on.
  event_base* base() const { return state().base(); }
  std::size_t limit() const { return core().limit(); }

  // ---- Coroutine forms (co_await; .as_result() for the non-throwing form).

  // read: up to n bytes, as soon as at least one is buffered ("" at EOF);
  // n < 0 reads to EOF; n == 0 gives "" at once.
  ReadOp read(std::int64_t n = -1) { return async().read(n); }
  // readline: one line including its "\n"; at EOF the partial line ("" when
  // nothing is left). kLimitOverrun past the limit (the line is discarded as
  // asyncio does).
  ReadOp readline() { return async().readline(); }
  // readexactly: exactly n bytes, or kIncompleteRead at EOF with the partial
  // bytes (expected == n).
  ReadOp readexactly(std::int64_t n) { return async().readexactly(n); }
  // readuntil: the bytes up to and including `separator`. kIncompleteRead at
  // EOF (partial = what was buffered), kLimitOverrun past the limit (the data
  // stays buffered; consumed is asyncio's).
  ReadOp readuntil(std::string_view separator = "\n") { return async().readuntil(separator); }
  // readuntil with several separators (CPython 3.13's tuple form): the
  // shortest chunk ending with any of them.
  ReadOp readuntil(std::span<const std::string_view> separators) {
    return async().readuntil(separators);
  }
  ReadOp readuntil(std::initializer_list<std::string_view> separators) {
    return async().readuntil(separators);
  }
  // next_line: `async for line in reader`: the next line, or nullopt at EOF.
  NextLineOp next_line() { return async().next_line(); }

  // ---- Callback forms (the same reads; `cb` gets the ReadResult).

  void read(std::int64_t n, ReadCallback cb);
  void readline(ReadCallback cb);
  void readexactly(std::int64_t n, ReadCallback cb);
  // The separators are copied.
  void readuntil(std::string_view separator, ReadCallback cb);
  void readuntil(std::span<const std::string_view> separators, ReadCallback cb);

  // ---- State.

  // at_eof: the peer's EOF was received and nothing is left buffered.
  bool at_eof() const { return core().at_eof(); }
  // exception: the held connection error, if any (asyncio's exception()).
  const std::optional<StreamError>& exception() const { return core().exception(); }
  // buffered_size: bytes received and not yet read. buffer_capacity: heap
  // bytes the receive buffer holds (0 when nothing is buffered).
  std::size_t buffered_size() const { return core().buffered_size(); }
  std::size_t buffer_capacity() const { return core().buffer_capacity(); }
  // is_reading: the backend is watching the socket for reads now (asyncio's
  // transport.is_reading()): false while paused by flow control, after EOF,
  // once closing.
  bool is_reading() const { return state().reading(); }
  // core: the sans-IO reader, for introspection.
  const sluice::StreamReader& core() const { return state().connection().reader(); }

 private:
  friend struct HandleAccess;

  explicit StreamReader(std::shared_ptr<libevent_backend_internal::StreamOwner> owner)
      : owner_(std::move(owner)) {}

  libevent_backend_internal::StreamState& state() const { return *owner_->state; }
  AsyncReader& async() const { return owner_->state->async().reader(); }

  std::shared_ptr<libevent_backend_internal::StreamOwner> owner_;
};

}  // namespace sluice::libevent_backend

#endif  // SLUICE_BACKENDS_LIBEVENT_STREAM_READER_H_
