// File: core/result.h
//
// Result<T>: a value or a StreamError, the return type of every core operation
// that can fail (C++20 has no std::expected). Cheap to move; never throws.
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

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(StreamError error)                                          // NOLINT
      : v_(std::in_place_index<1>, std::move(error)) {}

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
  StreamError& error() & { assert(!ok()); return std::get<1>(v_); }
  const StreamError& error() const& { assert(!ok()); return std::get<1>(v_); }
  StreamError&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

  friend bool operator==(const Result&, const Result&) = default;

 private:
  std::variant<T, StreamError> v_;
};

// Result<void>: success carries nothing.
struct Ok {
  friend bool operator==(Ok, Ok) = default;
};
using Status = Result<Ok>;

}  // namespace sluice

#endif  // SLUICE_CORE_RESULT_H_
