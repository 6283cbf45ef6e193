#include "core/byte_buffer.h"

#include <cstring>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(ByteBuffer, NewBufferHoldsNoStorage) {
  ByteBuffer b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(ByteBuffer, AppendThenTakeReturnsBytesInOrder) {
  ByteBuffer b;
  b.append("hello ");
  b.append("world");
  EXPECT_EQ(b.take(5), "hello");
  EXPECT_EQ(b.view(), " world");
}

TEST(ByteBuffer, ConsumingEverythingReleasesStorage) {
  ByteBuffer b;
  b.append(std::string(100000, 'x'));
  EXPECT_GT(b.capacity(), 0u);
  b.consume(100000);
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(ByteBuffer, ConsumingDoesNotMoveRemainingBytes) {
  ByteBuffer b;
  b.append("abcdef");
  const char* before = b.view().data() + 3;
  b.consume(3);
  EXPECT_EQ(b.view().data(), before);
}

TEST(ByteBuffer, PrepareCommitAppendsInPlace) {
  ByteBuffer b;
  b.append("ab");
  auto room = b.prepare(3);
  ASSERT_GE(room.size(), 3u);
  std::memcpy(room.data(), "cde", 3);
  b.commit(3);
  EXPECT_EQ(b.view(), "abcde");
}

TEST(ByteBuffer, CommitZeroOnEmptyBufferReleasesReservation) {
  ByteBuffer b;
  (void)b.prepare(1000);
  b.commit(0);
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(ByteBuffer, ReusesConsumedPrefixInsteadOfGrowing) {
  ByteBuffer b;
  b.append(std::string(4000, 'a'));
  const std::size_t capacity = b.capacity();
  b.consume(3000);
  b.append(std::string(2000, 'b'));  // 1000 left + 2000 fits after compaction
  EXPECT_EQ(b.capacity(), capacity);
  EXPECT_EQ(b.view(), std::string(1000, 'a') + std::string(2000, 'b'));
}

TEST(ByteBuffer, KeepsContentAcrossManyAppendsAndConsumes) {
  ByteBuffer b;
  std::string model;
  for (int i = 0; i < 2000; ++i) {
    std::string chunk(static_cast<std::size_t>(i % 97 + 1), static_cast<char>('a' + i % 26));
    b.append(chunk);
    model += chunk;
    std::size_t n = std::min(model.size(), static_cast<std::size_t>(i % 131));
    EXPECT_EQ(b.take(n), model.substr(0, n));
    model.erase(0, n);
    ASSERT_EQ(b.view(), model);
  }
}


// ---- With a BufferPool ------------------------------------------------------

TEST(ByteBuffer, PooledBufferStoresBytesInAPoolBlock) {
  BufferPool pool(8192, 4);
  ByteBuffer b(&pool);
  b.append("hello");
  EXPECT_EQ(b.capacity(), 8192u);
  EXPECT_EQ(pool.in_use(), 1u);
  EXPECT_EQ(b.view(), "hello");
}

TEST(ByteBuffer, PooledBufferGivesItsBlockBackWhenEmptied) {
  BufferPool pool(8192, 4);
  ByteBuffer b(&pool);
  b.append("hello");
  b.consume(5);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(ByteBuffer, PooledBufferReusesTheFreeBlock) {
  BufferPool pool(8192, 4);
  ByteBuffer b(&pool);
  for (int i = 0; i < 10; ++i) {
    b.append("request\n");
    b.consume(8);
  }
  EXPECT_EQ(pool.allocations(), 1u);
  EXPECT_EQ(pool.reuses(), 9u);
}

TEST(ByteBuffer, PooledBufferGrowsPastABlockOnItsOwnAndReturnsTheBlock) {
  BufferPool pool(4096, 4);
  ByteBuffer b(&pool);
  b.append("head");
  b.append(std::string(10000, 'x'));
  EXPECT_GT(b.capacity(), 4096u);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);
  EXPECT_EQ(b.view().substr(0, 5), "headx");
  b.consume(b.size());  // the big storage is freed, not pooled
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(ByteBuffer, PooledBufferAskedForMoreThanABlockDoesNotUseThePool) {
  BufferPool pool(4096, 4);
  ByteBuffer b(&pool);
  EXPECT_GE(b.prepare(65536).size(), 65536u);
  EXPECT_EQ(pool.in_use(), 0u);
  b.commit(0);
  EXPECT_EQ(pool.free_count(), 0u);
}

TEST(ByteBuffer, PooledBufferGivesItsBlockBackWhenDestroyed) {
  BufferPool pool(4096, 4);
  {
    ByteBuffer b(&pool);
    b.append("left over");
  }
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(ByteBuffer, MovedPooledBufferGivesItsBlockBackOnce) {
  BufferPool pool(4096, 4);
  {
    ByteBuffer a(&pool);
    a.append("moving");
    ByteBuffer b(std::move(a));
    EXPECT_EQ(b.view(), "moving");
    ByteBuffer c(&pool);
    c.append("replaced");
    c = std::move(b);  // c's own block goes back here
    EXPECT_EQ(pool.free_count(), 1u);
    EXPECT_EQ(c.view(), "moving");
  }
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 2u);
}

}  // namespace
}  // namespace sluice
