// File: backends/asio/server.h
//
// Server, start_server, start_unix_server: asyncio's start_server /
// start_unix_server and its Server object (CPython 3.13) over Asio.
//
//   asio::awaitable<void> echo(StreamReader reader, StreamWriter writer) {
//     for (;;) {
//       std::string line = co_await reader.async_readline(asio::use_awaitable);
//       if (line.empty()) break;                         // EOF
//       writer.write(std::move(line));
//       co_await writer.async_drain(asio::use_awaitable);
//     }
//     writer.close();
//   }
//   Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
//   std::cout << "Serving on " << to_string(server.sockets().front()) << "\n";
//   co_await server.async_serve_forever(asio::use_awaitable);
//
// Listening: start_server resolves `host` (nullopt or "" = all interfaces, a
// name or a numeric address; the lookup is synchronous, use a numeric address
// to avoid it) and listens on every address it resolves to (e.g. 0.0.0.0 and
// ::, or 127.0.0.1 and ::1 for "localhost"), IPv6 sockets with IPV6_V6ONLY,
// as asyncio does. Port 0 picks a free port per socket; sockets() gives the
// real bound addresses. start_unix_server removes a stale socket file at
// `path` first and removes its own on close() (asyncio 3.13's
// cleanup_socket). Serving starts at once (is_serving() is true).
//
// Each accepted connection becomes a (StreamReader, StreamWriter) pair, and
// `callback(reader, writer)` is co_spawned on the server's executor (an
// asio::awaitable), or run there as a sluice::Task, started from a posted
// handler as co_spawn starts a coroutine. A Task handler costs only its
// frame (no co_spawn or asio::awaitable frames): the lightest and fastest
// way to serve with the Asio backend:
//
//   sluice::Task<void> echo(StreamReader reader, StreamWriter writer) {
//     while (std::optional<std::string> line = co_await reader.next_line()) {
//       writer.write(std::move(*line));
//       co_await writer.drain();
//     }
//     writer.close();
//   }
//   Server server = start_server(io.get_executor(), echo, "127.0.0.1", 8888);
//
// A Task left waiting when the execution context is destroyed is not
// destroyed (its frame leaks): end the connections first (close_clients() or
// abort_clients(), then run the context until the handlers return).
//
// TLS (options.stream.ssl, a TlsContext::server() with its certificate
// loaded; asyncio's start_server(ssl=...)): each accepted connection runs
// the TLS handshake first, and the callback is spawned only once it
// succeeded, so get_extra_info("cipher") and friends are readable at once.
// A failed handshake (an untrusted or wrong client, a client that does not
// speak TLS, ssl_handshake_timeout expired) closes that connection
// silently, as asyncio does outside debug mode: the callback never runs
// and the server keeps serving. A connection counts in
// active_connections() (and close_clients() / abort_clients() reach it)
// from the accept on, handshake included. The context is shared by every
// connection; changes affect the connections accepted afterwards.
//
//   sluice::TlsContext ctx = *sluice::TlsContext::server();
//   if (!ctx.load_cert_chain("cert.pem", "key.pem").ok()) ...;
//   ServerOptions options;
//   options.stream.ssl = ctx;
//   Server server = start_server(io.get_executor(), echo, "127.0.0.1", 8443, options);
//
// An
// exception escaping it is reported (options.on_handler_exception, else
// stderr: "Unhandled exception in client_connected_cb: WHAT") and that
// connection is closed; the server keeps serving. When the callback returns
// without closing the writer, and nothing else holds the handles, the
// connection is closed (flushed, then FIN; see StreamReader on ownership).
//
// The Server object (asyncio 3.13):
//   close()              stop listening (idempotent); sockets() becomes
//                        empty; accepted connections stay open; a pending
//                        async_serve_forever completes.
//   async_wait_closed    completes when the server is closed AND has no
//                        active connection (3.12.1+ semantics), whatever the
//                        order; at once if that is already so.
//   async_serve_forever  completes (no error) when close() is called; when
//                        its cancellation slot fires it closes the server
//                        and completes with operation_aborted. It does not
//                        wait for the connections (unlike asyncio, which then
//                        awaits wait_closed and may hang, gh-123720): follow
//                        it with async_wait_closed if you want that. Errors:
//                        asio::error::already_started if another one is
//                        pending, bad_descriptor if the server is closed
//                        (asyncio's RuntimeErrors).
//   is_serving()         listening and not closed.
//   close_clients()      close() every active connection (flush, then FIN).
//   abort_clients()      abort() every active connection (RST).
//   active_connections() connections accepted and not yet lost.
// Completion signature of both operations: void(std::error_code); handlers
// are never invoked inline and run on their associated executor.
//
// Ownership: Server is a shared handle. The server is closed (as by close())
// when the last handle is destroyed; its connections live on until they are
// closed. Handles must not outlive their execution context.
//
// Threading: use a Server, and all its connections, from its executor.

#ifndef SLUICE_BACKENDS_ASIO_SERVER_H_
#define SLUICE_BACKENDS_ASIO_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>

#include "backends/asio/endpoint.h"
#include "backends/asio/internal/pending_handler.h"
#include "backends/asio/options.h"
#include "backends/asio/stream_reader.h"
#include "backends/asio/stream_writer.h"
#include "core/coro/task.h"

