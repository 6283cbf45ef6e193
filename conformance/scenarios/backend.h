// File: conformance/scenarios/backend.h
//
// The facade every event loop is tested through: the network scenarios
// (scenarios_test.cc) are written once against these classes, and each loop
// provides an adapter (asio_adapter.h, libevent_adapter.h, poll_adapter.h)
// that implements them natively. Nothing here includes a loop's headers, so
// the scenarios compile without Asio or libevent.
//
// The model: a Loop runs one event loop on the test's thread. Operations
// come in "start, then poll done()" form (Op<T>); the loop only makes
// progress inside Loop::run_until, which runs it until a condition holds or a
// deadline passes (a scenario fails, it never hangs). Synchronous forms
// ("readline and wait") are built on that by the test fixture.
//
//   std::unique_ptr<Loop> loop = AsioAdapter::create();
//   std::unique_ptr<Server> server = loop->start_server(Behaviour::kEchoLines, {});
//   Op<Connected> c = loop->start_connect(server->port(), {});
//   loop->run_until([&] { return c.done(); }, std::chrono::seconds(20));
//   std::unique_ptr<Stream> client = c.take().stream;
//   client->write("hello\n");
//   Op<ReadResult> line = client->start_readline();
//   loop->run_until([&] { return line.done(); }, std::chrono::seconds(20));
//   // *line.take() == "hello\n"
//
// Results are the core's values (ReadResult, Status, StreamError), whatever
// the loop's own API returns, so the scenarios compare them across loops.
// Connection errors carry the errno in std::system_category(), or in
// std::generic_category() where the core made the error itself ("Connection
// lost"); adapters normalise the loop's own categories (e.g. Asio's).
//
// Lifetimes: a Stream and a Server belong to whoever holds the unique_ptr;
// destroying a Stream that was not closed closes it (flush, then FIN: what
// dropping an asyncio StreamWriter does), destroying a Server closes it.
// Ops may outlive their Stream. Everything must be destroyed before its Loop;
// destroying the Loop aborts what is still open, lets the loop settle and
// frees the loop.
//
// Threading: one thread, the test's. Functions may be called between turns
// of the loop, including from inside a run_until condition, never from
// another thread.

#ifndef SLUICE_CONFORMANCE_SCENARIOS_BACKEND_H_
#define SLUICE_CONFORMANCE_SCENARIOS_BACKEND_H_

#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/coro/task.h"
#include "core/result.h"
#include "core/stream_error.h"
#include "core/stream_reader.h"

namespace sluice::scenarios {

// Op<T>: an operation in flight, a shared handle on its result. done() turns
// true once the loop completed it (never inside the call that started it
// for operations that must wait; an operation that completes at once may be
// done() at once or after one loop turn, depending on the loop).
template <typename T>
class Op {
 public:
  // State: what an adapter fills in.
  struct State {
    // The result, once complete.
    std::optional<T> value;
    // cancel: withdraw the operation if it is still pending (reads only).
    std::function<void()> cancel;
    // Loops driven through the coroutine layer: the coroutine waiting on
    // the operation (destroying it withdraws the operation).
    Task<void> task;
    // Anything else the adapter must keep alive with the operation.
    std::shared_ptr<void> extra;
    bool cancelled = false;

    // finished: completed, or cancelled (its coroutine is gone).
    bool finished() const { return value.has_value() || cancelled; }
  };

  Op() = default;
  explicit Op(std::shared_ptr<State> state) : state_(std::move(state)) {}
  // ready: an Op complete from the start.
  static Op ready(T value) {
    auto state = std::make_shared<State>();
    state->value.emplace(std::move(value));
    return Op(std::move(state));
  }

  bool valid() const { return state_ != nullptr; }
  bool done() const { return state_ && state_->value.has_value(); }
  // peek: the result, left in place. Precondition: done().
  const T& peek() const {
    assert(done());
    return *state_->value;
  }
  // take: the result, moved out. Precondition: done(). Call once.
  T take() {
    assert(done());
    return std::move(*state_->value);
  }
  // cancel: withdraw a pending read (asyncio's task.cancel() while it awaits
  // the read). No byte is lost: what it had not returned stays readable.
  // The Op never completes afterwards. Does nothing if it is already done.
  void cancel() {
    if (!state_ || state_->finished()) return;
    state_->cancelled = true;
    if (state_->cancel) state_->cancel();
  }

  const std::shared_ptr<State>& state() const { return state_; }

 private:
  std::shared_ptr<State> state_;
};

// StreamConfig: a connection's options (asyncio's limit and water marks).
struct StreamConfig {
  // The reader's limit (pause threshold 2*limit).
  std::size_t limit = kDefaultLimit;
  // The writer's water marks (asyncio's rules when one is missing; both
  // missing: 64 KiB / 16 KiB).
  std::optional<std::size_t> write_high_water;
  std::optional<std::size_t> write_low_water;
};

// Stream: one connection, reader and writer (asyncio's pair).
class Stream {
 public:
  virtual ~Stream() = default;

  // ---- Reads (asyncio's; at most one may wait at a time).
  virtual Op<ReadResult> start_read(std::int64_t n) = 0;
  virtual Op<ReadResult> start_readline() = 0;
  virtual Op<ReadResult> start_readexactly(std::int64_t n) = 0;
  virtual Op<ReadResult> start_readuntil(std::string separator) = 0;

