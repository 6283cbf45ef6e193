// File: backends/asio/internal/self_owned.h
//
// SelfOwned: the return type of a coroutine that starts at once and frees its
// own frame when it ends: the driver of a sluice::Task run from Asio's side
// (run_task.h's async_run, a server's Task client callback). Such a
// coroutine owns everything it uses (its parameters are by value) and must
// catch every exception (one escaping it terminates). Private to the backend.
//
// ResumeOn{executor}: co_await it to continue in a handler posted to
// `executor` (so a Task starts from the loop, as co_spawn starts a
// coroutine). The posted handler owns the frame until it resumes it: if the
// context is destroyed before it runs, the frame is destroyed.
//
// Threading: the executor's.

#ifndef SLUICE_BACKENDS_ASIO_INTERNAL_SELF_OWNED_H_
#define SLUICE_BACKENDS_ASIO_INTERNAL_SELF_OWNED_H_

#include <coroutine>
#include <exception>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/post.hpp>

namespace sluice::asio_backend_internal {

struct SelfOwned {
  struct promise_type {
    SelfOwned get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

struct ResumeOn {
  // Resumer: the posted handler; owns the frame until it resumes it.
  struct Resumer {
    std::coroutine_handle<> h;
    explicit Resumer(std::coroutine_handle<> handle) : h(handle) {}
    Resumer(Resumer&& other) noexcept : h(std::exchange(other.h, {})) {}
    Resumer& operator=(Resumer&&) = delete;
    ~Resumer() {
      if (h) h.destroy();
    }
    void operator()() { std::exchange(h, {}).resume(); }
  };

  asio::any_io_executor executor;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { asio::post(executor, Resumer(h)); }
  void await_resume() const noexcept {}
};

}  // namespace sluice::asio_backend_internal

#endif  // SLUICE_BACKENDS_ASIO_INTERNAL_SELF_OWNED_H_
