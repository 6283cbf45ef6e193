#include "backends/libevent/internal/connector.h"

#include <event2/event.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "backends/libevent/internal/socket_ops.h"
#include "backends/libevent/internal/stream_state.h"

namespace sluice::libevent_backend_internal {

using libevent_backend::Endpoint;
using libevent_backend::HandleAccess;
using libevent_backend::Stream;

ConnectOp::~ConnectOp() {
  if (event_) event_free(event_);
}

bool ConnectOp::await_ready() {
  int r;
  do {
    r = ::connect(fd_, to_->data(), to_->size());
  } while (r < 0 && errno == EINTR);
  if (r == 0) return true;
  if (errno == EINPROGRESS) return false;
  error_ = errno_error();
  return true;
}

void ConnectOp::await_suspend(std::coroutine_handle<> h) {
  waiter_ = h;
  event_ = event_new(loop_->base(), fd_, EV_WRITE, &ConnectOp::on_writable, this);
  if (event_ == nullptr || event_add(event_, nullptr) != 0) {
    error_ = std::make_error_code(std::errc::not_enough_memory);
    loop_->post(h);
  }
}

void ConnectOp::on_writable(int, short, void* self) {
  auto* op = static_cast<ConnectOp*>(self);
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(op->fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err != 0) op->error_ = errno_error(err);
  op->loop_->post(op->waiter_);
}

Task<Stream> connect_any(std::shared_ptr<LoopContext> loop, std::vector<Endpoint> endpoints,
                         libevent_backend::StreamOptions options, std::string host) {
  const char* why = "";
  std::error_code last = check_stream_options(options, TlsUse::kEither, host, &why);
  if (last) throw std::system_error(last, std::string("open_connection: ") + why);
  last = std::make_error_code(std::errc::address_not_available);
  for (const Endpoint& to : endpoints) {
    UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      last = errno_error();
      continue;
    }
    std::error_code ec = co_await ConnectOp(*loop, fd.get(), to);
    if (ec) {
      last = ec;
      continue;
    }
    std::shared_ptr<StreamState> state = StreamState::create(loop, fd.get(), options, ec, host);
    if (!state) throw std::system_error(ec, "open_connection");
    fd.release();
    co_return HandleAccess::make(std::move(state));
  }
  throw std::system_error(last, "open_connection");
}

}  // namespace sluice::libevent_backend_internal
