// File: core/buffer_pool.h
//
// BufferPool: a bounded free list of fixed-size heap blocks, for the
// connections of one event loop. A connection gives its memory back as soon
// as it is idle (the reader's buffer when emptied, the writer's blocks when
// drained), so a ping-pong server would otherwise malloc and free a buffer
// and a block on every request; with a pool, those blocks go back on the free
// list and the next request - on any connection of the loop - takes them
// again. Idle connections still hold nothing: the pool holds the memory, and
// at most max_free() blocks of it, per loop rather than per connection.
//
// Who owns what:
//   - The driver owns the pool: one per event loop (per thread), created
//     before and destroyed after every connection that uses it (it is handed
//     to them as a plain pointer, ConnectionOptions::pool). Not thread-safe.
//   - A block is a `new char[block_size()]` array in a std::unique_ptr<char[]>.
//     acquire() gives one to the caller, who owns it (and may free it
//     itself) until release() hands it back. Blocks on the free list belong
//     to the pool; its destructor frees them.
//
// Invariants: free_count() <= max_free(); the pool itself holds at most
// max_free() * block_size() bytes; blocks in use are accounted to their users
// (StreamReader::buffer_capacity(), StreamWriter::buffer_capacity()).
// Nothing is allocated but the blocks themselves (the free list runs through
// the free blocks).
//
// Users (core/byte_buffer.h, core/output_queue.h) take only blocks of
// exactly block_size(): the reader's buffer when what it must hold fits in
// one block, the writer's coalescing blocks (which then are block_size() big
// instead of OutputQueue::kBlockSize). Anything bigger is still allocated
// and freed on its own, so the pool's memory stays bounded whatever the
// traffic. Pick block_size() to match the driver's receive size (a reader
// asked for room for more than a block allocates on its own).
//
// Example (a driver):
//   sluice::BufferPool pool(/*block_size=*/16 * 1024, /*max_free=*/64);
//   sluice::Connection conn(sluice::ConnectionOptions{.pool = &pool});

#ifndef SLUICE_CORE_BUFFER_POOL_H_
#define SLUICE_CORE_BUFFER_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>

namespace sluice {

class BufferPool {
 public:
  // A pool of blocks of `block_size` bytes keeping at most `max_free` of
  // them free. Precondition: block_size >= sizeof(void*) (a free block holds
  // the free list's link). max_free == 0 keeps nothing (every release frees).
  BufferPool(std::size_t block_size, std::size_t max_free);
  // Frees the free blocks. Precondition: every block acquired was released
  // (asserted in debug builds): the users are gone.
  ~BufferPool();

  // Users hold pointers to the pool: it never moves.
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  std::size_t block_size() const { return block_size_; }
  std::size_t max_free() const { return max_free_; }
  // Blocks on the free list now, and their bytes.
  std::size_t free_count() const { return free_count_; }
  std::size_t free_bytes() const { return free_count_ * block_size_; }

  // acquire: a block of block_size() bytes (contents unspecified): a free
  // one if there is one, else a new allocation.
  std::unique_ptr<char[]> acquire();
  // release: hand back a block acquire() returned. Kept on the free list if
  // it has room (free_count() < max_free()), else freed.
  void release(std::unique_ptr<char[]> block);
  // trim: free every free block (e.g. under memory pressure).
  void trim();

  // Statistics since construction, for tests and benchmarks.
  // reuses: acquire() calls served from the free list; allocations: those
  // that allocated; in_use: blocks acquired and not yet released.
  std::uint64_t reuses() const { return reuses_; }
  std::uint64_t allocations() const { return allocations_; }
  std::uint64_t in_use() const { return in_use_; }

 private:
  std::size_t block_size_;
  std::size_t max_free_;
  // The free list: each free block's first bytes hold the next one's address.
  char* head_ = nullptr;
  std::size_t free_count_ = 0;
  std::uint64_t reuses_ = 0;
  std::uint64_t allocations_ = 0;
  std::uint64_t in_use_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_CORE_BUFFER_POOL_H_
