#include "core/coro/async_connection.h"

#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "core/coro/stream_exceptions.h"
#include "core/coro/task.h"
#include "core/testing/manual_executor.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using testing::ManualExecutor;

const std::error_code kReset = std::make_error_code(std::errc::connection_reset);

Task<std::string> ReadLine(AsyncConnection& c) { co_return co_await c.reader().readline(); }

class AsyncConnectionTest : public ::testing::Test {
 protected:
  // Driver side, by hand: call in and hand the completions over.
  void Feed(std::string_view data) { conn_.dispatch(conn_.connection().data_received(data)); }
  void FeedEof() { conn_.dispatch(conn_.connection().eof_received()); }
  void Lose(std::error_code error = {}) {
    conn_.dispatch(conn_.connection().connection_lost(error));
  }
  void SendAll() {
    conn_.dispatch(conn_.connection().bytes_sent(conn_.writer().get_write_buffer_size()));
  }

  ManualExecutor ex_;
  AsyncConnection conn_{ex_};
};

TEST_F(AsyncConnectionTest, ReadCompletesWithoutSuspendingWhenDataIsBuffered) {
  Feed("ready\n");
  Task<std::string> t = ReadLine(conn_);
  t.start();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(ex_.queued(), 0u);
  EXPECT_EQ(t.result(), "ready\n");
}

TEST_F(AsyncConnectionTest, ReadSuspendsAndIsResumedThroughTheExecutorNotInsideTheDriver) {
  Task<std::string> t = ReadLine(conn_);
  t.start();
  ASSERT_FALSE(t.done());
  Feed("hel");
  EXPECT_EQ(ex_.queued(), 0u);
  Feed("lo\n");
  EXPECT_FALSE(t.done());  // completed, posted, not resumed inside dispatch
  EXPECT_EQ(ex_.queued(), 1u);
  ex_.run();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), "hello\n");
}

TEST_F(AsyncConnectionTest, EveryReadKindIsAwaitable) {
  auto reads = [](AsyncConnection& c) -> Task<std::vector<std::string>> {
    // A named array: GCC 12 rejects a braced list inside co_await.
    static constexpr std::string_view kLineEnds[] = {"\r\n", "\n"};
    std::vector<std::string> out;
    out.push_back(co_await c.reader().read(3));
    out.push_back(co_await c.reader().readexactly(4));
    out.push_back(co_await c.reader().readuntil("::"));
    out.push_back(co_await c.reader().readuntil(kLineEnds));
    out.push_back(co_await c.reader().readline());
    out.push_back(co_await c.reader().read());
    co_return out;
  };
  Task<std::vector<std::string>> t = reads(conn_);
  t.start();
  Feed("abcdefgx::y\r\nline\nrest");
  FeedEof();
  ex_.run();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(),
            (std::vector<std::string>{"abc", "defg", "x::", "y\r\n", "line\n", "rest"}));
}

TEST_F(AsyncConnectionTest, IncompleteReadThrowsWithPartialAndExpected) {
  auto read = [](AsyncConnection& c) -> Task<std::string> {
    try {
      co_await c.reader().readexactly(10);
    } catch (const IncompleteReadError& e) {
      co_return e.partial() + "/" + std::to_string(*e.expected());
    }
    co_return "no error";
  };
  Task<std::string> t = read(conn_);
  t.start();
  Feed("1234");
  FeedEof();
  ex_.run();
  EXPECT_EQ(t.result(), "1234/10");
}

TEST_F(AsyncConnectionTest, LimitOverrunThrowsWithConsumed) {
  AsyncConnection small(ex_, ConnectionOptions{.limit = 3});
  (void)small.connection().data_received("abcdef\n");
  auto read = [](AsyncConnection& c) -> Task<std::size_t> {
    try {
      co_await c.reader().readuntil("\n");
    } catch (const LimitOverrunError& e) {
      co_return e.consumed();
    }
    co_return 0;
  };
  Task<std::size_t> t = read(small);
  t.start();
  EXPECT_EQ(t.result(), 6u);
}

TEST_F(AsyncConnectionTest, ConnectionLossThrowsConnectionErrorWithTheCause) {
  Task<std::string> t = ReadLine(conn_);
  t.start();
  Lose(kReset);
  ex_.run();
  ASSERT_TRUE(t.done());
  try {
    t.result();
    FAIL() << "no exception";
  } catch (const ConnectionError& e) {
    EXPECT_EQ(e.code(), kReset);
  }
}

TEST_F(AsyncConnectionTest, AsResultReturnsErrorsAsValues) {
  auto read = [](AsyncConnection& c) -> Task<ReadResult> {
    co_return co_await c.reader().readexactly(10).as_result();
  };
  Task<ReadResult> t = read(conn_);
  t.start();
  Feed("12");
  FeedEof();
  ex_.run();
  ReadResult r = t.result();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), StreamError::incomplete_read("12", 10));
}

