// File: core/byte_buffer.h
//
// ByteBuffer: the reader's one contiguous receive buffer.
//
//   storage_: | consumed (begin_) | data [begin_, end_) | free [end_, capacity_) |
//
// Invariants: begin_ <= end_ <= capacity_; storage_ is null exactly when
// capacity_ == 0; an empty buffer holds no storage (consume(), commit() and
// clear() release it), so an idle reader costs no heap memory. The one
// exception is consume_keeping_storage(), for views handed out of the
// buffer: the storage then stays until release_if_empty().
//
// Consuming from the front only moves begin_: the remaining bytes stay where
// they are, so positions of a pending scan (kept relative to begin_) and the
// cost of a read do not depend on how much is still buffered. Room at the end
// is made by moving the data to the front only when the consumed prefix is at
// least as large as the data (so each byte moves at most once per time it is
// overtaken by consumption: amortised O(1)), otherwise by growing.
//
// Views (view(), the span from prepare()) are valid until the next non-const
// call.
//
// With a BufferPool (core/buffer_pool.h), storage that must hold at most
// pool->block_size() bytes is one of the pool's blocks, and releasing it
// (when the buffer empties, or grows past it, or is destroyed) hands it back
// to the pool instead of freeing it. The pool must outlive the buffer.

#ifndef SLUICE_CORE_BYTE_BUFFER_H_
#define SLUICE_CORE_BYTE_BUFFER_H_

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/buffer_pool.h"

namespace sluice {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  // Takes its storage from `pool` when it fits in a block (null: no pool).
  explicit ByteBuffer(BufferPool* pool) : pool_(pool) {}
  ~ByteBuffer() { release(); }
  ByteBuffer(ByteBuffer&& other) noexcept;
  ByteBuffer& operator=(ByteBuffer&& other) noexcept;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  // Heap bytes held (0 when empty).
  std::size_t capacity() const { return capacity_; }
  std::string_view view() const { return {storage_.get() + begin_, size()}; }

  // append: copy `data` to the end.
  void append(std::string_view data);
  // prepare: writable room of at least n bytes after the data (the span may
  // be larger). commit(k) makes the first k bytes of it data.
  std::span<char> prepare(std::size_t n);
  // Precondition: k <= the room returned by the last prepare().
  void commit(std::size_t k);
  // take: the first n bytes as a string, consumed. Precondition: n <= size().
  std::string take(std::size_t n) {
    std::string out(storage_.get() + begin_, n);
    consume(n);
    return out;
  }
  // consume: drop the first n bytes. Precondition: n <= size().
  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) release();
  }
  // consume_keeping_storage: consume(), but an emptied buffer keeps its
  // storage (so views into it stay valid) until release_if_empty().
  void consume_keeping_storage(std::size_t n) { begin_ += n; }
  void release_if_empty() {
    if (begin_ == end_ && storage_) release();
  }
  // clear: drop everything and release the storage.
  void clear();

 private:
  void make_room(std::size_t n);
  // Frees storage_ (to the pool if it is one of its blocks); leaves the
  // sizes alone.
  void free_storage();
  void release();

  std::unique_ptr<char[]> storage_;
  BufferPool* pool_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_CORE_BYTE_BUFFER_H_
