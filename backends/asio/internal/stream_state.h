// File: backends/asio/internal/stream_state.h
//
// StreamState: one connection of the Asio backend: a socket, the sans-IO
// sluice::Connection it drives (core/connection.h is the contract), and the
// handlers of the operations waiting on it. Private to the backend: users hold
// a StreamReader and a StreamWriter (backends/asio/stream_reader.h,
// stream_writer.h), which share one StreamOwner, which owns the StreamState.
//
// The driver (readiness style over Asio):
//   - Reading: from the start (create() schedules the first pump, as
//     asyncio's transports start reading in connection_made), and while
//     conn.want_read(), it keeps one socket.async_wait(read) in flight; when
//     readable it read_some()s straight into
//     conn.prepare_receive(n) / commit_received(k) (zero copy; n adapts
//     between kMinReceive and kReceiveChunk; no receive buffer is held
//     between reads: an idle connection costs no buffer, and on a
//     one-thread io_context the blocks come from the context's pool) until the socket would block, want_read() turns false (the
//     reader paused at 2*limit, EOF, closing) or kMaxReadsPerEvent reads were
//     done (fairness). The buffered bytes therefore never exceed
//     2*limit + kReceiveChunk.
//     After a send, the wait is not armed at once: a probe is posted first,
//     which reads if the peer has answered meanwhile (a ping-pong peer
//     usually has, by the time the loop has served the other connections).
//     A hit costs one recv (no epoll_ctl, no epoll_wait); a miss arms the
//     wait as before, and the next kProbeSkipAfterMiss arms go without a
//     probe. (Asio's async_wait re-arms the descriptor with epoll_ctl every
//     time; a speculative async_read_some would need a buffer held while
//     the connection idles.)
//   - Writing: user calls never send inline. The first user call of a loop
//     turn that gives the driver something to do posts one flush (schedule())
//     to the stream's executor, so a thousand writes in one turn leave in one
//     gather write_some() of next_send()'s views. A send that would block arms
//     socket.async_wait(write) and retries when writable. At most
//     kMaxSendsPerPump sends per turn, then the rest is posted (fairness).
//     The posted flush waits for this stream's user code: while completions
//     posted for this stream have not run yet (completions_queued_, counted
//     down by the completion itself once its handler returned: see
//     CompletionObserver in pending_handler.h), it is held, and the last of
//     them to run flushes (or the kMaxPumpDeferrals-th, or the one after
//     which kFlushBytes wait), so a pipelined handler's write / drain /
//     readline steps served from the buffer all leave in one send; a lone
//     write still goes out in the same turn or the next.
//     kShutdownWrite -> shutdown(send); kClose -> close(); kAbort -> SO_LINGER
//     0 then close() (RST); each then reports to the Connection.
//   - Completions returned by the Connection are handed to the waiting
//     handlers with PendingHandler::complete, i.e. posted, never invoked
//     inside a driver call or an initiating function. That includes
//     Completions::handshake, whose waiters are internal (open_connection's
//     final step, a server's launch of its client callback) or a user's
//     async_start_tls. One exception, the one Asio's own reads make: a read
//     completed by the bytes a readiness callback just read is invoked at
//     the end of that callback, once the driver is done (finish_read),
//     when its handler runs on the stream's executor and nothing of this
//     stream's is queued before it; it still never runs inside an
//     initiating function or in the middle of a driver step.
//   - While this stream's completions run or are queued, a user call that
//     gives the driver work (a write) posts nothing: the flush is held and
//     the last of them to return flushes (completion_ran).
//
// TLS (core/connection.h section 4): the driver makes the same calls, which
// now carry ciphertext; it only adds what the core leaves to a loop:
//   - Timers. After every driver step (pump, lose) and every user call that
//     can start a handshake or a shutdown (start_tls, close) it re-checks
//     conn.handshake_in_progress() / shutdown_in_progress() and keeps one
//     asio::steady_timer armed for whichever holds (the two never overlap).
//     On expiry: abort (RST) and connection_lost(std::errc::timed_out).
//   - A failure (handshake or later) is not the end of driving: the core
//     asks for its alert to be sent and then for the close, as for any
//     other kSend / kClose.
//   Everything TLS needs beyond the Connection (the timer, the timeouts, the
//   handshake's waiters, the host start_tls defaults to) lives in TlsExtras,
//   allocated on first need: a plain connection made by make_stream or
//   accepted by a server never allocates it, and sizeof(StreamState) did not
//   grow for it (the driver's flags are bit-fields to make room for the
//   pointer). A plain connection made by open_connection allocates it to
//   remember its host.
//
// Memory (issue 8 counts bytes per idle connection): an idle plain
// connection is this object (sizeof is about 640 bytes, nearly half of it
// the core's Connection), allocated together with its shared_ptr control
// block (std::make_shared: a weak_ptr left behind, e.g. in a cancellation
// slot, keeps the block until it goes), the packed endpoints (SockaddrPair:
// one pointer here, a block of 34 bytes for IPv4, 58 for IPv6), the
// StreamOwner, the handler of a read that waits (a PendingHandler) and
// Asio's own state (its per-descriptor reactor state, the read wait's
// operation). Being tracked costs no allocation: the ContextRegistry and a
// server link the stream into intrusive lists (ShutdownHook's links,
// ListLinks<ServerClientsTag>), and the drains and wait_closeds wait in
// HandlerQueues (one pointer each). No receive buffer is held while idle
// (see Reading above).
//
// Ownership and lifetime: a StreamState is shared by the StreamOwner (the
// user's handles) and by every internal asynchronous operation in flight (a
// wait, a posted flush); a server tracks it without owning it (its
// LossListener: told when it is lost or goes first). When the last user
// handle goes, abandon() closes the connection (flush, then FIN, as asyncio's
// StreamWriter.__del__ does) unless it is already closing; the operations in
// flight keep the StreamState alive until the close is done;
// the socket's descriptor is released when the connection is lost (closed,
// aborted or failed), not when the StreamState dies. The waiting handlers are
// owned here, so a coroutine suspended on this stream (whose frame holds the
// handles) forms a cycle until it completes; when the execution context shuts
// down first, the ContextRegistry breaks it (on_context_shutdown()).
//
// Threading: everything runs on the socket's executor; nothing is
// thread-safe (like an Asio socket). Use a strand executor with a
// multi-threaded io_context.

