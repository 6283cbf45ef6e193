#include "core/output_queue.h"

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/testing/allocation_counter.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

// Everything peek() shows, joined.
std::string Peeked(const OutputQueue& q) {
  std::array<std::string_view, 64> views;
  std::size_t n = q.peek(views);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += views[i];
  return out;
}

TEST(OutputQueueTest, StartsEmpty) {
  OutputQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.chunk_count(), 0u);
  std::array<std::string_view, 4> views;
  EXPECT_EQ(q.peek(views), 0u);
}

TEST(OutputQueueTest, SmallAppendsCoalesceIntoOneView) {
  OutputQueue q;
  for (int i = 0; i < 1000; ++i) q.append(std::string_view("0123456789"));
  q.check_invariants();
  EXPECT_EQ(q.size(), 10000u);
  EXPECT_EQ(q.chunk_count(), 1u);
  std::array<std::string_view, 4> views;
  ASSERT_EQ(q.peek(views), 1u);
  EXPECT_EQ(views[0].size(), 10000u);
  EXPECT_EQ(views[0].substr(0, 20), "01234567890123456789");
}

TEST(OutputQueueTest, SmallAppendsFillBlocksBeforeStartingNewOnes) {
  OutputQueue q;
  const std::string piece(100, 'x');
  const std::size_t total = 3 * OutputQueue::kBlockSize + 50;
  for (std::size_t sent = 0; sent < total; sent += piece.size()) q.append(std::string_view(piece));
  q.check_invariants();
  // ceil(total / kBlockSize) blocks: the pieces straddle block boundaries.
  EXPECT_EQ(q.chunk_count(), 4u);
}

TEST(OutputQueueTest, LargeCopiedAppendGetsOneChunkOfItsOwn) {
  OutputQueue q;
  const std::string big(5 * OutputQueue::kBlockSize, 'b');
  q.append(std::string_view(big));
  q.check_invariants();
  EXPECT_EQ(q.chunk_count(), 1u);
  EXPECT_EQ(Peeked(q), big);
}

TEST(OutputQueueTest, MovedLargeStringIsAdoptedWithoutCopy) {
  OutputQueue q;
  std::string big(OutputQueue::kMinAdoptedSize, 'a');
  const char* storage = big.data();
  q.append(std::move(big));
  std::array<std::string_view, 4> views;
  ASSERT_EQ(q.peek(views), 1u);
  EXPECT_EQ(views[0].data(), storage);
  EXPECT_EQ(views[0].size(), OutputQueue::kMinAdoptedSize);
}

TEST(OutputQueueTest, MovedSmallStringIsCopiedIntoTheCurrentBlock) {
  OutputQueue q;
  q.append(std::string_view("head:"));
  q.append(std::string(OutputQueue::kMinAdoptedSize - 1, 's'));
  q.check_invariants();
  EXPECT_EQ(q.chunk_count(), 1u);
  EXPECT_EQ(q.size(), 5 + OutputQueue::kMinAdoptedSize - 1);
}

TEST(OutputQueueTest, KeepsOrderAcrossBlocksAndAdoptedStrings) {
  OutputQueue q;
  q.append(std::string_view("a"));
  q.append(std::string(2000, 'B'));
  q.append(std::string_view("c"));
  q.check_invariants();
  EXPECT_EQ(q.chunk_count(), 3u);
  EXPECT_EQ(Peeked(q), "a" + std::string(2000, 'B') + "c");
}

TEST(OutputQueueTest, PeekFillsAtMostTheGivenViews) {
  OutputQueue q;
  for (int i = 0; i < 5; ++i) q.append(std::string(2000, static_cast<char>('a' + i)));
  std::array<std::string_view, 2> views;
  ASSERT_EQ(q.peek(views), 2u);
  EXPECT_EQ(views[0], std::string(2000, 'a'));
  EXPECT_EQ(views[1], std::string(2000, 'b'));
}

TEST(OutputQueueTest, PeekStartsAfterConsumedBytes) {
  OutputQueue q;
  q.append(std::string_view("hello world"));
  q.consume(6);
  q.check_invariants();
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(Peeked(q), "world");
}

TEST(OutputQueueTest, ConsumeAcrossChunks) {
  OutputQueue q;
  q.append(std::string(2000, 'a'));
  q.append(std::string(2000, 'b'));
  q.append(std::string_view("tail"));
  q.consume(2500);
  q.check_invariants();
  EXPECT_EQ(q.chunk_count(), 2u);
  EXPECT_EQ(Peeked(q), std::string(1500, 'b') + "tail");
  q.consume(q.size());
  q.check_invariants();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.chunk_count(), 0u);
}

TEST(OutputQueueTest, ViewsSurviveLaterAppends) {
  OutputQueue q;
  q.append(std::string_view("in flight"));
  std::array<std::string_view, 1> views;
  ASSERT_EQ(q.peek(views), 1u);
  const std::string_view in_flight = views[0];
  for (int i = 0; i < 10000; ++i) q.append(std::string_view("more bytes "));
  EXPECT_EQ(in_flight, "in flight");
  ASSERT_EQ(q.peek(views), 1u);
  EXPECT_EQ(views[0].data(), in_flight.data());
}

