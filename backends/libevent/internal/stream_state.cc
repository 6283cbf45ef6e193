#include "backends/libevent/internal/stream_state.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <string_view>
#include <utility>

#include "backends/libevent/internal/socket_ops.h"
#include "core/stream_error.h"

namespace sluice::libevent_backend_internal {

namespace {

std::optional<std::int64_t> as_int(const std::optional<std::size_t>& v) {
  if (!v) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

}  // namespace

namespace {

// The rules ssl= and start_tls share: a usable context, server_hostname for
// clients only, positive timeouts. Null when all is well.
const char* tls_problem(const TlsContext& context, const std::optional<std::string>& server_hostname,
                        const std::optional<std::chrono::milliseconds>& handshake_timeout,
                        const std::optional<std::chrono::milliseconds>& shutdown_timeout) {
  if (!context.valid()) return "ssl is an empty TlsContext";
  if (context.role() == TlsRole::kServer && server_hostname) {
    return "server_hostname is only meaningful for a client";
  }
  if (handshake_timeout && handshake_timeout->count() <= 0) {
    return "ssl_handshake_timeout must be > 0";
  }
  if (shutdown_timeout && shutdown_timeout->count() <= 0) {
    return "ssl_shutdown_timeout must be > 0";
  }
  return nullptr;
}

const char* stream_options_problem(const libevent_backend::StreamOptions& options, TlsUse use,
                                   std::string_view host) {
  if (options.limit == 0) return "limit must be > 0";
  if (options.write_high_water || options.write_low_water) {
    StreamWriter scratch;  // set_write_buffer_limits' own rules decide
    if (!scratch
             .set_write_buffer_limits(as_int(options.write_high_water),
                                      as_int(options.write_low_water))
             .ok()) {
      return "write_low_water must be <= write_high_water";
    }
  }
  if (!options.ssl) {
    // asyncio's ValueError: '... is only meaningful with ssl'.
    if (options.server_hostname) return "server_hostname is only meaningful with ssl";
    if (options.ssl_handshake_timeout) return "ssl_handshake_timeout is only meaningful with ssl";
    if (options.ssl_shutdown_timeout) return "ssl_shutdown_timeout is only meaningful with ssl";
    return nullptr;
  }
  if (const char* p = tls_problem(*options.ssl, options.server_hostname,
                                  options.ssl_handshake_timeout, options.ssl_shutdown_timeout)) {
    return p;
  }
  const TlsRole role = options.ssl->role();
  if (use == TlsUse::kClient && role != TlsRole::kClient) {
    return "ssl must be a client context (TlsContext::client()) to connect";
  }
  if (use == TlsUse::kServer && role != TlsRole::kServer) {
    return "ssl must be a server context (TlsContext::server()) to serve";
  }
  if (role == TlsRole::kClient && options.ssl->check_hostname() &&
      (options.server_hostname ? options.server_hostname->empty() : host.empty())) {
    // asyncio: 'You must set server_hostname when using ssl without a host'
    // (the core would refuse the session too, but only once connected).
    return "server_hostname is required when using ssl without a host";
  }
  return nullptr;
}

std::error_code invalid(const char* problem, const char** why) {
  if (problem == nullptr) return {};
  if (why) *why = problem;
  return make_error_code(StreamErrc::kInvalidArgument);
}

timeval to_timeval(std::chrono::milliseconds d) {
  return timeval{static_cast<time_t>(d.count() / 1000),
                 static_cast<suseconds_t>((d.count() % 1000) * 1000)};
}

}  // namespace

std::error_code check_stream_options(const libevent_backend::StreamOptions& options, TlsUse use,
                                     std::string_view host, const char** why) {
  return invalid(stream_options_problem(options, use, host), why);
}

std::error_code check_start_tls(const TlsContext& context,
                                const libevent_backend::StartTlsOptions& options,
                                const char** why) {
  // A hostname-checking client without a name is refused by the core's
  // start_tls (the default host is the connection's, known later).
  return invalid(tls_problem(context, options.server_hostname, options.ssl_handshake_timeout,
                             options.ssl_shutdown_timeout),
                 why);
}

std::shared_ptr<StreamState> StreamState::create(std::shared_ptr<LoopContext> loop, int fd,
                                                 const libevent_backend::StreamOptions& options,
                                                 std::error_code& ec, std::string_view host) {
  ec = check_stream_options(options, TlsUse::kEither, host);
  if (ec) return nullptr;
  int family = AF_UNSPEC;
  if ((ec = socket_family(fd, family))) return nullptr;
  if ((ec = set_nonblocking(fd))) return nullptr;
  if ((family == AF_INET || family == AF_INET6) && options.tcp_nodelay) {
    if ((ec = set_tcp_nodelay(fd))) return nullptr;
  }
  event_base* base = loop->base();
  ConnectionOptions connection_options{.limit = options.limit, .pool = &loop->pool()};
  if (options.ssl) {
    const TlsRole role = options.ssl->role();
    connection_options.tls = TlsOptions{
        .context = *options.ssl,
        .role = role,
        .server_hostname = role == TlsRole::kClient
                               ? options.server_hostname.value_or(std::string(host))
                               : std::string(),
    };
  }
  auto state =
      std::make_shared<StreamState>(Key(), std::move(loop), fd, std::move(connection_options));
  state->io_event_ = event_new(base, fd, EV_PERSIST, &StreamState::on_io_event, state.get());
  if (state->io_event_ == nullptr) {
    state->fd_ = -1;  // the caller keeps the descriptor
    ec = std::make_error_code(std::errc::not_enough_memory);
    return nullptr;
  }
  if (options.ssl || !host.empty()) {
    state->tls_ = std::make_unique<TlsExtras>();
    state->tls_->host = std::string(host);
    if (options.ssl) {
      state->tls_->handshake_timeout =
          options.ssl_handshake_timeout.value_or(kDefaultTlsHandshakeTimeout);
      state->tls_->shutdown_timeout =
          options.ssl_shutdown_timeout.value_or(kDefaultTlsShutdownTimeout);
      if (!state->make_tls_timer(*state->tls_)) {
        state->fd_ = -1;
        ec = std::make_error_code(std::errc::not_enough_memory);
        return nullptr;
      }
    }
  }
  if (options.write_high_water || options.write_low_water) {
    state->async_.writer().set_write_buffer_limits(as_int(options.write_high_water),
                                                   as_int(options.write_low_water));
  }
  state->endpoints_ = backend_common::SockaddrPair::capture(fd);
  state->self_ = state;
  state->update_interest();  // also arms the handshake timer
  // A TLS client's ClientHello is queued already: send it at the end of this
  // turn (not here: the caller, e.g. a server, sets up its side first).
  if (options.ssl) state->schedule();
  return state;
}

StreamState::StreamState(Key, std::shared_ptr<LoopContext> loop, int fd, ConnectionOptions options)
    : loop_(std::move(loop)), async_(executor_, options), fd_(fd) {}

StreamState::~StreamState() {
  static_assert(kRead == EV_READ && kWrite == EV_WRITE);
  if (io_event_) event_free(io_event_);
  if (fd_ >= 0) ::close(fd_);
}

StreamState::TlsExtras::~TlsExtras() {
  if (timer) event_free(timer);
}

// ---- Owners. -------------------------------------------------------------------

void StreamState::abandon() {
  if (fd_ < 0) return;
  // Straight on the core, not through AsyncConnection: nothing needs waking,
  // the flush happens now.
  if (!conn().writer().is_closing()) conn().writer().close();
  pump();
}

Status StreamState::start_tls(TlsOptions options, StartTlsBuffered buffered,
                              std::chrono::milliseconds handshake_timeout,
                              std::chrono::milliseconds shutdown_timeout) {
  // The timer is made before the core commits, so that no TLS connection
  // ever runs without one; a refusal leaves a plain connection as it was.
  std::unique_ptr<TlsExtras> fresh;
  TlsExtras* extras = tls_.get();
  if (extras == nullptr) {
    fresh = std::make_unique<TlsExtras>();
    extras = fresh.get();
  }
  const bool made_timer = extras->timer == nullptr;
  if (fd_ >= 0 && !make_tls_timer(*extras)) {
    return StreamError::connection(std::make_error_code(std::errc::not_enough_memory));
  }
  Status started = conn().start_tls(std::move(options), buffered);
  if (!started.ok()) {
    if (made_timer && extras->timer) {
      event_free(extras->timer);
      extras->timer = nullptr;
    }
    return started;
  }
  extras->handshake_timeout = handshake_timeout;
  extras->shutdown_timeout = shutdown_timeout;
  if (fresh) tls_ = std::move(fresh);
  // The core changed what it wants (a ClientHello to send, a handshake to
  // time) without telling anybody: pump at the end of this turn.
  schedule();
  return started;
}

// ---- Driver. ---------------------------------------------------------------------

void StreamState::schedule() {
  if (pump_scheduled_ || fd_ < 0) return;
  pump_scheduled_ = true;
  loop_->schedule_pump(shared_from_this());
}

void StreamState::run_pump() {
  pump_scheduled_ = false;
  if (fd_ >= 0) pump();
}

void StreamState::on_io_event(int, short what, void* self) {
  std::shared_ptr<StreamState> keep = static_cast<StreamState*>(self)->shared_from_this();
  if (what & EV_READ) keep->on_readable();  // first: it may find the error or EOF
  if ((what & EV_WRITE) && keep->fd_ >= 0) {
    keep->wait_writable_ = false;
    keep->pump();
  }
}

void StreamState::on_readable() {
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    if (fd_ < 0 || !conn().want_read()) break;
    std::span<char> space = conn().prepare_receive(receive_size_);
    // All the room prepare() gave (it is allocated anyway), up to the cap.
    const std::size_t want = std::min(space.size(), kReceiveChunk);
    const ssize_t k = ::recv(fd_, space.data(), want, 0);
    if (k > 0) {
      ++recv_calls_;
      const auto got = static_cast<std::size_t>(k);
      if (got >= receive_size_ && receive_size_ < kReceiveChunk) {
        receive_size_ *= 2;
      } else if (got <= receive_size_ / 4 && receive_size_ > kMinReceive) {
        receive_size_ /= 2;
      }
      dispatch(conn().commit_received(got));
      if (got < want) break;  // drained for now
      continue;
    }
    const int err = errno;
    (void)conn().commit_received(0);  // release the reservation; completes nothing
    if (k == 0) {
      ++recv_calls_;
      dispatch(conn().eof_received());
      break;
    }
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) break;
    lose(errno_error(err), false);
    return;
  }
  // Over TLS, received bytes may ask for a send (the handshake's next
  // flight, an alert, close_notify) or a close; plain bytes never do.
  if (fd_ >= 0 && conn().tls() != nullptr) return pump();
  update_interest();
}

