// File: core/coro/async_connection.h
//
// AsyncConnection: a Connection for C++20 coroutines, on any event loop. User
// code gets asyncio's stream API as awaitables:
//
//   std::string line = co_await conn.reader().readline();
//   std::string blob = co_await conn.reader().readexactly(n);
//   conn.writer().write(std::move(reply));
//   co_await conn.writer().drain();
//   conn.writer().close();
//   co_await conn.writer().wait_closed();
//   while (std::optional<std::string> line = co_await conn.reader().next_line()) {...}
//                                          // asyncio's `async for line in reader`
//   co_await conn.handshake();             // TLS: wait until established
//   co_await conn.start_tls(tls_options);  // STARTTLS: upgrade, then handshake
//
// Errors: the plain forms throw the exceptions of stream_exceptions.h
// (IncompleteReadError, LimitOverrunError, ConnectionError, StreamException).
// Every awaitable also has a non-throwing form, as_result(), which returns
// the core's value instead: a ReadResult for reads, a Status for drain and
// wait_closed, e.g.
//   ReadResult r = co_await conn.reader().readexactly(4).as_result();
// write() and friends throw; try_write() returns a Status.
//
// What it needs from the loop: an Executor (core/coro/executor.h). What the
// driver does: exactly core/connection.h's contract on connection(), plus
// one rule - hand every Completions the connection returns to dispatch():
//
//   conn.dispatch(conn.connection().commit_received(n));
//
// dispatch() only records results and post()s the waiting coroutines to the
// executor; it never resumes them, so user code never runs inside the
// driver's callback and the driver may keep calling in. User calls that
// change what the connection wants from the driver (a write on an idle
// writer, close, abort, write_eof, a read that resumes reading) call
// Executor::wake(connection()) once they have changed it.
//
// Waiting: at most one read waits at a time (a second read that must wait
// fails with kConcurrentRead, as in asyncio); any number of drains and
// wait_closeds may wait, and are resumed in the order they started waiting.
// A waiting operation is cancelled when its coroutine is destroyed (the read
// is withdrawn from the reader without losing bytes; the drain or wait is
// forgotten). Awaitables are meant to be co_awaited at once: the read starts
// at the co_await, and readuntil's separators must stay alive until then.
// GCC 12 cannot compile a braced list inside a co_await expression
// (`co_await r.readuntil({"\r\n", "\n"})`: "array used as initializer", a
// compiler bug); name the array instead:
//   static constexpr std::string_view kEnds[] = {"\r\n", "\n"};
//   std::string line = co_await r.readuntil(kEnds);
//
// Lifetime: the AsyncConnection must outlive every coroutine waiting on it,
// and the Executor must outlive the AsyncConnection. Not movable (waiting
// coroutines point at it).
//
// Threading: none; one thread, the loop's.

#ifndef SLUICE_CORE_CORO_ASYNC_CONNECTION_H_
#define SLUICE_CORE_CORO_ASYNC_CONNECTION_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/connection.h"
#include "core/coro/executor.h"
#include "core/result.h"
#include "core/stream_writer.h"

namespace sluice {

class AsyncConnection;

namespace coro_internal {

// Which read a read awaitable starts, and its arguments. 24 bytes: each
// kind has one argument.
struct ReadRequest {
  enum class Kind : std::uint8_t { kRead, kReadLine, kReadExactly, kReadUntil, kReadUntilAny };

  static ReadRequest of(Kind kind, std::int64_t n = -1, std::string_view separator = {},
                        std::span<const std::string_view> separators = {}) {
    ReadRequest r;
    r.kind = kind;
    switch (kind) {
      case Kind::kRead:
      case Kind::kReadExactly:
        r.arg_.n = n;
        break;
      case Kind::kReadLine:
        break;
      case Kind::kReadUntil:
        r.arg_.separator = separator;
        break;
      case Kind::kReadUntilAny:
        r.arg_.separators = separators;
        break;
    }
    return r;
  }

  // The argument of its kind: n (kRead, kReadExactly), separator
  // (kReadUntil), separators (kReadUntilAny).
  std::int64_t n() const { return arg_.n; }
  std::string_view separator() const { return arg_.separator; }
  std::span<const std::string_view> separators() const { return arg_.separators; }

  Kind kind = Kind::kRead;

 private:
  union Arg {
    Arg() : n(-1) {}
    std::int64_t n;
    std::string_view separator;
    std::span<const std::string_view> separators;
  } arg_;
};

class WaiterList;

}  // namespace coro_internal

// ---- Read awaitables ---------------------------------------------------------

// ReadOpBase: starts its read when co_awaited; completes at once (no
// suspension) or suspends until the driver's data, EOF or loss completes it.
class ReadOpBase {
 public:
  ReadOpBase(AsyncConnection& conn, coro_internal::ReadRequest request) noexcept
      : conn_(&conn), request_(request) {}
  ReadOpBase(const ReadOpBase&) = delete;
  ReadOpBase& operator=(const ReadOpBase&) = delete;
  ~ReadOpBase();

