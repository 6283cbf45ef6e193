// File: backends/libevent/server.h
//
// Server, start_server, start_unix_server: asyncio's start_server /
// start_unix_server and its Server object (CPython 3.13) on a libevent
// event_base. Method names and semantics are the Asio backend's
// (backends/asio/server.h), so the same scenarios run on both.
//
//   Task<void> echo(StreamReader reader, StreamWriter writer) {
//     while (std::optional<std::string> line = co_await reader.next_line()) {
//       writer.write(std::move(*line));
//       co_await writer.drain();
//     }
//     writer.close();
//   }
//   Server server = start_server(base, echo, "127.0.0.1", 0);
//   std::printf("Serving on %s\n", to_string(server.sockets().front()).c_str());
//   co_await server.serve_forever();        // or: event_base_dispatch(base)
//
// Listening: start_server resolves `host` synchronously (nullopt or "" = all
// interfaces; a name or a numeric address - use a numeric one to avoid a
// blocking lookup) and listens on every address it resolves to (0.0.0.0 and
// ::, or 127.0.0.1 and ::1 for "localhost"), IPv6 sockets with IPV6_V6ONLY,
// skipping an IPv6 address the host cannot bind (EADDRNOTAVAIL), as asyncio
// does. Port 0 picks a free port per socket; sockets() gives the real bound
// addresses. Options: backlog (100), reuse_address (true), reuse_port
// (false). start_unix_server removes a stale socket file at `path` first and
// removes its own on close() (asyncio 3.13's cleanup_socket); a leading '\0'
// names an abstract socket. Serving starts at once (is_serving() is true).
//
// Connections: each accepted connection becomes a (StreamReader,
// StreamWriter) pair, and `callback(reader, writer)` runs as a sluice
// coroutine, started in the loop turn after the accept (as asyncio's task). An
// exception escaping it is reported (options.on_handler_exception, else
// stderr: "Unhandled exception in client_connected_cb: WHAT") and that
// connection is closed; the server and its other connections go on. When the
// callback returns and nothing else holds the handles, the connection is
// closed (flush, then FIN), as asyncio's StreamWriter.__del__ does. If
// accept() runs out of descriptors (EMFILE...), accepting pauses for one
// second, as in asyncio.
//
// TLS (asyncio's start_server(ssl=...)): with options.stream.ssl (a server
// context, TlsContext::server() with load_cert_chain) every accepted
// connection handshakes first, and `callback` runs only once that
// succeeded: its reader and writer carry plaintext and
// writer.get_extra_info("peercert"...) / ssl_object() describe the session.
// A connection whose handshake fails - a bad or plain-text client, EOF, no
// handshake within options.stream.ssl_handshake_timeout (60 s) - is closed
// silently (after OpenSSL's alert; asyncio logs these only in debug mode),
// the callback never runs for it, and the server keeps serving. It counts
// in active_connections() until it is gone.
//
// The Server object:
//   close()              stop listening (idempotent); sockets() becomes
//                        empty; accepted connections stay open; a pending
//                        serve_forever completes.
//   wait_closed          completes when the server is closed AND has no
//                        active connection (3.12.1+ semantics), whatever the
//                        order; at once if that is already so. Never fails.
//   serve_forever        completes (no error) when close() is called.
//                        Fails with std::errc::connection_already_in_progress
//                        (EALREADY) if another one is waiting and with
//                        std::errc::bad_file_descriptor (EBADF) if the server
//                        is closed (asyncio's two RuntimeErrors). Destroying
//                        the coroutine waiting in it closes the server
//                        (asyncio's cancellation). Unlike asyncio it does not
//                        then wait for the connections (which may hang,
//                        gh-123720): follow it with wait_closed for that.
//   is_serving()         listening and not closed.
//   close_clients()      close() every active connection (flush, then FIN).
//   abort_clients()      abort() every active connection (RST).
//   active_connections() connections accepted and not yet lost.
// wait_closed and serve_forever come as coroutine awaitables (co_await;
// throwing std::system_error) and as callbacks taking the std::error_code.
// A callback is never invoked inside the call; a waiting coroutine is resumed
// from the loop.
//
// Ownership: Server is a shared handle. The server is closed (as by close())
// when the last handle is destroyed; its connections and their callbacks live
// on until they end. The callback object itself is kept while any of its
// coroutines runs, so a capturing lambda coroutine is safe as a callback.
// A default-constructed Server has no server; calling anything but operator
// bool on it is a precondition violation. Everything must be finished before
// event_base_free().
//
// Threading: the event_base's thread only.

