// File: backends/asio/internal/handler_queue.h
//
// HandlerQueue<Args...>: the PendingHandlers waiting for one event of a
// stream (its drains, its wait_closeds), first in, first out, in one
// pointer. The handlers are the links (PendingHandler's queue link), so
// queueing allocates nothing and an empty queue costs 8 bytes (a std::vector
// costs 24, and every connection has two queues, nearly always empty).
// Private to the backend.
//
//   HandlerQueue<std::error_code> drains;
//   drains.push(std::move(handler));
//   HandlerQueue<std::error_code> ready = std::move(drains);  // drains is empty
//   while (std::unique_ptr<PendingHandler<std::error_code>> h = ready.pop()) h->complete(ec);
//
// Ownership: the queue owns its handlers; destroying (or clearing) it
// destroys them without invoking them (PendingHandler's rule), one at a
// time, each unlinked first, so a handler's destruction may touch other
// queues. push() and pop() are O(1), remove() O(n).
//
// Threading: none.

#ifndef SLUICE_BACKENDS_ASIO_INTERNAL_HANDLER_QUEUE_H_
#define SLUICE_BACKENDS_ASIO_INTERNAL_HANDLER_QUEUE_H_

#include <memory>
#include <utility>

#include "backends/asio/internal/pending_handler.h"

namespace sluice::asio_backend_internal {

template <typename... Args>
class HandlerQueue {
 public:
  using Handler = PendingHandler<Args...>;

  HandlerQueue() = default;
  HandlerQueue(HandlerQueue&& other) noexcept : tail_(std::exchange(other.tail_, nullptr)) {}
  HandlerQueue& operator=(HandlerQueue&& other) noexcept {
    if (this != &other) {
      clear();
      tail_ = std::exchange(other.tail_, nullptr);
    }
    return *this;
  }
  ~HandlerQueue() { clear(); }

  bool empty() const { return tail_ == nullptr; }

  // push: queue `handler` (not null, not queued) last.
  void push(std::unique_ptr<Handler> handler) {
    Handler* h = handler.release();
    if (tail_ == nullptr) {
      h->queue_next_ = h;
    } else {
      h->queue_next_ = tail_->queue_next_;
      tail_->queue_next_ = h;
    }
    tail_ = h;
  }

  // pop: the first handler, unlinked; null if the queue is empty.
  std::unique_ptr<Handler> pop() {
    if (tail_ == nullptr) return nullptr;
    Handler* head = tail_->queue_next_;
    if (head == tail_) {
      tail_ = nullptr;
    } else {
      tail_->queue_next_ = head->queue_next_;
    }
    head->queue_next_ = nullptr;
    return std::unique_ptr<Handler>(head);
  }

  // remove: unlink `handler` and return it (null if it is not queued here).
  // O(n): for the rare withdrawal of one waiter (a coroutine destroyed while
  // it waits).
  std::unique_ptr<Handler> remove(const Handler* handler) {
    if (tail_ == nullptr) return nullptr;
    Handler* prev = tail_;
    do {
      Handler* h = prev->queue_next_;
      if (h == handler) {
        if (h == prev) {
          tail_ = nullptr;  // it was the only one
        } else {
          prev->queue_next_ = h->queue_next_;
          if (h == tail_) tail_ = prev;
        }
        h->queue_next_ = nullptr;
        return std::unique_ptr<Handler>(h);
      }
      prev = h;
    } while (prev != tail_);
    return nullptr;
  }

  // clear: destroy every handler, first to last, without invoking it.
  void clear() {
    while (pop() != nullptr) {
    }
  }

 private:
  // The last handler, whose link is the first: a ring, so one pointer
  // reaches both ends. Null when empty.
  Handler* tail_ = nullptr;
};

}  // namespace sluice::asio_backend_internal

#endif  // SLUICE_BACKENDS_ASIO_INTERNAL_HANDLER_QUEUE_H_
