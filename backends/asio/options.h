// File: backends/asio/options.h
//
// StreamOptions, ServerOptions and StartTlsOptions: the knobs of the Asio
// backend's streams, servers and STARTTLS upgrades, with asyncio's names and
// defaults. Plain values; copy them freely (a TlsContext copy shares its
// SSL_CTX, see core/tls/tls_context.h).
//
// Example:
//   sluice::asio_backend::StreamOptions options;
//   options.limit = 1 << 20;                 // asyncio's limit=
//   options.write_high_water = 256 * 1024;   // transport.set_write_buffer_limits
//   auto [reader, writer] = co_await async_open_connection(ex, host, port, options,
//                                                          asio::use_awaitable);
//
// TLS (asyncio's ssl=, server_hostname=, ssl_handshake_timeout=,
// ssl_shutdown_timeout=):
//   sluice::Result<sluice::TlsContext> ctx = sluice::TlsContext::client();
//   (void)ctx->load_verify_locations("ca.pem");
//   options.ssl = *ctx;                       // the handshake runs before the
//                                             // open_connection completes
//   options.ssl_handshake_timeout = std::chrono::seconds(10);
//
// Validation (every function taking these reports kInvalidArgument, with the
// reason in the exception's what() for the throwing forms): limit 0; low
// water above high water; server_hostname or a timeout without ssl (asyncio's
// "... is only meaningful with ssl"); a timeout <= 0; an empty TlsContext; a
// context of the wrong role (open_connection wants TlsContext::client(),
// start_server TlsContext::server()); server_hostname with a server context;
// a client context that checks hostnames with no name to check (asyncio's
// "You must set server_hostname when using ssl without a host").

#ifndef SLUICE_BACKENDS_ASIO_OPTIONS_H_
#define SLUICE_BACKENDS_ASIO_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <string>

#include "core/connection.h"
#include "core/stream_reader.h"
#include "core/tls/tls_context.h"

namespace sluice::asio_backend {

// StreamOptions: one connection's options (open_connection, make_stream, and
// every connection a server accepts).
struct StreamOptions {
  // limit: the reader's limit (asyncio's `limit`, default 64 KiB): readuntil
  // and readline fail past it, and reading from the socket pauses while more
  // than 2*limit bytes are buffered. Must be > 0 (else kInvalidArgument).
  // Over TLS it counts plaintext.
  std::size_t limit = kDefaultLimit;
  // write_high_water / write_low_water: the writer's water marks, as
  // StreamWriter::set_write_buffer_limits(high, low) takes them (nullopt =
  // not given: asyncio's rules derive the other one; both unset = 64 KiB and
  // 16 KiB). low > high is kInvalidArgument. Over TLS they count plaintext.
  std::optional<std::size_t> write_high_water;
  std::optional<std::size_t> write_low_water;
  // tcp_nodelay: set TCP_NODELAY on TCP sockets (asyncio does, always).
  // Ignored for UNIX sockets.
  bool tcp_nodelay = true;

  // ssl: speak TLS from the first byte (asyncio's ssl=); nullopt: plain. The
  // context's role is the connection's: open_connection and
  // open_unix_connection need a client context (TlsContext::client()),
  // start_server and start_unix_server (ServerOptions::stream.ssl) a server
  // context; make_stream takes either. The context is shared, not copied
  // (every connection of a server uses the same SSL_CTX).
  std::optional<TlsContext> ssl;
  // server_hostname: clients only; the name sent as SNI and checked against
  // the server's certificate while the context's check_hostname() is on.
  // nullopt: the host given to open_connection (asyncio's default); "": no
  // SNI and no hostname check (then the context must not check hostnames).
  // open_unix_connection and make_stream have no host: set it when the
  // context checks hostnames.
  std::optional<std::string> server_hostname;
  // ssl_handshake_timeout: how long the TLS handshake may take before the
  // connection is aborted and fails with timed_out (nullopt: 60 s,
  // sluice::kDefaultTlsHandshakeTimeout, asyncio's default).
  std::optional<std::chrono::milliseconds> ssl_handshake_timeout;
  // ssl_shutdown_timeout: how long a closing TLS connection waits for its
  // data and close_notify to be flushed and for the peer's close_notify
  // before it is aborted; wait_closed then fails with timed_out (nullopt:
  // 30 s, sluice::kDefaultTlsShutdownTimeout).
  std::optional<std::chrono::milliseconds> ssl_shutdown_timeout;
};

// StartTlsOptions: StreamWriter::async_start_tls's keyword arguments
// (asyncio's StreamWriter.start_tls(sslcontext, *, server_hostname=None,
// ssl_handshake_timeout=None, ssl_shutdown_timeout=None)). The context passed
// with it decides the role (TlsContext::client() or ::server()).
struct StartTlsOptions {
  // Clients: nullopt = the host open_connection was given, if any (else no
  // SNI; a context that checks hostnames then refuses with
  // kInvalidArgument); "" = no SNI and no hostname check. A server context
  // with a server_hostname is kInvalidArgument.
  std::optional<std::string> server_hostname;
  // As in StreamOptions (nullopt: 60 s and 30 s; <= 0 is kInvalidArgument).
  std::optional<std::chrono::milliseconds> ssl_handshake_timeout;
  std::optional<std::chrono::milliseconds> ssl_shutdown_timeout;
  // What happens to bytes the peer sent in clear after its STARTTLS command
  // and nobody read yet (core/connection.h): by default they are handed to
  // TLS, so a peer that pipelined its ClientHello works.
  StartTlsBuffered buffered = StartTlsBuffered::kHandOver;
};

// HandlerExceptionHook: told about an exception that escaped a server's client
// callback (after which that connection is closed).
using HandlerExceptionHook = std::function<void(std::exception_ptr)>;

// ServerOptions: a listening server's options (start_server, start_unix_server).
struct ServerOptions {
  // Applied to every accepted connection. stream.ssl (a server context)
  // makes every connection TLS: each handshakes before the client callback
  // runs (see server.h).
  StreamOptions stream;
  // backlog: listen()'s backlog (asyncio's default, 100). Must be >= 0.
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
