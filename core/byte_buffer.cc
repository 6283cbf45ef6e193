#include "core/byte_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

namespace sluice {
namespace {
// The first allocation: big enough for a typical socket read, small enough
// that many idle-then-active connections stay cheap.
constexpr std::size_t kMinCapacity = 4096;
}  // namespace

ByteBuffer::ByteBuffer(ByteBuffer&& other) noexcept
    : storage_(std::move(other.storage_)),
      pool_(other.pool_),
      capacity_(std::exchange(other.capacity_, 0)),
      begin_(std::exchange(other.begin_, 0)),
      end_(std::exchange(other.end_, 0)) {}

ByteBuffer& ByteBuffer::operator=(ByteBuffer&& other) noexcept {
  if (this == &other) return *this;
  release();  // to our pool, if the storage came from it
  storage_ = std::move(other.storage_);
  pool_ = other.pool_;
  capacity_ = std::exchange(other.capacity_, 0);
  begin_ = std::exchange(other.begin_, 0);
  end_ = std::exchange(other.end_, 0);
  return *this;
}

void ByteBuffer::make_room(std::size_t n) {
  if (capacity_ - end_ >= n) return;
  const std::size_t used = size();
  if (begin_ >= used && capacity_ - used >= n) {
    // Moving `used` bytes is paid for by the `begin_ >= used` consumed ones.
    std::memmove(storage_.get(), storage_.get() + begin_, used);
    begin_ = 0;
    end_ = used;
    return;
  }
  std::size_t capacity = std::max({kMinCapacity, capacity_ * 2, used + n});
  std::unique_ptr<char[]> storage;
  if (pool_ != nullptr && capacity_ < pool_->block_size() && used + n <= pool_->block_size()) {
    // It fits in one of the pool's blocks (the first allocation, in
    // practice: a grown buffer is already bigger than a block).
    capacity = pool_->block_size();
    storage = pool_->acquire();
  } else {
    storage = std::make_unique_for_overwrite<char[]>(capacity);
  }
  if (used > 0) std::memcpy(storage.get(), storage_.get() + begin_, used);
  free_storage();
  storage_ = std::move(storage);
  capacity_ = capacity;
  begin_ = 0;
  end_ = used;
}

void ByteBuffer::append(std::string_view data) {
  if (data.empty()) return;
  make_room(data.size());
  std::memcpy(storage_.get() + end_, data.data(), data.size());
  end_ += data.size();
}

std::span<char> ByteBuffer::prepare(std::size_t n) {
  make_room(std::max<std::size_t>(n, 1));
  return {storage_.get() + end_, capacity_ - end_};
}

void ByteBuffer::commit(std::size_t k) {
  assert(k <= capacity_ - end_);
  end_ += k;
  release_if_empty();
}

void ByteBuffer::clear() {
  begin_ = end_ = 0;
  release_if_empty();
}

void ByteBuffer::free_storage() {
  // Only the pool's blocks go back to it: the storage is one exactly when
  // its size is the pool's (make_room takes every storage of that size from
  // the pool).
  if (pool_ != nullptr && storage_ && capacity_ == pool_->block_size()) {
    pool_->release(std::move(storage_));
  } else {
    storage_.reset();
  }
}

void ByteBuffer::release() {
  free_storage();
  capacity_ = begin_ = end_ = 0;
}

}  // namespace sluice
