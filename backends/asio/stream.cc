// The Asio backend's connection driver (StreamState) and the user handles'
// out-of-line members. See backends/asio/internal/stream_state.h for the
// driver's rules.

#include "backends/asio/stream.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cstring>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/steady_timer.hpp>

#include "core/tls/tls_session.h"

namespace sluice::asio_backend_internal {

namespace {

std::optional<asio_backend::Endpoint> to_endpoint(
    const std::optional<backend_common::Sockaddr>& address) {
  if (!address) return std::nullopt;
  const asio::generic::stream_protocol::endpoint g(address->data(), address->size);
  const int family = g.protocol().family();
  if (family == AF_INET || family == AF_INET6) {
    asio::ip::tcp::endpoint e;
    if (g.size() > e.capacity()) return std::nullopt;
    std::memcpy(e.data(), g.data(), g.size());
    e.resize(g.size());
    return e;
  }
  if (family == AF_UNIX) {
    asio::local::stream_protocol::endpoint e;
    if (g.size() > e.capacity()) return std::nullopt;
    std::memcpy(e.data(), g.data(), g.size());
    e.resize(g.size());
    return e;
  }
  return std::nullopt;
}

// ReadCancellation: installed in a pending read's cancellation slot. It may
// outlive the read (slots are not cleared from inside a cancellation), hence
// the weak pointer and the id.
struct ReadCancellation {
  std::weak_ptr<StreamState> state;
  std::uint64_t id;
  void (StreamState::*cancel)(std::uint64_t);

  void operator()(asio::cancellation_type type) {
    const auto kinds = asio::cancellation_type::terminal | asio::cancellation_type::partial |
                       asio::cancellation_type::total;
    if ((type & kinds) == asio::cancellation_type::none) return;
    if (std::shared_ptr<StreamState> s = state.lock()) ((*s).*cancel)(id);
  }
};

// validate_tls: the TLS half of validate_options, shared with start_tls.
// `host`: what a client's missing server_hostname defaults to.
std::optional<StreamError> validate_tls(const TlsContext& context, std::optional<TlsRole> role,
                                        const std::optional<std::string>& server_hostname,
                                        std::string_view host,
                                        const std::optional<std::chrono::milliseconds>& handshake,
                                        const std::optional<std::chrono::milliseconds>& shutdown) {
  if (!context.valid()) {
    return StreamError::invalid_argument(
        "ssl: the TlsContext is empty (make one with TlsContext::client() or ::server())");
  }
  if (role && context.role() != *role) {
    return StreamError::invalid_argument(
        *role == TlsRole::kClient
            ? "ssl: a client connection needs a client context (TlsContext::client())"
            : "ssl: a server needs a server context (TlsContext::server())");
  }
  if (handshake && handshake->count() <= 0) {
    return StreamError::invalid_argument("ssl_handshake_timeout should be a positive number");
  }
  if (shutdown && shutdown->count() <= 0) {
    return StreamError::invalid_argument("ssl_shutdown_timeout should be a positive number");
  }
  if (context.role() == TlsRole::kServer) {
    if (server_hostname) {
      return StreamError::invalid_argument("server_hostname is only meaningful for clients");
    }
    return std::nullopt;
  }
  // The core would refuse these too, but only once the connection exists
  // (open_connection would fail after connecting); asyncio refuses at once.
  if (context.check_hostname()) {
    if (server_hostname && server_hostname->empty()) {
      return StreamError::invalid_argument(
          "server_hostname is empty (no hostname check) but the context checks hostnames");
    }
    if (!server_hostname && host.empty()) {
      return StreamError::invalid_argument(
          "You must set server_hostname when using ssl without a host");
    }
  }
  return std::nullopt;
}

// connection_options: the core's options for a stream (TLS from the first
// byte with options.ssl, in the context's role).
ConnectionOptions connection_options(const asio_backend::StreamOptions& options,
                                     std::string_view host, BufferPool* pool) {
  ConnectionOptions c{.limit = options.limit, .can_write_eof = true, .pool = pool};
  if (options.ssl) {
    const TlsRole role = options.ssl->role();
    c.tls = TlsOptions{.context = *options.ssl,
                       .role = role,
                       .server_hostname = role == TlsRole::kClient
                                              ? options.server_hostname.value_or(std::string(host))
                                              : std::string()};
  }
  return c;
}

// complete_with: returns whether the completion is counted (see
// StreamState::completion_posted).
bool complete_with(std::unique_ptr<ReadHandler> handler, ReadResult result) {
  ReadResultArgs a = read_result_args(std::move(result));
  return handler->complete(a.ec, std::move(a.data), std::move(a.error));
}

}  // namespace

ReadResultArgs read_result_args(ReadResult result) {
  if (result.ok()) return ReadResultArgs{std::error_code(), std::move(*result), std::nullopt};
  StreamError error = std::move(result).error();
  std::string data = error.code == StreamErrc::kIncompleteRead ? error.partial : std::string();
  const std::error_code ec = to_error_code(error);
  return ReadResultArgs{ec, std::move(data), std::move(error)};
}

std::error_code to_error_code(const StreamError& error) {
  // TLS failures keep their whole text (OpenSSL's reason) in the sluice.tls
  // category; make_error_code(kTlsError) would say only "TLS error".
  if (error.code == StreamErrc::kTlsError) return error.to_error_code();
  if (error.code != StreamErrc::kConnectionError) return make_error_code(error.code);
  // The core says "Connection lost" with a generic-category errc; Asio's
  // errors use its own system category, and the two do not compare equal.
  // Users compare with asio::error::*, so the generic ones are moved into
  // Asio's category (same errno value).
  if (error.connection_error.category() == std::generic_category()) {
    return std::error_code(error.connection_error.value(), asio::error::get_system_category());
  }
  return error.connection_error;
}

std::error_code to_error_code(const Status& status) {
  return status.ok() ? std::error_code() : to_error_code(status.error());
}

std::optional<StreamError> validate_options(const asio_backend::StreamOptions& options,
                                            std::optional<TlsRole> role, std::string_view host) {
  if (options.limit == 0) return StreamError::invalid_argument("limit must be positive");
  if (options.write_high_water && options.write_low_water &&
      *options.write_low_water > *options.write_high_water) {
    return StreamError::invalid_argument("write_high_water must be >= write_low_water");
  }
  if (!options.ssl) {
    if (options.server_hostname) {
      return StreamError::invalid_argument("server_hostname is only meaningful with ssl");
    }
    if (options.ssl_handshake_timeout) {
      return StreamError::invalid_argument("ssl_handshake_timeout is only meaningful with ssl");
    }
    if (options.ssl_shutdown_timeout) {
      return StreamError::invalid_argument("ssl_shutdown_timeout is only meaningful with ssl");
    }
    return std::nullopt;
  }
  return validate_tls(*options.ssl, role, options.server_hostname, host,
                      options.ssl_handshake_timeout, options.ssl_shutdown_timeout);
}

// ---- TLS extras. -------------------------------------------------------------------

struct StreamState::TlsExtras {
  // What the timer is armed for (the two phases never overlap).
  enum class Phase : std::uint8_t { kNone, kHandshake, kShutdown };