void StreamState::pump() {
  const std::span<std::string_view, kMaxSendViews> views = loop_->send_views();
  std::array<iovec, kMaxSendViews> iov;
  int sends = 0;
  while (fd_ >= 0) {
    switch (conn().write_action()) {
      case WriteAction::kSend: {
        if (wait_writable_) return update_interest();
        if (sends == kMaxSendsPerPump) {
          // Let other connections run; EV_WRITE fires at once if writable.
          wait_writable_ = true;
          return update_interest();
        }
        const std::size_t n = conn().next_send(views);
        if (n == 0) {
          // Encrypting failed (TLS): nothing to send; the core now asks for
          // its alert or a close.
          dispatch(conn().bytes_sent(0));
          continue;
        }
        std::size_t offered = 0;
        ssize_t k;
        if (n == 1) {
          // One view (a reply): send(), which spares the kernel copying in
          // a msghdr and an iovec array.
          offered = views[0].size();
          k = ::send(fd_, views[0].data(), offered, MSG_NOSIGNAL);
        } else {
          for (std::size_t i = 0; i < n; ++i) {
            iov[i].iov_base = const_cast<char*>(views[i].data());
            iov[i].iov_len = views[i].size();
            offered += views[i].size();
          }
          msghdr msg{};
          msg.msg_iov = iov.data();
          msg.msg_iovlen = n;
          k = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
        }
        ++sends;
        ++send_calls_;
        if (k >= 0) {
          dispatch(conn().bytes_sent(static_cast<std::size_t>(k)));
          // A short send means the socket buffer is full: wait for EV_WRITE
          // rather than spend a system call on EAGAIN.
          if (static_cast<std::size_t>(k) < offered) wait_writable_ = true;
          continue;
        }
        const int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) {
          wait_writable_ = true;
          return update_interest();
        }
        return lose(errno_error(err), false);
      }
      case WriteAction::kShutdownWrite:
        if (::shutdown(fd_, SHUT_WR) < 0) return lose(errno_error(), false);
        conn().write_eof_sent();
        continue;
      case WriteAction::kClose:
        return lose({}, false);
      case WriteAction::kAbort:
        return lose({}, true);
      case WriteAction::kNone:
        return update_interest();
    }
  }
}

