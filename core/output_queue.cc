#include "core/output_queue.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace sluice {

OutputQueue::OutputQueue(OutputQueue&& other) noexcept
    : ring_(std::move(other.ring_)),
      first_(std::exchange(other.first_, 0)),
      count_(std::exchange(other.count_, 0)),
      head_offset_(std::exchange(other.head_offset_, 0)),
      size_(std::exchange(other.size_, 0)),
      spare_(std::move(other.spare_)),
      pool_(other.pool_) {
  other.ring_.clear();
}

OutputQueue& OutputQueue::operator=(OutputQueue&& other) noexcept {
  if (this == &other) return *this;
  clear();  // our blocks go back to our pool
  ring_ = std::move(other.ring_);
  other.ring_.clear();
  first_ = std::exchange(other.first_, 0);
  count_ = std::exchange(other.count_, 0);
  head_offset_ = std::exchange(other.head_offset_, 0);
  size_ = std::exchange(other.size_, 0);
  spare_ = std::move(other.spare_);
  pool_ = other.pool_;
  return *this;
}

void OutputQueue::append(std::string_view data) {
  while (!data.empty()) {
    Chunk* tail = count_ == 0 ? nullptr : &at(count_ - 1);
    if (tail == nullptr || tail->room() == 0) {
      // A large copy gets one block of its own size (one allocation, one
      // view); small ones share block_size() blocks.
      tail = &new_block(std::max(block_size(), data.size()));
    }
    const std::size_t n = std::min(tail->room(), data.size());
    std::memcpy(tail->block.get() + tail->size, data.data(), n);
    tail->size += n;
    size_ += n;
    data.remove_prefix(n);
  }
}

void OutputQueue::append(std::string&& data) {
  if (data.size() < kMinAdoptedSize) {
    append(std::string_view(data));
    return;
  }
  Chunk& chunk = push_back();
  chunk.size = data.size();
  chunk.adopted = std::move(data);
  size_ += chunk.size;
}

std::size_t OutputQueue::peek(std::span<std::string_view> out) const {
  const std::size_t n = std::min(out.size(), count_);
  for (std::size_t i = 0; i < n; ++i) {
    const Chunk& c = at(i);
    const std::size_t skip = i == 0 ? head_offset_ : 0;
    out[i] = std::string_view(c.data() + skip, c.size - skip);
  }
  return n;
}

void OutputQueue::consume(std::size_t n) {
  assert(n <= size_);
  n = std::min(n, size_);  // release builds: never walk past the end
  size_ -= n;
  while (n > 0) {
    const std::size_t left = at(0).size - head_offset_;
    if (n < left) {
      head_offset_ += n;
      break;
    }
    n -= left;
    pop_front();
  }
  // An idle queue holds no heap memory: the spare and the ring only serve a
  // queue that keeps refilling before it drains (then writes allocate
  // nothing).
  if (size_ == 0) release_idle();
}

void OutputQueue::release_idle() {
  assert(count_ == 0);
  spare_.reset();
  std::vector<Chunk>().swap(ring_);
  first_ = 0;
}

std::size_t OutputQueue::clear() {
  const std::size_t dropped = size_;
  while (count_ > 0) pop_front();
  size_ = 0;
  release_idle();
  return dropped;
}

OutputQueue::Chunk& OutputQueue::push_back() {
  if (count_ == ring_.size()) {
    // Moving a Chunk keeps its bytes where they are (a block is a
    // unique_ptr; an adopted string is at least kMinAdoptedSize long, so never
    // stored inline), so views stay valid across the growth.
    std::vector<Chunk> bigger(std::max<std::size_t>(4, 2 * ring_.size()));
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(at(i));
    ring_ = std::move(bigger);
    first_ = 0;
  }
  ++count_;
  return at(count_ - 1);
}

OutputQueue::Chunk& OutputQueue::new_block(std::size_t capacity) {
  Chunk& chunk = push_back();
  if (capacity == block_size() && pool_ != nullptr) {
    chunk.block = pool_->acquire();
  } else if (capacity == kBlockSize && spare_) {
    chunk.block = std::move(spare_);
  } else {
    chunk.block = std::make_unique_for_overwrite<char[]>(capacity);
  }
  chunk.capacity = capacity;
  return chunk;
}

void OutputQueue::pop_front() {
  Chunk& front = at(0);
  if (front.block && front.capacity == block_size()) {
    // Every block of that size came from the pool (new_block).
    if (pool_ != nullptr) {
      pool_->release(std::move(front.block));
    } else if (!spare_) {
      spare_ = std::move(front.block);
    }
  }
  front = Chunk{};
  first_ = (first_ + 1) % ring_.size();
  --count_;
  head_offset_ = 0;
}

std::size_t OutputQueue::block_bytes() const {
  std::size_t total = spare_ ? kBlockSize : 0;
  for (std::size_t i = 0; i < count_; ++i) {
    if (at(i).block) total += at(i).capacity;
  }
  return total;
}

void OutputQueue::check_invariants() const {
#ifndef NDEBUG
  std::size_t total = 0;
  assert(count_ <= ring_.size());
  assert(ring_.empty() || first_ < ring_.size());
  for (std::size_t i = 0; i < count_; ++i) {
    const Chunk& c = at(i);
    assert(c.size > 0);
    assert((c.block != nullptr) != (c.capacity == 0));
    if (c.block) {
      assert(c.size <= c.capacity);
      assert(c.adopted.empty());
    } else {
      assert(c.size == c.adopted.size());
    }
    total += c.size;
  }
  assert(count_ == 0 ? head_offset_ == 0 : head_offset_ < at(0).size);
  for (std::size_t i = count_; i < ring_.size(); ++i) {
    const Chunk& free_slot = at(i);
    assert(!free_slot.block && free_slot.adopted.empty() && free_slot.size == 0);
  }
  assert(size_ == total - head_offset_);
#endif
}

}  // namespace sluice
