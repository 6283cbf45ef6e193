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
// Memory: the chunk FIFO is a ring whose first slot is inline: a queue that
// never holds more than one chunk at a time (a ping-pong server's: one
// reply, sent, then the next) never allocates a ring. Past one chunk the
// ring moves to the heap and only grows; while bytes stay queued, one fully
// sent kBlockSize block is kept as a spare (in the then unused inline slot)
// and reused, so a queue that keeps being refilled allocates nothing. A
// queue that drains empty frees its blocks and its ring: an idle writer
// holds no heap memory. Nothing is ever allocated per byte.
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
#include <new>
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
  // A chunk: a block (storage the queue allocated, `size` bytes of it
  // queued) or an adopted string. A block's capacity is block_size() (kind
  // kBlock) or exactly its size (kLargeBlock: one large copied write, full
  // from the start). 40 bytes: the storages share their room.
  class Chunk {
   public:
    enum class Kind : std::uint8_t { kEmpty, kBlock, kLargeBlock, kAdopted };

    Chunk() noexcept {}
    ~Chunk() { reset(); }
    Chunk(Chunk&& other) noexcept { take(other); }
    Chunk& operator=(Chunk&& other) noexcept {
      if (this != &other) {
        reset();
        take(other);
      }
      return *this;
    }
    Chunk(const Chunk&) = delete;
    Chunk& operator=(const Chunk&) = delete;

    Kind kind() const { return kind_; }
    const char* data() const { return kind_ == Kind::kAdopted ? adopted_.data() : block_.data; }
    std::size_t size() const { return kind_ == Kind::kAdopted ? adopted_.size() : block_.size; }
    // Room left in a kBlock of `block_size` bytes (0 for the other kinds).
    std::size_t room(std::size_t block_size) const {
      return kind_ == Kind::kBlock ? block_size - block_.size : 0;
    }
    // A block's storage and fill (precondition: kind() is kBlock or
    // kLargeBlock).
    char* block() const { return block_.data; }
    void fill(std::size_t n) { block_.size += n; }

    // set_block / set_adopted: this empty chunk takes `storage` (a new[]
    // array) or `s`.
    void set_block(Kind kind, std::unique_ptr<char[]> storage, std::size_t size) {
      kind_ = kind;
      block_ = {storage.release(), size};
    }
    void set_adopted(std::string&& s) {
      ::new (&adopted_) std::string(std::move(s));
      kind_ = Kind::kAdopted;
    }
    // release_block: hands the block's storage out; the chunk is empty.
    std::unique_ptr<char[]> release_block() {
      std::unique_ptr<char[]> storage(block_.data);
      kind_ = Kind::kEmpty;
      return storage;
    }
    // reset: frees what the chunk holds; the chunk is empty.
    void reset() {
      if (kind_ == Kind::kAdopted) {
        adopted_.~basic_string();
      } else if (kind_ != Kind::kEmpty) {
        delete[] block_.data;
      }
      kind_ = Kind::kEmpty;
    }

   private:
    struct Block {
      char* data;
      std::size_t size;
    };
    void take(Chunk& other) {
      kind_ = other.kind_;
      if (kind_ == Kind::kAdopted) {
        // A long string (>= kMinAdoptedSize): its bytes stay where they are.
        ::new (&adopted_) std::string(std::move(other.adopted_));
        other.adopted_.~basic_string();
      } else {
        block_ = other.block_;
      }
      other.kind_ = Kind::kEmpty;
    }

    union {
      Block block_;
      std::string adopted_;
    };
    Kind kind_ = Kind::kEmpty;
  };

  Chunk* slots() { return ring_ ? ring_.get() : &inline_; }
  const Chunk* slots() const { return ring_ ? ring_.get() : &inline_; }
  // The i-th queued chunk (0 is the front).
  Chunk& at(std::size_t i) { return slots()[(first_ + i) & mask_]; }
  const Chunk& at(std::size_t i) const { return slots()[(first_ + i) & mask_]; }
  // Appends an empty chunk (moving the ring to the heap, or growing it,
  // when full).
  Chunk& push_back();
  // Appends a new empty block of block_size() bytes: the pool's, or the
  // spare, or a new one.
  Chunk& new_block();
  // Removes the front chunk: a block_size() block goes back to the pool, or
  // becomes the spare.
  void pop_front();
  // Frees the spare block and the ring (precondition: no chunk queued).
  void release_idle();
  // The spare: a kBlockSize block in inline_ while the ring is on the heap.
  bool has_spare() const { return ring_ && inline_.kind() == Chunk::Kind::kBlock; }
  // Moves other's chunks, ring and spare here (this one holds none).
  void take_from(OutputQueue& other) noexcept;

  // The chunk FIFO: count_ chunks starting at slots()[first_], wrapping.
  // While ring_ is null the ring is the one slot inline_ (mask_ 0); once a
  // second chunk is queued it moves to ring_ (a power of two of slots,
  // mask_ + 1), which doubles when full, never shrinks, and is freed when
  // the queue drains. Slots outside the FIFO are empty Chunks (except
  // inline_ holding the spare).
  Chunk inline_;
  std::unique_ptr<Chunk[]> ring_;
  // Bytes of the front chunk already consumed. Invariant: 0 when count_ is
  // 0, else < the front chunk's size.
  std::size_t head_offset_ = 0;
  // Invariant: size_ == sum of chunk sizes - head_offset_. No chunk is empty.
  std::size_t size_ = 0;
  BufferPool* pool_ = nullptr;
  std::uint32_t first_ = 0;
  std::uint32_t mask_ = 0;
  std::size_t count_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_CORE_OUTPUT_QUEUE_H_
