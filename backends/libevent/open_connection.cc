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
#include "core/coro/stream_exceptions.h"

namespace sluice::libevent_backend {

using libevent_backend_internal::check_stream_options;
using libevent_backend_internal::connect_any;
using libevent_backend_internal::Detached;
using libevent_backend_internal::LoopContext;
using libevent_backend_internal::ResolveOp;
using libevent_backend_internal::TlsUse;
using libevent_backend_internal::Yield;

namespace {

// check_client_options: open_connection's and open_unix_connection's
// validation (before anything is resolved or connected); throws.
void check_client_options(const StreamOptions& options, std::string_view host,
                          const char* operation) {
  const char* why = "";
  if (std::error_code ec = check_stream_options(options, TlsUse::kClient, host, &why)) {
    throw std::system_error(ec, std::string(operation) + ": " + why);
  }
}

// AbortUnlessKept: aborts the stream (RST) unless released: the handshake
// wait was cancelled (the Task destroyed) or failed. After a failure the
// core has already given up (an abort changes nothing: its alert still
// leaves); a cancelled attempt must not linger in a close_notify exchange.
struct AbortUnlessKept {
  StreamWriter& writer;
  bool kept = false;
  ~AbortUnlessKept() {
    if (!kept && writer) writer.abort();
  }
};

// finish: with TLS, wait for the handshake (asyncio's open_connection
// returns after it); throws its error (TlsError, ConnectionError).
Task<Stream> finish(Stream stream, bool tls) {
  if (!tls) co_return stream;
  AbortUnlessKept guard{stream.writer};
  Status handshake = co_await libevent_backend::HandleAccess::state(stream.writer)
                         .async()
                         .handshake()
                         .as_result();
  if (!handshake.ok()) throw_stream_error(std::move(handshake).error());
  guard.kept = true;
  co_return stream;
}

// The callback form: one loop turn first (never inside the call), then the
// Task, then the callback.
Detached run_then(std::shared_ptr<LoopContext> loop, Task<Stream> task, ConnectCallback cb) {
  co_await Yield{loop.get()};
  std::error_code ec;
  Stream stream;
  try {
    stream = co_await task;
  } catch (const StreamException& e) {
    // A TLS error's code keeps OpenSSL's reason (StreamError::to_error_code);
    // a connection error's is its cause (timed_out, connection_reset).
    ec = e.error().to_error_code();
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
  check_client_options(options, host, "open_connection");
  std::vector<Endpoint> endpoints = co_await ResolveOp(loop, host, port);
  const bool tls = options.ssl.has_value();
  Stream stream =
      co_await connect_any(loop, std::move(endpoints), std::move(options), std::move(host));
  co_return co_await finish(std::move(stream), tls);
}

void open_connection(event_base* base, std::string host, std::uint16_t port, StreamOptions options,
                     ConnectCallback cb) {
  run_then(LoopContext::of(base), open_connection(base, std::move(host), port, options),
           std::move(cb));
}

Task<Stream> open_unix_connection(event_base* base, std::string path, StreamOptions options) {
  check_client_options(options, {}, "open_unix_connection");
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
  const bool tls = options.ssl.has_value();
  Stream stream =
      co_await connect_any(LoopContext::of(base), std::move(endpoints), std::move(options));
  co_return co_await finish(std::move(stream), tls);
}

void open_unix_connection(event_base* base, std::string path, StreamOptions options,
                          ConnectCallback cb) {
  run_then(LoopContext::of(base), open_unix_connection(base, std::move(path), options),
           std::move(cb));
}

}  // namespace sluice::libevent_backend