  // The host open_connection was given: start_tls's default
  // server_hostname ("" if none).
  std::string host;
  std::chrono::milliseconds handshake_timeout = kDefaultTlsHandshakeTimeout;
  std::chrono::milliseconds shutdown_timeout = kDefaultTlsShutdownTimeout;
  // Created the first time it is armed (a plain open_connection client that
  // never upgrades has none).
  std::unique_ptr<asio::steady_timer> timer;
  // Bumped at every change of phase: a wait that completes with an older
  // value was cancelled or re-armed (stale).
  std::uint64_t generation = 0;
  // Who waits for the handshake: open_connection, a server's launch of its
  // callback, async_start_tls.
  std::vector<std::unique_ptr<StatusHandler>> handshake_waiters;
  Phase phase = Phase::kNone;
  // An async_start_tls waits for its drain.
  bool start_tls_pending = false;
};

// ---- Creation. ----------------------------------------------------------------

StreamState::StreamState(CreateKey, Socket socket, const asio_backend::StreamOptions& options,
                         std::string_view host)
    : executor_(socket.get_executor()),
      socket_(std::move(socket)),
      pool_(ContextRegistry::of(executor_).pool(executor_)),
      conn_(connection_options(options, host, pool_.get())) {
  if (options.ssl || !host.empty()) {
    TlsExtras& t = ensure_tls_extras();
    t.host = std::string(host);
    t.handshake_timeout = options.ssl_handshake_timeout.value_or(kDefaultTlsHandshakeTimeout);
    t.shutdown_timeout = options.ssl_shutdown_timeout.value_or(kDefaultTlsShutdownTimeout);
  }
}

std::shared_ptr<StreamState> StreamState::create(Socket socket,
                                                 const asio_backend::StreamOptions& options,
                                                 std::error_code& ec, std::string_view host) {
  ec.clear();
  if (std::optional<StreamError> bad = validate_options(options, std::nullopt, host)) {
    ec = bad->to_error_code();
    return nullptr;
  }
  if (!socket.is_open()) {
    ec = asio::error::bad_descriptor;
    return nullptr;
  }
  const asio::generic::stream_protocol::endpoint local = socket.local_endpoint(ec);
  if (ec) return nullptr;
  socket.non_blocking(true, ec);
  if (ec) return nullptr;
  const int family = local.protocol().family();
  if ((family == AF_INET || family == AF_INET6) && options.tcp_nodelay) {
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    if (ec) return nullptr;
  }
  std::error_code no_peer;
  const asio::generic::stream_protocol::endpoint remote = socket.remote_endpoint(no_peer);

  std::shared_ptr<StreamState> state =
      std::make_shared<StreamState>(CreateKey(), std::move(socket), options, host);
  if (options.write_high_water || options.write_low_water) {
    auto as_signed = [](const std::optional<std::size_t>& v) -> std::optional<std::int64_t> {
      if (!v) return std::nullopt;
      return static_cast<std::int64_t>(*v);
    };
    ec = state->set_write_buffer_limits(as_signed(options.write_high_water),
                                        as_signed(options.write_low_water));
    if (ec) {
      state->abort();
      return nullptr;
    }
  }
  state->endpoints_ = backend_common::SockaddrPair::pack(
      no_peer ? nullptr : static_cast<const sockaddr*>(remote.data()), remote.size(),
      static_cast<const sockaddr*>(local.data()), local.size());
  ContextRegistry& registry = ContextRegistry::of(state->executor_);
  if (registry.add(*state)) state->registry_ = &registry;
  // Read from the start, before any read is asked for, as asyncio's
  // transports do from connection_made: what arrives is buffered (up to the
  // pause threshold) and the peer's EOF or reset is seen. (Not on a context
  // that has shut down: nothing would run the posted pump.)
  // TLS: a client's ClientHello is queued already; the handshake timer runs
  // from now.
  if (state->registry_) {
    state->schedule();
    state->update_tls_timer();
  }
  return state;
}

// Normally the connection is lost long before: abandon() closes it. If not
// (the execution context is being destroyed), the socket's destructor closes
// it.
StreamState::~StreamState() {
  if (registry_) registry_->remove(*this);
  if (loss_listener_) loss_listener_->stream_detached(*this);
}

void StreamState::on_context_shutdown() {
  registry_ = nullptr;
  if (LossListener* l = std::exchange(loss_listener_, nullptr)) l->stream_detached(*this);
  // Taken out first: destroying a handler may destroy the last user handle,
  // which abandons this stream (an abort, now) and re-enters the driver.
  if (read_handler_) conn_.reader().cancel_pending_read();
  std::unique_ptr<ReadHandler> read = std::move(read_handler_);
  read_slot_ = asio::cancellation_slot();
  HandlerQueue<std::error_code> drains = std::move(drain_handlers_);
  HandlerQueue<std::error_code> closeds = std::move(closed_handlers_);
  std::vector<std::unique_ptr<StatusHandler>> handshakes;
  if (tls_extras_) {
    handshakes = std::move(tls_extras_->handshake_waiters);
    tls_extras_->handshake_waiters.clear();
  }
  read.reset();
  drains.clear();
  closeds.clear();
  handshakes.clear();
}

// ---- Reader side. ---------------------------------------------------------------

ReadPoll StreamState::begin_read(const ReadRequest& request) {
  sluice::StreamReader& reader = conn_.reader();
  ReadPoll poll;
  switch (request.kind) {
    case ReadRequest::Kind::kRead:
      poll = reader.read(request.n);
      break;
    case ReadRequest::Kind::kReadLine:
      poll = reader.readline();
      break;
    case ReadRequest::Kind::kReadExactly:
      poll = reader.readexactly(request.n);
      break;
    case ReadRequest::Kind::kReadUntil: {
      const std::vector<std::string_view> views(request.separators.begin(),
                                                request.separators.end());
      poll = views.size() == 1 ? reader.readuntil(views.front())
                               : reader.readuntil(std::span<const std::string_view>(views));
      break;
    }
  }
  schedule();  // a read may resume reading (or start waiting for bytes)
  return poll;
}

void StreamState::wait_read(std::unique_ptr<ReadHandler> handler, asio::cancellation_slot slot) {
  assert(!read_handler_ && "the core keeps at most one pending read");
  read_handler_ = std::move(handler);
  ++read_id_;
  if (slot.is_connected()) {
    read_slot_ = slot;
    slot.template emplace<ReadCancellation>(
        ReadCancellation{weak_from_this(), read_id_, &StreamState::cancel_read});
  }
}

std::unique_ptr<ReadHandler> StreamState::take_read_handler() {
  if (read_slot_.is_connected()) read_slot_.clear();
  read_slot_ = asio::cancellation_slot();
  return std::move(read_handler_);
}

void StreamState::complete_read(ReadResult result) {
  // No handler: it was destroyed by the context's shutdown.
  if (std::unique_ptr<ReadHandler> handler = take_read_handler()) {
    if (complete_with(std::move(handler), std::move(result))) completion_posted();
  }
}

void StreamState::finish_read(ReadResult result) {
  std::unique_ptr<ReadHandler> handler = take_read_handler();
  if (!handler) return;
  // Invoked here only if nothing of this stream's is queued before it (its
  // completions keep their order) and it runs on this executor.
  if (completions_queued_ == 0 && handler->runs_on_io_executor()) {
    // Counted while it runs, so that its writes are held and leave in one
    // send when it returns (completion_ran).
    completion_posted();
    ReadResultArgs a = read_result_args(std::move(result));
    handler->invoke_now(a.ec, std::move(a.data), std::move(a.error));
    return;
  }
  if (complete_with(std::move(handler), std::move(result))) completion_posted();
}

void StreamState::withdraw_read() {
  if (!read_handler_) return;  // completed meanwhile, or destroyed by the shutdown
  conn_.reader().cancel_pending_read();
  (void)take_read_handler();
  schedule();
}

void StreamState::cancel_read(std::uint64_t id) {
  if (!read_handler_ || id != read_id_) return;  // completed meanwhile: stale
  conn_.reader().cancel_pending_read();
  std::unique_ptr<ReadHandler> handler = std::move(read_handler_);
  read_slot_ = asio::cancellation_slot();  // not cleared: we run inside it
  if (handler->complete(asio::error::operation_aborted, std::string(), std::nullopt)) {
    completion_posted();
  }
  schedule();
}

// ---- Writer side. ---------------------------------------------------------------

std::error_code StreamState::write(std::string_view data) {
  const Status s = conn_.writer().write(data);
  schedule();
  return to_error_code(s);
}

std::error_code StreamState::write(std::string&& data) {
  const Status s = conn_.writer().write(std::move(data));
  schedule();
  return to_error_code(s);
}

std::error_code StreamState::writelines(std::span<const std::string_view> pieces) {
  const Status s = conn_.writer().writelines(pieces);
  schedule();
  return to_error_code(s);
}

std::error_code StreamState::write_eof() {
  const Status s = conn_.writer().write_eof();
  schedule();
  return to_error_code(s);
}

std::error_code StreamState::set_write_buffer_limits(std::optional<std::int64_t> high,
                                                     std::optional<std::int64_t> low) {
  return to_error_code(conn_.writer().set_write_buffer_limits(high, low));
}

void StreamState::close() {
  conn_.writer().close();
  schedule();
  update_tls_timer();  // over TLS the shutdown (and its timeout) starts now
}

void StreamState::abort() {
  conn_.writer().abort();
  // At once (no user code runs inside; completions are posted): the
  // descriptor is released before abort() returns.
  if (!conn_.is_lost()) pump_write();
}

StatusPoll StreamState::begin_drain() {
  StatusPoll p = conn_.writer().drain();
  schedule();
  return p;
}

void StreamState::wait_drain(std::unique_ptr<StatusHandler> handler) {
  drain_handlers_.push(std::move(handler));
}

void StreamState::wait_closed_pending(std::unique_ptr<StatusHandler> handler) {
  closed_handlers_.push(std::move(handler));
}

void StreamState::withdraw_status_handler(const StatusHandler* handler) {
  if (drain_handlers_.remove(handler) == nullptr) (void)closed_handlers_.remove(handler);
}

void StreamState::start_wait_closed(std::unique_ptr<StatusHandler> handler) {
  if (StatusPoll p = conn_.writer().wait_closed()) {
    if (handler->complete(to_error_code(*p))) completion_posted();
  } else {
    closed_handlers_.push(std::move(handler));
  }
}

std::optional<asio_backend::Endpoint> StreamState::peername() const {
  return to_endpoint(endpoints_.peer());
}

std::optional<asio_backend::Endpoint> StreamState::sockname() const {
  return to_endpoint(endpoints_.local());
}

int StreamState::native_handle() { return socket_.is_open() ? socket_.native_handle() : -1; }

bool StreamState::tls_established() const {
  if (conn_.tls() == nullptr) return false;
  const StatusPoll handshake = conn_.handshake();
  return handshake && handshake->ok();
}

void StreamState::abandon() {
  if (conn_.writer().is_closing()) return;
  if (registry_ == nullptr || registry_->shut_down()) {
    abort();  // no loop left to flush with
    return;
  }
  close();  // the posted flush and the waits it arms keep this alive
}

// ---- The driver. ------------------------------------------------------------------

bool StreamState::driver_has_work() const {
  if (conn_.is_lost()) return false;
  if (conn_.want_read() && !read_wait_) return true;
  switch (conn_.write_action()) {
    case WriteAction::kNone:
      return false;
    case WriteAction::kSend:
      return !write_wait_;
    default:
      return true;
  }
}

void StreamState::schedule() {
  if (pump_posted_ || flush_held_ || !driver_has_work()) return;
  if (completions_queued_ > 0 && conn_.writer().get_write_buffer_size() < kFlushBytes) {
    // This stream's user code is running or queued in this turn: the last
    // of its completions flushes (completion_ran); no post needed.
    flush_held_ = true;
    pump_deferrals_ = 0;
    return;
  }
  post_pump();
}

void StreamState::post_pump() {
  pump_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->pump_posted_ = false;
    // This stream's user code can still go further in this turn (its
    // completions are queued): hold the flush until they have run
    // (completion_ran), so its writes coalesce into one send.
    if (self->completions_queued_ > 0 && !self->conn_.is_lost() &&
        self->conn_.writer().get_write_buffer_size() < kFlushBytes) {
      self->flush_held_ = true;
      self->pump_deferrals_ = 0;
      return;
    }
    self->pump();
  });
}

