// File: core/stream_reader.h
//
// StreamReader: asyncio's StreamReader as a sans-IO state machine. It buffers
// the bytes a driver feeds in and answers read(n), readline(), readexactly(n)
// and readuntil(separator or separators) with asyncio's exact results and
// errors (CPython 3.13 Lib/asyncio/streams.py; the contract is spelled out in
// shared/reference/asyncio-streams-spec.md section 1). No I/O, no threads, no
// clocks, no exceptions, no callbacks.
//
// The seam (one rule): every call that can complete a read returns it.
//
//   A read either completes at once (the returned ReadPoll holds its
//   ReadResult) or becomes *the pending read* (an empty ReadPoll). There is at
//   most one pending read. Whatever later completes it - feed_data, commit,
//   feed_eof or set_exception - returns its ReadResult, once, to the driver,
//   which hands it to whoever issued the read (a callback, a coroutine, a
//   future). The reader has already finished changing its state when it
//   returns, so the driver may call back into it (including a new read) at
//   once. The reader never calls out.
//
// Example (a driver's read loop and a user's readline):
//
//   StreamReader reader;                       // limit 64 KiB
//   if (ReadPoll r = reader.readline()) use(*r);  // completed at once
//   ...                                        // else: pending
//   std::span<char> space = reader.prepare(65536);
//   ssize_t n = ::recv(fd, space.data(), space.size(), 0);
//   if (n > 0) { if (ReadPoll r = reader.commit(n)) deliver(std::move(*r)); }
//   if (n == 0) { if (ReadPoll r = reader.feed_eof()) deliver(std::move(*r)); }
//   if (reader.reading_paused()) stop_reading_from(fd);
//
// Rules kept from asyncio, exactly:
//   - Order of checks: bad argument, then a held connection error (which wins
//     over buffered data, for every read including read(0)), then the read.
//   - read(n): n < 0 reads to EOF (collected in limit-sized steps, so flow
//     control keeps working); n == 0 returns "" at once; n > 0 returns up to n
//     bytes as soon as one is buffered ("" at EOF). Not bounded by the limit.
//   - readexactly(n): n < 0 is kInvalidArgument; EOF first gives
//     kIncompleteRead{partial = everything buffered, expected = n} and empties
//     the buffer.
//   - readuntil: the shortest chunk ending with any separator (earliest end;
//     on a tie the shortest separator). The separator is included. If the
//     chunk before the separator is longer than the limit: kLimitOverrun
//     (kSeparatorFound, consumed = where that separator starts). If no
//     separator is found and the unscanned offset passes the limit:
//     kLimitOverrun (kSeparatorNotFound, consumed = asyncio's offset, which
//     depends on how the bytes arrived). Both leave the buffer untouched. At
//     EOF: kIncompleteRead{partial = whole buffer, expected = nullopt}, buffer
//     emptied. A found separator beats EOF; the limit check beats EOF.
//   - readline: readuntil("\n"); at EOF returns the partial line instead of an
//     error; on kLimitOverrun discards the over-long line through its newline
//     (found) or the whole buffer (not found), then reports the error.
//   - A read that must wait while another read is pending fails with
//     kConcurrentRead; one that can complete at once completes.
//   - Flow control: a feed that makes more than 2*limit bytes buffered
//     pauses reading - checked before the pending read runs, as asyncio does
//     before the woken reader resumes, so a feed that completes a read may
//     stay paused if more than limit remains. Reading down to limit or fewer
//     resumes, and so does any read that starts waiting (so
//     readexactly(n > 2*limit) cannot deadlock). A limit overrun from
//     readuntil does not resume.
//   - Two asyncio quirks are kept because they show in results: a pending
//     readuntil keeps its numeric scan offset when a second, immediate read
//     consumes under it (so it can skip a separator); and a read(-1) that
//     must wait while another read waits has already taken the buffered
//     bytes, which are lost with its kConcurrentRead.
//   - set_exception makes every later read fail with it, even with bytes
//     buffered; at_eof() is feed_eof()-seen and nothing buffered.
//
// Deliberate differences from asyncio (safer, never visible in results):
//   - cancel_pending_read() of a read(-1) puts the bytes it had collected back
//     in the buffer; asyncio loses them.
//   - feed_data after feed_eof is a driver bug: it is asserted in debug builds
//     and the bytes are dropped (counted in bytes_discarded()).
//
// Cost and memory:
//   - Scanning is incremental: bytes already scanned for the pending
//     separator(s) are not scanned again when more arrive; feeding a long line
//     one byte at a time is O(n) in total, a small constant per byte (a feed
//     that leaves a readuntil waiting builds no result; see SeparatorSearch).
//   - One contiguous buffer; consuming does not move the remaining bytes
//     (they move only when appending needs room, amortised O(1) per byte).
//   - A reader with nothing buffered holds no heap buffer (after a
//     readline_view() that emptied it: from the next call on). With a
//     BufferPool, the buffer is the pool's block and goes back to the pool
//     instead of being freed.
//   - Results are std::string copies of the consumed bytes (one copy); the
//     driver can fill the buffer in place with prepare()/commit().
//   - The object is small (issue 8 counts bytes per idle connection): what
//     only rare states need is boxed - the held error (allocated when set),
//     read(-1)'s collected bytes, the tables of several or longer separators
//     (made on first need, then kept for reuse). readline()'s scanner and
//     an idle reader need no heap at all.
//
// Threading: none. A StreamReader is used from one thread at a time.

