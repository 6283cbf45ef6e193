// File: backends/libevent/internal/connector.h
//
// Connecting sockets for the libevent backend. Private to the backend.
//
//   ConnectOp     co_await ConnectOp(loop, fd, endpoint): a non-blocking
//                 connect() of `fd`; the error, or none. Completes inside
//                 await_ready() when connect() does (UNIX sockets), else
//                 waits for EV_WRITE and reads SO_ERROR. The resumption is
//                 posted to the loop.
//   connect_any   a Task trying each endpoint in turn (a new socket each,
//                 no happy eyeballs, like the Asio backend) and wrapping the
//                 first that connects in a Stream. Throws std::system_error
//                 with the last endpoint's error.
//
// Cancellation: destroying the waiting coroutine closes the socket being
// connected (it is owned by connect_any's frame) and frees the event.

#ifndef SLUICE_BACKENDS_LIBEVENT_INTERNAL_CONNECTOR_H_
#define SLUICE_BACKENDS_LIBEVENT_INTERNAL_CONNECTOR_H_

#include <coroutine>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "backends/libevent/endpoint.h"
#include "backends/libevent/internal/loop_context.h"
#include "backends/libevent/options.h"
#include "backends/libevent/stream.h"
#include "core/coro/task.h"

struct event;

namespace sluice::libevent_backend_internal {

class ConnectOp {
 public:
  ConnectOp(LoopContext& loop, int fd, const libevent_backend::Endpoint& to)
      : loop_(&loop), fd_(fd), to_(&to) {}
  ConnectOp(const ConnectOp&) = delete;
  ConnectOp& operator=(const ConnectOp&) = delete;
  ~ConnectOp();

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  std::error_code await_resume() const { return error_; }

 private:
  static void on_writable(int fd, short what, void* self);

  LoopContext* loop_;
  int fd_;
  const libevent_backend::Endpoint* to_;
  event* event_ = nullptr;
  std::coroutine_handle<> waiter_;
  std::error_code error_;
};

// connect_any: see the file comment. `options` are validated first
// (kInvalidArgument); an empty list fails with EADDRNOTAVAIL. `host`: the
// name that was resolved ("" for none), server_hostname's default (see
// StreamState::create). With options.ssl the Stream is returned as soon as
// the socket connects, the handshake under way (open_connection waits for
// it).
Task<libevent_backend::Stream> connect_any(std::shared_ptr<LoopContext> loop,
                                           std::vector<libevent_backend::Endpoint> endpoints,
                                           libevent_backend::StreamOptions options,
                                           std::string host = {});

}  // namespace sluice::libevent_backend_internal

#endif  // SLUICE_BACKENDS_LIBEVENT_INTERNAL_CONNECTOR_H_
