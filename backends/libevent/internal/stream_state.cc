#include "backends/libevent/internal/stream_state.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
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

std::error_code check_stream_options(const libevent_backend::StreamOptions& options) {
  if (options.limit == 0) return make_error_code(StreamErrc::kInvalidArgument);
  if (options.write_high_water || options.write_low_water) {
    StreamWriter scratch;  // set_write_buffer_limits' own rules decide
    if (!scratch
             .set_write_buffer_limits(as_int(options.write_high_water),
                                      as_int(options.write_low_water))
             .ok()) {
      return make_error_code(StreamErrc::kInvalidArgument);
    }
  }
  return {};
}

std::shared_ptr<StreamState> StreamState::create(std::shared_ptr<LoopContext> loop, int fd,
                                                 const libevent_backend::StreamOptions& options,
                                                 std::error_code& ec) {
  ec = check_stream_options(options);
  if (ec) return nullptr;
  int family = AF_UNSPEC;
  if ((ec = socket_family(fd, family))) return nullptr;
  if ((ec = set_nonblocking(fd))) return nullptr;
  if ((family == AF_INET || family == AF_INET6) && options.tcp_nodelay) {
    if ((ec = set_tcp_nodelay(fd))) return nullptr;
  }
  event_base* base = loop->base();
  auto state = std::make_shared<StreamState>(Key(), std::move(loop), fd,
                                             ConnectionOptions{.limit = options.limit});
  state->io_event_ = event_new(base, fd, EV_PERSIST, &StreamState::on_io_event, state.get());
  if (state->io_event_ == nullptr) {
    state->fd_ = -1;  // the caller keeps the descriptor
    ec = std::make_error_code(std::errc::not_enough_memory);
    return nullptr;
  }
  if (options.write_high_water || options.write_low_water) {
    state->async_.writer().set_write_buffer_limits(as_int(options.write_high_water),
                                                   as_int(options.write_low_water));
  }
  state->endpoints_ = EndpointPair::capture(fd);
  state->self_ = state;
  state->update_interest();
  return state;
}

StreamState::StreamState(Key, std::shared_ptr<LoopContext> loop, int fd, ConnectionOptions options)
    : loop_(std::move(loop)), async_(executor_, options), fd_(fd) {}

StreamState::~StreamState() {
  static_assert(kRead == EV_READ && kWrite == EV_WRITE);
  if (io_event_) event_free(io_event_);
  if (fd_ >= 0) ::close(fd_);
}

// ---- Owners. -------------------------------------------------------------------

void StreamState::abandon() {
  if (fd_ < 0) return;
  // Straight on the core, not through AsyncConnection: nothing needs waking,
  // the flush happens now.
  if (!conn().writer().is_closing()) conn().writer().close();
  pump();
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
  update_interest();
}

void StreamState::pump() {
  std::array<std::string_view, kMaxSendViews> views;
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
        std::size_t offered = 0;
        for (std::size_t i = 0; i < n; ++i) {
          iov[i].iov_base = const_cast<char*>(views[i].data());
          iov[i].iov_len = views[i].size();
          offered += views[i].size();
        }
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = n;
        const ssize_t k = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
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
  if (reset) set_linger_zero(fd_);
  ::close(fd_);
  fd_ = -1;
  dispatch(conn().connection_lost(error));
  if (ConnectionObserver* o = std::exchange(observer_, nullptr)) o->connection_detached(*this);
  // Last: may destroy this object (the caller holds a reference).
  std::shared_ptr<StreamState> self = std::move(self_);
}

}  // namespace sluice::libevent_backend_internal