void StreamState::update_interest() {
  if (fd_ < 0) return;
  if (tls_) update_tls_timer();
  if (conn().write_action() != WriteAction::kSend) wait_writable_ = false;
  const short want = (conn().want_read() ? EV_READ : 0) | (wait_writable_ ? EV_WRITE : 0);
  if (want == events_) return;
  // One event for both directions: re-assign it (not pending after the del;
  // doing so inside its own callback is allowed).
  if (events_ != 0) event_del(io_event_);
  events_ = want;
  if (want == 0) return;
  event_assign(io_event_, loop_->base(), fd_, static_cast<short>(want | EV_PERSIST),
               &StreamState::on_io_event, this);
  event_add(io_event_, nullptr);
}

void StreamState::lose(std::error_code error, bool reset) {
  if (fd_ < 0) return;
  if (events_ != 0) event_del(io_event_);
  events_ = 0;
  wait_writable_ = false;
  if (tls_ && tls_->timer) {
    // No timer is needed after the loss (start_tls refuses a lost
    // connection): give its memory back now.
    event_free(tls_->timer);
    tls_->timer = nullptr;
    tls_->armed = TlsTimer::kNone;
  }
  if (reset) set_linger_zero(fd_);
  ::close(fd_);
  fd_ = -1;
  dispatch(conn().connection_lost(error));
  if (ConnectionObserver* o = std::exchange(observer_, nullptr)) o->connection_detached(*this);
  // Last: may destroy this object (the caller holds a reference).
  std::shared_ptr<StreamState> self = std::move(self_);
}

