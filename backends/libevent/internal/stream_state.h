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
//     (send() when there is one view: the kernel then copies no msghdr or
//     iovec; MSG_NOSIGNAL: a reset peer is an EPIPE error, never a
//     SIGPIPE). A send that would block watches EV_WRITE until the queue is
//     sent.
//     kShutdownWrite -> shutdown(SHUT_WR) then write_eof_sent(); kClose ->
//     close() then connection_lost(); kAbort -> SO_LINGER {1, 0} + close()
//     (an RST) then connection_lost().
//   - Completions returned by the Connection go to AsyncConnection::dispatch,
//     which only posts the waiting coroutines to the LoopContext: user code
//     never runs inside a libevent callback of this driver.
//
//   - TLS (core/connection.h section 4): the same calls, now carrying
//     ciphertext. Two differences: received bytes may ask for a send (the
//     handshake's next flight, an alert, close_notify, a close), so over TLS
//     a readable event ends with a pump; and the handshake and shutdown
//     timers: after every driver step (update_interest) and after a
//     start_tls, one libevent timer is armed for the handshake while
//     connection().handshake_in_progress(), for the shutdown while
//     shutdown_in_progress(), and removed otherwise; on expiry the socket is
//     aborted (RST) and the loss reported as std::errc::timed_out. A failed
//     handshake is not the driver's business: the core asks it to send the
//     alert and close, as for any other connection.
//
// Memory: an idle plain connection is this object (sizeof is about 480
// bytes, most of it the core's Connection, allocated together with its
// shared_ptr control block), its event (128 bytes), its packed endpoints
// (backends/common/sockaddr_pair.h) and the StreamOwner, and no receive
// buffer (the core releases it when empty). What only TLS needs (the timer,
// its timeouts) lives in a TlsExtras block allocated on first need - when a
// connection is made with ssl, or at start_tls - so plain connections pay
// one null pointer, which fits in padding: sizeof(StreamState) did not grow.
// A client made by open_connection(host) also gets the block, holding just
// the host, start_tls's default server_hostname.
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

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
// At most this many send() / sendmsg() calls per pump, then wait for EV_WRITE.
inline constexpr int kMaxSendsPerPump = 16;

class StreamState;

// TlsUse: who will use a StreamOptions, i.e. which TLS roles its ssl may
// have: open_connection a client context, a server a server context,
// make_stream either.
enum class TlsUse { kClient, kServer, kEither };

// check_stream_options: kInvalidArgument (as a std::error_code) for a zero
// limit, water marks set_write_buffer_limits would refuse, or TLS options
// options.h refuses (`use` says which role ssl may have; `host` is what
// server_hostname defaults to, "" for none); else none. `why`, if given, is
// set to a sentence saying what is wrong (a string literal).
std::error_code check_stream_options(const libevent_backend::StreamOptions& options,
                                     TlsUse use = TlsUse::kEither, std::string_view host = {},
                                     const char** why = nullptr);

