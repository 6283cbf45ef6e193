#include "core/buffer_pool.h"

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(BufferPool, NewPoolHoldsNothing) {
  BufferPool pool(4096, 8);
  EXPECT_EQ(pool.block_size(), 4096u);
  EXPECT_EQ(pool.max_free(), 8u);
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_EQ(pool.free_bytes(), 0u);
}

TEST(BufferPool, AcquireFromAnEmptyPoolAllocatesAWritableBlock) {
  BufferPool pool(4096, 8);
  std::unique_ptr<char[]> block = pool.acquire();
  ASSERT_NE(block, nullptr);
  std::memset(block.get(), 'x', 4096);  // the whole block is ours (ASan checks)
  EXPECT_EQ(pool.allocations(), 1u);
  EXPECT_EQ(pool.reuses(), 0u);
  EXPECT_EQ(pool.in_use(), 1u);
  pool.release(std::move(block));
}

TEST(BufferPool, ReleasedBlockIsKeptAndHandedOutAgain) {
  BufferPool pool(4096, 8);
  std::unique_ptr<char[]> block = pool.acquire();
  const char* address = block.get();
  pool.release(std::move(block));
  EXPECT_EQ(pool.free_count(), 1u);
  EXPECT_EQ(pool.in_use(), 0u);
  std::unique_ptr<char[]> again = pool.acquire();
  EXPECT_EQ(again.get(), address);
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_EQ(pool.allocations(), 1u);
  EXPECT_EQ(pool.reuses(), 1u);
  pool.release(std::move(again));
}

TEST(BufferPool, FreeListIsBoundedByMaxFree) {
  BufferPool pool(1024, 2);
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(pool.acquire());
  for (auto& block : blocks) pool.release(std::move(block));
  EXPECT_EQ(pool.free_count(), 2u);
  EXPECT_EQ(pool.free_bytes(), 2u * 1024);
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(BufferPool, ZeroMaxFreeKeepsNothing) {
  BufferPool pool(1024, 0);
  pool.release(pool.acquire());
  EXPECT_EQ(pool.free_count(), 0u);
  pool.release(pool.acquire());
  EXPECT_EQ(pool.allocations(), 2u);
  EXPECT_EQ(pool.reuses(), 0u);
}

TEST(BufferPool, FreeBlocksAreHandedOutLastInFirstOut) {
  // The most recently used block is the one most likely still in cache.
  BufferPool pool(1024, 4);
  std::unique_ptr<char[]> a = pool.acquire();
  std::unique_ptr<char[]> b = pool.acquire();
  const char* b_address = b.get();
  pool.release(std::move(a));
  pool.release(std::move(b));
  std::unique_ptr<char[]> next = pool.acquire();
  EXPECT_EQ(next.get(), b_address);
  pool.release(std::move(next));
}

TEST(BufferPool, TrimFreesEveryFreeBlock) {
  BufferPool pool(1024, 4);
  std::unique_ptr<char[]> a = pool.acquire();
  std::unique_ptr<char[]> b = pool.acquire();
  pool.release(std::move(a));
  pool.release(std::move(b));
  pool.trim();
  EXPECT_EQ(pool.free_count(), 0u);
  pool.release(pool.acquire());  // still usable
  EXPECT_EQ(pool.allocations(), 3u);
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(BufferPool, BlockContentsSurviveUntilReleased) {
  // The free list's links live in free blocks only: a block in use is
  // entirely the caller's.
  BufferPool pool(64, 4);
  std::unique_ptr<char[]> a = pool.acquire();
  pool.release(pool.acquire());
  std::memset(a.get(), 'a', 64);
  std::unique_ptr<char[]> b = pool.acquire();
  std::memset(b.get(), 'b', 64);
  EXPECT_EQ(std::string(a.get(), 64), std::string(64, 'a'));
  pool.release(std::move(a));
  pool.release(std::move(b));
}

}  // namespace
}  // namespace sluice