void StreamState::completion_posted() { ++completions_queued_; }

void StreamState::completion_ran() {
  assert(completions_queued_ > 0);
  --completions_queued_;
  if (!flush_held_) return;
  if (completions_queued_ == 0 || ++pump_deferrals_ >= kMaxPumpDeferrals ||
      conn_.writer().get_write_buffer_size() >= kFlushBytes) {
    // On the stream's executor, and the user code that ran has returned:
    // flush now (no need to post again).
    flush_held_ = false;
    pump();
  }
}

void StreamState::pump() {
  if (conn_.is_lost()) return;
  const bool sent = pump_write();
  if (conn_.is_lost()) return;
  arm_read(sent);
  update_tls_timer();
}

void StreamState::arm_read(bool sent) {
  if (!conn_.want_read() || read_wait_) return;
  read_wait_ = true;
  if (sent && probe_skip_ == 0) {
    asio::post(executor_, [self = shared_from_this()] {
      self->read_wait_ = false;
      self->on_readable(std::error_code(), /*probe=*/true);
    });
    return;
  }
  if (probe_skip_ > 0) --probe_skip_;
  socket_.async_wait(Socket::wait_read, [self = shared_from_this()](std::error_code ec) {
    self->read_wait_ = false;
    self->on_readable(ec);
  });
}

