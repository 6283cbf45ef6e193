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
//   Synchronous calls come in Asio's two forms: throwing std::system_error,
//   or setting a std::error_code&.
//   Completion signature of async_drain and async_wait_closed:
//   void(std::error_code). Handlers are never invoked inside the initiating
//   function, and run on their associated executor.
//
// Extra info: peername(), sockname() (captured when the stream was made, so
// still readable after the close), native_handle() (-1 once closed), and
// get_extra_info(name) for "peername", "sockname" (as to_string(Endpoint))
// and "socket" (the descriptor in decimal); nullopt for anything else.
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
#include "core/stream_writer.h"

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

  // can_write_eof: true (TCP and UNIX sockets can half-close).
  bool can_write_eof() const { return state().connection().writer().can_write_eof(); }
  // write_eof: shut down the write side (FIN) once everything queued is sent;
  // reading goes on. A no-op when closing or already called.
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

  // async_wait_closed: wait until the connection is lost (closed, aborted or
  // failed). Does not close by itself.
  template <typename Token>
  auto async_wait_closed(Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        asio_backend_internal::InitiateWaitClosed{owner_->state}, token);
  }

  // ---- Extra info. --------------------------------------------------------

  std::optional<Endpoint> peername() const { return state().peername(); }
  std::optional<Endpoint> sockname() const { return state().sockname(); }
  int native_handle() const { return state().native_handle(); }
  // get_extra_info: "peername", "sockname", "socket"; nullopt otherwise.
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