TEST(OutputQueueTest, FullySentBlockIsReusedWhileBytesStayQueued) {
  OutputQueue q;
  const std::string piece(64, 'p');
  const std::size_t per_block = OutputQueue::kBlockSize / piece.size();
  for (std::size_t i = 0; i < per_block; ++i) q.append(std::string_view(piece));  // block 1, full
  std::array<std::string_view, 2> views;
  ASSERT_EQ(q.peek(views), 1u);
  const char* first_block = views[0].data();
  q.append(std::string_view(piece));      // block 2
  q.consume(OutputQueue::kBlockSize);     // block 1 sent: kept as the spare
  for (std::size_t i = 1; i < per_block; ++i) q.append(std::string_view(piece));  // block 2 full
  q.append(std::string_view("next"));    // needs a block: the spare
  ASSERT_EQ(q.peek(views), 2u);
  EXPECT_EQ(views[1].data(), first_block);
  EXPECT_EQ(views[1], "next");
}

TEST(OutputQueueTest, ClearDropsEverythingAndReportsHowMuch) {
  OutputQueue q;
  q.append(std::string_view("abc"));
  q.append(std::string(3000, 'x'));
  q.consume(1);
  EXPECT_EQ(q.clear(), 3002u);
  q.check_invariants();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.chunk_count(), 0u);
}

TEST(OutputQueueTest, RingGrowthKeepsViewsValid) {
  OutputQueue q;
  q.append(std::string(2000, 'a'));
  std::array<std::string_view, 1> first;
  ASSERT_EQ(q.peek(first), 1u);
  for (int i = 0; i < 100; ++i) q.append(std::string(2000, 'b'));  // the ring grows
  q.check_invariants();
  EXPECT_EQ(first[0], std::string(2000, 'a'));
  std::array<std::string_view, 1> again;
  ASSERT_EQ(q.peek(again), 1u);
  EXPECT_EQ(again[0].data(), first[0].data());
}

TEST(OutputQueueTest, RingWrapsAroundInOrder) {
  OutputQueue q;
  std::string expected;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 3; ++i) {
      std::string piece(1500, static_cast<char>('a' + (round + i) % 26));
      expected += piece;
      q.append(std::move(piece));
    }
    q.consume(2 * 1500);
    expected.erase(0, 2 * 1500);
    q.check_invariants();
    ASSERT_EQ(Peeked(q), expected);
  }
}

TEST(OutputQueueTest, QueueKeptBusyBySmallWritesDoesNotAllocate) {
  OutputQueue q;
  const std::string piece(100, 'p');
  // A busy stream: 50 small writes, then all but the last piece is sent.
  auto cycle = [&] {
    for (int i = 0; i < 50; ++i) q.append(std::string_view(piece));
    q.consume(q.size() - piece.size());
  };
  for (int i = 0; i < 100; ++i) cycle();  // warm up
  const std::uint64_t before = testing::allocation_count();
  for (int i = 0; i < 10000; ++i) cycle();
  EXPECT_EQ(testing::allocation_count() - before, 0u);
}

TEST(OutputQueueTest, QueueThatDrainsAllocatesPerBurstNotPerWrite) {
  OutputQueue q;
  const std::string piece(100, 'p');
  auto cycle = [&] {
    for (int i = 0; i < 50; ++i) q.append(std::string_view(piece));
    q.consume(q.size());
  };
  for (int i = 0; i < 100; ++i) cycle();  // warm up
  const std::uint64_t before = testing::allocation_count();
  for (int i = 0; i < 1000; ++i) cycle();
  // A block and the chunk ring per burst, freed when it drains.
  EXPECT_LE(testing::allocation_count() - before, 2000u);
}

TEST(OutputQueueTest, QueueHoldingOneChunkAtATimeNeedsNoRing) {
  BufferPool pool(4096, 8);
  OutputQueue q(&pool);
  // A ping-pong server's queue: one reply, sent, then the next.
  auto cycle = [&] {
    q.append(std::string_view("pong\n"));
    q.consume(q.size());
  };
  cycle();  // the pool's first block
  const std::uint64_t before = testing::allocation_count();
  for (int i = 0; i < 1000; ++i) cycle();
  EXPECT_EQ(testing::allocation_count() - before, 0u);
}

TEST(OutputQueueTest, AdoptedStringAloneNeedsNoRing) {
  OutputQueue q;
  std::vector<std::string> replies(100, std::string(4096, 'r'));
  const std::uint64_t before = testing::allocation_count();
  for (std::string& reply : replies) {
    q.append(std::move(reply));
    q.consume(q.size());
  }
  EXPECT_EQ(testing::allocation_count() - before, 0u);
}