bool StreamState::pump_write() {
  bool any_sent = false;
  for (int sends = 0;;) {
    switch (conn_.write_action()) {
      case WriteAction::kNone:
        return any_sent;
      case WriteAction::kSend: {
        if (write_wait_) return any_sent;
        if (sends++ == kMaxSendsPerPump) {
          schedule();  // yield to the other connections, go on next turn
          return any_sent;
        }
        // Per thread, not per call: value-initializing 2 KiB of views on
        // every send showed in a ping-pong profile. pump_write never nests.
        thread_local std::array<std::string_view, kMaxSendViews> views;
        thread_local std::array<asio::const_buffer, kMaxSendViews> buffers;
        const std::size_t count = conn_.next_send(views);
        if (count == 0) {
          // TLS: encrypting just failed (core/connection.h section 2); the
          // next write_action() says what to do instead (send the alert,
          // close).
          deliver(conn_.bytes_sent(0));
          continue;
        }
        for (std::size_t i = 0; i < count; ++i) {
          buffers[i] = asio::const_buffer(views[i].data(), views[i].size());
        }
        std::error_code ec;
        ++send_calls_;
        // One view (a ping-pong reply) goes out with send(): sendmsg() costs
        // more for the same bytes.
        const std::size_t sent =
            count == 1
                ? socket_.write_some(buffers[0], ec)
                : socket_.write_some(std::span<const asio::const_buffer>(buffers.data(), count), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
          write_wait_ = true;
          socket_.async_wait(Socket::wait_write, [self = shared_from_this()](std::error_code e) {
            self->write_wait_ = false;
            self->on_writable(e);
          });
          return any_sent;
        }
        if (ec) {
          lose(ec, false);
          return any_sent;
        }
        any_sent = true;
        deliver(conn_.bytes_sent(sent));
        continue;
      }
      case WriteAction::kShutdownWrite: {
        std::error_code ec;
        socket_.shutdown(asio::socket_base::shutdown_send, ec);
        if (ec) {
          lose(ec, false);
          return any_sent;
        }
        conn_.write_eof_sent();
        continue;
      }
      case WriteAction::kClose:
        lose(std::error_code(), false);
        return any_sent;
      case WriteAction::kAbort:
        lose(std::error_code(), true);
        return any_sent;
    }
  }
}