// ---- TLS timers. -------------------------------------------------------------------

bool StreamState::make_tls_timer(TlsExtras& extras) {
  if (extras.timer == nullptr) {
    extras.timer = evtimer_new(loop_->base(), &StreamState::on_tls_timeout, this);
  }
  return extras.timer != nullptr;
}

void StreamState::update_tls_timer() {
  TlsExtras& t = *tls_;
  TlsTimer want = TlsTimer::kNone;
  if (conn().handshake_in_progress()) {
    want = TlsTimer::kHandshake;
  } else if (conn().shutdown_in_progress()) {
    want = TlsTimer::kShutdown;
  }
  // Each phase gets its whole timeout from the moment it starts (a close()
  // during the handshake starts the shutdown's when the handshake ends).
  if (want == t.armed) return;
  if (t.armed != TlsTimer::kNone) event_del(t.timer);
  t.armed = want;
  if (want == TlsTimer::kNone) return;
  // TLS only runs once start_tls() or create() made the timer.
  assert(t.timer != nullptr);
  const timeval tv =
      to_timeval(want == TlsTimer::kHandshake ? t.handshake_timeout : t.shutdown_timeout);
  evtimer_add(t.timer, &tv);
}

void StreamState::on_tls_timeout(int, short, void* self) {
  std::shared_ptr<StreamState> keep = static_cast<StreamState*>(self)->shared_from_this();
  keep->tls_->armed = TlsTimer::kNone;  // fired: no longer pending
  // asyncio aborts the transport; the core turns the loss into the
  // handshake's or wait_closed's error.
  keep->lose(std::make_error_code(std::errc::timed_out), true);
}

}  // namespace sluice::libevent_backend_internal
