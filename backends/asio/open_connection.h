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
// The stream runs on `executor` (pass a strand with a multi-threaded
// io_context). Errors: the resolver's or connect's (e.g.
// asio::error::connection_refused, host_not_found), or
// StreamErrc::kInvalidArgument for bad options; the Stream is then empty.
//
// Cancellation: the handler's associated cancellation slot cancels the
// resolution and the connection attempt (operation_aborted).
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
