// File: core/testing/manual_executor.h
//
// ManualExecutor: an Executor (core/coro/executor.h) for tests. post() only
// queues; the test runs the queue by hand, so it sees exactly which
// resumptions a driver call caused and that none ran inside it. wake() is
// counted (the test drivers re-ask every connection each round anyway).
//
// Example:
//   ManualExecutor ex;
//   AsyncConnection conn(ex);
//   Task<std::string> t = read_line(conn);
//   t.start();                                   // suspends in readline
//   conn.dispatch(conn.connection().data_received("hi\n"));
//   EXPECT_FALSE(t.done());                      // posted, not resumed
//   ex.run();
//   EXPECT_EQ(t.result(), "hi\n");

#ifndef SLUICE_CORE_TESTING_MANUAL_EXECUTOR_H_
#define SLUICE_CORE_TESTING_MANUAL_EXECUTOR_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "core/coro/executor.h"

namespace sluice::testing {

class ManualExecutor : public Executor {
 public:
  void post(std::coroutine_handle<> h) override { ready_.push_back(h); }
  void wake(Connection&) override { ++wakes_; }

  // run: resume queued coroutines (including ones they post) until the
  // queue is empty. Returns how many ran.
  std::size_t run() {
    std::size_t n = 0;
    while (!ready_.empty()) {
      std::coroutine_handle<> h = ready_.front();
      ready_.pop_front();
      h.resume();
      ++n;
    }
    return n;
  }

  // drop_queued: forget the queued resumptions (before destroying their
  // coroutines in a test).
  void drop_queued() { ready_.clear(); }

  // run_queued: resume only the coroutines queued now (what they post waits
  // for the next call): one "loop iteration". Returns how many ran.
  std::size_t run_queued() {
    std::size_t n = ready_.size();
    for (std::size_t i = 0; i < n; ++i) {
      std::coroutine_handle<> h = ready_.front();
      ready_.pop_front();
      h.resume();
    }
    return n;
  }

  std::size_t queued() const { return ready_.size(); }
  std::uint64_t wakes() const { return wakes_; }

 private:
  std::deque<std::coroutine_handle<>> ready_;
  std::uint64_t wakes_ = 0;
};

}  // namespace sluice::testing

#endif  // SLUICE_CORE_TESTING_MANUAL_EXECUTOR_H_
