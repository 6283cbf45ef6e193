#include "core/buffer_pool.h"

#include <cassert>
#include <cstring>

namespace sluice {

BufferPool::BufferPool(std::size_t block_size, std::size_t max_free)
    : block_size_(block_size), max_free_(max_free) {
  assert(block_size >= sizeof(char*));
}

BufferPool::~BufferPool() {
  assert(in_use_ == 0 && "BufferPool destroyed while a connection still holds one of its blocks");
  trim();
}

std::unique_ptr<char[]> BufferPool::acquire() {
  ++in_use_;
  if (head_ == nullptr) {
    ++allocations_;
    return std::make_unique_for_overwrite<char[]>(block_size_);
  }
  ++reuses_;
  char* block = head_;
  // The link is copied out, not read through a char** (no aliasing games).
  std::memcpy(&head_, block, sizeof head_);
  --free_count_;
  return std::unique_ptr<char[]>(block);
}

void BufferPool::release(std::unique_ptr<char[]> block) {
  assert(block != nullptr);
  assert(in_use_ > 0 && "release() of a block this pool did not hand out");
  --in_use_;
  if (free_count_ >= max_free_) return;  // bounded: `block` is freed here
  char* raw = block.release();
  std::memcpy(raw, &head_, sizeof head_);
  head_ = raw;
  ++free_count_;
}

void BufferPool::trim() {
  while (head_ != nullptr) {
    std::unique_ptr<char[]> block(head_);
    std::memcpy(&head_, block.get(), sizeof head_);
  }
  free_count_ = 0;
}

}  // namespace sluice
