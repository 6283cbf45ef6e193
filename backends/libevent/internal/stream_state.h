// File: backends/libevent/internal/stream_state.h
//
// StreamState: one connection of the libevent backend: a connected socket, the
// sans-IO sluice::Connection it drives (core/connection.h is the contract,
// wrapped in the coroutine layer's AsyncConnection), and the one libevent
// event that watches the socket. Private to the backend: users hold a
// StreamReader and a StreamWriter (stream_reader.h, stream_writer.h), which
// share one StreamOwner, which holds the StreamState.
//
// The driver (readiness style, a raw event on the descriptor; streams.h says
// why not bufferevent):
//   - Interest: one persistent event, re-assigned to EV_READ, EV_WRITE, both
//     or neither whenever the interest changes (one event instead of two
//     saves 144 bytes per connection). It is re-evaluated after every call
//     into the Connection and after user code ran (Executor::wake).
//   - Reading: EV_READ is watched exactly while connection().want_read() is
//     true (false while the reader is paused at 2*limit, after EOF, once
//     closing, after the loss). When readable the driver recv()s straight
//     into prepare_receive(n) / commit_received(k) - no intermediate buffer,
//     and nothing is held once the reader has consumed everything; n adapts
//     between kMinReceive and kReceiveChunk - until the socket is drained (a
//     short read), want_read() turns false, or kMaxReadsPerEvent reads were
//     done (fairness). So the reader never buffers more than 2*limit +
//     kReceiveChunk bytes. recv() == 0 is eof_received(); an error is
//     connection_lost(errno).
//   - Writing: user calls never send. A user call that changes what the
//     connection wants (the coroutine layer's Executor::wake) schedules one
//     pump for the end of the loop turn (LoopContext), so everything written
//     in a turn leaves in one sendmsg() gather write of next_send()'s views
//     (MSG_NOSIGNAL: a reset peer is an EPIPE error, never a SIGPIPE). A send
//     that would block watches EV_WRITE until the queue is sent.
//     kShutdownWrite -> shutdown(SHUT_WR) then write_eof_sent(); kClose ->
//     close() then connection_lost(); kAbort -> SO_LINGER {1, 0} + close()
//     (an RST) then connection_lost().
//   - Completions returned by the Connection go to AsyncConnection::dispatch,
//     which only posts the waiting coroutines to the LoopContext: user code
//     never runs inside a libevent callback of this driver.
//
// Memory: an idle connection is this object (about 700 bytes, most of it the
// core's Connection, allocated together with its shared_ptr control block),
// its event (128 bytes), its packed endpoints (EndpointPair) and the
// StreamOwner - about 1 KiB in all - and no receive buffer (the core releases
// it when empty).
//
// Ownership and lifetime: shared by the StreamOwner (the user's handles), by
// a scheduled pump, and by itself while the socket is open (so a connection
// closing after its handles are gone still flushes). When the last user
// handle goes, abandon() closes it (flush, then FIN) unless it is already
// closing: asyncio's StreamWriter.__del__. The descriptor is closed when the
// connection is lost (closed, aborted or failed).
//
// Threading: the event_base's thread only.

#ifndef SLUICE_BACKENDS_LIBEVENT_INTERNAL_STREAM_STATE_H_
#define SLUICE_BACKENDS_LIBEVENT_INTERNAL_STREAM_STATE_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>

#include "backends/libevent/endpoint.h"
#include "backends/libevent/internal/loop_context.h"
#include "backends/libevent/internal/socket_ops.h"
#include "backends/libevent/options.h"
#include "core/connection.h"
#include "core/coro/async_connection.h"
#include "core/coro/executor.h"

struct event;

namespace sluice::libevent_backend_internal {

// The most bytes one recv() asks for (and so the most one read adds to the
// buffer past the reader's pause threshold).
inline constexpr std::size_t kReceiveChunk = 64 * 1024;
// The least it asks for. The size adapts between the two: it doubles after a
// recv() that filled what it asked, halves after one that got a quarter or
// less, so a connection trickling small messages reserves 4 KiB, not 64 KiB,
// while a partial message waits in its buffer, and a bulk transfer reads 64
// KiB at a time.
inline constexpr std::size_t kMinReceive = 4 * 1024;
// At most this many recv() calls per readiness event, then let others run.
inline constexpr int kMaxReadsPerEvent = 16;
// At most this many views per gather write.
inline constexpr std::size_t kMaxSendViews = 64;
// At most this many sendmsg() calls per pump, then wait for EV_WRITE.
inline constexpr int kMaxSendsPerPump = 16;

class StreamState;

// check_stream_options: kInvalidArgument (as a std::error_code) for a zero
// limit or water marks set_write_buffer_limits would refuse, else none.
std::error_code check_stream_options(const libevent_backend::StreamOptions& options);

// ConnectionObserver: told, inside the driver, when a connection it watches
// is lost (a server counts its active connections with it). Must not run user
// code (post it instead).
class ConnectionObserver {
 public:
  virtual void connection_detached(StreamState& state) = 0;