namespace sluice::asio_backend {

// ClientConnectedCallback: asyncio's client_connected_cb, as a coroutine:
// either an asio::awaitable<void> (co_spawned, using the async_ forms) or a
// sluice::Task<void> (core/coro/task.h, using the coroutine forms:
// reader.readline(), writer.drain(); see stream_reader.h). Anything callable
// as (StreamReader, StreamWriter) returning one of the two converts to it.
class ClientConnectedCallback {
 public:
  using AwaitableCallback = std::function<asio::awaitable<void>(StreamReader, StreamWriter)>;
  using TaskCallback = std::function<Task<void>(StreamReader, StreamWriter)>;

  template <typename F>
    requires std::is_invocable_r_v<asio::awaitable<void>, F&, StreamReader, StreamWriter>
  ClientConnectedCallback(F f) : awaitable_(std::move(f)) {}  // NOLINT: implicit by design
  template <typename F>
    requires(std::is_invocable_r_v<Task<void>, F&, StreamReader, StreamWriter> &&
             !std::is_invocable_r_v<asio::awaitable<void>, F&, StreamReader, StreamWriter>)
  ClientConnectedCallback(F f) : task_(std::move(f)) {}  // NOLINT: implicit by design

  // Exactly one of the two is set.
  const AwaitableCallback& awaitable() const { return awaitable_; }
  const TaskCallback& task() const { return task_; }

 private:
  AwaitableCallback awaitable_;
  TaskCallback task_;
};

}  // namespace sluice::asio_backend

namespace sluice::asio_backend_internal {

struct ServerOwner;  // defined in server.cc

const asio::any_io_executor& executor_of(const ServerOwner& owner);
void start_server_wait_closed(ServerOwner& owner, std::unique_ptr<StatusHandler> handler);
void start_serve_forever(ServerOwner& owner, std::unique_ptr<StatusHandler> handler,
                         asio::cancellation_slot slot);

struct InitiateServerWaitClosed {
  std::shared_ptr<ServerOwner> owner;

  template <typename Handler>
  void operator()(Handler&& handler) const {
    start_server_wait_closed(*owner, make_pending_handler<std::error_code>(
                                         std::forward<Handler>(handler), executor_of(*owner)));
  }
};

struct InitiateServeForever {
  std::shared_ptr<ServerOwner> owner;

  template <typename Handler>
  void operator()(Handler&& handler) const {
    asio::cancellation_slot slot;
    if constexpr (std::is_same_v<asio::associated_cancellation_slot_t<std::decay_t<Handler>>,
                                 asio::cancellation_slot>) {
      slot = asio::get_associated_cancellation_slot(handler);
    }
    start_serve_forever(
        *owner,
        make_pending_handler<std::error_code>(std::forward<Handler>(handler), executor_of(*owner)),
        slot);
  }
};

}  // namespace sluice::asio_backend_internal

namespace sluice::asio_backend {

class Server {
 public:
  using executor_type = asio::any_io_executor;

  Server() = default;

  // operator bool: this handle refers to a server.
  explicit operator bool() const { return owner_ != nullptr; }
  executor_type get_executor() const { return asio_backend_internal::executor_of(*owner_); }

  void close();
  bool is_serving() const;
  // sockets: the bound addresses of the listening sockets (empty once
  // closed).
  std::vector<Endpoint> sockets() const;
  void close_clients();
  void abort_clients();
  std::size_t active_connections() const;

  template <typename Token>
  auto async_wait_closed(Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        asio_backend_internal::InitiateServerWaitClosed{owner_}, token);
  }

  template <typename Token>
  auto async_serve_forever(Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        asio_backend_internal::InitiateServeForever{owner_}, token);
  }

 private:
  friend Server start_server(const asio::any_io_executor&, ClientConnectedCallback,
                             std::optional<std::string_view>, std::uint16_t, const ServerOptions&,
                             std::error_code&);
  friend Server start_unix_server(const asio::any_io_executor&, ClientConnectedCallback,
                                  std::string_view, const ServerOptions&, std::error_code&);

  explicit Server(std::shared_ptr<asio_backend_internal::ServerOwner> owner)
      : owner_(std::move(owner)) {}

  std::shared_ptr<asio_backend_internal::ServerOwner> owner_;
};

// start_server: listen on host:port and serve each connection with
// `callback`. Throws std::system_error (or sets `ec` and returns an empty
// Server): the resolver's or the socket's error (e.g. address_in_use), or
// StreamErrc::kInvalidArgument for bad options (options.h, "Validation":
// e.g. a client context in stream.ssl, stream.server_hostname set; the
// throwing form's what() says which).
[[nodiscard]] Server start_server(const asio::any_io_executor& executor,
                                  ClientConnectedCallback callback,
                                  std::optional<std::string_view> host, std::uint16_t port,
                                  const ServerOptions& options = {});
[[nodiscard]] Server start_server(const asio::any_io_executor& executor,
                                  ClientConnectedCallback callback,
                                  std::optional<std::string_view> host, std::uint16_t port,
                                  const ServerOptions& options, std::error_code& ec);

// start_unix_server: the same on the UNIX socket `path`.
[[nodiscard]] Server start_unix_server(const asio::any_io_executor& executor,
                                       ClientConnectedCallback callback, std::string_view path,
                                       const ServerOptions& options = {});
[[nodiscard]] Server start_unix_server(const asio::any_io_executor& executor,
                                       ClientConnectedCallback callback, std::string_view path,
                                       const ServerOptions& options, std::error_code& ec);

}  // namespace sluice::asio_backend

#endif  // SLUICE_BACKENDS_ASIO_SERVER_H_