#ifndef SLUICE_BACKENDS_LIBEVENT_SERVER_H_
#define SLUICE_BACKENDS_LIBEVENT_SERVER_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "backends/libevent/callback.h"
#include "backends/libevent/endpoint.h"
#include "backends/libevent/options.h"
#include "backends/libevent/stream.h"
#include "core/coro/task.h"

struct event_base;

namespace sluice::libevent_backend_internal {
class ServerState;  // server.cc
struct ServerOwner;
}  // namespace sluice::libevent_backend_internal

namespace sluice::libevent_backend {

// ClientConnectedCallback: asyncio's client_connected_cb, as a sluice
// coroutine.
using ClientConnectedCallback = std::function<Task<void>(StreamReader, StreamWriter)>;

// ServerWaitOp: the awaitable of Server::wait_closed() and
// Server::serve_forever(). co_await it at once; it throws std::system_error
// on failure. Destroying a waiting one forgets it (and closes the server for
// serve_forever).
class ServerWaitOp {
 public:
  enum class Kind { kWaitClosed, kServeForever };
  ServerWaitOp(std::shared_ptr<libevent_backend_internal::ServerState> server, Kind kind)
      : server_(std::move(server)), kind_(kind) {}
  ServerWaitOp(const ServerWaitOp&) = delete;
  ServerWaitOp& operator=(const ServerWaitOp&) = delete;
  ~ServerWaitOp();

  bool await_ready() const noexcept { return false; }
  // Returns false (no suspension) when it completes at once.
  bool await_suspend(std::coroutine_handle<> h);
  void await_resume() const;

 private:
  friend class libevent_backend_internal::ServerState;
  std::shared_ptr<libevent_backend_internal::ServerState> server_;
  Kind kind_;
  std::coroutine_handle<> handle_;
  std::error_code result_;
  bool linked_ = false;  // registered with the server
};

class Server {
 public:
  // WaitCallback: receives wait_closed's or serve_forever's error (none on
  // success).
  using WaitCallback = Callback<void(std::error_code)>;

  Server() = default;

  // operator bool: this handle refers to a server.
  explicit operator bool() const { return owner_ != nullptr; }
  event_base* base() const;

  void close();
  bool is_serving() const;
  // sockets: the bound addresses of the listening sockets (empty once
  // closed).
  std::vector<Endpoint> sockets() const;
  void close_clients();
  void abort_clients();
  std::size_t active_connections() const;

  ServerWaitOp wait_closed();
  void wait_closed(WaitCallback cb);
  ServerWaitOp serve_forever();
  void serve_forever(WaitCallback cb);

 private:
  friend Server start_server(event_base*, ClientConnectedCallback, std::optional<std::string_view>,
                             std::uint16_t, const ServerOptions&, std::error_code&);
  friend Server start_unix_server(event_base*, ClientConnectedCallback, std::string_view,
                                  const ServerOptions&, std::error_code&);

  explicit Server(std::shared_ptr<libevent_backend_internal::ServerOwner> owner)
      : owner_(std::move(owner)) {}
  libevent_backend_internal::ServerState& state() const;
  const std::shared_ptr<libevent_backend_internal::ServerState>& shared_state() const;

  std::shared_ptr<libevent_backend_internal::ServerOwner> owner_;
};

// start_server: listen on host:port and serve each connection with
// `callback`. Throws std::system_error (or sets `ec` and returns an empty
// Server): the resolver's error (addrinfo_category()), the socket's (e.g.
// std::errc::address_in_use), or StreamErrc::kInvalidArgument for bad options
// (options.h; e.g. a client context as stream.ssl) or an empty callback
// (what() says which).
[[nodiscard]] Server start_server(event_base* base, ClientConnectedCallback callback,
                                  std::optional<std::string_view> host, std::uint16_t port,
                                  const ServerOptions& options = {});
[[nodiscard]] Server start_server(event_base* base, ClientConnectedCallback callback,
                                  std::optional<std::string_view> host, std::uint16_t port,
                                  const ServerOptions& options, std::error_code& ec);

// start_unix_server: the same on the UNIX socket `path`.
[[nodiscard]] Server start_unix_server(event_base* base, ClientConnectedCallback callback,
                                       std::string_view path, const ServerOptions& options = {});
[[nodiscard]] Server start_unix_server(event_base* base, ClientConnectedCallback callback,
                                       std::string_view path, const ServerOptions& options,
                                       std::error_code& ec);

}  // namespace sluice::libevent_backend

#endif  // SLUICE_BACKENDS_LIBEVENT_SERVER_H_
