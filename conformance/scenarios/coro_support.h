// File: conformance/scenarios/coro_support.h
//
// What the adapters of loops driven through sluice's coroutine layer
// (core/coro/: the libevent backend and the poll(2) loop) share: running one
// awaitable as an Op, keeping those coroutines until they finish, and the
// server behaviours written once as coroutines over that layer's reader and
// writer API (readline(), read(n), write(std::string&&), drain(), close(),
// each with .as_result()).
//
// Example:
//   OpTracker tracker;
//   Op<ReadResult> op = start_coro_op<ReadResult>(
//       tracker, [r = reader]() mutable { return r.readline().as_result(); },
//       [r = reader] { return r.core().has_pending_read(); });
//
// Coroutine lifetime rule (core/coro/task.h): a Task must not be destroyed
// while its resumption is posted. An Op's coroutine is destroyed only by
// cancel() while its read is still pending in the core (nothing posted), or
// by OpTracker::clear() once everything finished.
//
// Threading: the loop's thread.

#ifndef SLUICE_CONFORMANCE_SCENARIOS_CORO_SUPPORT_H_
#define SLUICE_CONFORMANCE_SCENARIOS_CORO_SUPPORT_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "conformance/scenarios/backend.h"
#include "core/coro/task.h"
#include "core/result.h"

namespace sluice::scenarios {

// OpTracker: every Op state whose coroutine may still run, so that a loop
// can let them finish before it goes away.
class OpTracker {
 public:
  template <typename T>
  void add(const std::shared_ptr<typename Op<T>::State>& state) {
    if (entries_.size() >= 2 * live_after_prune_ + 64) prune();
    entries_.push_back([state] { return state->finished(); });
  }
  // all_finished: every tracked Op completed or was cancelled.
  bool all_finished() {
    prune();
    return entries_.empty();
  }
  // prune: forget the finished ones (their coroutines' frames go with the
  // last Op handle).
  void prune() {
    std::erase_if(entries_, [](const std::function<bool()>& finished) { return finished(); });
    live_after_prune_ = entries_.size();
  }
  // clear: forget (and destroy) every state not held elsewhere.
  void clear() { entries_.clear(); }

 private:
  std::vector<std::function<bool()>> entries_;
  std::size_t live_after_prune_ = 0;
};

namespace coro_internal_scenarios {

template <typename T, typename Make>
Task<void> complete_into(typename Op<T>::State* state, Make make) {
  state->value.emplace(co_await make());
}

}  // namespace coro_internal_scenarios

// start_coro_op: an Op whose result is `co_await make()` (make returns an
// .as_result() awaitable). `pending()` tells whether the operation still
// waits in the core (then cancel() may destroy its coroutine); pass null
// for operations that are not cancellable.
template <typename T, typename Make>
Op<T> start_coro_op(OpTracker& tracker, Make make, std::function<bool()> pending = nullptr) {
  auto state = std::make_shared<typename Op<T>::State>();
  state->task = coro_internal_scenarios::complete_into<T>(state.get(), std::move(make));
  if (pending) {
    state->cancel = [s = state.get(), pending = std::move(pending)] {
      if (pending()) s->task = Task<void>();  // withdraws the read, nothing posted
    };
  }
  tracker.add<T>(state);
  state->task.start();
  return Op<T>(std::move(state));
}

// serve: Behaviour `b` (not kHold) on one connection. Reader and Writer are
// the loop's handles (copied into the coroutine).
template <typename Reader, typename Writer>
Task<void> serve(Behaviour b, Reader reader, Writer writer) {
  switch (b) {
    case Behaviour::kEchoLines:
      for (;;) {
        ReadResult line = co_await reader.readline().as_result();
        if (!line.ok() || line->empty()) break;
        writer.write(std::move(*line));
        const Status drained = co_await writer.drain().as_result();
        if (!drained.ok()) break;
      }
      break;
    case Behaviour::kEchoBytes:
      for (;;) {
        ReadResult data = co_await reader.read(64 * 1024).as_result();
        if (!data.ok() || data->empty()) break;
        writer.write(std::move(*data));
        const Status drained = co_await writer.drain().as_result();
        if (!drained.ok()) break;
      }
      break;
    case Behaviour::kReadToEofThenAnswer: {
      ReadResult all = co_await reader.read(-1).as_result();
      if (all.ok()) {
        writer.write("received " + std::to_string(all->size()) + " bytes\n");
        (void)co_await writer.drain().as_result();
      }
      break;
    }
    case Behaviour::kCloseAtOnce:
    case Behaviour::kHold:
      break;
  }
  writer.close();
}

}  // namespace sluice::scenarios

#endif  // SLUICE_CONFORMANCE_SCENARIOS_CORO_SUPPORT_H_
