// File: backends/asio/internal/pending_handler.h
//
// PendingHandler<Args...>: a type-erased, move-only completion handler for an
// operation that is waiting (Asio 1.22 has no any_completion_handler). It is
// private to the backend: StreamState keeps the pending read and the lists of
// pending drains and wait_closeds as PendingHandlers; open_connection keeps its
// final handler as one.
//
// Rules it implements (the rules of Asio's own asynchronous operations):
//   - While pending it keeps outstanding work on the I/O executor and on the
//     handler's associated executor, so io_context::run() does not return
//     while an operation waits (e.g. a wait_closed on an idle connection).
//   - complete(args...) never invokes the handler inline: it posts it
//     (post_completion below) to its associated executor (the coroutine's
//     for use_awaitable). That is the rule inside an initiating function.
//   - invoke_now(args...) is the other way, for the driver's own completion
//     callbacks (a readiness wait that completed): there, as in Asio's own
//     operations, a handler whose associated executor is the one running
//     (runs_on_io_executor()) is invoked at once, which saves a trip
//     through the scheduler.
//   - An operation that completes at once needs no PendingHandler (no
//     allocation, no work tracking): post_completion() directly.
//   - A PendingHandler destroyed without complete() destroys its handler
//     without invoking it (what Asio does to pending handlers on shutdown).
//   - Its memory comes from Asio's per-thread recycling allocator: a
//     ping-pong stream frees one and allocates the next for every request.
//
// Example:
//   std::unique_ptr<PendingHandler<std::error_code>> p =
//       make_pending_handler<std::error_code>(std::move(handler), io_executor);
//   ...
//   p->complete(std::error_code());   // later: posted, never inline
//
// Threading: none; used from the I/O executor.

#ifndef SLUICE_BACKENDS_ASIO_INTERNAL_PENDING_HANDLER_H_
#define SLUICE_BACKENDS_ASIO_INTERNAL_PENDING_HANDLER_H_

#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/associator.hpp>
#include <asio/execution/blocking.hpp>
#include <asio/execution/execute.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/recycling_allocator.hpp>
#include <asio/require.hpp>

namespace sluice::asio_backend_internal {

// CompletionObserver: told, on the handler's executor, right after a
// completion posted for it has run (so, for a coroutine, once the coroutine
// it resumed has gone as far as it could). StreamState counts its queued
// completions with it, to hold its flush until its user code is done.
class CompletionObserver {
 public:
  virtual void completion_ran() = 0;

 protected:
  ~CompletionObserver() = default;
};

// BoundHandler: `handler` with its arguments bound, callable with none. Its
// associated executor, allocator and cancellation slot are the handler's
// (see the asio::associator specialisation below).
template <typename Handler, typename... Args>
struct BoundHandler {
  Handler handler;
  std::tuple<Args...> args;
  std::shared_ptr<CompletionObserver> observer;

  void operator()() {
    // Told even if the handler throws (the exception leaves run()): the
    // observer's count must not stay up.
    struct Ran {
      CompletionObserver* observer;
      ~Ran() {
        if (observer) observer->completion_ran();
      }
    } ran{observer.get()};
    std::apply(std::move(handler), std::move(args));
  }
};

// runs_on: whether `handler`'s associated executor is `io_executor`.
template <typename Handler>
bool runs_on(const Handler& handler, const asio::any_io_executor& io_executor) {
  if constexpr (std::is_same_v<asio::associated_executor_t<Handler, asio::any_io_executor>,
                               asio::any_io_executor>) {
    return asio::get_associated_executor(handler, io_executor) == io_executor;
  } else {
    return false;
  }
}

// post_completion: invoke `handler` with `args` later, never inline, on its
// associated executor, then tell `observer` (may be null). When that
// executor is `io_executor` itself (a coroutine or callback on the same
// io_context: the common case) the bound handler is executed there directly
// with blocking.never: one queued function and no work-tracking executor
// copies (asio::post wraps it in a work_dispatcher, which tracks work on the
// handler's executor while the function is queued - but the queued function
// already is outstanding work). Otherwise asio::post dispatches it to the
// handler's executor, and `observer` is not told (it would run on another
// executor). Returns whether `observer` will be told.
template <typename Handler, typename... Args>
bool post_completion(const asio::any_io_executor& io_executor,
                     std::shared_ptr<CompletionObserver> observer, Handler&& handler,
                     Args&&... args) {
  using Bound = BoundHandler<std::decay_t<Handler>, std::decay_t<Args>...>;
  const bool same_executor = runs_on(handler, io_executor);
  if (!same_executor) observer = nullptr;
  const bool observed = observer != nullptr;
  Bound bound{std::forward<Handler>(handler),
              std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...), std::move(observer)};
  if (same_executor) {
    asio::execution::execute(asio::require(io_executor, asio::execution::blocking.never),
                             std::move(bound));
  } else {
    asio::post(io_executor, std::move(bound));
  }
  return observed;
}

// track_work: outstanding work on `ex` for as long as the result lives.
template <typename Executor>
auto track_work(const Executor& ex) {
  if constexpr (asio::execution::is_executor<Executor>::value) {
    return asio::prefer(ex, asio::execution::outstanding_work.tracked);
  } else {
    return asio::make_work_guard(ex);
  }
}

