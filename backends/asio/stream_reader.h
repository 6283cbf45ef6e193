// File: backends/asio/stream_reader.h
//
// StreamReader: the read half of a connection, asyncio's StreamReader as Asio
// asynchronous operations. Every read is an Asio initiating function taking a
// completion token, so callbacks, asio::use_awaitable, asio::use_future and
// asio::experimental::deferred all work:
//
//   std::string line = co_await reader.async_readline(asio::use_awaitable);
//   reader.async_readexactly(4, [](std::error_code ec, std::string bytes) {...});
//   auto [ec, header] = co_await reader.async_readuntil("\r\n\r\n",
//       asio::experimental::as_tuple(asio::use_awaitable));
//
// Completion signature: void(std::error_code, std::string). Results, errors
// and their order of checks are asyncio's exactly (the sans-IO core,
// core/stream_reader.h, decides them); errors map to std::error_code as:
//   - stream errors: sluice::StreamErrc through make_error_code (category
//     "sluice.stream"): kIncompleteRead (the string is the partial data:
//     never lost), kLimitOverrun, kInvalidArgument, kConcurrentRead;
//   - connection errors: the OS/Asio error itself (asio::error::
//     connection_reset, broken_pipe, ...), sticky: every later read fails
//     with it, even with bytes buffered (asyncio's rule); over TLS also
//     asio::error::timed_out when a TLS timeout aborted the connection;
//   - TLS failures (a failed handshake, a corrupt record, an alert; asyncio's
//     ssl.SSLError): a code of sluice::tls_error_category() whose message()
//     is the whole text with OpenSSL's reason (sluice::is_tls_error(ec);
//     last_error()->tls_reason holds the reason alone), sticky like
//     connection errors;
//   - asio::error::operation_aborted: the read was cancelled (below).
// Compare connection errors with asio::error values, not std::errc:
// standalone Asio 1.22's system category maps no error conditions (its
// default_error_condition is compiled out), so ec == std::errc::
// connection_reset is false for Asio's codes. For the same reason the
// backend reports every errno in Asio's category, including the core's own
// "Connection lost".
// The whole sluice::StreamError of the last failed read (expected,
// consumed, which limit check fired, partial) is last_error(), set right
// before the failing read's handler runs.
//
// Cancellation: a pending read honours its handler's associated cancellation
// slot (terminal, partial and total cancellation alike, e.g. a timer raced
// with awaitable operators, or asio::bind_cancellation_slot). The reader
// forgets the read, no byte is lost (the next read sees them), and the
// handler gets operation_aborted. Closing the stream while a read is pending
// completes it as the EOF or error that follows does (readline returns what
// is buffered, readexactly fails with kIncompleteRead...).
//
// Flow control: the backend stops reading from the socket while more than
// 2*limit bytes are buffered and resumes when a read brings it down to limit
// (or starts waiting): a slow consumer makes the peer's drain() block. Over
// TLS the reader holds plaintext: the limit and the pausing count it.
//
// TLS: the reads are the same over TLS (from the start, or after
// StreamWriter::async_start_tls: the same StreamReader then reads
// plaintext). The peer's close_notify, or its EOF after the handshake, is
// EOF.
//
// Handlers are never invoked inside the initiating function: an immediate
// result is posted, and a handler always runs on its associated executor.
//
// Coroutine forms, for sluice::Task (core/coro/task.h) and other coroutines
// that accept plain awaitables (not asio::awaitable, whose promise allows
// only Asio's operations: use the async_ forms there):
//
//   sluice::Task<void> echo(StreamReader reader, StreamWriter writer) {
//     while (std::optional<std::string> line = co_await reader.next_line()) {
//       writer.write(std::move(*line));
//       co_await writer.drain();
//     }
//   }
//   start_server(io.get_executor(), echo, "127.0.0.1", 8888);  // server.h takes a Task
//   co_await async_run(r.get_executor(), echo(r, w), asio::use_awaitable);  // run_task.h
//
// read(n), readline(), readexactly(n), readuntil(...) and next_line() have
// the async_ forms' results and asyncio's rules; a result that is ready
// (the line is buffered) is returned without suspending, so a pipelined
// handler serves a buffer of lines without a trip through the scheduler
// per line. Errors are thrown as the coroutine layer's exceptions
// (core/coro/stream_exceptions.h), with the whole StreamError. A
// coroutine destroyed while it waits withdraws its read (no byte is lost).
// See internal/task_awaiters.h.
//
// Ownership: a StreamReader is a cheap, copyable handle. The reader and the
// writer of one connection share it: the connection stays open while either
// (or a pending operation) lives. When the last user handle is destroyed
// without close(), the connection is closed as by close() (what is queued is
// still sent, then FIN), like asyncio's StreamWriter.__del__; if the
// execution context has shut down (no loop left to send with), it is aborted
// instead. A default-constructed StreamReader has no connection; calling
// anything but operator bool on it is a precondition violation. Handles must
// not outlive their execution context.
//
// Threading: like an Asio socket. Use it from its executor (get_executor());
// it is not thread-safe.

