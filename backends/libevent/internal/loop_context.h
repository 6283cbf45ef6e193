// File: backends/libevent/internal/loop_context.h
//
// LoopContext: what the libevent backend keeps per event_base: the queue of
// posted coroutine resumptions (the coroutine layer's Executor::post lands
// here) and the set of connections whose driver must run (Executor::wake).
// Private to the backend.
//
// One loop turn, as asyncio's: a single pre-allocated "ready" event is made
// to fire whenever something is posted. Posted from outside a ready step (a
// socket callback completing a read, code running before the loop): the event
// is activated (event_active), so it runs in this same loop iteration, after
// the I/O callbacks already due - no extra poll. Posted from inside a ready
// step (a resumed coroutine posting another): it is added as a timer with a
// zero timeout instead, which fires only after the next poll, so coroutines
// that keep posting each other never starve socket I/O (event_active would
// run them again in the same pass, forever). When it fires:
//   1. every coroutine posted before this turn is resumed, in order (ones
//      they post wait for the next turn);
//   2. every connection woken so far is pumped once (StreamState::run_pump):
//      it sends what its coroutines wrote during step 1, in one gather write,
//      and updates its read/write interest. (So a pump scheduled during step
//      1 arms nothing: step 2 runs it. Only one scheduled during step 2, or
//      a post, needs another turn.)
// So user code never runs inside a driver callback, and many small writes in
// one turn leave in one send.
//
// Ownership: one LoopContext per event_base, shared (std::shared_ptr) by every
// stream, server and pending operation on that base, and found again through
// of(base) while any of them lives. It holds one event on the base, so
// everything using it must be gone before event_base_free(base).
//
// Threading: one thread, the base's (the loop's). of() itself may be called
// from any thread (the registry is locked).

#ifndef SLUICE_BACKENDS_LIBEVENT_INTERNAL_LOOP_CONTEXT_H_
#define SLUICE_BACKENDS_LIBEVENT_INTERNAL_LOOP_CONTEXT_H_

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/buffer_pool.h"

struct event;
struct event_base;

namespace sluice::libevent_backend_internal {

class StreamState;

// The pool's blocks: one fits what a ping-pong request needs (a receive of
// kMinReceive and the reply); bigger flows allocate their own.
inline constexpr std::size_t kPoolBlockSize = 16 * 1024;
// At most this many free blocks kept per loop (1 MiB). Every connection that
// writes in a turn holds a block until step 2 sends it, so a turn's peak is
// one block per busy connection: with 64 connections answering in one turn
// the pool serves them all. A smaller pool frees the excess after every turn
// and mallocs it again in the next, and the allocator then trims and
// regrows its heap (brk, page faults): that cost a ping-pong server about a
// fifth of its CPU. More connections per turn than this allocate the rest.
inline constexpr std::size_t kPoolMaxFree = 64;
// At most this many views per gather write (StreamState's pump).
inline constexpr std::size_t kMaxSendViews = 64;

class LoopContext : public std::enable_shared_from_this<LoopContext> {
 public:
  // of: the context of `base`, created on first use.
  static std::shared_ptr<LoopContext> of(event_base* base);

  LoopContext(const LoopContext&) = delete;
  LoopContext& operator=(const LoopContext&) = delete;
  ~LoopContext();

  event_base* base() const { return base_; }

  // post: resume `h` in the next loop turn (never inside this call).
  void post(std::coroutine_handle<> h);
  // schedule_pump: run state.run_pump() in the next loop turn, after the
  // posted coroutines. The caller ensures it is scheduled at most once.
  void schedule_pump(std::shared_ptr<StreamState> state);

  // pool: the loop's block pool (core/buffer_pool.h), handed to every
  // stream of this base (ConnectionOptions::pool): a busy stream's reader
  // and writer take blocks and give them back when idle, so a ping-pong
  // reuses blocks instead of malloc/free per request. Streams hold the
  // context (shared_ptr), so it outlives them.
  BufferPool& pool() { return pool_; }

  // send_views: room for the views of one gather write, shared by the
  // pumps of this loop (a pump fills it with next_send() and sends it at
  // once, nothing in between can run another pump), so a pump does not
  // construct 1 KiB of views on its stack for every send.
  std::span<std::string_view, kMaxSendViews> send_views() { return send_views_; }

  // turns: loop turns run so far; in_ready: inside one now (introspection:
  // tests check that user code runs only there).
  std::uint64_t turns() const { return turns_; }
  bool in_ready() const { return in_ready_; }
  // idle: nothing posted and no pump scheduled (a replay driver's "settled"
  // needs this besides the sockets' state).
  bool idle() const { return !armed_; }

 private:
  explicit LoopContext(event_base* base);
  void arm();
  static void on_ready(int fd, short what, void* self);
  void run_ready();

  event_base* base_;
  BufferPool pool_{kPoolBlockSize, kPoolMaxFree};
  std::array<std::string_view, kMaxSendViews> send_views_;
  event* ready_event_ = nullptr;
  bool armed_ = false;     // the ready event is active or added
  bool in_ready_ = false;  // inside run_ready()
  bool resuming_ = false;  // inside its step 1 (its step 2 is still to come)
  std::uint64_t turns_ = 0;
  // Posted resumptions; `running_` is the batch of the current turn (two
  // vectors swapped each turn, so a warm loop allocates nothing).
  std::vector<std::coroutine_handle<>> ready_;
  std::vector<std::coroutine_handle<>> running_;
  std::vector<std::shared_ptr<StreamState>> pumps_;
  std::vector<std::shared_ptr<StreamState>> pumping_;
};

}  // namespace sluice::libevent_backend_internal

#endif  // SLUICE_BACKENDS_LIBEVENT_INTERNAL_LOOP_CONTEXT_H_
