// File: backends/libevent/options.h
//
// StreamOptions, ServerOptions and StartTlsOptions: the knobs of the libevent
// backend's streams and servers, with asyncio's defaults. Plain values; copy
// them freely (a TlsContext copy shares its SSL_CTX). The names and defaults
// are the Asio backend's (backends/asio/options.h), so one scenario can
// configure both.
//
// Example:
//   sluice::libevent_backend::StreamOptions options;
//   options.limit = 1 << 20;                 // asyncio's limit=
//   options.write_high_water = 256 * 1024;   // transport.set_write_buffer_limits
//   options.ssl = client_context;            // asyncio's ssl= (TlsContext::client())
//   auto [reader, writer] = co_await open_connection(base, host, port, options);
//
// TLS (asyncio's ssl=, server_hostname=, ssl_handshake_timeout=,
// ssl_shutdown_timeout=): the core does the TLS (core/connection.h section
// 4); these options only choose the context and the backend's two timers.
// Validated where they are used (open_connection, start_server, make_stream,
// start_tls), each mistake a StreamErrc::kInvalidArgument, asyncio's
// ValueError:
//   - server_hostname or a timeout without ssl ("only meaningful with ssl");
//   - an empty context (TlsContext{}), or one of the wrong role: a client
//     context (TlsContext::client()) for open_connection and
//     open_unix_connection, a server context for start_server and
//     start_unix_server (make_stream and start_tls take either: the
//     context's role() is the connection's);
//   - server_hostname with a server context (clients only);
//   - a timeout <= 0;
//   - no name to check: a client context that checks hostnames, with
//     neither server_hostname nor a host to default it to
//     (open_unix_connection, make_stream, open_connection to host "").

#ifndef SLUICE_BACKENDS_LIBEVENT_OPTIONS_H_
#define SLUICE_BACKENDS_LIBEVENT_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <string>

#include "core/connection.h"
#include "core/stream_reader.h"
#include "core/tls/tls_context.h"

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

  // ---- TLS. ----------------------------------------------------------------
  // ssl: speak TLS from the first byte with this context (asyncio's ssl=);
  // nullopt: plain. The connection's role is ssl->role(). Clients complete
  // open_connection after the handshake; servers run the client callback
  // after it (see open_connection.h, server.h).
  std::optional<TlsContext> ssl = std::nullopt;
  // server_hostname: clients only: the name sent as SNI and checked against
  // the server's certificate. nullopt: the host given to open_connection
  // (asyncio's default); "": no SNI and no check (the context must have
  // check_hostname off).
  std::optional<std::string> server_hostname = std::nullopt;
  // ssl_handshake_timeout / ssl_shutdown_timeout: how long the handshake,
  // and the close (flush, close_notify, the peer's answer), may take before
  // the connection is aborted and reported lost with std::errc::timed_out.
  // nullopt: asyncio's 60 s / 30 s (kDefaultTlsHandshakeTimeout,
  // kDefaultTlsShutdownTimeout). Must be > 0.
  std::optional<std::chrono::milliseconds> ssl_handshake_timeout = std::nullopt;
  std::optional<std::chrono::milliseconds> ssl_shutdown_timeout = std::nullopt;
};

// StartTlsOptions: StreamWriter::start_tls's keyword arguments (asyncio's
// StreamWriter.start_tls(sslcontext, *, server_hostname=None,
// ssl_handshake_timeout=None, ssl_shutdown_timeout=None)), plus what to do
// with bytes received before the upgrade.
struct StartTlsOptions {
  // server_hostname: clients only (as StreamOptions::server_hostname).
  // nullopt: the host open_connection was given, if any, else "".
  std::optional<std::string> server_hostname = std::nullopt;
  // As in StreamOptions (nullopt: 60 s / 30 s; must be > 0).
  std::optional<std::chrono::milliseconds> ssl_handshake_timeout = std::nullopt;
  std::optional<std::chrono::milliseconds> ssl_shutdown_timeout = std::nullopt;
  // buffered: bytes the reader received and nobody read yet (a peer that
  // pipelined its ClientHello behind the STARTTLS command): handed to TLS
  // (the default), dropped, or refused (core/connection.h).
  StartTlsBuffered buffered = StartTlsBuffered::kHandOver;
};

// HandlerExceptionHook: told about an exception that escaped a server's client
// callback (after which that connection is closed).
using HandlerExceptionHook = std::function<void(std::exception_ptr)>;

// ServerOptions: a listening server's options (start_server,
// start_unix_server).
struct ServerOptions {
  // Applied to every accepted connection. stream.ssl (a server context)
  // makes the server speak TLS: each connection handshakes before the
  // client callback runs (server.h).
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
