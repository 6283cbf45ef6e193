// File: core/result.h
//
// Result<T, E>: a value or an error (by default a StreamError), the return
// type of every core operation that can fail (C++20 has no std::expected).
// Cheap to move; never throws. Other parts reuse it with their own error type
// (e.g. the conformance parsers' ParseError).
//
// Example:
//   Result<std::string> r = ...;
//   if (r.ok()) use(*r); else log(r.error().message());

#ifndef SLUICE_CORE_RESULT_H_
#define SLUICE_CORE_RESULT_H_

#include <cassert>
#include <utility>
#include <variant>

#include "core/stream_error.h"

namespace sluice {

template <typename T, typename E = StreamError>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(E error)                                                    // NOLINT
      : v_(std::in_place_index<1>, std::move(error)) {}
  // The value built in place from `args` (no temporary T to move; the
  // reader's hot path builds its std::string result this way).
  template <typename... Args>
  explicit Result(std::in_place_t, Args&&... args)
      : v_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Precondition: !ok().
  E& error() & { assert(!ok()); return std::get<1>(v_); }
  const E& error() const& { assert(!ok()); return std::get<1>(v_); }
  E&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

  friend bool operator==(const Result&, const Result&) = default;

 private:
  std::variant<T, E> v_;
};

// Result<void>: success carries nothing.
struct Ok {
  friend bool operator==(Ok, Ok) = default;
};
using Status = Result<Ok>;

}  // namespace sluice

#endif  // SLUICE_CORE_RESULT_H_