#ifndef SLUICE_CORE_STREAM_READER_H_
#define SLUICE_CORE_STREAM_READER_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "core/buffer_pool.h"
#include "core/byte_buffer.h"
#include "core/result.h"
#include "core/separator_search.h"
#include "core/stream_error.h"

namespace sluice {

// asyncio's _DEFAULT_LIMIT: 64 KiB.
inline constexpr std::size_t kDefaultLimit = 64 * 1024;

// The outcome of a read: its bytes, or a StreamError.
using ReadResult = Result<std::string>;
// A read that completed (holds its ReadResult) or is pending (empty).
using ReadPoll = std::optional<ReadResult>;

class StreamReader {
 public:
  // A reader with the given limit. Precondition: limit > 0 (use create() to
  // validate untrusted values). With a `pool`, the buffer's storage is one
  // of the pool's blocks whenever it fits in one (see core/buffer_pool.h);
  // the pool must outlive the reader.
  explicit StreamReader(std::size_t limit = kDefaultLimit, BufferPool* pool = nullptr);
  // kInvalidArgument ("Limit cannot be <= 0") if limit <= 0.
  static Result<StreamReader> create(std::int64_t limit);

  StreamReader(StreamReader&&) noexcept = default;
  StreamReader& operator=(StreamReader&&) noexcept = default;
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  std::size_t limit() const { return limit_; }

  // ---- Driver side: what arrived from the peer. --------------------------

  // feed_data: bytes arrived (copied into the buffer). Empty data does
  // nothing (and completes nothing). Returns the pending read if this
  // completed it.
  [[nodiscard]] ReadPoll feed_data(std::string_view data);

  // prepare/commit: fill the buffer in place (zero-copy receive). prepare(n)
  // returns writable space of at least n bytes at the end of the buffer,
  // valid until the next call on this reader; commit(k) then feeds the first
  // k (<= the size prepared) of them, exactly like feed_data. commit(0)
  // releases an unused reservation.
  std::span<char> prepare(std::size_t n);
  [[nodiscard]] ReadPoll commit(std::size_t n);

  // feed_eof: the peer shut down its write side. Idempotent.
  [[nodiscard]] ReadPoll feed_eof();

  // set_exception: the connection failed. Sticky: the pending read and every
  // later read fail with kConnectionError{cause}. Buffered bytes are kept but
  // can no longer be read (asyncio's rule). A later call replaces the cause.
  [[nodiscard]] ReadPoll set_exception(std::error_code cause);
  // set_exception: the same for a failure that is not a connection error
  // (a TLS failure: kTlsError): the pending read and every later read fail
  // with `error` itself.
  [[nodiscard]] ReadPoll set_exception(StreamError error);