TEST_F(AsyncConnectionTest, SecondWaitingReadThrowsConcurrentRead) {
  Task<std::string> first = ReadLine(conn_);
  first.start();
  auto second = [](AsyncConnection& c) -> Task<ReadResult> {
    co_return co_await c.reader().read(5).as_result();
  };
  Task<ReadResult> t = second(conn_);
  t.start();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result().error().code, StreamErrc::kConcurrentRead);
  Feed("x\n");
  ex_.run();
  EXPECT_EQ(first.result(), "x\n");
}

TEST_F(AsyncConnectionTest, NextLineIteratesLikeAsyncFor) {
  auto collect = [](AsyncConnection& c) -> Task<std::vector<std::string>> {
    std::vector<std::string> lines;
    while (std::optional<std::string> line = co_await c.reader().next_line()) {
      lines.push_back(std::move(*line));
    }
    co_return lines;
  };
  Task<std::vector<std::string>> t = collect(conn_);
  t.start();
  Feed("a\nb");
  Feed("\nc");
  FeedEof();
  ex_.run();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), (std::vector<std::string>{"a\n", "b\n", "c"}));
}

TEST_F(AsyncConnectionTest, NextLinePropagatesErrors) {
  auto collect = [](AsyncConnection& c) -> Task<int> {
    int n = 0;
    while (co_await c.reader().next_line()) ++n;
    co_return n;
  };
  Task<int> t = collect(conn_);
  t.start();
  Feed("one\n");
  Lose(kReset);
  ex_.run();
  EXPECT_THROW(t.result(), ConnectionError);
}

TEST_F(AsyncConnectionTest, DestroyingAWaitingReaderWithdrawsTheRead) {
  {
    Task<std::string> t = ReadLine(conn_);
    t.start();
    ASSERT_TRUE(conn_.connection().reader().has_pending_read());
  }
  EXPECT_FALSE(conn_.connection().reader().has_pending_read());
  Feed("kept\n");  // completes nothing, loses nothing
  EXPECT_EQ(ex_.queued(), 0u);
  Task<std::string> again = ReadLine(conn_);
  again.start();
  EXPECT_EQ(again.result(), "kept\n");
}

// ---- writer --------------------------------------------------------------------

Task<void> Drain(AsyncConnection& c) { co_await c.writer().drain(); }

TEST_F(AsyncConnectionTest, DrainDoesNotSuspendBelowTheHighMark) {
  conn_.writer().write("small");
  Task<void> t = Drain(conn_);
  t.start();
  EXPECT_TRUE(t.done());
}

TEST_F(AsyncConnectionTest, SeveralDrainsWaitAndAreReleasedTogetherInOrder) {
  std::vector<int> order;
  auto drain = [](AsyncConnection& c, std::vector<int>& order, int id) -> Task<void> {
    co_await c.writer().drain();
    order.push_back(id);
  };
  conn_.writer().write(std::string(kDefaultHighWater + 1, 'x'));
  std::vector<Task<void>> tasks;
  for (int i = 0; i < 10; ++i) {
    tasks.push_back(drain(conn_, order, i));
    tasks.back().start();
  }
  EXPECT_TRUE(order.empty());
  SendAll();
  EXPECT_EQ(ex_.queued(), 10u);
  ex_.run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  for (Task<void>& t : tasks) t.result();
}

TEST_F(AsyncConnectionTest, DrainThrowsWhenTheConnectionFails) {
  conn_.writer().write(std::string(kDefaultHighWater + 1, 'x'));
  Task<void> t = Drain(conn_);
  t.start();
  Lose(kReset);
  ex_.run();
  EXPECT_THROW(t.result(), ConnectionError);
}

TEST_F(AsyncConnectionTest, DrainAsResultReturnsTheStatus) {
  conn_.writer().close();
  auto drain = [](AsyncConnection& c) -> Task<Status> {
    co_return co_await c.writer().drain().as_result();
  };
  Task<Status> t = drain(conn_);
  t.start();
  ASSERT_FALSE(t.done());  // the one yield: waits for the loss
  Lose();
  ex_.run();
  EXPECT_EQ(t.result(), Status(StreamError::connection(kReset, "Connection lost")));
}

TEST_F(AsyncConnectionTest, DestroyingAWaitingDrainForgetsIt) {
  conn_.writer().write(std::string(kDefaultHighWater + 1, 'x'));
  {
    Task<void> t = Drain(conn_);
    t.start();
  }
  SendAll();
  EXPECT_EQ(ex_.queued(), 0u);
}

