// File: backends/asio/internal/task_awaiters.h
//
// The awaitables behind the coroutine forms of the Asio StreamReader and
// StreamWriter (reader.readline(), writer.drain(), ...), for sluice::Task
// (core/coro/task.h) and any C++20 coroutine whose promise accepts plain
// awaitables (asio::awaitable does not: use the async_ forms there). Private
// to the backend.
//
// Why they exist: an Asio operation that could complete at once must still
// post its handler (Asio 1.22), so a coroutine on use_awaitable pays a trip
// through the scheduler per call even when the line is already buffered. An
// awaiter here does not suspend at all then (await_ready() runs the read on
// the reader), which is what lets a pipelined handler serve a buffer of
// lines in one go. When it must wait, its handler resumes the coroutine: from
// the readiness callback that completed it, or posted (StreamState's rules).
//
// Errors are thrown at the co_await as the coroutine layer's exceptions
// (core/coro/stream_exceptions.h: IncompleteReadError, LimitOverrunError,
// ConnectionError, TlsError, StreamException), which carry the whole
// StreamError.
//
// Lifetime: an awaiter is a temporary of its co_await. If the coroutine is
// destroyed while it waits, the awaiter withdraws its operation (a read is
// forgotten by the reader without losing bytes; a drain or wait_closed is
// dropped). As for sluice::Task, a coroutine must not be destroyed while its
// resumption is already posted.
//
// Threading: the stream's executor only.

#ifndef SLUICE_BACKENDS_ASIO_INTERNAL_TASK_AWAITERS_H_
#define SLUICE_BACKENDS_ASIO_INTERNAL_TASK_AWAITERS_H_

#include <cassert>
#include <coroutine>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "backends/asio/internal/stream_state.h"
#include "core/coro/stream_exceptions.h"
#include "core/result.h"

namespace sluice::asio_backend_internal {

// ReadAwaiter: one read (ReadRequest) as an awaitable. Yields the bytes;
// with `eof_as_nullopt` (next_line), an optional that is nullopt once the
// reader returns "" (asyncio's `async for line in reader` ends there).
template <bool kEofAsNullopt>
class ReadAwaiter {
 public:
  explicit ReadAwaiter(std::pair<std::shared_ptr<StreamState>, ReadRequest> what)
      : state_(std::move(what.first)), request_(std::move(what.second)) {}
  ReadAwaiter(const ReadAwaiter&) = delete;
  ReadAwaiter& operator=(const ReadAwaiter&) = delete;
  ~ReadAwaiter() {
    if (waiting_) state_->withdraw_read();
  }

  bool await_ready() {
    result_ = state_->begin_read(request_);
    return result_.has_value();
  }

  void await_suspend(std::coroutine_handle<> h) {
    waiting_ = h;
    state_->wait_read(
        state_->make_handler<std::error_code, std::string, std::optional<StreamError>>(
            Resume{this}),
        asio::cancellation_slot());
  }

  auto await_resume() {
    ReadResult r = std::move(*result_);
    if (!r.ok()) throw_stream_error(std::move(r).error());
    if constexpr (kEofAsNullopt) {
      std::optional<std::string> line;
      if (!r->empty()) line = std::move(*r);
      return line;
    } else {
      return std::move(*r);
    }
  }

 private:
  struct Resume {
    ReadAwaiter* self;
    void operator()(std::error_code ec, std::string data, std::optional<StreamError> error) {
      // Every failure the core reports carries its StreamError; the only
      // other one, a cancellation, is never asked for (no slot is given).
      assert(error || !ec);
      if (error) {
        self->result_.emplace(std::move(*error));
      } else {
        self->result_.emplace(std::move(data));
      }
      std::exchange(self->waiting_, nullptr).resume();
    }
  };

  std::shared_ptr<StreamState> state_;
  ReadRequest request_;
  ReadPoll result_;
  std::coroutine_handle<> waiting_;
};

// StatusAwaiter: a drain or a wait_closed as an awaitable (void; throws).
class StatusAwaiter {
 public:
  enum class Kind { kDrain, kWaitClosed };

  StatusAwaiter(std::shared_ptr<StreamState> state, Kind kind)
      : state_(std::move(state)), kind_(kind) {}
  StatusAwaiter(const StatusAwaiter&) = delete;
  StatusAwaiter& operator=(const StatusAwaiter&) = delete;
  ~StatusAwaiter() {
    if (waiting_) state_->withdraw_status_handler(pending_);
  }

  bool await_ready() {
    if (kind_ == Kind::kDrain) {
      result_ = state_->begin_drain();
    } else {
      result_ = state_->poll_closed();
    }
    return result_.has_value();
  }

  void await_suspend(std::coroutine_handle<> h) {
    waiting_ = h;
    std::unique_ptr<StatusHandler> handler = state_->make_handler<std::error_code>(Resume{this});
    pending_ = handler.get();
    if (kind_ == Kind::kDrain) {
      state_->wait_drain(std::move(handler));
    } else {
      state_->wait_closed_pending(std::move(handler));
    }
  }

  void await_resume() {
    if (!result_->ok()) throw_stream_error(std::move(*result_).error());
  }

 private:
  struct Resume {
    StatusAwaiter* self;
    void operator()(std::error_code ec) {
      if (!ec) {
        self->result_.emplace(Ok{});
      } else {
        // Failures are sticky (the connection is lost or its TLS failed):
        // asking again gives the whole StreamError, not just its code.
        StatusPoll again = self->kind_ == Kind::kDrain ? self->state_->begin_drain()
                                                       : self->state_->poll_closed();
        if (again && !again->ok()) {
          self->result_ = std::move(again);
        } else {
          self->result_.emplace(StreamError::connection(ec));
        }
      }
      std::exchange(self->waiting_, nullptr).resume();
    }
  };

  std::shared_ptr<StreamState> state_;
  Kind kind_;
  StatusPoll result_;
  std::coroutine_handle<> waiting_;
  const StatusHandler* pending_ = nullptr;
};

}  // namespace sluice::asio_backend_internal

#endif  // SLUICE_BACKENDS_ASIO_INTERNAL_TASK_AWAITERS_H_