  // exception: the held connection error, if any (asyncio's exception()).
  // The reference is valid for the reader's life, but one taken while no
  // error is held stays empty: read exception() again after a call that may
  // set one (the error is boxed: a healthy reader keeps one pointer for it).
  const std::optional<StreamError>& exception() const { return exception_.as_optional(); }

  // reading_paused: true while the driver should not read from its socket
  // (more than 2*limit was buffered and no read has since drained it to limit
  // or started waiting). Check it after every call on the reader.
  bool reading_paused() const { return paused_; }

  // ---- User side: asyncio's read API. -------------------------------------

  [[nodiscard]] ReadPoll read(std::int64_t n = -1);
  [[nodiscard]] ReadPoll readline();
  [[nodiscard]] ReadPoll readexactly(std::int64_t n);
  [[nodiscard]] ReadPoll readuntil(std::string_view separator = "\n");
  // The tuple form (CPython 3.13): several separators. Empty list or an empty
  // separator is kInvalidArgument. The separators are copied.
  [[nodiscard]] ReadPoll readuntil(std::span<const std::string_view> separators);
  [[nodiscard]] ReadPoll readuntil(std::initializer_list<std::string_view> separators) {
    return readuntil(std::span<const std::string_view>(separators.begin(), separators.size()));
  }

  // readline_view: readline() without the copy, for code that parses lines
  // in place from what is already buffered. It never waits:
  //   - a line is buffered: returns it as a view into the buffer, consumed,
  //     valid until the next non-const call on this reader (until then the
  //     buffer keeps its memory even if it is now empty);
  //   - it would have to wait: returns nullopt and changes nothing (feed
  //     more, call again; bytes already searched are not searched again);
  //   - otherwise exactly readline()'s result: the partial line at EOF ("" at
  //     EOF with nothing buffered), the limit errors with readline()'s
  //     discards, a held connection error.
  // kConcurrentRead while a read is pending (views and waiting reads do not
  // mix).
  [[nodiscard]] std::optional<Result<std::string_view>> readline_view();

  // at_eof: feed_eof() was called and nothing is buffered.
  bool at_eof() const { return eof_ && buffer_.empty(); }

  // has_pending_read: a read is waiting for input.
  bool has_pending_read() const { return op_.kind != OpKind::kNone; }

  // cancel_pending_read: forget the pending read (its issuer was cancelled).
  // No byte is lost: everything it had not returned stays readable.
  void cancel_pending_read();

  // take_buffered / discard_buffered: empty the buffer, for a connection
  // that switches protocol under the reader (Connection::start_tls, which
  // hands buffered bytes to TLS as ciphertext, or drops them). take_buffered
  // returns the bytes (counted as handed out); discard_buffered counts them
  // in bytes_discarded() and returns how many. Precondition: no read is
  // pending (a pending read may hold state about those bytes). Resumes
  // reading if it was paused.
  std::string take_buffered();
  std::size_t discard_buffered();

  // ---- Introspection (tests, fuzzers, backends). -------------------------

  // The bytes buffered and not yet read. Valid until the next non-const call.
  std::string_view buffered() const { return buffer_.view(); }
  std::size_t buffered_size() const { return buffer_.size(); }
  bool eof_received() const { return eof_; }
  // Heap bytes held by the buffer (0 when idle).
  std::size_t buffer_capacity() const { return buffer_.capacity(); }
  // Totals since construction: bytes fed, and bytes dropped without being
  // handed out (readline overruns, read(-1) collected before an error, data
  // fed after EOF). fed == handed out + buffered_size() + discarded +
  // bytes_held_by_pending_read().
  std::size_t bytes_held_by_pending_read() const {
    return op_.collected ? op_.collected->size() : 0;
  }
  std::uint64_t bytes_fed() const { return bytes_fed_; }
  std::uint64_t bytes_discarded() const { return bytes_discarded_; }
  // Asserts every internal invariant (no-op in NDEBUG builds).
  void check_invariants() const;

 private:
  enum class OpKind : std::uint8_t { kNone, kRead, kReadAll, kReadExactly, kReadUntil, kReadLine };

