// File: backends/asio/run_task.h
//
// async_run: run a sluice::Task<void> (core/coro/task.h) on an Asio
// executor, and complete a completion token when it has finished. The bridge
// from Asio's side (asio::awaitable, callbacks, a server's client callback)
// to the coroutine forms of StreamReader / StreamWriter (reader.readline(),
// writer.drain(): see stream_reader.h), which return without suspending when
// the result is ready:
//
//   sluice::Task<void> echo(StreamReader reader, StreamWriter writer) {
//     while (std::optional<std::string> line = co_await reader.next_line()) {
//       writer.write(std::move(*line));
//       co_await writer.drain();
//     }
//     writer.close();
//   }
//   start_server(io.get_executor(), [](StreamReader r, StreamWriter w) -> asio::awaitable<void> {
//     co_await async_run(r.get_executor(), echo(r, w), asio::use_awaitable);
//   }, "127.0.0.1", 8888);
//
// Completion signature: void(std::exception_ptr): null when the task
// returned, else what it threw (asio::use_awaitable rethrows it at the
// co_await, as for co_spawn).
//
// The task starts inside this call and runs until its first suspension (as
// co_spawn does when called from its executor); its later steps run where
// its awaited operations resume it, i.e. on the streams' executor, which must
// be `executor`. The handler is never invoked inside this call: it is posted
// to its associated executor (default: `executor`), even when the task
// finishes without suspending. While the task runs, the operation keeps
// outstanding work on both executors. A task left waiting when the
// execution context is destroyed is not destroyed (its frame leaks, as the
// handlers that would resume it are destroyed without running): end its
// streams first (close or abort them, then run the context until the task
// returns). A server can take a Task handler directly (server.h).
//
// Threading: `executor`'s; not thread-safe.

#ifndef SLUICE_BACKENDS_ASIO_RUN_TASK_H_
#define SLUICE_BACKENDS_ASIO_RUN_TASK_H_

#include <coroutine>
#include <exception>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>

#include "backends/asio/internal/pending_handler.h"
#include "backends/asio/internal/self_owned.h"
#include "core/coro/task.h"

namespace sluice::asio_backend {

namespace asio_run_task_internal {

// run: the task's driver (self-owned: it frees itself when the task ends;
// it catches everything the task throws).
template <typename Handler>
asio_backend_internal::SelfOwned run(asio::any_io_executor executor, Task<void> task,
                                     Handler handler) {
  // Work on both executors while the task runs (io_context::run() must not
  // return under it).
  auto io_work = asio_backend_internal::track_work(executor);
  auto handler_work =
      asio_backend_internal::track_work(asio::get_associated_executor(handler, executor));
  std::exception_ptr error;
  try {
    co_await task;
  } catch (...) {
    error = std::current_exception();
  }
  asio_backend_internal::post_completion(executor, nullptr, std::move(handler), error);
}

struct InitiateRun {
  template <typename Handler>
  void operator()(Handler&& handler, asio::any_io_executor executor, Task<void> task) const {
    run(std::move(executor), std::move(task), std::forward<Handler>(handler));
  }
};

}  // namespace asio_run_task_internal

template <typename Token>
auto async_run(const asio::any_io_executor& executor, Task<void> task, Token&& token) {
  return asio::async_initiate<Token, void(std::exception_ptr)>(
      asio_run_task_internal::InitiateRun{}, token, executor, std::move(task));
}

}  // namespace sluice::asio_backend

#endif  // SLUICE_BACKENDS_ASIO_RUN_TASK_H_
