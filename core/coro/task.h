// File: core/coro/task.h
//
// Task<T>: a coroutine that produces a T (or nothing, Task<void>), and the
// handle to start and join it. Lazy: creating a Task runs nothing.
//
//   - co_await task (from another coroutine): starts it if it has not
//     started, waits until it finishes, then returns its value or rethrows
//     its exception (exceptions propagate to the joiner). A task that
//     finishes without suspending lets its joiner go on at once, without a
//     suspension; one that suspended resumes its joiner when it finishes
//     (symmetric transfer, no executor hop).
//     Why the first case does not rely on symmetric transfer: GCC 12 makes
//     it a tail call only when optimising, so at -O0 a loop awaiting
//     tasks that finish at once would grow the stack on every iteration.
//   - start() (from plain code: main, a test, a server accepting a
//     connection): runs it until its first suspension, inside this call.
//     Then join it with co_await, or poll done() and take result().
//   - Destroying a Task destroys its coroutine wherever it is suspended; an
//     AsyncConnection operation it was waiting on is cancelled (see
//     async_connection.h). A Task must not be destroyed while a resumption
//     for it is already posted to the executor.
//
// Why lazy: a lazy task never runs before someone holds it, so its
// exception always has a joiner, and `co_await make_task()` needs no
// executor. start() covers the eager use.
//
// Example:
//   Task<std::string> greet(AsyncConnection& c) {
//     c.writer().write("hi\n");
//     co_return co_await c.reader().readline();
//   }
//   Task<void> main_task(AsyncConnection& c) { std::string s = co_await greet(c); }
//   Task<void> t = main_task(conn);
//   t.start();                  // runs until the first suspension
//   loop.run_until([&] { return t.done(); });
//   t.result();                 // rethrows if main_task threw
//
// Threading: none; a Task is started, awaited and destroyed on one thread.

#ifndef SLUICE_CORE_CORO_TASK_H_
#define SLUICE_CORE_CORO_TASK_H_

#include <cassert>
#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace sluice {

template <typename T = void>
class Task;

namespace coro_internal {

// The parts of a promise that do not depend on T.
class PromiseBase {
 public:
  std::suspend_always initial_suspend() noexcept { return {}; }

  // At the end: if the joiner is running us inline (Task's awaiter), just
  // return to it; else resume whoever joined (symmetric transfer), or stop.
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
      PromiseBase& p = h.promise();
      if (p.running_inline_) {
        p.finished_inline_ = true;
        return std::noop_coroutine();
      }
      return p.joiner_ ? p.joiner_ : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  void rethrow_if_failed() const {
    if (exception_) std::rethrow_exception(exception_);
  }

  std::coroutine_handle<> joiner_;
  std::exception_ptr exception_;
  bool started_ = false;
  // Set while the joiner's await_suspend runs this task's first part.
  bool running_inline_ = false;
  // It finished during that first part.
  bool finished_inline_ = false;
};

template <typename T>
class Promise : public PromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& value) {
    value_.emplace(std::forward<U>(value));
  }
  T take() {
    rethrow_if_failed();
    assert(value_.has_value());
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class Promise<void> : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() { rethrow_if_failed(); }
};

}  // namespace coro_internal

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = coro_internal::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  // valid: holds a coroutine (not default-constructed or moved from).
  bool valid() const { return static_cast<bool>(handle_); }
  // started: start() or co_await has run it.
  bool started() const { return handle_ && handle_.promise().started_; }
  // done: it finished (returned or threw).
  bool done() const { return handle_ && handle_.done(); }

  // start: run until the first suspension, inside this call. Precondition:
  // valid() and not started().
  void start() {
    assert(valid() && !started());
    handle_.promise().started_ = true;
    handle_.resume();
  }

  // result: its value, or rethrows its exception. Precondition: done().
  // Call it once (the value is moved out).
  T result() {
    assert(done());
    return handle_.promise().take();
  }

  // co_await task: start if needed, wait, return the value or rethrow.
  // One joiner at most.
  auto operator co_await() noexcept {
    struct Awaiter {
      Handle handle;
      bool await_ready() const noexcept { return handle.done(); }
      // Returns false (do not suspend) if the task finished at once.
      bool await_suspend(std::coroutine_handle<> joiner) {
        promise_type& p = handle.promise();
        assert(!p.joiner_ && "a Task has one joiner");
        p.joiner_ = joiner;
        if (p.started_) return true;  // it runs elsewhere; its end resumes us
        p.started_ = true;
        p.running_inline_ = true;
        handle.resume();  // until its first suspension or its end
        p.running_inline_ = false;
        return !p.finished_inline_;
      }
      T await_resume() { return handle.promise().take(); }
    };
    assert(valid());
    return Awaiter{handle_};
  }

 private:
  friend class coro_internal::Promise<T>;
  explicit Task(Handle h) : handle_(h) {}
  void reset() {
    if (handle_) handle_.destroy();
    handle_ = {};
  }

  Handle handle_;
};

namespace coro_internal {

template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}

inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

}  // namespace coro_internal

}  // namespace sluice

#endif  // SLUICE_CORE_CORO_TASK_H_
