// File: examples/libevent/run.h
//
// run_main: asyncio.run() for the libevent examples: makes an event_base,
// runs the sluice coroutine `main(base)` on it until the loop has nothing
// left to do (main, and everything it started, has ended), then frees the
// base.
//
// Example:
//   sluice::Task<void> say_hello(event_base* base);
//   int main() { return run_main("hello", say_hello); }
//   // with arguments: a plain lambda that returns the coroutine's Task
//   run_main("client", [&](event_base* base) { return client(base, host, port); });
//
// Returns the exit status: 0, or 1 after printing "PROGRAM: WHAT" on
// standard error when an exception escapes `main` (e.g. a std::system_error
// for a refused connection).

#ifndef SLUICE_EXAMPLES_LIBEVENT_RUN_H_
#define SLUICE_EXAMPLES_LIBEVENT_RUN_H_

#include <event2/event.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <stdexcept>
#include <utility>

#include "core/coro/task.h"

namespace sluice::examples {

template <typename Main>
int run_main(const char* program, Main&& main) {
  event_base* base = event_base_new();
  if (base == nullptr) {
    std::fprintf(stderr, "%s: cannot create an event_base\n", program);
    return 1;
  }
  int status = 0;
  {
    Task<void> task = std::invoke(std::forward<Main>(main), base);
    task.start();
    event_base_dispatch(base);  // until nothing is left on the loop
    try {
      if (!task.done()) throw std::runtime_error("the loop ran dry before main ended");
      task.result();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", program, e.what());
      status = 1;
    } catch (...) {
      std::fprintf(stderr, "%s: unknown exception\n", program);
      status = 1;
    }
  }
  event_base_free(base);
  return status;
}

}  // namespace sluice::examples

#endif  // SLUICE_EXAMPLES_LIBEVENT_RUN_H_
