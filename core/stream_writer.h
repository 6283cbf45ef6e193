// File: core/stream_writer.h
//
// StreamWriter: asyncio's StreamWriter together with the write half of its
// selector transport and FlowControlMixin, as a sans-IO state machine. It
// buffers what the user writes, tells the driver what to send and when to
// shut down, close or abort, and answers drain() and wait_closed() with
// asyncio's results and errors (CPython 3.13; the contract is in
// shared/reference/asyncio-streams-spec.md sections 2 and 3). No I/O, no
// threads, no clocks, no exceptions, no callbacks.
//
// The seam (the reader's rule): every call that can complete something
// returns it.
//
//   drain() and wait_closed() either complete at once (the returned StatusPoll
//   holds their Status) or are pending (empty). Many drains and many
//   wait_closeds may be pending at once; the writer does not keep them - the
//   caller does (a list of coroutines, callbacks, futures) - it only
//   remembers that some are waiting. The driver calls that can release them,
//   bytes_sent() and connection_lost(), return a WriterRelease saying "release
//   every pending drain with this Status" and/or "release every pending
//   wait_closed with this Status". The writer has finished changing state
//   when it returns, so the caller may call back in at once.
//
// Example (a driver's write loop):
//
//   std::array<std::string_view, 16> iov;
//   switch (writer.action()) {
//     case WriteAction::kSend:
//       n = writev(fd, iov, writer.peek(iov));           // map views to iovec
//       release(writer.bytes_sent(n));                   // may free drains
//       break;
//     case WriteAction::kShutdownWrite: shutdown(fd, SHUT_WR); writer.eof_sent(); break;
//     case WriteAction::kClose: close(fd); release(writer.connection_lost()); break;
//     case WriteAction::kAbort:  // SO_LINGER 0, then close: an RST
//       close(fd); release(writer.connection_lost()); break;
//     case WriteAction::kNone: break;
//   }
//
// States (WriterState), all transitions in stream_writer.cc:
//
//   kOpen --write_eof--> kEofQueued --(flushed) eof_sent--> kEofSent
//     |                     |                                  |
//     +------- close -------+---------------- close -----------+--> kClosing
//     +------- abort (from any state but kClosed) ---------------> kAborting
//   any --connection_lost--> kClosed (terminal)
//
//   The driver sends while bytes are queued (any state but kAborting and
//   kClosed); kEofQueued and kClosing first flush, then ask for the shutdown
//   or close. write_eof() having been called (asyncio's transport._eof) is
//   remembered apart from the state: write() after write_eof() fails with
//   kWriteAfterEof even after close().
//
// Rules kept from asyncio, exactly:
//   - write: after write_eof, kWriteAfterEof (checked before everything else,
//     even empty data, even after close). Empty data does nothing. After
//     close(), abort() or connection_lost() the bytes are dropped silently
//     and counted in writes_dropped() (asyncio counts them to log from the
//     5th on; logging is the backend's business).
//   - Water marks (transports._FlowControlMixin): defaults high 64 KiB, low
//     16 KiB. set_write_buffer_limits(high, low): only high -> low = high/4;
//     only low -> high = 4*low; neither -> the defaults; negative or low >
//     high -> kInvalidArgument. Writing pauses when the buffer is > high
//     (strict); sending resumes it when the buffer is <= low. Changing the
//     limits may pause but never resumes (asyncio's _maybe_pause_protocol).
//   - drain, in order: (1) connection lost with an error -> fails with
//     kConnectionError{that error}; (2) connection lost cleanly -> fails with
//     kConnectionError{connection_reset} ("Connection lost"); (3) closing and
//     not paused -> pending (see "the one yield" below); (4) not paused ->
//     Ok at once; (5) paused -> pending. Pending drains are released
//     together: by the resume (Ok), or by connection_lost: with its error if
//     it has one, else Ok if paused (asyncio releases paused waiters
//     normally on a clean loss) and kConnectionError{connection_reset}
//     otherwise. drain never waits for a full flush, only for the low mark.
//   - wait_closed: pending until connection_lost, then Ok (clean) or
//     kConnectionError{error}; every later call returns the same at once.
//   - write_eof: a no-op when closing or already called. The driver is told
//     to shut down the write side (kShutdownWrite) once everything queued
//     before it is sent. can_write_eof() is false for transports without a
//     half-close (TLS); write_eof() then fails with kNotSupported (asyncio
//     raises NotImplementedError).
//   - close: idempotent; flush, then the driver closes (kClose) and reports
//     connection_lost(). is_closing() is true from close(), abort() or
//     connection_lost() on.
//   - abort: drops everything queued (counted in bytes_dropped()); the driver
//     aborts (kAbort, e.g. RST) and reports connection_lost(). As in
//     asyncio, a paused writer stays paused until the connection is lost.
//
// The one yield (asyncio's sleep(0) in drain when the transport is closing):
//   asyncio yields once so that the connection_lost scheduled by close() can
//   run, which is what makes a write/drain loop on a closed connection fail
//   instead of spinning (bpo-25441). A sans-IO core has no loop iteration to
//   yield, so a drain on a closing, unpaused writer is pending until the
//   connection is lost (or, if the writer is paused meanwhile, until the
//   resume, exactly like a paused drain). The outcome matches asyncio's in
//   the cases its tests check - close() then drain() fails with "Connection
//   lost" - and a drain issued while closing never spins. Deliberate
//   difference: when close() left bytes queued below the high mark, asyncio
//   returns from that drain after its yield; here it waits for the flush and
//   close and then fails with "Connection lost". Also, a drain pending that
//   way and released by connection_lost(error) fails with that error (asyncio
//   reports connection_reset there); the error is more useful.
//
// Cost and memory: see OutputQueue. write(std::string&&) of 1 KiB or more
// takes the string without copying; smaller writes are copied into shared
// 16 KiB blocks so a burst of small writes is sent as a few large views. A
// writer that queues one chunk at a time (a ping-pong server's) allocates no
// chunk ring, and with a BufferPool nothing at all. The failure a lost
// connection leaves is boxed (allocated then), so a healthy writer keeps one
// pointer for it.
//
// Threading: none. A StreamWriter is used from one thread at a time.

