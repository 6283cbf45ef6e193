#include "core/coro/task.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/testing/manual_executor.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using testing::ManualExecutor;

// Suspends once; the executor resumes it.
struct Yield {
  ManualExecutor& ex;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { ex.post(h); }
  void await_resume() const noexcept {}
};

Task<int> Value(std::vector<std::string>& log, int v) {
  log.push_back("value runs");
  co_return v;
}

Task<int> YieldThenValue(ManualExecutor& ex, int v) {
  co_await Yield{ex};
  co_return v;
}

Task<void> Throws() {
  throw std::runtime_error("boom");
  co_return;
}

Task<int> Sum(ManualExecutor& ex, std::vector<std::string>& log) {
  int a = co_await Value(log, 1);
  int b = co_await YieldThenValue(ex, 2);
  co_return a + b;
}

TEST(TaskTest, IsLazyNothingRunsUntilStarted) {
  std::vector<std::string> log;
  Task<int> t = Value(log, 7);
  EXPECT_TRUE(log.empty());
  EXPECT_FALSE(t.started());
  t.start();
  EXPECT_EQ(log.size(), 1u);
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), 7);
}

TEST(TaskTest, AwaitingStartsTheTaskAndReturnsItsValue) {
  ManualExecutor ex;
  std::vector<std::string> log;
  Task<int> t = Sum(ex, log);
  t.start();
  EXPECT_FALSE(t.done());  // suspended in the inner Yield
  ex.run();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), 3);
}

TEST(TaskTest, ExceptionPropagatesToTheJoiner) {
  auto outer = []() -> Task<std::string> {
    try {
      co_await Throws();
    } catch (const std::runtime_error& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not thrown";
  };
  Task<std::string> t = outer();
  t.start();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), "caught boom");
}

TEST(TaskTest, ResultRethrowsForAStartedTask) {
  Task<void> t = Throws();
  t.start();
  ASSERT_TRUE(t.done());
  EXPECT_THROW(t.result(), std::runtime_error);
}

TEST(TaskTest, JoiningAnAlreadyStartedTaskWaitsForItsEnd) {
  ManualExecutor ex;
  Task<int> inner = YieldThenValue(ex, 5);
  inner.start();
  ASSERT_FALSE(inner.done());
  auto joiner = [](Task<int>& t) -> Task<int> { co_return co_await t + 1; };
  Task<int> outer = joiner(inner);
  outer.start();
  EXPECT_FALSE(outer.done());
  ex.run();
  ASSERT_TRUE(outer.done());
  EXPECT_EQ(outer.result(), 6);
}

TEST(TaskTest, JoiningAFinishedTaskDoesNotSuspend) {
  std::vector<std::string> log;
  Task<int> inner = Value(log, 4);
  inner.start();
  ASSERT_TRUE(inner.done());
  auto joiner = [](Task<int>& t) -> Task<int> { co_return co_await t; };
  Task<int> outer = joiner(inner);
  outer.start();
  ASSERT_TRUE(outer.done());
  EXPECT_EQ(outer.result(), 4);
}

TEST(TaskTest, MoveOnlyResultsAreMovedOut) {
  auto make = []() -> Task<std::unique_ptr<int>> { co_return std::make_unique<int>(9); };
  Task<std::unique_ptr<int>> t = make();
  t.start();
  std::unique_ptr<int> p = t.result();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 9);
}

TEST(TaskTest, DestroyingASuspendedTaskDestroysItsFrame) {
  ManualExecutor ex;
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  auto holder = [](ManualExecutor& ex, std::shared_ptr<int> p) -> Task<void> {
    co_await Yield{ex};
    (void)p;
  };
  {
    Task<void> t = holder(ex, std::move(alive));
    t.start();
    EXPECT_FALSE(watch.expired());
    // Drop the posted resumption first: a Task must not die with one queued.
    ex.drop_queued();
  }
  EXPECT_TRUE(watch.expired());
}

TEST(TaskTest, ALoopOfTasksThatFinishAtOnceRunsInConstantStack) {
  // A million joins of tasks that never suspend: at -O0 too, where GCC 12
  // does not turn symmetric transfer into a tail call.
  auto one = []() -> Task<int> { co_return 1; };
  auto loop = [&one]() -> Task<long> {
    long sum = 0;
    for (int i = 0; i < 1'000'000; ++i) sum += co_await one();
    co_return sum;
  };
  Task<long> t = loop();
  t.start();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), 1'000'000);
}

TEST(TaskTest, ALoopOfTasksThatSuspendRunsInConstantStack) {
  ManualExecutor ex;
  auto loop = [&ex]() -> Task<long> {
    long sum = 0;
    for (int i = 0; i < 100'000; ++i) sum += co_await YieldThenValue(ex, 1);
    co_return sum;
  };
  Task<long> t = loop();
  t.start();
  ex.run();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), 100'000);
}

}  // namespace
}  // namespace sluice