void StreamState::on_readable(std::error_code ec, bool probe) {
  if (conn_.is_lost()) return;
  if (ec && ec != asio::error::operation_aborted) {
    lose(ec, false);
    return;
  }
  // The pending read, if these bytes complete it: its handler runs last,
  // once the driver is done with the socket (finish_read), as the handler of
  // an Asio read runs from the reactor's completion, without a post.
  ReadPoll read;
  bool lost = false;
  for (int i = 0; i < kMaxReadsPerEvent && conn_.want_read(); ++i) {
    std::span<char> space = conn_.prepare_receive(receive_size_);
    // All the room prepare() gave (it is allocated anyway), up to the cap.
    const std::size_t want = std::min(space.size(), kReceiveChunk);
    std::error_code rec;
    const std::size_t n = socket_.read_some(asio::mutable_buffer(space.data(), want), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) {
      (void)conn_.commit_received(0);
      if (probe && i == 0) probe_skip_ = kProbeSkipAfterMiss;  // a miss
      break;
    }
    if (rec == asio::error::eof) {
      (void)conn_.commit_received(0);
      deliver(conn_.eof_received(), &read);
      break;
    }
    if (rec) {
      (void)conn_.commit_received(0);
      lose(rec, false);
      lost = true;
      break;
    }
    // Small reads ask for little (a pool block, kept by nobody when idle);
    // a stream that fills what it asked for gets more next time.
    if (n >= receive_size_ && receive_size_ < kReceiveChunk) {
      receive_size_ *= 2;
    } else if (n <= receive_size_ / 4 && receive_size_ > kMinReceive) {
      receive_size_ /= 2;
    }
    deliver(conn_.commit_received(n), &read);
    if (n < want) break;  // the socket is most likely drained
  }
  if (lost) {
    if (read) finish_read(std::move(*read));
    return;
  }
  if (read) {
    // The handler first (its reply decides how to wait: see arm_read), then
    // the rest of the driver's work, unless its flush is held: the last of
    // its completions pumps (completion_ran).
    finish_read(std::move(*read));
    if (flush_held_) return;
  }
  pump();
}