#ifndef SLUICE_CORE_STREAM_WRITER_H_
#define SLUICE_CORE_STREAM_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "core/buffer_pool.h"
#include "core/output_queue.h"
#include "core/result.h"
#include "core/stream_error.h"

namespace sluice {

// asyncio's transport defaults: 64 KiB high, high/4 low.
inline constexpr std::size_t kDefaultHighWater = 64 * 1024;
inline constexpr std::size_t kDefaultLowWater = kDefaultHighWater / 4;

// A drain or wait_closed that completed (holds its Status) or is pending
// (empty).
using StatusPoll = std::optional<Status>;

// WriterRelease: what a driver-side call released. Each member, when set,
// means "complete every pending operation of that kind with this Status".
struct [[nodiscard]] WriterRelease {
  std::optional<Status> drain;
  std::optional<Status> closed;

  bool empty() const { return !drain && !closed; }
};

// The lifecycle of the write side. See the diagram in the file comment.
enum class WriterState : std::uint8_t {
  kOpen,       // writes are queued and sent
  kEofQueued,  // write_eof() called: flushing, then shut down the write side
  kEofSent,    // the write side is shut down (driver did it)
  kClosing,    // close() called: flushing, then close
  kAborting,   // abort() called: queue dropped, the driver must abort
  kClosed,     // connection_lost() reported: terminal
};
std::string_view to_string(WriterState state);

// WriteAction: what the driver should do with the write side now.
enum class WriteAction {
  kNone,           // nothing (idle, shut down, or closed)
  kSend,           // send peek()'s bytes, then report bytes_sent()
  kShutdownWrite,  // everything is sent: shut down the write side (FIN), then eof_sent()
  kClose,          // everything is sent: close, then connection_lost()
  kAbort,          // close at once, discarding (RST), then connection_lost()
};
std::string_view to_string(WriteAction action);

// asyncio's get_write_buffer_limits() returns (low, high); so does this.
struct WriteBufferLimits {
  std::size_t low = kDefaultLowWater;
  std::size_t high = kDefaultHighWater;
  friend bool operator==(const WriteBufferLimits&, const WriteBufferLimits&) = default;
};

struct StreamWriterOptions {
  // False for transports that cannot half-close (TLS): write_eof() fails.
  bool can_write_eof = true;
  // Where the queue's coalescing blocks come from and go back to (see
  // core/buffer_pool.h); null: allocated and freed by the queue. The pool
  // must outlive the writer.
  BufferPool* pool = nullptr;
};

class StreamWriter {
 public:
  StreamWriter() = default;
  explicit StreamWriter(StreamWriterOptions options)
      : queue_(options.pool), can_write_eof_(options.can_write_eof) {}

