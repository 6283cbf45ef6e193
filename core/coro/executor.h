// File: core/coro/executor.h
//
// Executor: everything the coroutine layer (core/coro/) needs from an event
// loop. A driver implements it once per loop (Asio: asio::post on the
// connection's executor; libevent: event_active on a ready queue; a test: a
// queue it runs by hand, see core/testing/manual_executor.h).
//
// Two hooks, and why the second one exists: the brief for this layer was "an
// executor hook to schedule a resumption", which is post(). But user code
// also changes what a connection wants from its driver - write() queues
// bytes, close() asks for a close, a read that drains the buffer resumes
// reading - and nothing else tells the driver so: the core never calls out,
// and a coroutine that writes to connection B may run while the driver is busy
// with connection A (a proxy). wake() is that notice. A loop that re-asks
// every connection after every posted job may implement it as a no-op.
//
// Re-entrancy: AsyncConnection calls post() from inside dispatch(), i.e.
// inside the driver's own call; post() must only queue `h`, never resume it
// there - that is the whole point (user code never runs inside a driver
// callback). wake() is called from user code (inside a resumption or a
// Task::start), never from inside dispatch(); the driver may act on it at
// once (send, read, close - the connection is consistent) or later.
//
// Threading: the executor, its connections and their coroutines live on one
// thread.

#ifndef SLUICE_CORE_CORO_EXECUTOR_H_
#define SLUICE_CORE_CORO_EXECUTOR_H_

#include <coroutine>

namespace sluice {

class Connection;

class Executor {
 public:
  virtual ~Executor() = default;

  // post: resume `h` soon, from the loop - never inside this call.
  virtual void post(std::coroutine_handle<> h) = 0;

  // wake: user code changed what `connection` wants from its driver (its
  // want_read() or write_action() answer). Re-ask it, now or soon.
  virtual void wake(Connection& connection) = 0;
};

}  // namespace sluice

#endif  // SLUICE_CORE_CORO_EXECUTOR_H_
