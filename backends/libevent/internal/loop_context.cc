#include "backends/libevent/internal/loop_context.h"

#include <event2/event.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "backends/libevent/internal/stream_state.h"

namespace sluice::libevent_backend_internal {
namespace {

// The registry: event_base -> its context, while the context lives. Leaked on
// purpose (no destruction-order issues at exit).
struct Registry {
  std::mutex mutex;
  std::unordered_map<event_base*, std::weak_ptr<LoopContext>> contexts;
};

Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

std::shared_ptr<LoopContext> LoopContext::of(event_base* base) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::weak_ptr<LoopContext>& slot = r.contexts[base];
  if (std::shared_ptr<LoopContext> existing = slot.lock()) return existing;
  std::shared_ptr<LoopContext> created(new LoopContext(base));
  slot = created;
  return created;
}

LoopContext::LoopContext(event_base* base) : base_(base) {
  ready_event_ = evtimer_new(base, &LoopContext::on_ready, this);
  if (ready_event_ == nullptr) {
    std::fprintf(stderr, "sluice libevent backend: evtimer_new failed\n");
    std::abort();
  }
}

LoopContext::~LoopContext() {
  event_free(ready_event_);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.contexts.find(base_);
  if (it != r.contexts.end() && it->second.expired()) r.contexts.erase(it);
}

void LoopContext::arm() {
  if (armed_) return;
  armed_ = true;
  if (in_ready_) {
    static const timeval kZero = {0, 0};
    evtimer_add(ready_event_, &kZero);  // after the next poll
  } else {
    event_active(ready_event_, EV_TIMEOUT, 0);  // later in this iteration
  }
}

void LoopContext::post(std::coroutine_handle<> h) {
  ready_.push_back(h);
  arm();
}

void LoopContext::schedule_pump(std::shared_ptr<StreamState> state) {
  pumps_.push_back(std::move(state));
  // Scheduled by a coroutine of this turn: the pump step below runs it, no
  // other turn is needed.
  if (!resuming_) arm();
}

void LoopContext::on_ready(int, short, void* self) { static_cast<LoopContext*>(self)->run_ready(); }

void LoopContext::run_ready() {
  // A resumed coroutine may drop the last reference to this context (it
  // finishes and frees the last stream on this base): keep it alive.
  std::shared_ptr<LoopContext> keep = shared_from_this();
  armed_ = false;
  in_ready_ = true;
  ++turns_;
  running_.swap(ready_);
  resuming_ = true;
  for (std::size_t i = 0; i < running_.size(); ++i) running_[i].resume();
  resuming_ = false;
  running_.clear();
  pumping_.swap(pumps_);
  for (std::size_t i = 0; i < pumping_.size(); ++i) pumping_[i]->run_pump();
  pumping_.clear();
  in_ready_ = false;
}

}  // namespace sluice::libevent_backend_internal
