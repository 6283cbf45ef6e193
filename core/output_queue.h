// File: core/output_queue.h
//
// OutputQueue: the bytes a StreamWriter holds until the driver has sent them,
// laid out for gather writes (writev/sendmsg, Asio buffer sequences,
// evbuffer_add). No I/O, no exceptions beyond std::bad_alloc, no callbacks.
//
// Layout: a FIFO of chunks. A chunk is either
//   - a block: storage the queue allocated (kBlockSize bytes, or exactly the
//     size of one large copied write), filled by copying; small writes are
//     appended to the last block, so many small writes become one large view;
//   - an adopted string: a caller's std::string taken over by
//     append(std::string&&) without copying (when it is at least
//     kMinAdoptedSize bytes; smaller ones are cheaper to copy than to send
//     as a separate view).
//
// The driver side is peek() (views of the front bytes, at most out.size() of
// them) and consume(n) (n bytes were sent).
//
// View lifetime (why blocks never grow in place): a view returned by peek()
// stays valid until consume() or clear() removes its bytes. append() never
// moves or reallocates stored bytes, so a driver may keep views across
// appends, e.g. while an asynchronous send (Asio, io_uring) is in flight.
//
// Memory: while bytes stay queued, one fully sent kBlockSize block is kept
// as a spare and reused, and the chunk FIFO is a ring that only grows, so a
// queue that keeps being refilled allocates nothing. A queue that drains
// empty frees its blocks and its ring: an idle writer holds no heap memory.
// Nothing is ever allocated per byte.
//
// With a BufferPool (core/buffer_pool.h), the coalescing blocks are the
// pool's blocks (block_size() = the pool's block size instead of
// kBlockSize): they come from the pool and go back to it when sent, dropped
// or destroyed, so a queue that drains and refills (a ping-pong server)
// allocates nothing; no spare is kept (the pool is the spare). Larger
// one-write blocks and adopted strings are freed as before. The pool must
// outlive the queue.
//
// Example:
//   OutputQueue q;
//   q.append("GET / HTTP/1.1\r\n");          // copied into a block
//   q.append(std::move(big_body));           // adopted, not copied
//   std::array<std::string_view, 16> iov;
//   std::size_t k = q.peek(iov);             // 2 views
//   q.consume(sent);                         // after writev() returned `sent`
//
// Threading: none; used from one thread at a time.

#ifndef SLUICE_CORE_OUTPUT_QUEUE_H_
#define SLUICE_CORE_OUTPUT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/buffer_pool.h"

namespace sluice {

class OutputQueue {
 public:
  // kBlockSize: capacity of a coalescing block. 16 KiB: large enough that a
  // send of a few blocks fills a socket buffer, small enough that a mostly
  // empty block wastes little (the default high water mark is 64 KiB).
  static constexpr std::size_t kBlockSize = 16 * 1024;
  // kMinAdoptedSize: append(std::string&&) adopts strings at least this long;
  // shorter ones are copied into the current block (copying 1 KiB costs less
  // than an extra view per send).
  static constexpr std::size_t kMinAdoptedSize = 1024;

  OutputQueue() = default;
  // Coalesces into `pool`'s blocks (null: kBlockSize blocks of its own).
  explicit OutputQueue(BufferPool* pool) : pool_(pool) {}
  ~OutputQueue() { clear(); }
  OutputQueue(OutputQueue&& other) noexcept;
  OutputQueue& operator=(OutputQueue&& other) noexcept;
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;

  // append: queue a copy of `data` (into the last block while it has room,
  // then into new blocks). O(data.size()).
  void append(std::string_view data);
  // append: queue `data`, adopting its storage when it is at least
  // kMinAdoptedSize bytes (no copy), else copying it as above.
  void append(std::string&& data);

  // block_bytes: heap bytes held in blocks, the spare included (0 when the
  // queue is empty).
  std::size_t block_bytes() const;

  // size: bytes queued and not yet consumed.
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // peek: fills `out` with views of the first queued bytes, in order, one
  // per chunk (the first one starts after the consumed part of its chunk).
  // Returns how many views were filled: min(out.size(), chunk_count()).
  // Views: see "View lifetime" above.
  std::size_t peek(std::span<std::string_view> out) const;

  // consume: the first n queued bytes were sent. Precondition: n <= size().
  void consume(std::size_t n);

  // clear: drop everything queued. Returns how many bytes were dropped.
  std::size_t clear();

  // chunk_count: number of chunks (views a full peek() would return).
  std::size_t chunk_count() const { return count_; }

  // block_size: the capacity of a coalescing block (kBlockSize, or the
  // pool's block size).
  std::size_t block_size() const { return pool_ ? pool_->block_size() : kBlockSize; }

  // Asserts every internal invariant (no-op in NDEBUG builds).
  void check_invariants() const;

 private:
  struct Chunk {
    // Exactly one of the two storages is used: `block` (allocated here,
    // `capacity` bytes, the first `size` of them queued) or `adopted` (the
    // caller's string; `capacity` is 0 and `size` == adopted.size()).
    std::unique_ptr<char[]> block;
    std::string adopted;
    std::size_t size = 0;
    std::size_t capacity = 0;

    const char* data() const { return block ? block.get() : adopted.data(); }
    std::size_t room() const { return block ? capacity - size : 0; }
  };

  // The i-th queued chunk (0 is the front).
  Chunk& at(std::size_t i) { return ring_[(first_ + i) % ring_.size()]; }
  const Chunk& at(std::size_t i) const { return ring_[(first_ + i) % ring_.size()]; }
  // Appends an empty chunk (growing the ring when full).
  Chunk& push_back();
  // Appends a new empty block of `capacity` bytes (from the pool, or reusing
  // the spare, when capacity == block_size()).
  Chunk& new_block(std::size_t capacity);
  // Removes the front chunk: a block_size() block goes back to the pool, or
  // becomes the spare.
  void pop_front();
  // Frees the spare block and the ring (precondition: no chunk queued).
  void release_idle();

  // The chunk FIFO: count_ chunks starting at ring_[first_], wrapping. Slots
  // outside it are empty Chunks. The ring doubles when full, never shrinks.
  std::vector<Chunk> ring_;
  std::size_t first_ = 0;
  std::size_t count_ = 0;
  // Bytes of the front chunk already consumed. Invariant: 0 when count_ is
  // 0, else < the front chunk's size.
  std::size_t head_offset_ = 0;
  // Invariant: size_ == sum of chunk sizes - head_offset_. No chunk is empty.
  std::size_t size_ = 0;
  // A fully sent kBlockSize block kept for reuse (or null; always null with
  // a pool).
  std::unique_ptr<char[]> spare_;
  BufferPool* pool_ = nullptr;
};

}  // namespace sluice

#endif  // SLUICE_CORE_OUTPUT_QUEUE_H_
