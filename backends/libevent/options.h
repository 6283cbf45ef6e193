// File: backends/libevent/options.h
//
// StreamOptions and ServerOptions: the knobs of the libevent backend's streams
// and servers, with asyncio's defaults. Plain values; copy them freely. The
// names and defaults are the Asio backend's (backends/asio/options.h), so one
// scenario can configure both.
//
// Example:
//   sluice::libevent_backend::StreamOptions options;
//   options.limit = 1 << 20;                 // asyncio's limit=
//   options.write_high_water = 256 * 1024;   // transport.set_write_buffer_limits
//   auto [reader, writer] = co_await open_connection(base, host, port, options);

#ifndef SLUICE_BACKENDS_LIBEVENT_OPTIONS_H_
#define SLUICE_BACKENDS_LIBEVENT_OPTIONS_H_

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>

#include "core/stream_reader.h"

namespace sluice::libevent_backend {

// StreamOptions: one connection's options (open_connection,
// open_unix_connection, make_stream, and every connection a server accepts).
struct StreamOptions {
  // limit: the reader's limit (asyncio's `limit`, default 64 KiB): readuntil
  // and readline fail past it, and reading from the socket pauses while more
  // than 2*limit bytes are buffered. Must be > 0 (else kInvalidArgument).
  std::size_t limit = kDefaultLimit;
  // write_high_water / write_low_water: the writer's water marks, as
  // StreamWriter::set_write_buffer_limits(high, low) takes them (nullopt =
  // not given: asyncio's rules derive the other one; both unset = 64 KiB and
  // 16 KiB). low > high is kInvalidArgument.
  std::optional<std::size_t> write_high_water = std::nullopt;
  std::optional<std::size_t> write_low_water = std::nullopt;
  // tcp_nodelay: set TCP_NODELAY on TCP sockets (asyncio does, always).
  // Ignored for UNIX sockets.
  bool tcp_nodelay = true;
};

// HandlerExceptionHook: told about an exception that escaped a server's client
// callback (after which that connection is closed).
using HandlerExceptionHook = std::function<void(std::exception_ptr)>;

// ServerOptions: a listening server's options (start_server,
// start_unix_server).
struct ServerOptions {
  // Applied to every accepted connection.
  StreamOptions stream;
  // backlog: listen()'s backlog (asyncio's default, 100). Also the most
  // connections accepted per readiness event of a listening socket, as in
  // asyncio.
  int backlog = 100;
  // reuse_address: SO_REUSEADDR (asyncio's default on POSIX: true). TCP only.
  bool reuse_address = true;
  // reuse_port: SO_REUSEPORT (several processes may bind the port). TCP only.
  bool reuse_port = false;
  // on_handler_exception: called (on the loop, never inside the accept) with
  // an exception that escaped the client callback. Empty (the default): the
  // exception is logged to stderr as "Unhandled exception in
  // client_connected_cb: WHAT", like asyncio's default exception handler.
  // Either way the connection is closed and the server keeps serving.
  HandlerExceptionHook on_handler_exception;
};

}  // namespace sluice::libevent_backend

#endif  // SLUICE_BACKENDS_LIBEVENT_OPTIONS_H_