  StreamWriter(StreamWriter&&) noexcept = default;
  StreamWriter& operator=(StreamWriter&&) noexcept = default;
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  // ---- User side: asyncio's StreamWriter API. ----------------------------

  // write: queue `data` (copied). kWriteAfterEof after write_eof(); Ok (and
  // dropped, counted) after close/abort/connection loss; else Ok.
  Status write(std::string_view data);
  // write: the same, taking the string's storage without copying when it is
  // at least OutputQueue::kMinAdoptedSize bytes.
  Status write(std::string&& data);
  // Disambiguates string literals (which convert to both of the above).
  Status write(const char* data) { return write(std::string_view(data)); }
  // writelines: write() of each piece, in order; one error check up front.
  Status writelines(std::span<const std::string_view> pieces);
  Status writelines(std::initializer_list<std::string_view> pieces) {
    return writelines(std::span<const std::string_view>(pieces.begin(), pieces.size()));
  }

  bool can_write_eof() const { return can_write_eof_; }
  // set_can_write_eof: the transport changed under the writer
  // (Connection::start_tls turns it off: TLS has no half-close).
  void set_can_write_eof(bool can) { can_write_eof_ = can; }
  // write_eof: shut down the write side once everything queued is sent.
  // kNotSupported if !can_write_eof(); a no-op (Ok) when closing or
  // already called.
  Status write_eof();

  // close: flush, then close. Idempotent.
  void close();
  // abort: drop the queue and close at once. No-op once the connection is
  // lost or already aborting.
  void abort();
  // is_closing: close(), abort() or connection_lost() happened.
  bool is_closing() const {
    return state_ == WriterState::kClosing || state_ == WriterState::kAborting ||
           state_ == WriterState::kClosed;
  }

  // drain: wait until the buffer is at or below the low water mark; see the
  // file comment for the exact order and the pending cases.
  StatusPoll drain();
  // wait_closed: wait for the connection to be lost.
  StatusPoll wait_closed();

  // set_write_buffer_limits: nullopt means "not given" (asyncio's None).
  // kInvalidArgument for negative values or low > high; the limits are then
  // unchanged.
  Status set_write_buffer_limits(std::optional<std::int64_t> high = std::nullopt,
                                 std::optional<std::int64_t> low = std::nullopt);
  WriteBufferLimits get_write_buffer_limits() const { return limits_; }
  // get_write_buffer_size: bytes queued and not yet reported sent.
  std::size_t get_write_buffer_size() const { return queue_.size(); }
  // buffer_capacity: heap bytes held for queued data (0 when idle: a writer
  // whose queue drained holds no buffer).
  std::size_t buffer_capacity() const { return queue_.block_bytes(); }

  // ---- Driver side. --------------------------------------------------------

  // action: what to do now. Check it after every call on the writer (and
  // after user code ran: writes, close and abort change it).
  WriteAction action() const;

