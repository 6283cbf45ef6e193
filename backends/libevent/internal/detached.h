// File: backends/libevent/internal/detached.h
//
// The coroutine plumbing behind the libevent backend's callback forms and
// servers. Private to the backend.
//
//   Detached      a fire-and-forget coroutine: starts at once, destroys itself
//                 when it ends. An exception escaping it is logged ("Exception
//                 in callback: WHAT", asyncio's wording for a failing
//                 callback) and dropped. Its frame must own everything it uses
//                 (take parameters by value).
//   Yield         co_await Yield{loop}: suspend and resume in the next loop
//                 turn (asyncio's `await sleep(0)`).
//   Tracked<Op>   wraps an awaitable and records whether it suspended, so a
//                 callback whose operation completed at once can be deferred
//                 to the next turn (a callback never runs inside the call that
//                 started its operation).
//
// Example (what reader.readline(cb) does):
//   Detached readline_then(StreamReader keep, Callback<void(ReadResult)> cb) {
//     Tracked<ReadResultOp> op{keep_async_reader.readline().as_result()};
//     ReadResult r = co_await op;
//     if (!op.suspended) co_await Yield{&loop};
//     cb(std::move(r));
//   }
//
// Threading: the event_base's thread only.

#ifndef SLUICE_BACKENDS_LIBEVENT_INTERNAL_DETACHED_H_
#define SLUICE_BACKENDS_LIBEVENT_INTERNAL_DETACHED_H_

#include <coroutine>
#include <exception>

#include "backends/libevent/internal/loop_context.h"

namespace sluice::libevent_backend_internal {

// describe: what() of an exception, or "unknown exception".
const char* describe(const std::exception_ptr& e) noexcept;

struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept;
  };
};

struct Yield {
  LoopContext* loop;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { loop->post(h); }
  void await_resume() const noexcept {}
};

// Op must be an awaitable whose await_suspend returns bool.
template <typename Op>
struct Tracked {
  Op op;
  bool suspended = false;

  bool await_ready() noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    suspended = op.await_suspend(h);
    return suspended;
  }
  decltype(auto) await_resume() { return op.await_resume(); }
};

}  // namespace sluice::libevent_backend_internal

#endif  // SLUICE_BACKENDS_LIBEVENT_INTERNAL_DETACHED_H_
