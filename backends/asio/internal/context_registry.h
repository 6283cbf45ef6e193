// File: backends/asio/internal/context_registry.h
//
// ContextRegistry: an Asio service (one per execution context) that knows the
// backend's live objects holding handlers of their own: StreamStates and
// ServerStates keep their pending read, drains, wait_closeds and
// serve_forevers themselves, not in Asio's queues. Asio destroys the handlers
// it holds when the context shuts down; this does the same for ours, so a
// coroutine suspended on a stream (whose frame owns the stream's handles,
// which own the stream, which owns the coroutine's handler) is destroyed
// instead of leaking when the io_context goes away with connections open.
//
// Rules: an object registers itself once it is owned by a shared_ptr, and
// removes itself in its destructor unless the registry told it the context
// shut down (then the registry forgets it first). on_context_shutdown() runs
// without the registry's lock held and may destroy other registered objects.
// The registry links the objects into an intrusive list (their ShutdownHook
// base holds the links): registering a stream allocates nothing, removing it
// is O(1).
//
// It also keeps the context's BufferPool (core/buffer_pool.h): the blocks a
// stream's reader and writer take when busy and give back when idle, reused
// by the next busy stream instead of malloc/free per request. The pool is
// not thread-safe, so only a context that runs handlers on one thread gets
// one: an io_context constructed with concurrency hint 1 (asio::io_context
// io(1), Asio's "one thread" promise). Streams share it (std::shared_ptr),
// so it outlives the last of them even if the context goes first.
//
// Threading: add/remove are thread-safe; shutdown is Asio's (one call).

#ifndef SLUICE_BACKENDS_ASIO_INTERNAL_CONTEXT_REGISTRY_H_
#define SLUICE_BACKENDS_ASIO_INTERNAL_CONTEXT_REGISTRY_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/detail/scheduler.hpp>
#include <asio/execution/context.hpp>
#include <asio/execution_context.hpp>
#include <asio/io_context.hpp>
#include <asio/query.hpp>

#include "backends/asio/internal/intrusive_list.h"
#include "core/buffer_pool.h"

namespace sluice::asio_backend_internal {

// The pool's blocks: one fits what a ping-pong request needs (the reader's
// receive and the writer's reply); bigger flows allocate their own.
inline constexpr std::size_t kPoolBlockSize = 16 * 1024;
// At most this many free blocks kept per context (1 MiB). A turn in which
// 64 connections are busy holds a block each; a smaller pool frees the
// excess and mallocs it again in the next turn, and glibc then trims and
// regrows its heap (brk, page faults): the libevent backend measured about a
// fifth of a ping-pong server's CPU on that (its loop_context.h).
inline constexpr std::size_t kPoolMaxFree = 64;

// ShutdownHook: what the registry tracks (its links are the base).
class ShutdownHook : public ListLinks<ShutdownHook> {
 public:
  virtual ~ShutdownHook() = default;
  // on_context_shutdown: the execution context is shutting down: destroy
  // every handler held, without invoking it, and forget the registry.
  virtual void on_context_shutdown() = 0;
  // lock_hook: a shared_ptr owning this object, or null once its owners are
  // gone (its destructor is about to remove it). Called under the
  // registry's lock: must not call back into the registry.
  virtual std::shared_ptr<ShutdownHook> lock_hook() = 0;
};

class ContextRegistry final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;

  explicit ContextRegistry(asio::execution_context& context) : service(context) {}

  // of: the registry of the executor's execution context.
  static ContextRegistry& of(const asio::any_io_executor& executor) {
    return asio::use_service<ContextRegistry>(asio::query(executor, asio::execution::context));
  }

  // add: track `hook` (not tracked yet). False once the context shut down
  // (the object is then not tracked).
  bool add(ShutdownHook& hook) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return false;
    hooks_.push_back(hook);
    return true;
  }

  // remove: stop tracking `hook` (a no-op if it is not tracked).
  void remove(ShutdownHook& hook) {
    std::lock_guard<std::mutex> lock(mutex_);
    hooks_.remove(hook);
  }

  // pool: the context's BufferPool for a stream running on `executor`, or
  // null (several threads may run the context, or `executor` is a strand).
  std::shared_ptr<BufferPool> pool(const asio::any_io_executor& executor) {
    const auto* io = executor.target<asio::io_context::executor_type>();
    if (io == nullptr || !runs_on_one_thread(io->context())) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!pool_) pool_ = std::make_shared<BufferPool>(kPoolBlockSize, kPoolMaxFree);
    return pool_;
  }

  // shut_down: the context's shutdown has begun (handlers posted now would
  // never run).
  bool shut_down() {
    std::lock_guard<std::mutex> lock(mutex_);
    return shut_down_;
  }

 private:
  void shutdown() override {
    std::vector<std::shared_ptr<ShutdownHook>> live;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shut_down_ = true;
      live.reserve(hooks_.size());
      hooks_.for_each([&](ShutdownHook& hook) {
        if (std::shared_ptr<ShutdownHook> h = hook.lock_hook()) live.push_back(std::move(h));
      });
      hooks_.clear();
    }
    for (auto& h : live) h->on_context_shutdown();
  }

  // Asio 1.22 has no public query for the concurrency hint; its scheduler
  // (the io_context's implementation on every platform but Windows) has.
  static bool runs_on_one_thread(asio::io_context& io) {
    return asio::use_service<asio::detail::scheduler>(io).concurrency_hint() == 1;
  }

  std::mutex mutex_;
  bool shut_down_ = false;
  std::shared_ptr<BufferPool> pool_;
  IntrusiveList<ShutdownHook, ShutdownHook> hooks_;
};

}  // namespace sluice::asio_backend_internal

#endif  // SLUICE_BACKENDS_ASIO_INTERNAL_CONTEXT_REGISTRY_H_