#ifndef SLUICE_BACKENDS_ASIO_INTERNAL_STREAM_STATE_H_
#define SLUICE_BACKENDS_ASIO_INTERNAL_STREAM_STATE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/generic/stream_protocol.hpp>

#include "backends/asio/endpoint.h"
#include "backends/asio/internal/context_registry.h"
#include "backends/asio/internal/handler_queue.h"
#include "backends/asio/internal/intrusive_list.h"
#include "backends/asio/internal/pending_handler.h"
#include "backends/asio/options.h"
#include "backends/common/sockaddr_pair.h"
#include "core/connection.h"

namespace sluice::asio_backend_internal {

// Every stream's socket: TCP (IPv4, IPv6) and UNIX sockets alike.
using Socket = asio::generic::stream_protocol::socket;

// The bytes asked of one read_some (and the most a read can add to the
// buffer past the reader's pause threshold).
inline constexpr std::size_t kReceiveChunk = 64 * 1024;
// The first read_some asks for this much; the size then adapts between it
// and kReceiveChunk (doubling when a read fills it, halving when one uses a
// quarter), so a ping-pong stream reads into one pooled block (see
// ContextRegistry::pool) while a bulk stream reads 64 KiB at a time.
inline constexpr std::size_t kMinReceive = 4 * 1024;
// After a probe found nothing (see the file comment), this many read waits
// are armed without one.
inline constexpr std::uint8_t kProbeSkipAfterMiss = 8;
// At most this many read_some calls per readiness event, then yield.
inline constexpr int kMaxReadsPerEvent = 16;
// At most this many views per gather write (Asio's own limit is 64).
inline constexpr std::size_t kMaxSendViews = 64;
// At most this many write_some calls per pump, then yield (fairness).
inline constexpr int kMaxSendsPerPump = 16;
// While completions for this stream are still queued (its user code can go
// further in this turn), the flush is held until they have run, at most
// this many of them or until this many bytes are waiting, then it sends.
inline constexpr int kMaxPumpDeferrals = 1024;
inline constexpr std::size_t kFlushBytes = 64 * 1024;

// ReadRequest: a read as the user asked for it. It owns its separators, since
// a deferred operation may start long after the call that described it.
struct ReadRequest {
  enum class Kind { kRead, kReadLine, kReadExactly, kReadUntil };
  Kind kind = Kind::kRead;
  std::int64_t n = -1;                  // kRead, kReadExactly
  std::vector<std::string> separators;  // kReadUntil
};

// The pending read's handler: (error, bytes or partial, the StreamError).
using ReadHandler = PendingHandler<std::error_code, std::string, std::optional<StreamError>>;
// A drain's or wait_closed's handler.
using StatusHandler = PendingHandler<std::error_code>;

// to_error_code: a failed core operation as a std::error_code: the cause for
// kConnectionError (errno values in Asio's system category), the whole text
// in the sluice.tls category for kTlsError (StreamError::to_error_code(), so
// OpenSSL's reason survives into message() and std::system_error::what()),
// else make_error_code(StreamErrc).
std::error_code to_error_code(const StreamError& error);
std::error_code to_error_code(const Status& status);

// validate_options: nullopt if `options` can work, else kInvalidArgument
// whose detail is asyncio's reason (see options.h, "Validation"). `role`:
// the role the caller needs the ssl context to have (nullopt: either, as for
// make_stream). `host`: what server_hostname defaults to (open_connection's
// host; "" elsewhere).
std::optional<StreamError> validate_options(const asio_backend::StreamOptions& options,
                                            std::optional<TlsRole> role, std::string_view host);

class StreamState;

// ServerClientsTag: a server's list of its active connections
// (IntrusiveList<StreamState, ServerClientsTag>, server.cc).
struct ServerClientsTag;

// LossListener: whoever tracks a stream until it is lost (a server counting
// its active connections). Set with StreamState::set_loss_listener.
class LossListener {
 public:
  // stream_lost: `stream` was just lost. Called once, inside the driver:
  // must not call user code.
  virtual void stream_lost(StreamState& stream) = 0;
  // stream_detached: `stream` is being destroyed, or its context shut down,
  // before it was lost: forget it.
  virtual void stream_detached(StreamState& stream) = 0;