TEST_F(AsyncConnectionTest, ReleasedDrainsLeaveWaitClosedsWaiting) {
  auto waiter = [](AsyncConnection& c) -> Task<void> { co_await c.writer().wait_closed(); };
  Task<void> closed = waiter(conn_);
  closed.start();
  conn_.writer().write(std::string(kDefaultHighWater + 1, 'x'));
  Task<void> drained = Drain(conn_);
  drained.start();
  SendAll();
  ex_.run();
  EXPECT_TRUE(drained.done());
  EXPECT_FALSE(closed.done());
}

TEST_F(AsyncConnectionTest, DestroyingAWaiterAmongOthersKeepsTheRestInOrder) {
  std::vector<int> order;
  auto drain = [](AsyncConnection& c, std::vector<int>& order, int id) -> Task<void> {
    co_await c.writer().drain();
    order.push_back(id);
  };
  auto waiter = [](AsyncConnection& c) -> Task<void> { co_await c.writer().wait_closed(); };
  conn_.writer().write(std::string(kDefaultHighWater + 1, 'x'));
  std::vector<Task<void>> tasks;
  for (int i = 0; i < 4; ++i) {
    tasks.push_back(drain(conn_, order, i));
    tasks.back().start();
    tasks.push_back(waiter(conn_));
    tasks.back().start();
  }
  tasks[2] = Task<void>();  // drain 1, in the middle: forgotten
  tasks[0] = Task<void>();  // drain 0, at the front
  SendAll();
  ex_.run();
  EXPECT_EQ(order, (std::vector<int>{2, 3}));
  Lose();
  ex_.run();
  for (std::size_t i : {1u, 3u, 5u, 7u}) EXPECT_TRUE(tasks[i].done());
}

TEST_F(AsyncConnectionTest, WaitClosedCompletesWhenTheConnectionIsLost) {
  auto closer = [](AsyncConnection& c) -> Task<void> {
    c.writer().close();
    co_await c.writer().wait_closed();
  };
  Task<void> t = closer(conn_);
  t.start();
  ASSERT_FALSE(t.done());
  EXPECT_EQ(conn_.connection().write_action(), WriteAction::kClose);
  Lose();
  ex_.run();
  ASSERT_TRUE(t.done());
  t.result();
}

TEST_F(AsyncConnectionTest, WaitClosedThrowsTheLossError) {
  auto waiter = [](AsyncConnection& c) -> Task<void> { co_await c.writer().wait_closed(); };
  Task<void> t = waiter(conn_);
  t.start();
  Lose(kReset);
  ex_.run();
  EXPECT_THROW(t.result(), ConnectionError);
}

TEST_F(AsyncConnectionTest, WriteAfterWriteEofThrowsAndTryWriteReturnsTheError) {
  conn_.writer().write_eof();
  EXPECT_THROW(conn_.writer().write("late"), StreamException);
  EXPECT_EQ(conn_.writer().try_write("late").error().code, StreamErrc::kWriteAfterEof);
}

TEST_F(AsyncConnectionTest, InvalidWaterMarksThrow) {
  EXPECT_THROW(conn_.writer().set_write_buffer_limits(1, 2), StreamException);
  conn_.writer().set_write_buffer_limits(100);
  EXPECT_EQ(conn_.writer().get_write_buffer_limits(), (WriteBufferLimits{25, 100}));
}

TEST_F(AsyncConnectionTest, UserCallsThatChangeWhatTheDriverSeesWakeIt) {
  const std::uint64_t base = ex_.wakes();
  conn_.writer().write("first");  // idle -> send
  EXPECT_EQ(ex_.wakes(), base + 1);
  conn_.writer().write("second");  // still send: no news
  EXPECT_EQ(ex_.wakes(), base + 1);
  conn_.writer().close();  // stops reading
  EXPECT_EQ(ex_.wakes(), base + 2);
}

TEST_F(AsyncConnectionTest, AReadThatResumesReadingWakesTheDriver) {
  AsyncConnection small(ex_, ConnectionOptions{.limit = 2});
  (void)small.connection().data_received("12345");  // > 2*limit: paused
  ASSERT_FALSE(small.connection().want_read());
  const std::uint64_t base = ex_.wakes();
  auto read = [](AsyncConnection& c) -> Task<std::string> {
    co_return co_await c.reader().read(4);
  };
  Task<std::string> t = read(small);
  t.start();
  EXPECT_EQ(t.result(), "1234");
  EXPECT_TRUE(small.connection().want_read());
  EXPECT_EQ(ex_.wakes(), base + 1);
}


TEST_F(AsyncConnectionTest, HandshakeOfAPlainConnectionCompletesAtOnce) {
  auto wait = [](AsyncConnection& c) -> Task<Status> { co_return co_await c.handshake().as_result(); };
  Task<Status> t = wait(conn_);
  t.start();
  ASSERT_TRUE(t.done());
  EXPECT_EQ(t.result(), Status(Ok{}));
  EXPECT_EQ(conn_.tls(), nullptr);
}

}  // namespace
}  // namespace sluice