 protected:
  ~ConnectionObserver() = default;
};

class StreamState final : public std::enable_shared_from_this<StreamState> {
 public:
  // create: wrap the connected socket `fd` (made non-blocking and
  // close-on-exec; TCP_NODELAY per options) and start reading. On success it
  // owns `fd`; on failure it returns null, sets `ec` (kInvalidArgument for
  // bad options, ENOTSOCK, ...) and leaves `fd` to the caller.
  static std::shared_ptr<StreamState> create(std::shared_ptr<LoopContext> loop, int fd,
                                             const libevent_backend::StreamOptions& options,
                                             std::error_code& ec);

  // Only create() can name Key (one allocation with the shared_ptr's control
  // block needs a public constructor).
  class Key {
    friend class StreamState;
    Key() = default;
  };
  StreamState(Key, std::shared_ptr<LoopContext> loop, int fd, ConnectionOptions options);
  ~StreamState();

  StreamState(const StreamState&) = delete;
  StreamState& operator=(const StreamState&) = delete;

  // async: the user side (the coroutine layer's reader and writer).
  AsyncConnection& async() { return async_; }
  const Connection& connection() const { return async_.connection(); }
  LoopContext& loop() const { return *loop_; }
  event_base* base() const { return loop_->base(); }

  // ---- Extra info. ---------------------------------------------------------

  // Captured when the stream was made (asyncio does the same), so they stay
  // readable after the close.
  std::optional<libevent_backend::Endpoint> peername() const { return endpoints_.peer(); }
  std::optional<libevent_backend::Endpoint> sockname() const { return endpoints_.local(); }
  // The descriptor, -1 once the connection is lost.
  int fd() const { return fd_; }
  // System calls so far (coalescing and backpressure are observable here).
  std::uint64_t send_calls() const { return send_calls_; }
  std::uint64_t recv_calls() const { return recv_calls_; }
  // Whether EV_READ / EV_WRITE are watched now.
  bool reading() const { return (events_ & kRead) != 0; }
  bool waiting_writable() const { return (events_ & kWrite) != 0; }

  // ---- Owners. -------------------------------------------------------------

  // abandon: the last user handle is gone. Closes (flush, then FIN) unless
  // already closing, and flushes what it can right away.
  void abandon();
  // close / abort: the writer's, for a server's close_clients/abort_clients.
  void close() { async_.writer().close(); }
  void abort() { async_.writer().abort(); }
  void set_observer(ConnectionObserver* observer) { observer_ = observer; }

  // ---- Driver, called by the LoopContext. ------------------------------------

  // schedule: run the pump at the end of the current loop turn, or of the
  // next one when called outside a turn (Executor::wake).
  void schedule();
  // run_pump: the scheduled pump.
  void run_pump();

 private:
  class StreamExecutor final : public Executor {
   public:
    explicit StreamExecutor(StreamState& state) : state_(&state) {}
    void post(std::coroutine_handle<> h) override { state_->loop_->post(h); }
    void wake(Connection&) override { state_->schedule(); }

   private:
    StreamState* state_;
  };

  // EV_READ and EV_WRITE (event2/event.h's values, checked in the .cc).
  static constexpr short kRead = 0x02;
  static constexpr short kWrite = 0x04;

  static void on_io_event(int fd, short what, void* self);
  void on_readable();
  // pump: do what the Connection asks (send, shut down, close, abort), then
  // update the interest.
  void pump();
  // update_interest: watch EV_READ / EV_WRITE as the Connection's answers
  // say.
  void update_interest();
  // lose: close the socket (with an RST if `reset`) and report
  // connection_lost(error). May drop the last reference to this object: the
  // caller must hold one.
  void lose(std::error_code error, bool reset);
  void dispatch(Completions completions) { async_.dispatch(std::move(completions)); }
  Connection& conn() { return async_.connection(); }

  std::shared_ptr<LoopContext> loop_;
  StreamExecutor executor_{*this};
  AsyncConnection async_;
  int fd_;
  event* io_event_ = nullptr;
  short events_ = 0;             // what io_event_ watches now (0: not added)
  bool wait_writable_ = false;   // a send would block (or yielded): wait for EV_WRITE
  bool pump_scheduled_ = false;  // a pump is in the LoopContext's list
  // Set while the socket is open: the connection keeps itself alive.
  std::shared_ptr<StreamState> self_;
  ConnectionObserver* observer_ = nullptr;
  EndpointPair endpoints_;
  // The next recv() size, kMinReceive..kReceiveChunk (see kMinReceive).
  std::uint32_t receive_size_ = kMinReceive;
  std::uint64_t send_calls_ = 0;
  std::uint64_t recv_calls_ = 0;
};

// StreamOwner: what the user's StreamReader and StreamWriter share. Its end is
// the end of the user's interest: the connection is abandoned.
struct StreamOwner {
  explicit StreamOwner(std::shared_ptr<StreamState> s) : state(std::move(s)) {}
  ~StreamOwner() { state->abandon(); }
  StreamOwner(const StreamOwner&) = delete;
  StreamOwner& operator=(const StreamOwner&) = delete;

  std::shared_ptr<StreamState> state;
};

}  // namespace sluice::libevent_backend_internal

#endif  // SLUICE_BACKENDS_LIBEVENT_INTERNAL_STREAM_STATE_H_