void StreamState::on_writable(std::error_code ec) {
  if (conn_.is_lost()) return;
  pump();
}

void StreamState::lose(std::error_code error, bool reset) {
  if (conn_.is_lost()) return;
  std::error_code ignored;
  if (reset) socket_.set_option(asio::socket_base::linger(true, 0), ignored);
  socket_.close(ignored);
  deliver(conn_.connection_lost(error));
  if (LossListener* l = std::exchange(loss_listener_, nullptr)) l->stream_lost(*this);
  update_tls_timer();  // nothing is in progress any more: cancel
}

void StreamState::deliver(Completions completions, ReadPoll* read) {
  if (completions.handshake) complete_handshake_waiters(to_error_code(*completions.handshake));
  if (completions.read) {
    if (read != nullptr) {
      *read = std::move(completions.read);
    } else {
      complete_read(std::move(*completions.read));
    }
  }
  if (completions.drain) {
    const std::error_code ec = to_error_code(*completions.drain);
    HandlerQueue<std::error_code> handlers = std::move(drain_handlers_);
    while (std::unique_ptr<StatusHandler> h = handlers.pop()) {
      if (h->complete(ec)) completion_posted();
    }
  }
  if (completions.closed) {
    const std::error_code ec = to_error_code(*completions.closed);
    HandlerQueue<std::error_code> handlers = std::move(closed_handlers_);
    while (std::unique_ptr<StatusHandler> h = handlers.pop()) {
      if (h->complete(ec)) completion_posted();
    }
  }
}

// ---- TLS. ------------------------------------------------------------------------------

StreamState::TlsExtras& StreamState::ensure_tls_extras() {
  if (!tls_extras_) tls_extras_ = std::make_unique<TlsExtras>();
  return *tls_extras_;
}

void StreamState::update_tls_timer() {
  if (!tls_extras_ || conn_.tls() == nullptr) return;
  using Phase = TlsExtras::Phase;
  TlsExtras& t = *tls_extras_;
  const Phase want = conn_.handshake_in_progress()  ? Phase::kHandshake
                     : conn_.shutdown_in_progress() ? Phase::kShutdown
                                                    : Phase::kNone;
  if (want == t.phase) return;
  t.phase = want;
  ++t.generation;
  if (want == Phase::kNone) {
    if (t.timer) t.timer->cancel();
    return;
  }
  if (registry_ == nullptr) return;  // the context shut down: nothing would run it
  if (!t.timer) t.timer = std::make_unique<asio::steady_timer>(executor_);
  // expires_after cancels a wait still armed for the other phase.
  t.timer->expires_after(want == Phase::kHandshake ? t.handshake_timeout : t.shutdown_timeout);
  t.timer->async_wait([self = shared_from_this(), generation = t.generation](std::error_code ec) {
    self->on_tls_timer(ec, generation);
  });
}