#ifndef SLUICE_BACKENDS_ASIO_STREAM_READER_H_
#define SLUICE_BACKENDS_ASIO_STREAM_READER_H_

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
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>

#include "backends/asio/internal/stream_state.h"
#include "backends/asio/internal/task_awaiters.h"
#include "core/stream_error.h"

namespace sluice::asio_backend {

class StreamReader {
 public:
  using executor_type = asio::any_io_executor;

  StreamReader() = default;

  // operator bool: this handle refers to a connection.
  explicit operator bool() const { return owner_ != nullptr; }
  executor_type get_executor() const { return state().executor(); }
  std::size_t limit() const { return state().connection().reader().limit(); }

  // async_read: up to n bytes, as soon as at least one is buffered ("" at
  // EOF); n < 0 reads to EOF; n == 0 completes with "" at once.
  template <typename Token>
  auto async_read(std::int64_t n, Token&& token) {
    return initiate(std::forward<Token>(token), Kind::kRead, n, {});
  }

  // async_readline: one line including its "\n"; at EOF the partial line
  // ("" when nothing is left). kLimitOverrun past the limit (the line is
  // discarded as asyncio does).
  template <typename Token>
  auto async_readline(Token&& token) {
    return initiate(std::forward<Token>(token), Kind::kReadLine, 0, {});
  }

  // async_readexactly: exactly n bytes, or kIncompleteRead at EOF with the
  // partial bytes as the string (last_error()->expected == n).
  template <typename Token>
  auto async_readexactly(std::int64_t n, Token&& token) {
    return initiate(std::forward<Token>(token), Kind::kReadExactly, n, {});
  }

  // async_readuntil: the bytes up to and including `separator`.
  // kIncompleteRead at EOF (partial = what was buffered), kLimitOverrun past
  // the limit (the data stays buffered; last_error()->consumed). The
  // separator is copied.
  template <typename Token>
  auto async_readuntil(std::string_view separator, Token&& token) {
    return initiate(std::forward<Token>(token), Kind::kReadUntil, 0,
                    std::vector<std::string>{std::string(separator)});
  }

  // async_readuntil with several separators (CPython 3.13's tuple form): the
  // shortest chunk ending with any of them. The separators are copied.
  template <typename Token>
  auto async_readuntil(std::span<const std::string_view> separators, Token&& token) {
    return initiate(std::forward<Token>(token), Kind::kReadUntil, 0,
                    std::vector<std::string>(separators.begin(), separators.end()));
  }
  template <typename Token>
  auto async_readuntil(std::span<const std::string> separators, Token&& token) {
    return initiate(std::forward<Token>(token), Kind::kReadUntil, 0,
                    std::vector<std::string>(separators.begin(), separators.end()));
  }
  template <typename Token>
  auto async_readuntil(std::initializer_list<std::string_view> separators, Token&& token) {
    return initiate(std::forward<Token>(token), Kind::kReadUntil, 0,
                    std::vector<std::string>(separators.begin(), separators.end()));
  }