TEST(OutputQueueTest, SecondChunkKeepsTheFirstOnesView) {
  OutputQueue q;
  q.append(std::string(2000, 'a'));  // adopted, in the inline slot
  q.consume(10);
  std::array<std::string_view, 1> first;
  ASSERT_EQ(q.peek(first), 1u);
  q.append(std::string(3000, 'b'));  // the ring moves to the heap
  q.check_invariants();
  std::array<std::string_view, 2> both;
  ASSERT_EQ(q.peek(both), 2u);
  EXPECT_EQ(both[0].data(), first[0].data());
  EXPECT_EQ(both[0], std::string(1990, 'a'));
  EXPECT_EQ(both[1], std::string(3000, 'b'));
}

TEST(OutputQueueTest, DrainedQueueHoldsNoBlock) {
  OutputQueue q;
  for (int i = 0; i < 1000; ++i) q.append(std::string_view("some bytes to send\n"));
  EXPECT_GT(q.block_bytes(), 0u);
  q.consume(q.size() / 2);
  EXPECT_GT(q.block_bytes(), 0u);
  q.consume(q.size());
  EXPECT_EQ(q.block_bytes(), 0u);
}

TEST(OutputQueueTest, ClearedQueueHoldsNoBlock) {
  OutputQueue q;
  q.append(std::string(50000, 'x'));
  EXPECT_EQ(q.clear(), 50000u);
  EXPECT_EQ(q.block_bytes(), 0u);
}


// ---- With a BufferPool ------------------------------------------------------

TEST(OutputQueueTest, PooledQueueCoalescesIntoPoolBlocks) {
  BufferPool pool(4096, 4);
  OutputQueue q(&pool);
  EXPECT_EQ(q.block_size(), 4096u);
  for (int i = 0; i < 50; ++i) q.append(std::string_view("0123456789"));
  q.check_invariants();
  EXPECT_EQ(q.chunk_count(), 1u);
  EXPECT_EQ(q.block_bytes(), 4096u);
  EXPECT_EQ(pool.in_use(), 1u);
}

TEST(OutputQueueTest, DrainedPooledQueueGivesItsBlocksBack) {
  BufferPool pool(4096, 8);
  OutputQueue q(&pool);
  q.append(std::string(10000, 'x'));  // adopted: not a block
  for (int i = 0; i < 100; ++i) q.append(std::string_view(std::string(100, 'y')));
  EXPECT_EQ(pool.in_use(), 3u);  // 10000 bytes in ceil(10000 / 4096) blocks
  q.consume(q.size());
  EXPECT_EQ(q.block_bytes(), 0u);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 3u);
}

TEST(OutputQueueTest, LargeCopyInAPooledQueueGetsABlockOfItsOwn) {
  BufferPool pool(4096, 8);
  OutputQueue q(&pool);
  q.append(std::string_view(std::string(10000, 'x')));
  EXPECT_EQ(q.chunk_count(), 1u);
  EXPECT_EQ(pool.in_use(), 0u);
  q.consume(q.size());
  EXPECT_EQ(pool.free_count(), 0u);
}

TEST(OutputQueueTest, PooledQueueThatDrainsAndRefillsTakesNoNewBlocks) {
  BufferPool pool(4096, 8);
  OutputQueue q(&pool);
  for (int i = 0; i < 1000; ++i) {
    q.append(std::string_view("ping\n"));
    q.consume(q.size());
  }
  EXPECT_EQ(pool.allocations(), 1u);
  EXPECT_EQ(pool.reuses(), 999u);
}

TEST(OutputQueueTest, ClearedPooledQueueGivesItsBlocksBack) {
  BufferPool pool(4096, 8);
  OutputQueue q(&pool);
  q.append(std::string_view("queued"));
  EXPECT_EQ(q.clear(), 6u);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(OutputQueueTest, DestroyedPooledQueueGivesItsBlocksBack) {
  BufferPool pool(4096, 8);
  {
    OutputQueue q(&pool);
    q.append(std::string_view("never sent"));
  }
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(OutputQueueTest, MovedPooledQueueKeepsItsViewsAndGivesBlocksBackOnce) {
  BufferPool pool(4096, 8);
  {
    OutputQueue a(&pool);
    a.append(std::string_view("abc"));
    std::array<std::string_view, 4> views;
    ASSERT_EQ(a.peek(views), 1u);
    OutputQueue b(std::move(a));
    EXPECT_EQ(Peeked(b), "abc");
    std::array<std::string_view, 4> after;
    ASSERT_EQ(b.peek(after), 1u);
    EXPECT_EQ(after[0].data(), views[0].data());
    OutputQueue c(&pool);
    c.append(std::string_view("replaced"));
    c = std::move(b);  // c's own block goes back here
    EXPECT_EQ(pool.free_count(), 1u);
    EXPECT_EQ(Peeked(c), "abc");
    a.check_invariants();
    c.check_invariants();
  }
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 2u);
}

}  // namespace
}  // namespace sluice
