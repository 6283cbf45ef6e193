// File: backends/asio/open_connection.h
//
// async_open_connection / async_open_unix_connection: asyncio's
// open_connection and open_unix_connection as Asio asynchronous operations.
// They complete with void(std::error_code, Stream); with use_awaitable that is
//
//   auto [reader, writer] = co_await sluice::asio_backend::async_open_connection(
//       co_await asio::this_coro::executor, "example.com", 80, asio::use_awaitable);
//
// TCP: `host` is resolved asynchronously (a name, or a numeric IPv4 or IPv6
// address; "" means the loopback), and each resolved address is tried in turn
// until one connects (no happy eyeballs); the error is the last address's.
// TCP_NODELAY is set unless options.tcp_nodelay is false.
// UNIX: `path` is the socket's path.
//
// TLS (options.ssl, a TlsContext::client(); asyncio's ssl=): the operation
// completes after the TLS handshake, so the Stream it gives is established
// (get_extra_info("peercert") and friends are readable at once). The name
// sent as SNI and checked against the certificate is options.server_hostname,
// by default `host` (open_unix_connection has no host: set server_hostname
// when the context checks hostnames). The handshake may take
// options.ssl_handshake_timeout (default 60 s).
//
//   sluice::TlsContext ctx = *sluice::TlsContext::client();
//   (void)ctx.set_default_verify_paths();                     // the system store
//   sluice::asio_backend::StreamOptions options;
//   options.ssl = ctx;
//   auto [reader, writer] = co_await async_open_connection(ex, "example.com", 443, options,
//                                                          asio::use_awaitable);
//
// The stream runs on `executor` (pass a strand with a multi-threaded
// io_context). Errors (the Stream is then empty and nothing is left open):
//   - the resolver's or connect's (e.g. asio::error::connection_refused,
//     host_not_found);
//   - StreamErrc::kInvalidArgument for bad options (options.h,
//     "Validation": e.g. a server context, server_hostname without ssl);
//   - a failed TLS handshake: a code of sluice::tls_error_category() whose
//     message() is the whole text with OpenSSL's reason ("TLS handshake
//     failed: ... certificate verify failed (hostname mismatch)"), so
//     std::system_error::what() carries it with asio::use_awaitable; test
//     with sluice::is_tls_error(ec);
//   - asio::error::connection_reset if the peer closed during the handshake,
//     asio::error::timed_out after ssl_handshake_timeout.
//
// Cancellation: the handler's associated cancellation slot cancels the
// resolution, the connection attempt and the TLS handshake
// (operation_aborted; a connection already made is aborted).
//
// The handler is never invoked inside the initiating function and runs on its
// associated executor.

#ifndef SLUICE_BACKENDS_ASIO_OPEN_CONNECTION_H_
#define SLUICE_BACKENDS_ASIO_OPEN_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_signal.hpp>

#include "backends/asio/internal/pending_handler.h"
#include "backends/asio/options.h"
#include "backends/asio/stream.h"

namespace sluice::asio_backend_internal {

using ConnectHandler = PendingHandler<std::error_code, asio_backend::Stream>;

// The type-erased operations behind the templates below.
void start_open_connection(const asio::any_io_executor& executor, std::string host,
                           std::uint16_t port, const asio_backend::StreamOptions& options,
                           std::unique_ptr<ConnectHandler> handler, asio::cancellation_slot slot);
void start_open_unix_connection(const asio::any_io_executor& executor, std::string path,
                                const asio_backend::StreamOptions& options,
                                std::unique_ptr<ConnectHandler> handler,
                                asio::cancellation_slot slot);

template <typename Handler>
asio::cancellation_slot cancellation_slot_of(const Handler& handler) {
  if constexpr (std::is_same_v<asio::associated_cancellation_slot_t<Handler>,
                               asio::cancellation_slot>) {
    return asio::get_associated_cancellation_slot(handler);
  } else {
    return asio::cancellation_slot();
  }
}

struct InitiateOpenConnection {
  asio::any_io_executor executor;

  template <typename Handler>
  void operator()(Handler&& handler, std::string host, std::uint16_t port,
                  asio_backend::StreamOptions options) const {
    asio::cancellation_slot slot = cancellation_slot_of(handler);
    start_open_connection(executor, std::move(host), port, options,
                          make_pending_handler<std::error_code, asio_backend::Stream>(
                              std::forward<Handler>(handler), executor),
                          slot);
  }
};

struct InitiateOpenUnixConnection {
  asio::any_io_executor executor;

  template <typename Handler>
  void operator()(Handler&& handler, std::string path, asio_backend::StreamOptions options) const {
    asio::cancellation_slot slot = cancellation_slot_of(handler);
    start_open_unix_connection(executor, std::move(path), options,
                               make_pending_handler<std::error_code, asio_backend::Stream>(
                                   std::forward<Handler>(handler), executor),
                               slot);
  }
};

}  // namespace sluice::asio_backend_internal

namespace sluice::asio_backend {

// async_open_connection: connect to host:port over TCP.
template <typename Token>
auto async_open_connection(const asio::any_io_executor& executor, std::string_view host,
                           std::uint16_t port, const StreamOptions& options, Token&& token) {
  return asio::async_initiate<Token, void(std::error_code, Stream)>(
      asio_backend_internal::InitiateOpenConnection{executor}, token, std::string(host), port,
      options);
}
template <typename Token>
auto async_open_connection(const asio::any_io_executor& executor, std::string_view host,
                           std::uint16_t port, Token&& token) {
  return async_open_connection(executor, host, port, StreamOptions{}, std::forward<Token>(token));
}

// async_open_unix_connection: connect to the UNIX socket at `path`.
template <typename Token>
auto async_open_unix_connection(const asio::any_io_executor& executor, std::string_view path,
                                const StreamOptions& options, Token&& token) {
  return asio::async_initiate<Token, void(std::error_code, Stream)>(
      asio_backend_internal::InitiateOpenUnixConnection{executor}, token, std::string(path),
      options);
}
template <typename Token>
auto async_open_unix_connection(const asio::any_io_executor& executor, std::string_view path,
                                Token&& token) {
  return async_open_unix_connection(executor, path, StreamOptions{}, std::forward<Token>(token));
}

}  // namespace sluice::asio_backend

#endif  // SLUICE_BACKENDS_ASIO_OPEN_CONNECTION_H_