void StreamState::on_tls_timer(std::error_code ec, std::uint64_t generation) {
  if (ec || !tls_extras_ || generation != tls_extras_->generation || conn_.is_lost()) return;
  tls_extras_->phase = TlsExtras::Phase::kNone;
  // asyncio: the handshake or the shutdown took too long: abort the
  // transport. The core fails the handshake (if it ran), the reads, drains
  // and wait_closeds with timed_out.
  lose(std::make_error_code(std::errc::timed_out), /*reset=*/true);
}

void StreamState::complete_handshake_waiters(const std::error_code& ec) {
  if (!tls_extras_) return;
  std::vector<std::unique_ptr<StatusHandler>> waiters =
      std::move(tls_extras_->handshake_waiters);
  tls_extras_->handshake_waiters.clear();
  for (auto& h : waiters) {
    if (h->complete(ec)) completion_posted();
  }
}

void StreamState::start_wait_handshake(std::unique_ptr<StatusHandler> handler) {
  if (StatusPoll p = conn_.handshake()) {
    if (handler->complete(to_error_code(*p))) completion_posted();
    return;
  }
  ensure_tls_extras().handshake_waiters.push_back(std::move(handler));
}

void StreamState::start_tls(TlsContext context, asio_backend::StartTlsOptions options,
                            std::unique_ptr<StatusHandler> handler) {
  auto fail = [&](const StreamError& error) {
    if (handler->complete(to_error_code(error))) completion_posted();
  };
  const std::string host = tls_extras_ ? tls_extras_->host : std::string();
  if (std::optional<StreamError> bad =
          validate_tls(context, std::nullopt, options.server_hostname, host,
                       options.ssl_handshake_timeout, options.ssl_shutdown_timeout)) {
    fail(*bad);
    return;
  }
  // Refused before the drain (the core would only say so after it).
  if (conn_.tls() != nullptr) {
    fail(StreamError::invalid_argument("start_tls(): the connection already uses TLS"));
    return;
  }
  if (tls_extras_ && tls_extras_->start_tls_pending) {
    fail(StreamError::invalid_argument("start_tls(): another start_tls() is in progress"));
    return;
  }
  const TlsRole role = context.role();
  TlsOptions tls{.context = std::move(context),
                 .role = role,
                 .server_hostname =
                     role == TlsRole::kClient ? options.server_hostname.value_or(host) : ""};
  ensure_tls_extras().start_tls_pending = true;
  // asyncio's StreamWriter.start_tls: `await self.drain()` first.
  if (StatusPoll drained = conn_.writer().drain()) {
    continue_start_tls(to_error_code(*drained), std::move(tls), options, std::move(handler));
    return;
  }
  drain_handlers_.push(make_pending_handler<std::error_code>(
      [weak = weak_from_this(), tls = std::move(tls), options = std::move(options),
       handler = std::move(handler)](std::error_code drained) mutable {
        if (std::shared_ptr<StreamState> self = weak.lock()) {
          self->continue_start_tls(drained, std::move(tls), options, std::move(handler));
        } else {
          handler->complete(asio::error::operation_aborted);  // the stream is gone
        }
      },
      executor_));
  schedule();
}

void StreamState::continue_start_tls(std::error_code drained, TlsOptions tls,
                                     const asio_backend::StartTlsOptions& options,
                                     std::unique_ptr<StatusHandler> handler) {
  TlsExtras& t = ensure_tls_extras();
  t.start_tls_pending = false;
  std::error_code ec = drained;
  if (!ec) ec = to_error_code(conn_.start_tls(std::move(tls), options.buffered));
  if (ec) {
    if (handler->complete(ec)) completion_posted();
    return;
  }
  t.handshake_timeout = options.ssl_handshake_timeout.value_or(kDefaultTlsHandshakeTimeout);
  t.shutdown_timeout = options.ssl_shutdown_timeout.value_or(kDefaultTlsShutdownTimeout);
  start_wait_handshake(std::move(handler));
  schedule();  // the ClientHello, or the reply to handed-over bytes
  update_tls_timer();
}

// ---- Handles. ------------------------------------------------------------------------

asio_backend::Stream HandleAccess::make(std::shared_ptr<StreamState> state) {
  if (!state) return asio_backend::Stream{};
  auto owner = std::make_shared<StreamOwner>(std::move(state));
  return asio_backend::Stream{asio_backend::StreamReader(owner), asio_backend::StreamWriter(owner)};
}