  // peek: views of the next bytes to send (at most out.size(), one per
  // chunk). Returns how many views were filled. A view stays valid until
  // bytes_sent() reports its bytes sent, or abort()/connection_lost() drops
  // them; writes never invalidate it (so a send may stay in flight).
  std::size_t peek(std::span<std::string_view> out) const { return queue_.peek(out); }

  // bytes_sent: the first n queued bytes were sent. Precondition: n <=
  // get_write_buffer_size() and action() was kSend. Returns the drains
  // released if this brought the buffer to the low water mark.
  WriterRelease bytes_sent(std::size_t n);

  // eof_sent: the driver shut down the write side as asked (kShutdownWrite).
  void eof_sent();

  // connection_lost: the connection is gone (closed as asked, aborted, or
  // failed). `error` is empty for a clean loss (asyncio's None), else the
  // cause (e.g. std::errc::connection_reset). Drops anything still queued.
  // Returns the drains and wait_closeds released. Calling it twice is a
  // driver bug (asserted; ignored in release builds).
  WriterRelease connection_lost(std::error_code error = {});
  // connection_lost: the same for a failure that is not an error_code (a TLS
  // failure, kTlsError): pending and later drains and wait_closeds fail with
  // `failure` itself. lost_error() is then failure.connection_error for a
  // kConnectionError, else make_error_code(failure.code).
  WriterRelease connection_lost(const StreamError& failure);

  // ---- Introspection (tests, backends). -----------------------------------

  WriterState state() const { return state_; }
  // write_paused: above the high mark and not yet back to the low mark
  // (asyncio's protocol._paused); drain() waits while it is true.
  bool write_paused() const { return paused_; }
  // The error passed to connection_lost(), if any (see the StreamError
  // overload for failures that are not error_codes).
  std::optional<std::error_code> lost_error() const;
  // writes_dropped: write() calls whose bytes were dropped because the
  // writer was closing or closed (asyncio's _conn_lost counter, minus one).
  std::uint64_t writes_dropped() const { return writes_dropped_; }
  // Totals since construction: bytes accepted by write(), reported sent,
  // and dropped unsent (abort, connection loss). accepted == sent + dropped
  // + get_write_buffer_size().
  std::uint64_t bytes_accepted() const { return bytes_accepted_; }
  std::uint64_t bytes_sent_total() const { return bytes_sent_; }
  std::uint64_t bytes_dropped() const { return bytes_dropped_; }
  // Chunks queued (views a full peek() would return).
  std::size_t chunk_count() const { return queue_.chunk_count(); }
  // Asserts every internal invariant (no-op in NDEBUG builds).
  void check_invariants() const;

 private:
  // True if write() must drop its bytes (closing or closed).
  bool dropping() const;
  void maybe_pause();
  // connection_lost's work; `failure` null for a clean loss.
  WriterRelease lose(const StreamError* failure);

  // Laid out for size (issue 8 counts bytes per idle connection): the
  // failure is boxed, the flags share one word.
  OutputQueue queue_;
  WriteBufferLimits limits_;
  // What drains and wait_closeds fail with after a loss with an error (set
  // exactly then; lost_error() derives from it).
  StreamErrorSlot failure_;
  std::uint64_t writes_dropped_ = 0;
  std::uint64_t bytes_accepted_ = 0;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t bytes_dropped_ = 0;
  WriterState state_ = WriterState::kOpen;
  bool can_write_eof_ = true;
  // write_eof() was called (asyncio's transport._eof); outlives kEofQueued.
  bool eof_called_ = false;
  // Set when the queue exceeds limits_.high (after a write or a limit
  // change); cleared by bytes_sent() once it is <= limits_.low. Invariant:
  // while kOpen..kClosing, paused_ implies a non-empty queue. Left set on
  // abort and loss, as asyncio leaves its protocol paused.
  bool paused_ = false;
  // Some drain() / wait_closed() returned pending and was not yet released.
  bool drain_waiting_ = false;
  bool closed_waiting_ = false;
};

}  // namespace sluice

#endif  // SLUICE_CORE_STREAM_WRITER_H_