 protected:
  ~LossListener() = default;
};

class StreamState final : public ShutdownHook,
                          public ListLinks<ServerClientsTag>,
                          public CompletionObserver,
                          public std::enable_shared_from_this<StreamState> {
  // Only create() makes a StreamState (the constructor is public for
  // std::make_shared: the object and its control block in one allocation).
  struct CreateKey {
    explicit CreateKey() = default;
  };

 public:
  // create: wrap a connected socket (made non-blocking; TCP_NODELAY per
  // options). With options.ssl the TLS handshake starts at once (the
  // context's role is the connection's). `host`: the name open_connection
  // was given (server_hostname's default, here and for start_tls). Returns
  // null and sets `ec` on failure: kInvalidArgument for bad options
  // (validate_options with either role), or the socket's error.
  static std::shared_ptr<StreamState> create(Socket socket,
                                             const asio_backend::StreamOptions& options,
                                             std::error_code& ec, std::string_view host = {});
  StreamState(CreateKey, Socket socket, const asio_backend::StreamOptions& options,
              std::string_view host);
  ~StreamState() override;

  StreamState(const StreamState&) = delete;
  StreamState& operator=(const StreamState&) = delete;

  const asio::any_io_executor& executor() const { return executor_; }
  const Connection& connection() const { return conn_; }

  // ---- Reader side. ----------------------------------------------------------

  // begin_read: run `request` on the reader. A result (ready at once) must be
  // handed to post_read_result(); nullopt means the read is pending in the
  // core: hand its handler to wait_read() before anything else runs.
  ReadPoll begin_read(const ReadRequest& request);
  template <typename Handler>
  void post_read_result(Handler&& handler, ReadResult result);
  // wait_read: keep `handler` until the Connection completes the read. A
  // connected `slot` lets the caller cancel it: the reader forgets the read
  // (no byte is lost) and the handler gets asio::error::operation_aborted.
  void wait_read(std::unique_ptr<ReadHandler> handler, asio::cancellation_slot slot);
  // withdraw_read: forget the pending read without invoking its handler
  // (its coroutine is being destroyed); no byte is lost.
  void withdraw_read();
  const std::optional<StreamError>& last_error() const { return last_error_.as_optional(); }
  void set_last_error(StreamError error) { last_error_.set(std::move(error)); }

  // ---- Writer side. ----------------------------------------------------------

  std::error_code write(std::string_view data);
  std::error_code write(std::string&& data);
  std::error_code writelines(std::span<const std::string_view> pieces);
  std::error_code write_eof();
  std::error_code set_write_buffer_limits(std::optional<std::int64_t> high,
                                          std::optional<std::int64_t> low);
  void close();
  void abort();
  // begin_drain: the drain's result if known at once (then hand it to
  // post_status()), else nullopt: hand the handler to wait_drain().
  StatusPoll begin_drain();
  void wait_drain(std::unique_ptr<StatusHandler> handler);
  template <typename Handler>
  void post_status(Handler&& handler, const Status& status);
  void start_wait_closed(std::unique_ptr<StatusHandler> handler);
  // poll_closed / wait_closed_pending: wait_closed in two steps, as
  // begin_drain / wait_drain (the coroutine forms use them).
  StatusPoll poll_closed() { return conn_.writer().wait_closed(); }
  void wait_closed_pending(std::unique_ptr<StatusHandler> handler);
  // withdraw_status_handler: drop a waiting drain or wait_closed handler
  // without invoking it (its coroutine is being destroyed).
  void withdraw_status_handler(const StatusHandler* handler);

  // ---- TLS. --------------------------------------------------------------------

  // start_wait_handshake: complete `handler` with the handshake's result: at
  // once (posted) for a plain connection or a handshake already over, else
  // when Completions::handshake brings it.
  void start_wait_handshake(std::unique_ptr<StatusHandler> handler);
  // start_tls: asyncio's StreamWriter.start_tls: wait for the writer to
  // drain, then Connection::start_tls (the role is context.role()), then
  // complete `handler` when the handshake does. Bad arguments, a second
  // start_tls while one waits, a connection already on TLS, or the core's
  // refusal complete it with the error (kInvalidArgument, kTlsError).
  void start_tls(TlsContext context, asio_backend::StartTlsOptions options,
                 std::unique_ptr<StatusHandler> handler);

  // ---- Extra info. -------------------------------------------------------------

  // Captured when the stream was made (asyncio does the same), so they stay
  // readable after the close; kept packed (endpoints_), made into Endpoints
  // on demand.
  std::optional<asio_backend::Endpoint> peername() const;
  std::optional<asio_backend::Endpoint> sockname() const;
  // The socket's descriptor, -1 once closed.
  int native_handle();
  // write_some calls so far (coalescing is observable through it).
  std::uint64_t send_calls() const { return send_calls_; }
  // tls_established: a TLS connection whose handshake succeeded (its peer
  // information is readable).
  bool tls_established() const;

  // ---- Owners. -----------------------------------------------------------------

  // abandon: the last user handle is gone. Closes (flush, then FIN) unless
  // closing; aborts (RST) if the execution context has shut down, since no
  // loop is left to flush with.
  void abandon();
  // set_loss_listener: tell `listener` when the connection is lost (or
  // when this stream goes first: see LossListener). A listener that goes
  // first sets null here.
  void set_loss_listener(LossListener* listener) { loss_listener_ = listener; }

  // make_handler: a PendingHandler for an operation of this stream that has
  // to wait (its completion is counted: see completion_posted()).
  template <typename... Args, typename Handler>
  std::unique_ptr<PendingHandler<Args...>> make_handler(Handler&& handler) {
    return make_pending_handler<Args...>(std::forward<Handler>(handler), executor_,
                                         weak_from_this());
  }

  // CompletionObserver: one of this stream's posted completions has run.
  void completion_ran() override;

  // ShutdownHook: the execution context is going away: destroy the waiting
  // handlers without invoking them (what Asio does with its own).
  void on_context_shutdown() override;
  std::shared_ptr<ShutdownHook> lock_hook() override { return weak_from_this().lock(); }

 private:
  // What TLS needs beyond the Connection (stream.cc); see the file comment.
  struct TlsExtras;

  // schedule: post one pump() unless one is already posted or the driver has
  // nothing to do.
  void schedule();
  bool driver_has_work() const;
  // pump: do what the Connection asks (send, shut down, close, abort; arm
  // the read wait).
  void pump();
  // pump_write: returns whether bytes were sent.
  bool pump_write();
  // arm_read: if the Connection wants bytes and nothing is under way, probe
  // (after a send, see the file comment) or wait for readability.
  void arm_read(bool sent);
  // on_readable: read what the socket has. `probe`: called by a probe, not
  // by readiness (a first read that would block is a miss).
  void on_readable(std::error_code ec, bool probe = false);
  void on_writable(std::error_code ec);
  // lose: the socket failed or was closed: close it, report to the Connection.
  void lose(std::error_code error, bool reset);
  // deliver: hand `completions` to the waiting handlers (posted). With
  // `read`, the read's result is moved there instead, for finish_read().
  void deliver(Completions completions, ReadPoll* read = nullptr);
  std::unique_ptr<ReadHandler> take_read_handler();
  void complete_read(ReadResult result);
  // finish_read: complete the pending read from a driver callback, at its
  // end: invoked at once when the rules allow (see the file comment), else
  // posted.
  void finish_read(ReadResult result);
  void cancel_read(std::uint64_t id);
  // completion_posted: a completion for this stream was just posted; count it
  // until it has run (completion_ran()).
  void completion_posted();
  void post_pump();
  // TLS (stream.cc, "TLS"). ensure_tls_extras: allocated on first call.
  TlsExtras& ensure_tls_extras();
  // update_tls_timer: arm, re-arm or cancel the timer for what the
  // Connection is doing now (a no-op for plain connections).
  void update_tls_timer();
  void on_tls_timer(std::error_code ec, std::uint64_t generation);
  void complete_handshake_waiters(const std::error_code& ec);
  void continue_start_tls(std::error_code drained, TlsOptions tls,
                          const asio_backend::StartTlsOptions& options,
                          std::unique_ptr<StatusHandler> handler);

  asio::any_io_executor executor_;
  Socket socket_;
  // The context's block pool (null: none); declared before conn_, whose
  // reader and writer give their blocks back to it when destroyed.
  std::shared_ptr<BufferPool> pool_;
  Connection conn_;

  // The pending read's handler and its id (ids tell a stale cancellation from
  // the current one). Null when no read is pending.
  std::unique_ptr<ReadHandler> read_handler_;
  asio::cancellation_slot read_slot_;
  std::uint64_t read_id_ = 0;
  HandlerQueue<std::error_code> drain_handlers_;
  HandlerQueue<std::error_code> closed_handlers_;
  StreamErrorSlot last_error_;  // boxed: 8 bytes until a read fails

  std::uint64_t send_calls_ = 0;
  // Packed into one word (with the bit-fields below) so that the TLS pointer
  // costs plain connections nothing.
  std::uint32_t completions_queued_ = 0;  // posted completions not yet run
  std::uint32_t receive_size_ = kMinReceive;  // the next read_some's size
  std::uint16_t pump_deferrals_ = 0;      // completions run while the flush is held
  std::uint8_t probe_skip_ = 0;           // arms left without a probe after a miss
  static_assert(kMaxPumpDeferrals <= std::numeric_limits<std::uint16_t>::max());
  bool read_wait_ : 1 = false;    // socket.async_wait(read) or a probe in flight
  bool write_wait_ : 1 = false;   // socket.async_wait(write) in flight
  bool pump_posted_ : 1 = false;  // a pump() is posted
  bool flush_held_ : 1 = false;   // a pump waits for completions_queued_ == 0
  // TLS: null for a plain connection that never needed it (see the file
  // comment).
  std::unique_ptr<TlsExtras> tls_extras_;

  // The peer's and the local address (an Endpoint is 136 bytes; the packed
  // pair is a pointer to a block sized to fit).
  backend_common::SockaddrPair endpoints_;
  LossListener* loss_listener_ = nullptr;
  // Null once the context shut down (or if it had when this was made).
  ContextRegistry* registry_ = nullptr;
};

// StreamOwner: what the user's StreamReader and StreamWriter share. Its end
// is the end of the user's interest: the connection is abandoned.
struct StreamOwner {
  explicit StreamOwner(std::shared_ptr<StreamState> s) : state(std::move(s)) {}
  ~StreamOwner() { state->abandon(); }
  StreamOwner(const StreamOwner&) = delete;
  StreamOwner& operator=(const StreamOwner&) = delete;

