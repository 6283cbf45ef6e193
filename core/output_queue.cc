#include "core/output_queue.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace sluice {

void OutputQueue::take_from(OutputQueue& other) noexcept {
  // Moving a Chunk keeps its bytes where they are (a block is a pointer; an
  // adopted string is at least kMinAdoptedSize long, so never stored
  // inline), so views stay valid.
  inline_ = std::move(other.inline_);
  ring_ = std::move(other.ring_);
  first_ = std::exchange(other.first_, 0);
  mask_ = std::exchange(other.mask_, 0);
  count_ = std::exchange(other.count_, 0);
  head_offset_ = std::exchange(other.head_offset_, 0);
  size_ = std::exchange(other.size_, 0);
  pool_ = other.pool_;
}

OutputQueue::OutputQueue(OutputQueue&& other) noexcept { take_from(other); }

OutputQueue& OutputQueue::operator=(OutputQueue&& other) noexcept {
  if (this == &other) return *this;
  clear();  // our blocks go back to our pool
  take_from(other);
  return *this;
}

void OutputQueue::append(std::string_view data) {
  const std::size_t block = block_size();
  while (!data.empty()) {
    Chunk* tail = count_ == 0 ? nullptr : &at(count_ - 1);
    if (tail == nullptr || tail->room(block) == 0) {
      if (data.size() > block) {
        // A large copy gets one block of its own size (one allocation, one
        // view); small ones share block_size() blocks.
        std::unique_ptr<char[]> storage = std::make_unique_for_overwrite<char[]>(data.size());
        std::memcpy(storage.get(), data.data(), data.size());
        push_back().set_block(Chunk::Kind::kLargeBlock, std::move(storage), data.size());
        size_ += data.size();
        return;
      }
      tail = &new_block();
    }
    const std::size_t n = std::min(tail->room(block), data.size());
    std::memcpy(tail->block() + tail->size(), data.data(), n);
    tail->fill(n);
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
  size_ += data.size();
  chunk.set_adopted(std::move(data));
}

std::size_t OutputQueue::peek(std::span<std::string_view> out) const {
  const std::size_t n = std::min(out.size(), count_);
  for (std::size_t i = 0; i < n; ++i) {
    const Chunk& c = at(i);
    const std::size_t skip = i == 0 ? head_offset_ : 0;
    out[i] = std::string_view(c.data() + skip, c.size() - skip);
  }
  return n;
}

void OutputQueue::consume(std::size_t n) {
  assert(n <= size_);
  n = std::min(n, size_);  // release builds: never walk past the end
  size_ -= n;
  while (n > 0) {
    const std::size_t left = at(0).size() - head_offset_;
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
  inline_.reset();  // the spare, if any
  ring_.reset();
  first_ = 0;
  mask_ = 0;
}

std::size_t OutputQueue::clear() {
  const std::size_t dropped = size_;
  while (count_ > 0) pop_front();
  size_ = 0;
  release_idle();
  return dropped;
}

OutputQueue::Chunk& OutputQueue::push_back() {
  if (count_ == std::size_t{mask_} + 1) {
    // Full (the inline slot is a ring of one): a ring of twice the slots,
    // at least 4, on the heap. Chunks move without moving their bytes, so
    // views stay valid across the growth.
    const std::size_t slots = ring_ ? 2 * (std::size_t{mask_} + 1) : 4;
    assert(slots <= (std::size_t{1} << 31));
    auto bigger = std::make_unique<Chunk[]>(slots);
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(at(i));
    ring_ = std::move(bigger);
    first_ = 0;
    mask_ = static_cast<std::uint32_t>(slots - 1);
  }
  ++count_;
  return at(count_ - 1);
}

OutputQueue::Chunk& OutputQueue::new_block() {
  // The storage first: if that throws, nothing changed.
  std::unique_ptr<char[]> storage;
  if (pool_ != nullptr) {
    storage = pool_->acquire();
  } else if (has_spare()) {
    storage = inline_.release_block();
  } else {
    storage = std::make_unique_for_overwrite<char[]>(kBlockSize);
  }
  Chunk& chunk = push_back();
  chunk.set_block(Chunk::Kind::kBlock, std::move(storage), 0);
  return chunk;
}

void OutputQueue::pop_front() {
  Chunk& front = at(0);
  if (front.kind() == Chunk::Kind::kBlock) {
    // Every block of block_size() came from the pool (new_block).
    if (pool_ != nullptr) {
      pool_->release(front.release_block());
    } else if (ring_ && inline_.kind() == Chunk::Kind::kEmpty && count_ > 1) {
      // Bytes stay queued: keep it as the spare (not when this is the last
      // chunk: the drained queue would free it at once).
      inline_.set_block(Chunk::Kind::kBlock, front.release_block(), 0);
    }
  }
  front.reset();
  first_ = (first_ + 1) & mask_;
  --count_;
  head_offset_ = 0;
}

std::size_t OutputQueue::block_bytes() const {
  std::size_t total = has_spare() ? kBlockSize : 0;
  for (std::size_t i = 0; i < count_; ++i) {
    const Chunk& c = at(i);
    if (c.kind() == Chunk::Kind::kBlock) total += block_size();
    if (c.kind() == Chunk::Kind::kLargeBlock) total += c.size();
  }
  return total;
}

void OutputQueue::check_invariants() const {
#ifndef NDEBUG
  std::size_t total = 0;
  const std::size_t slots = std::size_t{mask_} + 1;
  assert((slots & mask_) == 0);  // a power of two
  assert(count_ <= slots);
  assert(first_ < slots);
  // The ring is on the heap only while chunks are queued (a drained queue
  // frees it); inline, it is one slot.
  if (ring_) {
    assert(count_ > 0 && slots >= 4);
    // inline_ is free, or holds the spare (never with a pool).
    assert(inline_.kind() == Chunk::Kind::kEmpty ||
           (inline_.kind() == Chunk::Kind::kBlock && pool_ == nullptr && inline_.size() == 0));
  } else {
    assert(mask_ == 0 && first_ == 0);
  }
  for (std::size_t i = 0; i < count_; ++i) {
    const Chunk& c = at(i);
    assert(c.kind() != Chunk::Kind::kEmpty);
    assert(c.size() > 0);
    if (c.kind() == Chunk::Kind::kBlock) assert(c.size() <= block_size());
    if (c.kind() == Chunk::Kind::kLargeBlock) assert(c.size() > block_size());
    if (c.kind() == Chunk::Kind::kAdopted) assert(c.size() >= kMinAdoptedSize);
    total += c.size();
  }
  assert(count_ == 0 ? head_offset_ == 0 : head_offset_ < at(0).size());
  if (ring_) {
    for (std::size_t i = count_; i < slots; ++i) assert(at(i).kind() == Chunk::Kind::kEmpty);
  }
  assert(size_ == total - head_offset_);
#endif
}

}  // namespace sluice
