#include "backends/asio/internal/handler_queue.h"

#include <memory>
#include <system_error>
#include <vector>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

namespace sluice::asio_backend_internal {
namespace {

using Queue = HandlerQueue<std::error_code>;

// handler: a pending handler that records `id` in `ran` when invoked.
std::unique_ptr<PendingHandler<std::error_code>> handler(asio::io_context& io, std::vector<int>& ran,
                                                         int id) {
  return make_pending_handler<std::error_code>([&ran, id](std::error_code) { ran.push_back(id); },
                                               io.get_executor());
}

// complete_all: pop and complete every handler, then run what they posted
// (poll: other queues may still hold work).
void complete_all(asio::io_context& io, Queue& queue) {
  while (std::unique_ptr<PendingHandler<std::error_code>> h = queue.pop()) h->complete({});
  io.poll();
  io.restart();
}

TEST(HandlerQueueTest, PopsHandlersInTheOrderTheyWerePushed) {
  asio::io_context io;
  std::vector<int> ran;
  Queue queue;
  for (int id = 1; id <= 3; ++id) queue.push(handler(io, ran, id));
  complete_all(io, queue);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(queue.empty());
}

TEST(HandlerQueueTest, PushesBetweenPopsKeepTheOrder) {
  asio::io_context io;
  std::vector<int> ran;
  Queue queue;
  queue.push(handler(io, ran, 1));
  queue.push(handler(io, ran, 2));
  queue.pop()->complete({});
  queue.push(handler(io, ran, 3));
  complete_all(io, queue);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST(HandlerQueueTest, RemoveUnlinksTheFirstTheMiddleOrTheLastAndKeepsTheOrder) {
  for (int victim = 1; victim <= 3; ++victim) {
    asio::io_context io;
    std::vector<int> ran;
    Queue queue;
    std::vector<const PendingHandler<std::error_code>*> raw;
    for (int id = 1; id <= 3; ++id) {
      auto h = handler(io, ran, id);
      raw.push_back(h.get());
      queue.push(std::move(h));
    }
    EXPECT_EQ(queue.remove(raw[victim - 1]).get(), raw[victim - 1]);
    queue.push(handler(io, ran, 4));
    complete_all(io, queue);
    std::vector<int> expected;
    for (int id = 1; id <= 4; ++id) {
      if (id != victim) expected.push_back(id);
    }
    EXPECT_EQ(ran, expected) << "removed " << victim;
  }
}

TEST(HandlerQueueTest, RemoveOfTheOnlyHandlerEmptiesTheQueue) {
  asio::io_context io;
  std::vector<int> ran;
  Queue queue;
  auto h = handler(io, ran, 1);
  const PendingHandler<std::error_code>* raw = h.get();
  queue.push(std::move(h));
  EXPECT_NE(queue.remove(raw), nullptr);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pop(), nullptr);
}

TEST(HandlerQueueTest, RemoveOfAHandlerNotQueuedReturnsNull) {
  asio::io_context io;
  std::vector<int> ran;
  Queue queue, other;
  auto h = handler(io, ran, 1);
  const PendingHandler<std::error_code>* raw = h.get();
  other.push(std::move(h));
  queue.push(handler(io, ran, 2));
  EXPECT_EQ(queue.remove(raw), nullptr);
  EXPECT_EQ(Queue().remove(raw), nullptr);
  EXPECT_NE(other.remove(raw), nullptr);
}

TEST(HandlerQueueTest, AnEmptyQueuePopsNull) {
  Queue queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.pop(), nullptr);
}

TEST(HandlerQueueTest, MovingTakesEveryHandlerAndLeavesTheSourceEmpty) {
  asio::io_context io;
  std::vector<int> ran;
  Queue source;
  source.push(handler(io, ran, 1));
  source.push(handler(io, ran, 2));
  Queue taken = std::move(source);
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  source.push(handler(io, ran, 3));  // still usable
  complete_all(io, source);
  EXPECT_EQ(ran, (std::vector<int>{3}));
  complete_all(io, taken);
  EXPECT_EQ(ran, (std::vector<int>{3, 1, 2}));
}

TEST(HandlerQueueTest, DestroyingTheQueueDestroysItsHandlersWithoutInvokingThem) {
  asio::io_context io;
  std::vector<int> ran;
  auto alive = std::make_shared<int>(0);
  {
    Queue queue;
    for (int id = 1; id <= 2; ++id) {
      queue.push(make_pending_handler<std::error_code>(
          [&ran, id, alive](std::error_code) { ran.push_back(id); }, io.get_executor()));
    }
    EXPECT_EQ(alive.use_count(), 3);
  }
  EXPECT_EQ(alive.use_count(), 1);
  io.run();  // returns: the handlers' outstanding work went with them
  EXPECT_TRUE(ran.empty());
}

}  // namespace
}  // namespace sluice::asio_backend_internal
