// File: examples/asio/run.h
//
// run_main: asyncio.run() for the Asio examples: runs the coroutine `main` on
// a new io_context until it (and everything it started) ends.
//
// Example:
//   int main() { return run_main("hello", say_hello()); }
//
// Returns the exit status: 0, or 1 after printing "PROGRAM: WHAT" on
// standard error when an exception escapes `main` (e.g. a std::system_error
// for a refused connection).

#ifndef SLUICE_EXAMPLES_ASIO_RUN_H_
#define SLUICE_EXAMPLES_ASIO_RUN_H_

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

namespace sluice::examples {

inline int run_main(const char* program, asio::awaitable<void> main) {
  asio::io_context io;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(main), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (!error) return 0;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: unknown exception\n", program);
  }
  return 1;
}

}  // namespace sluice::examples

#endif  // SLUICE_EXAMPLES_ASIO_RUN_H_