  bool await_ready() const noexcept { return false; }
  // Starts the read; returns false (do not suspend) if it completed at once.
  bool await_suspend(std::coroutine_handle<> h);

 protected:
  ReadResult take_result();

  AsyncConnection* conn_;
  coro_internal::ReadRequest request_;

 private:
  friend class AsyncConnection;
  std::optional<ReadResult> result_;
  // Set exactly while registered as the connection's read waiter.
  std::coroutine_handle<> handle_;
};

// ReadResultOp: co_await gives the ReadResult (never throws a StreamError).
class ReadResultOp : public ReadOpBase {
 public:
  using ReadOpBase::ReadOpBase;
  ReadResult await_resume() { return take_result(); }
};

// ReadOp: co_await gives the bytes, or throws (stream_exceptions.h).
class ReadOp : public ReadOpBase {
 public:
  using ReadOpBase::ReadOpBase;
  std::string await_resume();
  // as_result: the same read, non-throwing. Call before co_await.
  ReadResultOp as_result() && { return ReadResultOp(*conn_, request_); }
};

// NextLineOp: readline for iteration: the line, or nullopt at EOF (asyncio's
// StopAsyncIteration, i.e. readline() returned ""); errors throw.
class NextLineOp : public ReadOpBase {
 public:
  using ReadOpBase::ReadOpBase;
  std::optional<std::string> await_resume();
};

// ---- drain / wait_closed awaitables -----------------------------------------------

class StatusOpBase {
 public:
  enum class Kind : std::uint8_t { kDrain, kWaitClosed, kHandshake };
  StatusOpBase(AsyncConnection& conn, Kind kind) noexcept : conn_(&conn), kind_(kind) {}
  // An op whose result is already known (e.g. start_tls() failed at once).
  StatusOpBase(AsyncConnection& conn, Kind kind, std::optional<Status> result) noexcept
      : conn_(&conn), kind_(kind), result_(std::move(result)) {}
  StatusOpBase(const StatusOpBase&) = delete;
  StatusOpBase& operator=(const StatusOpBase&) = delete;
  ~StatusOpBase();

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h);

 protected:
  Status take_result();
  // The result known before the co_await, moved out (as_result()).
  std::optional<Status> take_preset();

  AsyncConnection* conn_;
  Kind kind_;

 private:
  friend class AsyncConnection;
  friend class coro_internal::WaiterList;
  bool linked() const { return next_ != nullptr; }

  std::optional<Status> result_;
  std::coroutine_handle<> handle_;
  // Intrusive links in the connection's waiter list (no allocation; a
  // circle: both set exactly while linked).
  StatusOpBase* prev_ = nullptr;
  StatusOpBase* next_ = nullptr;
};

// StatusResultOp: co_await gives the Status.
class StatusResultOp : public StatusOpBase {
 public:
  using StatusOpBase::StatusOpBase;
  Status await_resume() { return take_result(); }
};

// StatusOp: co_await returns, or throws (stream_exceptions.h).
class StatusOp : public StatusOpBase {
 public:
  using StatusOpBase::StatusOpBase;
  void await_resume();
  StatusResultOp as_result() && { return StatusResultOp(*conn_, kind_, take_preset()); }
};

namespace coro_internal {

// The waiting StatusOps of all kinds, in the order they started waiting,
// linked through the ops themselves as a circle (one pointer per
// connection: the head; its prev_ is the tail).
class WaiterList {
 public:
  bool empty() const { return head_ == nullptr; }
  void push_back(StatusOpBase& op);
  void remove(StatusOpBase& op);
  // The longest-waiting op of `kind`, unlinked; null if there is none.
  StatusOpBase* pop_first(StatusOpBase::Kind kind);

 private:
  StatusOpBase* head_ = nullptr;
};

}  // namespace coro_internal

// ---- The user-facing halves ---------------------------------------------------

// AsyncReader: asyncio's StreamReader API as awaitables. Same results and
// errors as StreamReader (core/stream_reader.h).
class AsyncReader {
 public:
  ReadOp read(std::int64_t n = -1);
  ReadOp readline();
  ReadOp readexactly(std::int64_t n);
  ReadOp readuntil(std::string_view separator = "\n");
  ReadOp readuntil(std::span<const std::string_view> separators);
  ReadOp readuntil(std::initializer_list<std::string_view> separators) {
    return readuntil(std::span<const std::string_view>(separators.begin(), separators.size()));
  }
  // next_line: `async for line in reader` - see NextLineOp.
  NextLineOp next_line();

  bool at_eof() const;
  const std::optional<StreamError>& exception() const;
  // core: the StreamReader, for introspection.
  const StreamReader& core() const;

 private:
  friend class AsyncConnection;
  explicit AsyncReader(AsyncConnection& conn) : conn_(&conn) {}
  ReadOp op(coro_internal::ReadRequest request) { return ReadOp(*conn_, request); }
  AsyncConnection* conn_;
};