  std::shared_ptr<StreamState> state;
};

// ReadCompletion: the user's read handler as the StreamState stores it: it
// records the StreamError (reader.last_error()) right before invoking the
// handler with (error_code, string), on the handler's executor.
template <typename Handler>
struct ReadCompletion {
  Handler handler;
  std::weak_ptr<StreamState> state;

  void operator()(std::error_code ec, std::string data, std::optional<StreamError> error) {
    if (error) {
      if (std::shared_ptr<StreamState> s = state.lock()) s->set_last_error(std::move(*error));
    }
    std::move(handler)(ec, std::move(data));
  }
};

// Initiations for asio::async_initiate. An operation that completes at once
// posts its handler directly (no type erasure, no allocation, no work
// tracking); one that waits is kept as a PendingHandler.
struct InitiateRead {
  std::shared_ptr<StreamState> state;

  template <typename Handler>
  void operator()(Handler&& handler, const ReadRequest& request) const {
    using Decayed = std::decay_t<Handler>;
    asio::cancellation_slot slot;
    if constexpr (std::is_same_v<asio::associated_cancellation_slot_t<Decayed>,
                                 asio::cancellation_slot>) {
      slot = asio::get_associated_cancellation_slot(handler);
    }
    ReadPoll poll = state->begin_read(request);
    ReadCompletion<Decayed> completion{std::forward<Handler>(handler), state};
    if (poll) {
      state->post_read_result(std::move(completion), std::move(*poll));
    } else {
      state->wait_read(
          state->make_handler<std::error_code, std::string, std::optional<StreamError>>(
              std::move(completion)),
          slot);
    }
  }
};

struct InitiateDrain {
  std::shared_ptr<StreamState> state;