  // The pending read (kind kNone when there is none). 24 bytes: no read
  // needs both n and offset, and read(-1)'s bytes are boxed (only a
  // read(-1) that waits and receives data allocates the box).
  struct PendingOp {
    OpKind kind = OpKind::kNone;
    // kRead, kReadExactly: n (n()). kReadUntil/kReadLine: asyncio's
    // `offset`, relative to the buffer start (offset()).
    std::size_t n_or_offset = 0;
    // kReadAll: bytes already taken from the buffer (null: none yet).
    std::unique_ptr<std::string> collected;

    std::size_t& n() { return n_or_offset; }
    std::size_t& offset() { return n_or_offset; }
  };

  // What one readuntil attempt decided, before any result is built.
  struct UntilStep {
    enum class Kind : std::uint8_t { kWait, kChunk, kOverrunFound, kOverrunNotFound, kEof };
    Kind kind;
    // kChunk: bytes through the separator; kOverrun*: asyncio's `consumed`;
    // kEof: bytes buffered.
    std::size_t n;
  };

  // Runs the pending op. Returns its completion, or nullopt if it still
  // waits (then reading is resumed, as asyncio's _wait_for_data does).
  ReadPoll advance();
  // advance()'s out-of-line parts: a pending readuntil that completes, and
  // every other kind of read.
  [[gnu::noinline]] ReadPoll complete_readuntil(UntilStep step);
  [[gnu::noinline]] ReadPoll advance_other();
  // Starts a new op: it completes at once, or becomes the pending op, or -
  // when another op already waits - fails with kConcurrentRead.
  ReadPoll start(PendingOp op);
  ReadPoll start_readuntil(PendingOp op, std::span<const std::string_view> separators,
                           bool buffered_is_clean);
  // The fast path of readline() and readuntil() with one 1-byte separator:
  // one past the first `separator` buffered, or 0 if there is none.
  std::size_t find_through(char separator) const;
  // The first n buffered bytes as a completed read, consumed (n <= size).
  // The string is built once, straight from the buffer, inside the returned
  // object (one return of one name: NRVO), so a line costs one allocation
  // and one copy and the result is never moved.
  ReadPoll take_chunk(std::size_t n) {
    ReadPoll chunk(std::in_place, std::in_place, buffer_.view().data(), n);
    buffer_.consume(n);
    maybe_resume();
    return chunk;
  }
  // readline() past its fast path; `buffered_is_clean`: no newline is
  // buffered (those bytes need no second scan).
  [[gnu::noinline]] ReadPoll readline_slow(bool buffered_is_clean);
  // One attempt of `op` against the current state; nullopt means "must wait".
  ReadPoll attempt(PendingOp& op, SeparatorSearch& search);
  // readuntil's (and readline's) attempt: what it found, then its result.
  UntilStep step_readuntil(PendingOp& op, SeparatorSearch& search);
  ReadPoll readuntil_result(OpKind kind, UntilStep step);
  // A read that completed at once consumed bytes under the pending op.
  void bytes_moved_under_pending_op();

  void discard(std::size_t n);       // consume n bytes, counted as discarded
  void after_feed();                 // pause check
  // asyncio's _maybe_resume_transport.
  void maybe_resume() {
    if (paused_ && buffer_.size() <= limit_) paused_ = false;
  }

  // Members are laid out for size (issue 8 counts bytes per idle
  // connection): the error is boxed, the scanner keeps readline's separator
  // inline, the pending op holds no string.
  std::size_t limit_;
  ByteBuffer buffer_;
  // readline_view(): the stream position (in bytes_fed_'s terms) up to
  // which the buffered bytes are known to hold no newline. Consuming from
  // the front does not change which bytes those are, so it stays valid.
  std::uint64_t view_clean_end_ = 0;
  SeparatorSearch search_;           // the pending readuntil's scanner
  PendingOp op_;
  StreamErrorSlot exception_;
  bool eof_ = false;
  bool paused_ = false;
  std::uint64_t bytes_fed_ = 0;
  std::uint64_t bytes_discarded_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_CORE_STREAM_READER_H_