// AsyncWriter: asyncio's StreamWriter API. Same rules as StreamWriter
// (core/stream_writer.h); the throwing calls throw StreamException.
class AsyncWriter {
 public:
  void write(std::string_view data);
  void write(std::string&& data);
  void write(const char* data) { write(std::string_view(data)); }
  void writelines(std::span<const std::string_view> pieces);
  void writelines(std::initializer_list<std::string_view> pieces) {
    writelines(std::span<const std::string_view>(pieces.begin(), pieces.size()));
  }
  // try_write: write() returning the error instead of throwing.
  Status try_write(std::string_view data);
  Status try_write(std::string&& data);
  Status try_write(const char* data) { return try_write(std::string_view(data)); }

  bool can_write_eof() const;
  void write_eof();
  void close();
  void abort();
  bool is_closing() const;

  StatusOp drain();
  StatusOp wait_closed();

  void set_write_buffer_limits(std::optional<std::int64_t> high = std::nullopt,
                               std::optional<std::int64_t> low = std::nullopt);
  WriteBufferLimits get_write_buffer_limits() const;
  std::size_t get_write_buffer_size() const;
  // core: the StreamWriter, for introspection.
  const StreamWriter& core() const;

 private:
  friend class AsyncConnection;
  explicit AsyncWriter(AsyncConnection& conn) : conn_(&conn) {}
  AsyncConnection* conn_;
};

// ---- AsyncConnection ------------------------------------------------------------

class AsyncConnection {
 public:
  explicit AsyncConnection(Executor& executor, ConnectionOptions options = {});
  AsyncConnection(const AsyncConnection&) = delete;
  AsyncConnection& operator=(const AsyncConnection&) = delete;
  // Precondition: no coroutine is waiting on it.
  ~AsyncConnection();

  // ---- User side.
  AsyncReader& reader() { return reader_; }
  AsyncWriter& writer() { return writer_; }

  // ---- TLS (core/connection.h section 4).
  // handshake: wait for the TLS handshake (returns at once for a plain
  // connection or an established one; throws TlsError / ConnectionError if
  // it failed).
  StatusOp handshake();
  // start_tls: upgrade in place (Connection::start_tls), then wait for the
  // handshake - asyncio's `await writer.start_tls(ctx)` (without its drain:
  // plaintext queued before is sent first anyway). An immediate refusal
  // completes the awaitable at once with the error.
  StatusOp start_tls(TlsOptions options, StartTlsBuffered buffered = StartTlsBuffered::kHandOver);
  // tls: the session, for peer information (null for plain connections).
  const TlsSession* tls() const { return conn_.tls(); }

  // ---- Driver side.
  // connection: the core, to drive by core/connection.h's contract.
  Connection& connection() { return conn_; }
  const Connection& connection() const { return conn_; }
  // dispatch: hand over what a call on connection() returned. Posts every
  // coroutine it completes to the executor; resumes none.
  void dispatch(Completions completions);

  Executor& executor() { return *executor_; }

 private:
  friend class ReadOpBase;
  friend class StatusOpBase;
  friend class AsyncReader;
  friend class AsyncWriter;

  // What the driver sees; a user call that changes it wakes the driver. The
  // TLS timers are part of it: a server's start_tls() with nothing to send
  // changes only handshake_in_progress(), and the driver must arm its timer.
  struct Interest {
    bool want_read;
    WriteAction action;
    bool handshaking;
    bool shutting_down;
    friend bool operator==(const Interest&, const Interest&) = default;
  };
  Interest interest() const {
    return {conn_.want_read(), conn_.write_action(), conn_.handshake_in_progress(),
            conn_.shutdown_in_progress()};
  }
  void wake_if_changed(Interest before);

  // Starts op's read; registers it as the waiter if it must wait. Returns
  // true if it waits.
  bool start_read(ReadOpBase& op, std::coroutine_handle<> h);
  void cancel_read(ReadOpBase& op);
  bool start_status(StatusOpBase& op, std::coroutine_handle<> h);
  void cancel_status(StatusOpBase& op);
  // Posts every waiter of `kind`, in order, with `status`.
  void release(StatusOpBase::Kind kind, const Status& status);
  // Runs a user call on the writer, then wakes the driver if needed.
  template <typename F>
  auto on_writer(F&& f) {
    const Interest before = interest();
    auto result = f(conn_.writer());
    wake_if_changed(before);
    return result;
  }

  Connection conn_;
  Executor* executor_;
  AsyncReader reader_{*this};
  AsyncWriter writer_{*this};
  ReadOpBase* read_waiter_ = nullptr;
  // The waiting drains, wait_closeds and handshakes.
  coro_internal::WaiterList status_waiters_;
};

}  // namespace sluice

#endif  // SLUICE_CORE_CORO_ASYNC_CONNECTION_H_
