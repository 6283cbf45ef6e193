// File: core/result.h
//
// Result<T, E>: a value or an error (by default a StreamError), the return
// type of every core operation that can fail (C++20 has no std::expected).
// Cheap to move; throws nothing but std::bad_alloc (when an error is made).
// Other parts reuse it with their own error type (e.g. the conformance
// parsers' ParseError).
//
// Example:
//   Result<std::string> r = ...;
//   if (r.ok()) use(*r); else log(r.error().message());
//
// Layout (issue 8 counts bytes per connection, and Results sit in every
// awaiter and completion): errors are rare, so the error is boxed - kept on
// the heap, one allocation per error made - and a Result is the size of T
// plus one word (ReadResult: 40 bytes, where an inline StreamError made it
// 136). A Result whose T is empty and trivial (Status, i.e. Result<Ok>) is
// the box pointer alone: 8 bytes, null meaning success. Copying a Result
// copies its error (a new box); moving one moves the box.
//
// A moved-from Result that held an error still reports !ok(); its error
// reads as a default-constructed E (valid but unspecified, as a moved-from
// object is; made on first read).

#ifndef SLUICE_CORE_RESULT_H_
#define SLUICE_CORE_RESULT_H_

#include <cassert>
#include <concepts>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/stream_error.h"

namespace sluice {

// Result<void>: success carries nothing.
struct Ok {
  friend bool operator==(Ok, Ok) = default;
};

namespace result_internal {

// The address a moved-from ErrorBox holds: not null (so a moved-from error
// is still an error), never dereferenced.
inline constexpr char kMovedFrom = 0;

// ErrorBox<E>: an E on the heap, with value semantics (copying copies the
// E). Three states: empty (null), holding an E, or moved from.
template <typename E>
class ErrorBox {
 public:
  ErrorBox() noexcept = default;
  template <typename... Args>
  explicit ErrorBox(std::in_place_t, Args&&... args) : p_(new E(std::forward<Args>(args)...)) {}
  ~ErrorBox() { reset(); }

  ErrorBox(const ErrorBox& other)
    requires std::copy_constructible<E>
      : p_(other.holds() ? new E(other.get()) : other.p_) {}
  ErrorBox(ErrorBox&& other) noexcept : p_(other.p_) {
    if (other.holds()) other.p_ = moved_from();
  }
  ErrorBox& operator=(const ErrorBox& other)
    requires std::copy_constructible<E>
  {
    if (this != &other) *this = ErrorBox(other);
    return *this;
  }
  ErrorBox& operator=(ErrorBox&& other) noexcept {
    if (this != &other) {
      reset();
      p_ = other.p_;
      if (other.holds()) other.p_ = moved_from();
    }
    return *this;
  }

  bool empty() const { return p_ == nullptr; }
  bool holds() const { return p_ != nullptr && p_ != moved_from(); }
  // The E; precondition: not empty. A moved-from box reads as a
  // default-constructed E ("valid but unspecified", made on first read).
  E& get() const {
    assert(!empty());
    if (p_ == moved_from()) [[unlikely]] {
      if constexpr (std::is_default_constructible_v<E>) {
        p_ = new E();
      } else {
        assert(false && "the error of a moved-from Result");
        std::abort();
      }
    }
    return *static_cast<E*>(p_);
  }

  // Equal: both hold equal errors, or neither holds one and both are in the
  // same state.
  friend bool operator==(const ErrorBox& a, const ErrorBox& b)
    requires std::equality_comparable<E>
  {
    if (a.holds() && b.holds()) return a.get() == b.get();
    return a.p_ == b.p_;
  }

 private:
  static void* moved_from() { return const_cast<char*>(&kMovedFrom); }
  void reset() {
    if (holds()) delete static_cast<E*>(p_);
    p_ = nullptr;
  }

  // Mutable: get() of a moved-from box makes its E.
  mutable void* p_ = nullptr;
};

// Results of an empty, trivial T (Ok) keep only the box: null is success.
template <typename T>
inline constexpr bool kBoxOnly = std::is_empty_v<T> && std::is_trivially_copyable_v<T> &&
                                 std::is_trivially_default_constructible_v<T>;

// The storage of a Result: T or a boxed E. The general case is a variant
// (ErrorBox is one pointer, so this is sizeof(T) plus the index).
template <typename T, typename E, bool = kBoxOnly<T>>
class Storage {
 public:
  template <typename... Args>
  explicit Storage(std::in_place_index_t<0>, Args&&... args)
      : v_(std::in_place_index<0>, std::forward<Args>(args)...) {}
  template <typename... Args>
  explicit Storage(std::in_place_index_t<1>, Args&&... args)
      : v_(std::in_place_index<1>, std::in_place, std::forward<Args>(args)...) {}

  bool ok() const { return v_.index() == 0; }
  T& value() { return *std::get_if<0>(&v_); }
  const T& value() const { return *std::get_if<0>(&v_); }
  const ErrorBox<E>& box() const { return *std::get_if<1>(&v_); }

 private:
  std::variant<T, ErrorBox<E>> v_;
};

// T empty and trivial: the box alone. `value_` takes no room and is always
// alive (trivial), so value() may return it whatever the state.
template <typename T, typename E>
class Storage<T, E, true> {
 public:
  template <typename... Args>
  explicit Storage(std::in_place_index_t<0>, Args&&... args)
      : value_(std::forward<Args>(args)...) {}
  template <typename... Args>
  explicit Storage(std::in_place_index_t<1>, Args&&... args)
      : box_(std::in_place, std::forward<Args>(args)...) {}

  bool ok() const { return box_.empty(); }
  T& value() { return value_; }
  const T& value() const { return value_; }
  const ErrorBox<E>& box() const { return box_; }

 private:
  ErrorBox<E> box_;
  [[no_unique_address]] T value_;
};

}  // namespace result_internal

template <typename T, typename E = StreamError>
class [[nodiscard]] Result {
 public:
  Result(T value) : s_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(E error)                                                    // NOLINT
      : s_(std::in_place_index<1>, std::move(error)) {}
  // The value built in place from `args` (no temporary T to move; the
  // reader's hot path builds its std::string result this way).
  template <typename... Args>
  explicit Result(std::in_place_t, Args&&... args)
      : s_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool ok() const { return s_.ok(); }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  T& value() & { assert(ok()); return s_.value(); }
  const T& value() const& { assert(ok()); return s_.value(); }
  T&& value() && { assert(ok()); return std::move(s_.value()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Precondition: !ok().
  E& error() & { assert(!ok()); return s_.box().get(); }
  const E& error() const& { assert(!ok()); return s_.box().get(); }
  E&& error() && { assert(!ok()); return std::move(s_.box().get()); }

  friend bool operator==(const Result& a, const Result& b)
    requires std::equality_comparable<T> && std::equality_comparable<E>
  {
    if (a.ok() != b.ok()) return false;
    if (a.ok()) return a.s_.value() == b.s_.value();
    return a.s_.box() == b.s_.box();
  }

 private:
  result_internal::Storage<T, E> s_;
};

using Status = Result<Ok>;

}  // namespace sluice

#endif  // SLUICE_CORE_RESULT_H_
