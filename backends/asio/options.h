// File: backends/asio/options.h
//
// StreamOptions and ServerOptions: the knobs of the Asio backend's streams and
// servers, with asyncio's defaults. Plain values; copy them freely.
//
// Example:
//   sluice::asio_backend::StreamOptions options;
//   options.limit = 1 << 20;                 // asyncio's limit=
//   options.write_high_water = 256 * 1024;   // transport.set_write_buffer_limits
//   auto [reader, writer] = co_await async_open_connection(ex, host, port, options,
//                                                          asio::use_awaitable);

#ifndef SLUICE_BACKENDS_ASIO_OPTIONS_H_
#define SLUICE_BACKENDS_ASIO_OPTIONS_H_

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>

#include "core/stream_reader.h"

namespace sluice::asio_backend {

// StreamOptions: one connection's options (open_connection, make_stream, and
// every connection a server accepts).
struct StreamOptions {
  // limit: the reader's limit (asyncio's `limit`, default 64 KiB): readuntil
  // and readline fail past it, and reading from the socket pauses while more
  // than 2*limit bytes are buffered. Must be > 0 (else kInvalidArgument).
  std::size_t limit = kDefaultLimit;
  // write_high_water / write_low_water: the writer's water marks, as
  // StreamWriter::set_write_buffer_limits(high, low) takes them (nullopt =
  // not given: asyncio's rules derive the other one; both unset = 64 KiB and
  // 16 KiB). low > high is kInvalidArgument.
  std::optional<std::size_t> write_high_water;
  std::optional<std::size_t> write_low_water;
  // tcp_nodelay: set TCP_NODELAY on TCP sockets (asyncio does, always).
  // Ignored for UNIX sockets.
  bool tcp_nodelay = true;
};

// HandlerExceptionHook: told about an exception that escaped a server's client
// callback (after which that connection is closed).
using HandlerExceptionHook = std::function<void(std::exception_ptr)>;

// ServerOptions: a listening server's options (start_server, start_unix_server).
struct ServerOptions {
  // Applied to every accepted connection.
  StreamOptions stream;
  // backlog: listen()'s backlog (asyncio's default, 100).
  int backlog = 100;
  // reuse_address: SO_REUSEADDR (asyncio's default on POSIX: true). TCP only.
  bool reuse_address = true;
  // reuse_port: SO_REUSEPORT (several processes may bind the port). TCP only.
  bool reuse_port = false;
  // on_handler_exception: called (on the server's executor) with an exception
  // that escaped the client callback. Empty (the default): the exception is
  // logged to stderr as "Unhandled exception in client_connected_cb: WHAT",
  // like asyncio's default exception handler. Either way the connection is
  // closed and the server keeps serving.
  HandlerExceptionHook on_handler_exception;
};

}  // namespace sluice::asio_backend

#endif  // SLUICE_BACKENDS_ASIO_OPTIONS_H_