  // ---- Coroutine forms (file comment): co_await them in a sluice::Task.
  auto read(std::int64_t n) const { return Awaiter(make_request(Kind::kRead, n, {})); }
  auto readline() const { return Awaiter(make_request(Kind::kReadLine, 0, {})); }
  auto readexactly(std::int64_t n) const {
    return Awaiter(make_request(Kind::kReadExactly, n, {}));
  }
  auto readuntil(std::string_view separator) const {
    return Awaiter(make_request(Kind::kReadUntil, 0, {std::string(separator)}));
  }
  auto readuntil(std::span<const std::string_view> separators) const {
    return Awaiter(make_request(Kind::kReadUntil, 0,
                                std::vector<std::string>(separators.begin(), separators.end())));
  }
  // next_line: asyncio's `async for line in reader`: the next line, nullopt
  // once readline() would return "".
  auto next_line() const { return LineAwaiter(make_request(Kind::kReadLine, 0, {})); }

  // at_eof: the peer's EOF was received and nothing is left buffered.
  bool at_eof() const { return state().connection().reader().at_eof(); }
  // exception: the held connection error, if any (asyncio's exception()).
  const std::optional<StreamError>& exception() const {
    return state().connection().reader().exception();
  }
  // last_error: the StreamError of the last read that failed (nullopt if
  // none did). Successful reads leave it unchanged.
  const std::optional<StreamError>& last_error() const { return state().last_error(); }

  // Introspection: bytes buffered and not yet read, and the heap bytes the
  // buffer holds (0 when nothing is buffered).
  std::size_t buffered_size() const { return state().connection().reader().buffered_size(); }
  std::size_t buffer_capacity() const { return state().connection().reader().buffer_capacity(); }
  // bytes_received: bytes read from the socket so far (buffered, handed to a
  // read, or discarded by one). With the peer's byte count it tells what is
  // still in the socket (the replay tool waits on it).
  std::uint64_t bytes_received() const { return state().connection().reader().bytes_fed(); }
  // eof_received: the peer's EOF was read from the socket (bytes may still be
  // buffered; at_eof() says when they are gone).
  bool eof_received() const { return state().connection().reader().eof_received(); }
  // reading_paused: the reader asked the backend to stop reading from the
  // socket (flow control, below) and no read has resumed it yet.
  bool reading_paused() const { return state().connection().reader().reading_paused(); }

 private:
  friend struct asio_backend_internal::HandleAccess;
  using Kind = asio_backend_internal::ReadRequest::Kind;

  explicit StreamReader(std::shared_ptr<asio_backend_internal::StreamOwner> owner)
      : owner_(std::move(owner)) {}

  asio_backend_internal::StreamState& state() const { return *owner_->state; }

  using Awaiter = asio_backend_internal::ReadAwaiter<false>;
  using LineAwaiter = asio_backend_internal::ReadAwaiter<true>;
  std::pair<std::shared_ptr<asio_backend_internal::StreamState>, asio_backend_internal::ReadRequest>
  make_request(Kind kind, std::int64_t n, std::vector<std::string> separators) const {
    return {owner_->state, asio_backend_internal::ReadRequest{kind, n, std::move(separators)}};
  }

  template <typename Token>
  auto initiate(Token&& token, Kind kind, std::int64_t n, std::vector<std::string> separators) {
    return asio::async_initiate<Token, void(std::error_code, std::string)>(
        asio_backend_internal::InitiateRead{owner_->state}, token,
        asio_backend_internal::ReadRequest{kind, n, std::move(separators)});
  }

  std::shared_ptr<asio_backend_internal::StreamOwner> owner_;
};

}  // namespace sluice::asio_backend

#endif  // SLUICE_BACKENDS_ASIO_STREAM_READER_H_
