// File: backends/libevent/callback.h
//
// Callback<R(Args...)>: a move-only, type-erased callable, what the callback
// forms of the libevent backend take (reader.readline(cb), writer.drain(cb),
// open_connection(..., cb), server.wait_closed(cb)). Unlike std::function it
// accepts move-only callables (a lambda capturing a std::unique_ptr or a
// StreamWriter moved in). C++20 has no std::move_only_function.
//
// Example:
//   Callback<void(ReadResult)> cb = [w = std::move(writer)](ReadResult r) mutable {...};
//   cb(ReadResult(std::string("x")));
//
// Calling an empty Callback is a precondition violation. Not thread-safe
// (nothing in this backend is; see streams.h).

#ifndef SLUICE_BACKENDS_LIBEVENT_CALLBACK_H_
#define SLUICE_BACKENDS_LIBEVENT_CALLBACK_H_

#include <cassert>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace sluice::libevent_backend {

template <typename Signature>
class Callback;

template <typename R, typename... Args>
class Callback<R(Args...)> {
 public:
  Callback() = default;
  Callback(std::nullptr_t) {}  // NOLINT: an empty Callback, like std::function

  // Callback(f): wraps any callable invocable as R(Args...) (moved or copied
  // in).
  template <typename F>
    requires(!std::is_same_v<std::decay_t<F>, Callback> &&
             std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
  Callback(F&& f)  // NOLINT: implicit, like std::function
      : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f))) {}

  Callback(Callback&&) noexcept = default;
  Callback& operator=(Callback&&) noexcept = default;
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;

  explicit operator bool() const { return impl_ != nullptr; }

  // operator(): calls it. Precondition: not empty.
  R operator()(Args... args) {
    assert(impl_);
    return impl_->call(std::forward<Args>(args)...);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual R call(Args&&... args) = 0;
  };
  template <typename F>
  struct Impl final : Base {
    template <typename G>
    explicit Impl(G&& g) : f(std::forward<G>(g)) {}
    R call(Args&&... args) override { return std::invoke(f, std::forward<Args>(args)...); }
    F f;
  };

  std::unique_ptr<Base> impl_;
};

}  // namespace sluice::libevent_backend

#endif  // SLUICE_BACKENDS_LIBEVENT_CALLBACK_H_
