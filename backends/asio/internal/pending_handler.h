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
//   - complete(args...) never invokes the handler inline: it posts it to the
//     I/O executor, from where asio::post dispatches it to the handler's
//     associated executor (the coroutine's for use_awaitable). The handler's
//     associated allocator is used for that post.
//   - A PendingHandler destroyed without complete() destroys its handler
//     without invoking it (what Asio does to pending handlers on shutdown).
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

#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/associator.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

namespace sluice::asio_backend_internal {

// BoundHandler: `handler` with its arguments bound, callable with none. Its
// associated executor, allocator and cancellation slot are the handler's
// (see the asio::associator specialisation below).
template <typename Handler, typename... Args>
struct BoundHandler {
  Handler handler;
  std::tuple<Args...> args;

  void operator()() { std::apply(std::move(handler), std::move(args)); }
};

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
class PendingHandler {
 public:
  virtual ~PendingHandler() = default;
  // complete: post the handler with `args`. Call at most once; the object is
  // spent afterwards (destroy it).
  virtual void complete(Args... args) = 0;
};

template <typename Handler, typename... Args>
class PendingHandlerImpl final : public PendingHandler<Args...> {
 public:
  PendingHandlerImpl(Handler handler, const asio::any_io_executor& io_executor)
      : io_work_(asio::prefer(io_executor, asio::execution::outstanding_work.tracked)),
        handler_work_(track_work(asio::get_associated_executor(handler, io_executor))),
        handler_(std::move(handler)) {}

  void complete(Args... args) override {
    // asio::post runs the bound handler on io_work_ (never inline), and from
    // there dispatches it to the handler's own executor, tracking work on it.
    asio::post(io_work_, BoundHandler<Handler, Args...>{std::move(handler_),
                                                        std::tuple<Args...>(std::move(args)...)});
  }

 private:
  using HandlerExecutor = asio::associated_executor_t<Handler, asio::any_io_executor>;

  asio::any_io_executor io_work_;
  decltype(track_work(std::declval<const HandlerExecutor&>())) handler_work_;
  Handler handler_;
};

// make_pending_handler: erase `handler` (a completion handler for
// void(Args...)) into a PendingHandler whose completions go through
// `io_executor`.
template <typename... Args, typename Handler>
std::unique_ptr<PendingHandler<Args...>> make_pending_handler(
    Handler&& handler, const asio::any_io_executor& io_executor) {
  return std::make_unique<PendingHandlerImpl<std::decay_t<Handler>, Args...>>(
      std::forward<Handler>(handler), io_executor);
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
