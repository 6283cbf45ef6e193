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
//
// Threading: add/remove are thread-safe; shutdown is Asio's (one call).

#ifndef SLUICE_BACKENDS_ASIO_INTERNAL_CONTEXT_REGISTRY_H_
#define SLUICE_BACKENDS_ASIO_INTERNAL_CONTEXT_REGISTRY_H_

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/execution/context.hpp>
#include <asio/execution_context.hpp>
#include <asio/query.hpp>

namespace sluice::asio_backend_internal {

class ShutdownHook {
 public:
  virtual ~ShutdownHook() = default;
  // on_context_shutdown: the execution context is shutting down: destroy
  // every handler held, without invoking it, and forget the registry.
  virtual void on_context_shutdown() = 0;
};

class ContextRegistry final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;

  explicit ContextRegistry(asio::execution_context& context) : service(context) {}

  // of: the registry of the executor's execution context.
  static ContextRegistry& of(const asio::any_io_executor& executor) {
    return asio::use_service<ContextRegistry>(asio::query(executor, asio::execution::context));
  }

  // add: track `hook` (keyed by its address). False once the context shut
  // down (the object is then not tracked).
  bool add(const std::shared_ptr<ShutdownHook>& hook) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return false;
    hooks_[hook.get()] = hook;
    return true;
  }

  void remove(const ShutdownHook* hook) {
    std::lock_guard<std::mutex> lock(mutex_);
    hooks_.erase(hook);
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
      for (auto& [raw, weak] : hooks_) {
        if (std::shared_ptr<ShutdownHook> h = weak.lock()) live.push_back(std::move(h));
      }
      hooks_.clear();
    }
    for (auto& h : live) h->on_context_shutdown();
  }

  std::mutex mutex_;
  bool shut_down_ = false;
  std::unordered_map<const ShutdownHook*, std::weak_ptr<ShutdownHook>> hooks_;
};

}  // namespace sluice::asio_backend_internal

#endif  // SLUICE_BACKENDS_ASIO_INTERNAL_CONTEXT_REGISTRY_H_