  template <typename Handler>
  void operator()(Handler&& handler) const {
    if (StatusPoll p = state->begin_drain()) {
      state->post_status(std::forward<Handler>(handler), *p);
    } else {
      state->wait_drain(state->make_handler<std::error_code>(std::forward<Handler>(handler)));
    }
  }
};

struct InitiateWaitClosed {
  std::shared_ptr<StreamState> state;

  template <typename Handler>
  void operator()(Handler&& handler) const {
    state->start_wait_closed(state->make_handler<std::error_code>(std::forward<Handler>(handler)));
  }
};

struct InitiateStartTls {
  std::shared_ptr<StreamState> state;

  template <typename Handler>
  void operator()(Handler&& handler, TlsContext context,
                  asio_backend::StartTlsOptions options) const {
    state->start_tls(
        std::move(context), std::move(options),
        state->make_handler<std::error_code>(std::forward<Handler>(handler)));
  }
};

// read_result_args: a ReadResult as the read handler's arguments.
struct ReadResultArgs {
  std::error_code ec;
  std::string data;
  std::optional<StreamError> error;
};
ReadResultArgs read_result_args(ReadResult result);

template <typename Handler>
void StreamState::post_read_result(Handler&& handler, ReadResult result) {
  ReadResultArgs a = read_result_args(std::move(result));
  if (post_completion(executor_, shared_from_this(), std::forward<Handler>(handler), a.ec,
                      std::move(a.data), std::move(a.error))) {
    completion_posted();
  }
}

template <typename Handler>
void StreamState::post_status(Handler&& handler, const Status& status) {
  if (post_completion(executor_, shared_from_this(), std::forward<Handler>(handler),
                      to_error_code(status))) {
    completion_posted();
  }
}

// HandleAccess: the backend's way into the user handles (servers track the
// StreamStates of their connections).
struct HandleAccess;

}  // namespace sluice::asio_backend_internal

namespace asio {

// ReadCompletion forwards every associated characteristic to its handler.
template <template <typename, typename> class Associator, typename Handler,
          typename DefaultCandidate>
struct associator<Associator, sluice::asio_backend_internal::ReadCompletion<Handler>,
                  DefaultCandidate> : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const sluice::asio_backend_internal::ReadCompletion<Handler>& h,
      const DefaultCandidate& c = DefaultCandidate()) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler, c);
  }
};

}  // namespace asio

#endif  // SLUICE_BACKENDS_ASIO_INTERNAL_STREAM_STATE_H_