asio_backend::Stream make_stream(Socket&& socket, const asio_backend::StreamOptions& options,
                                 std::error_code& ec, std::string_view host) {
  return HandleAccess::make(StreamState::create(std::move(socket), options, ec, host));
}

}  // namespace sluice::asio_backend_internal

namespace sluice::asio_backend {

namespace {

void throw_if(const std::error_code& ec, const char* what) {
  if (ec) throw std::system_error(ec, what);
}

// or_none: nullopt for an empty string (get_extra_info's "absent").
std::optional<std::string> or_none(std::string s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// throw_if_invalid: bad options as std::system_error(kInvalidArgument) whose
// what() says which and why.
void throw_if_invalid(const StreamOptions& options, const char* what) {
  if (std::optional<StreamError> bad =
          asio_backend_internal::validate_options(options, std::nullopt, {})) {
    throw std::system_error(bad->to_error_code(), std::string(what) + ": " + bad->message());
  }
}

}  // namespace

std::string to_string(const Endpoint& endpoint) {
  if (const auto* tcp = std::get_if<asio::ip::tcp::endpoint>(&endpoint)) {
    const asio::ip::address a = tcp->address();
    const std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
    return host + ":" + std::to_string(tcp->port());
  }
  return std::get<asio::local::stream_protocol::endpoint>(endpoint).path();
}

void StreamWriter::write(std::string_view data) {
  throw_if(state().write(data), "StreamWriter::write");
}

void StreamWriter::write(std::string&& data) {
  throw_if(state().write(std::move(data)), "StreamWriter::write");
}

void StreamWriter::writelines(std::span<const std::string_view> pieces) {
  throw_if(state().writelines(pieces), "StreamWriter::writelines");
}

void StreamWriter::write_eof() { throw_if(state().write_eof(), "StreamWriter::write_eof"); }

void StreamWriter::set_write_buffer_limits(std::optional<std::int64_t> high,
                                           std::optional<std::int64_t> low) {
  throw_if(state().set_write_buffer_limits(high, low), "StreamWriter::set_write_buffer_limits");
}

std::optional<std::string> StreamWriter::get_extra_info(std::string_view name) const {
  if (name == "peername") {
    if (std::optional<Endpoint> p = state().peername()) return to_string(*p);
    return std::nullopt;
  }
  if (name == "sockname") {
    if (std::optional<Endpoint> s = state().sockname()) return to_string(*s);
    return std::nullopt;
  }
  if (name == "socket") {
    const int fd = state().native_handle();
    if (fd < 0) return std::nullopt;
    return std::to_string(fd);
  }
  // TLS: only once the handshake succeeded (before, nothing is verified).
  if (!state().tls_established()) return std::nullopt;
  const TlsSession& tls = *state().connection().tls();
  if (name == "peercert") return or_none(tls.peer_certificate_subject());
  if (name == "peercert_der") return or_none(tls.peer_certificate_der());
  if (name == "cipher") return or_none(std::string(tls.cipher()));
  if (name == "tls_version") return or_none(std::string(tls.protocol_version()));
  if (name == "alpn_protocol") return or_none(std::string(tls.alpn_protocol()));
  if (name == "server_hostname") return or_none(std::string(tls.server_name()));
  return std::nullopt;
}

Stream make_stream(asio::ip::tcp::socket&& socket, const StreamOptions& options,
                   std::error_code& ec) {
  if (!socket.is_open()) {
    ec = asio::error::bad_descriptor;
    return Stream{};
  }
  return asio_backend_internal::make_stream(asio_backend_internal::Socket(std::move(socket)),
                                            options, ec);
}

Stream make_stream(asio::ip::tcp::socket&& socket, const StreamOptions& options) {
  throw_if_invalid(options, "make_stream");
  std::error_code ec;
  Stream s = make_stream(std::move(socket), options, ec);
  throw_if(ec, "make_stream");
  return s;
}

Stream make_stream(asio::local::stream_protocol::socket&& socket, const StreamOptions& options,
                   std::error_code& ec) {
  if (!socket.is_open()) {
    ec = asio::error::bad_descriptor;
    return Stream{};
  }
  return asio_backend_internal::make_stream(asio_backend_internal::Socket(std::move(socket)),
                                            options, ec);
}

Stream make_stream(asio::local::stream_protocol::socket&& socket, const StreamOptions& options) {
  throw_if_invalid(options, "make_stream");
  std::error_code ec;
  Stream s = make_stream(std::move(socket), options, ec);
  throw_if(ec, "make_stream");
  return s;
}

}  // namespace sluice::asio_backend
