#include "backends/libevent/open_connection.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "backends/libevent/internal/connector.h"
#include "backends/libevent/internal/detached.h"
#include "backends/libevent/internal/loop_context.h"
#include "backends/libevent/internal/resolver.h"
#include "backends/libevent/internal/stream_state.h"

namespace sluice::libevent_backend {

using libevent_backend_internal::connect_any;
using libevent_backend_internal::Detached;
using libevent_backend_internal::LoopContext;
using libevent_backend_internal::ResolveOp;
using libevent_backend_internal::Yield;

namespace {

// The callback form: one loop turn first (never inside the call), then the
// Task, then the callback.
Detached run_then(std::shared_ptr<LoopContext> loop, Task<Stream> task, ConnectCallback cb) {
  co_await Yield{loop.get()};
  std::error_code ec;
  Stream stream;
  try {
    stream = co_await task;
  } catch (const std::system_error& e) {
    ec = e.code();
  } catch (const std::bad_alloc&) {
    ec = std::make_error_code(std::errc::not_enough_memory);
  }
  cb(ec, std::move(stream));
}

}  // namespace

Task<Stream> open_connection(event_base* base, std::string host, std::uint16_t port,
                             StreamOptions options) {
  std::shared_ptr<LoopContext> loop = LoopContext::of(base);
  std::error_code ec = libevent_backend_internal::check_stream_options(options);
  if (ec) throw std::system_error(ec, "open_connection");
  std::vector<Endpoint> endpoints = co_await ResolveOp(loop, std::move(host), port);
  co_return co_await connect_any(loop, std::move(endpoints), options);
}

void open_connection(event_base* base, std::string host, std::uint16_t port, StreamOptions options,
                     ConnectCallback cb) {
  run_then(LoopContext::of(base), open_connection(base, std::move(host), port, options),
           std::move(cb));
}

Task<Stream> open_unix_connection(event_base* base, std::string path, StreamOptions options) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  if (path.size() >= sizeof(un.sun_path) + (!path.empty() && path[0] == '\0' ? 1 : 0)) {
    throw std::system_error(std::make_error_code(std::errc::filename_too_long),
                            "open_unix_connection");
  }
  std::memcpy(un.sun_path, path.data(), path.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                          (path.empty() || path[0] != '\0' ? 1 : 0));
  std::vector<Endpoint> endpoints{Endpoint(reinterpret_cast<const sockaddr*>(&un), len)};
  co_return co_await connect_any(LoopContext::of(base), std::move(endpoints), options);
}

void open_unix_connection(event_base* base, std::string path, StreamOptions options,
                          ConnectCallback cb) {
  run_then(LoopContext::of(base), open_unix_connection(base, std::move(path), options),
           std::move(cb));
}

}  // namespace sluice::libevent_backend