  // ---- Writer.
  // write: queue `data`; the error (kWriteAfterEof) as a value.
  virtual Status write(std::string data) = 0;
  virtual void write_eof() = 0;
  virtual void close() = 0;
  virtual void abort() = 0;
  virtual Op<Status> start_drain() = 0;
  virtual Op<Status> start_wait_closed() = 0;
  virtual void set_write_buffer_limits(std::size_t high, std::size_t low) = 0;

  // ---- Introspection.
  virtual bool at_eof() const = 0;
  virtual bool is_closing() const = 0;
  // eof_received: the peer's EOF was read from the socket (bytes may still
  // be buffered).
  virtual bool eof_received() const = 0;
  // buffered_size: bytes received and not yet read.
  virtual std::size_t buffered_size() const = 0;
  // reading_paused: the reader asked the loop to stop reading from the
  // socket (more than 2*limit buffered and no read resumed it since).
  virtual bool reading_paused() const = 0;
  // bytes_received: bytes read from the socket so far.
  virtual std::uint64_t bytes_received() const = 0;
  // write_buffer_size: asyncio's get_write_buffer_size().
  virtual std::size_t write_buffer_size() const = 0;
  // limit: the reader's limit.
  virtual std::size_t limit() const = 0;
  // native_handle: the socket's descriptor, -1 once closed.
  virtual int native_handle() const = 0;
  // tls: the connection speaks TLS (asyncio's get_extra_info('ssl_object')
  // is not None).
  virtual bool tls() const = 0;
};

// Connected: what start_connect gives: a stream, or the error
// (std::system_category(), e.g. ECONNREFUSED).
struct Connected {
  std::unique_ptr<Stream> stream;
  std::error_code error;
};

// Behaviour: what a server does with each connection, implemented natively
// on each loop (a coroutine of that loop's API).
enum class Behaviour {
  // readline; write the line back; drain - until EOF (or an error), then
  // close.
  kEchoLines,
  // read(64 KiB); write it back; drain - until EOF (or an error), then close.
  kEchoBytes,
  // read(-1) (to EOF); write "received N bytes\n"; drain; close.
  kReadToEofThenAnswer,
  // close at once.
  kCloseAtOnce,
  // nothing: the stream is handed to the test (Server::take_accepted), which
  // drives it.
  kHold,
};

struct ServerConfig {
  // Applied to every accepted connection.
  StreamConfig stream;
  // Empty: TCP on 127.0.0.1, port chosen by the kernel. Else the UNIX
  // socket at this path (a stale file is replaced; close() removes it, as
  // asyncio 3.13's cleanup_socket does).
  std::string unix_path;
  // listen()'s backlog: large, so that thousands of simultaneous connects
  // are not dropped (and retried after a second) by the kernel.
  int backlog = 4096;
};

// Server: asyncio's Server (3.13), listening on 127.0.0.1 (port chosen by
// the kernel) or on a UNIX socket path (ServerConfig::unix_path).
class Server {
 public:
  virtual ~Server() = default;

  // port: the bound TCP port (still known after close()); 0 for UNIX.
  virtual std::uint16_t port() const = 0;
  virtual void close() = 0;
  virtual bool is_serving() const = 0;
  virtual void close_clients() = 0;
  virtual void abort_clients() = 0;
  // active_connections: accepted and not yet lost.
  virtual std::size_t active_connections() const = 0;
  // wait_closed: completes (no error) when the server is closed and has no
  // active connection.
  virtual Op<std::error_code> start_wait_closed() = 0;
  // serve_forever: completes (no error) when close() is called; EALREADY if
  // another one is pending, EBADF if the server is closed.
  virtual Op<std::error_code> start_serve_forever() = 0;

  // Behaviour::kHold: the connections accepted and not yet taken, in order.
  virtual std::size_t accepted_waiting() const = 0;
  // take_accepted: the oldest of them, or null if there is none.
  virtual std::unique_ptr<Stream> take_accepted() = 0;
};

// Loop: one event loop and everything on it.
class Loop {
 public:
  virtual ~Loop() = default;

  // run_until: run the loop until `done()` or `deadline`; returns done().
  // done() is evaluated between loop turns, at least every 10 ms even when
  // nothing happens, and may call anything in this header (start reads,
  // write, operate raw sockets...).
  virtual bool run_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) = 0;

  // start_connect: open a TCP connection to 127.0.0.1:port.
  virtual Op<Connected> start_connect(std::uint16_t port, const StreamConfig& config) = 0;
  // start_connect_unix: open a connection to the UNIX socket at `path`.
  virtual Op<Connected> start_connect_unix(const std::string& path, const StreamConfig& config) = 0;

  // start_server: listen (ServerConfig::unix_path, else 127.0.0.1:0) and
  // serve every connection with `behaviour`.
  virtual std::unique_ptr<Server> start_server(Behaviour behaviour, const ServerConfig& config) = 0;
};

// normalise: a connection error in std::system_category() (same errno).
inline std::error_code normalise(std::error_code ec) {
  if (!ec || ec.category() == stream_errc_category()) return ec;
  return {ec.value(), std::system_category()};
}

}  // namespace sluice::scenarios

#endif  // SLUICE_CONFORMANCE_SCENARIOS_BACKEND_H_