// check_start_tls: the same rules for start_tls's arguments.
std::error_code check_start_tls(const TlsContext& context,
                                const libevent_backend::StartTlsOptions& options,
                                const char** why = nullptr);

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
  // close-on-exec; TCP_NODELAY per options) and start reading; with
  // options.ssl, start TLS in the context's role (a client's ClientHello
  // leaves at once) and arm the handshake timer. `host`: the name
  // open_connection was given ("" for none), server_hostname's default now
  // and start_tls's later. On success it owns `fd`; on failure it returns
  // null, sets `ec` (kInvalidArgument for bad options, ENOTSOCK, ...) and
  // leaves `fd` to the caller.
  static std::shared_ptr<StreamState> create(std::shared_ptr<LoopContext> loop, int fd,
                                             const libevent_backend::StreamOptions& options,
                                             std::error_code& ec, std::string_view host = {});

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
  std::optional<libevent_backend::Endpoint> peername() const { return to_endpoint(endpoints_.peer()); }
  std::optional<libevent_backend::Endpoint> sockname() const { return to_endpoint(endpoints_.local()); }
  // The descriptor, -1 once the connection is lost.
  int fd() const { return fd_; }
  // default_server_hostname: the host open_connection was given ("" if
  // none): start_tls's server_hostname when the caller names none.
  std::string_view default_server_hostname() const {
    return tls_ ? std::string_view(tls_->host) : std::string_view();
  }
  // tls_timer_armed: the handshake or shutdown timer is running
  // (introspection: plain connections never have one).
  bool tls_timer_armed() const { return tls_ && tls_->armed != TlsTimer::kNone; }
  bool has_tls_extras() const { return tls_ != nullptr; }
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

  // start_tls: the user's STARTTLS (StreamWriter::start_tls, after its
  // drain): Connection::start_tls, then the timers take these timeouts and
  // the driver is woken (the ClientHello goes out, the handshake timer is
  // armed). The core's refusal is returned as it is (nothing changed);
  // kConnectionError{not_enough_memory} if the timer cannot be made. The
  // outcome then comes through async().handshake().
  Status start_tls(TlsOptions options, StartTlsBuffered buffered,
                   std::chrono::milliseconds handshake_timeout,
                   std::chrono::milliseconds shutdown_timeout);

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

  // Which TLS timer runs.
  enum class TlsTimer : unsigned char { kNone, kHandshake, kShutdown };

  // TlsExtras: what only TLS connections need (and the host a client may
  // start_tls with), allocated on first need so that a plain connection
  // pays one null pointer.
  struct TlsExtras {
    TlsExtras() = default;
    TlsExtras(const TlsExtras&) = delete;
    TlsExtras& operator=(const TlsExtras&) = delete;
    ~TlsExtras();

    // open_connection's host (see default_server_hostname()).
    std::string host;
    std::chrono::milliseconds handshake_timeout = kDefaultTlsHandshakeTimeout;
    std::chrono::milliseconds shutdown_timeout = kDefaultTlsShutdownTimeout;
    // The one timer, for whichever phase runs; made when TLS starts (null
    // while the block only holds the host).
    event* timer = nullptr;
    TlsTimer armed = TlsTimer::kNone;
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
  // say; over TLS also (re)arm or remove the TLS timer.
  void update_interest();
  // TLS timers (see the file comment). make_tls_timer: the timer event of
  // `extras`, made if missing; false if libevent cannot allocate it.
  bool make_tls_timer(TlsExtras& extras);
  void update_tls_timer();
  static void on_tls_timeout(int fd, short what, void* self);
  // lose: close the socket (with an RST if `reset`) and report
  // connection_lost(error). May drop the last reference to this object: the
  // caller must hold one.
  void lose(std::error_code error, bool reset);
  void dispatch(Completions completions) { async_.dispatch(std::move(completions)); }
  Connection& conn() { return async_.connection(); }

  // Members are ordered so that the 4-byte ones pair up: the TLS pointer
  // below fits where padding was (sizeof unchanged for plain connections).
  std::shared_ptr<LoopContext> loop_;
  StreamExecutor executor_{*this};
  AsyncConnection async_;
  int fd_;
  // The next recv() size, kMinReceive..kReceiveChunk (see kMinReceive).
  std::uint32_t receive_size_ = kMinReceive;
  event* io_event_ = nullptr;
  short events_ = 0;             // what io_event_ watches now (0: not added)
  bool wait_writable_ = false;   // a send would block (or yielded): wait for EV_WRITE
  bool pump_scheduled_ = false;  // a pump is in the LoopContext's list
  // Set while the socket is open: the connection keeps itself alive.
  std::shared_ptr<StreamState> self_;
  ConnectionObserver* observer_ = nullptr;
  backend_common::SockaddrPair endpoints_;
  // Null for plain connections (see TlsExtras).
  std::unique_ptr<TlsExtras> tls_;
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
