#include "backends/libevent/internal/detached.h"

#include <cstdio>

namespace sluice::libevent_backend_internal {

const char* describe(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
  }
  return "unknown exception";
}

void Detached::promise_type::unhandled_exception() noexcept {
  std::fprintf(stderr, "Exception in callback: %s\n", describe(std::current_exception()));
}

}  // namespace sluice::libevent_backend_internal