template <typename... Args>
class HandlerQueue;

template <typename... Args>
class PendingHandler {
 public:
  virtual ~PendingHandler() = default;
  // complete: post the handler with `args` (post_completion; returns whether
  // the observer will be told). Call at most once (this or invoke_now); the
  // object is spent afterwards (destroy it).
  virtual bool complete(Args... args) = 0;
  // runs_on_io_executor: the handler's associated executor is the I/O
  // executor, so invoke_now() may be used where the rules allow it.
  virtual bool runs_on_io_executor() const = 0;
  // invoke_now: invoke the handler with `args` here, then tell the observer
  // (if any) completion_ran(). Preconditions: runs_on_io_executor(), the
  // caller runs on that executor, and not inside an initiating function.
  virtual void invoke_now(Args... args) = 0;

 private:
  friend class HandlerQueue<Args...>;

  // The next handler in a HandlerQueue (handler_queue.h); null when not
  // queued.
  PendingHandler* queue_next_ = nullptr;
};

template <typename Handler, typename... Args>
class PendingHandlerImpl final : public PendingHandler<Args...> {
 public:
  PendingHandlerImpl(Handler handler, const asio::any_io_executor& io_executor,
                     std::weak_ptr<CompletionObserver> observer)
      : io_work_(asio::prefer(io_executor, asio::execution::outstanding_work.tracked)),
        handler_work_(handler_work(handler, io_executor)),
        observer_(std::move(observer)),
        handler_(std::move(handler)) {}

  bool complete(Args... args) override {
    return post_completion(asio::prefer(io_work_, asio::execution::outstanding_work.untracked),
                           observer_.lock(), std::move(handler_), std::move(args)...);
  }

  bool runs_on_io_executor() const override {
    // handler_work() leaves handler_work_ empty exactly then.
    if constexpr (std::is_same_v<HandlerExecutor, asio::any_io_executor>) {
      return !handler_work_;
    } else {
      return false;
    }
  }

  void invoke_now(Args... args) override {
    BoundHandler<Handler, Args...>{std::move(handler_), std::tuple<Args...>(std::move(args)...),
                                   observer_.lock()}();
  }

  // Recycled per thread (see the file comment). The destructor is virtual, so
  // `delete` through a PendingHandler pointer comes here with the right size.
  static void* operator new(std::size_t size) {
    return asio::recycling_allocator<Unit>().allocate(units(size));
  }
  static void operator delete(void* p, std::size_t size) {
    asio::recycling_allocator<Unit>().deallocate(static_cast<Unit*>(p), units(size));
  }

 private:
  using HandlerExecutor = asio::associated_executor_t<Handler, asio::any_io_executor>;
  using Unit = std::max_align_t;

  // handler_work: outstanding work on the handler's executor, unless it is
  // the I/O executor (io_work_ already keeps that context running).
  static auto handler_work(const Handler& handler, const asio::any_io_executor& io_executor) {
    if constexpr (std::is_same_v<HandlerExecutor, asio::any_io_executor>) {
      if (runs_on(handler, io_executor)) return asio::any_io_executor();
    }
    return track_work(asio::get_associated_executor(handler, io_executor));
  }
  static constexpr std::size_t units(std::size_t size) {
    return (size + sizeof(Unit) - 1) / sizeof(Unit);
  }

  // The I/O executor, kept only in its work-tracking form (complete() gets
  // the plain one back with prefer(untracked)): every waiting operation
  // holds one of these, e.g. each idle connection's pending read.
  asio::any_io_executor io_work_;
  decltype(track_work(std::declval<const HandlerExecutor&>())) handler_work_;
  std::weak_ptr<CompletionObserver> observer_;
  Handler handler_;
};

// make_pending_handler: erase `handler` (a completion handler for
// void(Args...)) into a PendingHandler whose completions go through
// `io_executor` (and are reported to `observer`, if any). For an operation
// that has to wait, since it tracks work; one that completes at once calls
// post_completion() directly.
template <typename... Args, typename Handler>
std::unique_ptr<PendingHandler<Args...>> make_pending_handler(
    Handler&& handler, const asio::any_io_executor& io_executor,
    std::weak_ptr<CompletionObserver> observer = {}) {
  return std::make_unique<PendingHandlerImpl<std::decay_t<Handler>, Args...>>(
      std::forward<Handler>(handler), io_executor, std::move(observer));
}

}  // namespace sluice::asio_backend_internal

namespace asio {

// BoundHandler forwards every associated characteristic to its handler.
template <template <typename, typename> class Associator, typename Handler,
          typename DefaultCandidate, typename... Args>
struct associator<Associator, sluice::asio_backend_internal::BoundHandler<Handler, Args...>,
                  DefaultCandidate> : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const sluice::asio_backend_internal::BoundHandler<Handler, Args...>& h,
      const DefaultCandidate& c = DefaultCandidate()) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler, c);
  }
};

}  // namespace asio

#endif  // SLUICE_BACKENDS_ASIO_INTERNAL_PENDING_HANDLER_H_
