// File: backends/libevent/streams.h
//
// The libevent backend in one include: asyncio's streams API over libevent
// 2.1 (`sluice::libevent_backend`), driving the same sans-IO core
// (core/connection.h) as every other backend, so the semantics are the same
// on every loop.
//
//   #include "backends/libevent/streams.h"
//   namespace sle = sluice::libevent_backend;
//
//   sluice::Task<void> client(event_base* base, std::uint16_t port) {
//     auto [reader, writer] = co_await sle::open_connection(base, "127.0.0.1", port);
//     writer.write("hello\n");
//     std::string echo = co_await reader.readline();
//     writer.close();
//     co_await writer.wait_closed();
//   }
//
//   event_base* base = event_base_new();
//   sluice::Task<void> t = client(base, port);
//   t.start();                          // runs until its first suspension
//   event_base_dispatch(base);          // returns when nothing is left to do
//   t.result();                         // rethrows if client() threw
//
// Both styles work everywhere: sluice coroutines (Task, co_await, the
// exceptions of core/coro/stream_exceptions.h, or .as_result()) and plain
// callbacks (reader.readline(cb), writer.drain(cb), open_connection(..., cb),
// server.wait_closed(cb)).
//
// TLS, asyncio's way (the core does the TLS, core/connection.h section 4;
// the backend passes the options, runs the handshake and shutdown timers and
// exposes the session):
//
//   sle::StreamOptions options;
//   options.ssl = sluice::TlsContext::client().value();   // verifies, checks names
//   (void)options.ssl->load_verify_locations("ca.pem");
//   auto [reader, writer] = co_await sle::open_connection(base, "example.com", 443, options);
//   // established here; writer.get_extra_info("peercert"), writer.ssl_object()
//
//   sle::ServerOptions server_options;
//   server_options.stream.ssl = server_context;          // TlsContext::server() + cert
//   sle::Server server = sle::start_server(base, handle_echo, "0.0.0.0", 8443, server_options);
//
//   co_await writer.start_tls(client_context);           // STARTTLS in place
//
// The reader and writer see plaintext; handshake failures are
// sluice::TlsError (Task) or an error_code with is_tls_error() (callbacks),
// both carrying OpenSSL's reason. Plain connections pay nothing for it.
//
// Headers (each documents its part):
//   stream_reader.h    StreamReader: read, readline, readexactly, readuntil
//                      (one or several separators), next_line; at_eof,
//                      exception, is_reading.
//   stream_writer.h    StreamWriter: write, writelines, write_eof, close,
//                      abort, drain, wait_closed, water marks, start_tls,
//                      peername / sockname / native_handle /
//                      get_extra_info / ssl_object.
//   stream.h           Stream {reader, writer}; make_stream() for sockets
//                      that are already connected (socketpair), plain or TLS.
//   open_connection.h  open_connection, open_unix_connection (ssl: complete
//                      after the handshake).
//   server.h           start_server, start_unix_server, Server (ssl: each
//                      connection handshakes before the callback runs).
//   options.h          StreamOptions (incl. ssl, server_hostname, TLS
//                      timeouts), ServerOptions, StartTlsOptions (the Asio
//                      backend's).
//   endpoint.h         Endpoint (IPv4, IPv6, UNIX), to_string.
//   addrinfo_error.h   the error category of name resolution failures.
//   callback.h         Callback<Sig>, the move-only callable callbacks use.
//
// The socket layer: raw events on the descriptor, not bufferevent. A
// bufferevent reads into its own evbuffer, so every byte would be copied
// twice on the way in (socket -> evbuffer -> the reader's buffer, where
// separators are searched) and queued twice on the way out (the writer's
// queue -> evbuffer -> socket), with two sets of water marks to keep in step
// and an evbuffer chain per connection even when idle. With a raw event the
// driver recv()s straight into the reader's buffer (Connection::
// prepare_receive / commit_received: one copy, by the kernel), sends the
// writer's queued chunks with one sendmsg() gather write (no copy; send()
// for a single chunk), and an idle connection holds no receive buffer at all
// (the core releases it when empty). Read interest (EV_READ) is added only
// while the core wants to read, which is the read-side backpressure: a
// reader paused at 2*limit stops reading at the socket, the kernel buffers
// fill and the peer's drain() blocks. Write interest (EV_WRITE) is added
// only while a send would block.
// See internal/stream_state.h for the driver.
//
// When user code runs: never inside the backend's libevent callbacks. Waiting
// coroutines are resumed, and callbacks invoked, from one zero-timeout timer
// per event_base (internal/loop_context.h), once per loop turn, after the
// turn's I/O; the writes they make are flushed at the end of that same turn,
// one gather write per connection. A callback is never invoked inside the
// call that started its operation.
//
// Errors: stream errors are the core's StreamError (partial, expected and
// consumed reachable). Connection errors carry the errno in
// std::system_category() (compare with std::errc::connection_reset,
// broken_pipe...; a TLS timeout is timed_out). TLS failures are kTlsError
// with OpenSSL's reason (tls_reason; as an error_code,
// StreamError::to_error_code() in tls_error_category()). open_connection and
// servers report std::error_code / std::system_error (sluice::TlsError /
// ConnectionError for a failed handshake).
//
// Lifetime: handles (StreamReader, StreamWriter, Server) are shared and
// cheap to copy. Everything on an event_base - handles, coroutines waiting on
// them, connections still flushing after their handles are gone - must be
// finished before event_base_free(); running the loop until it has nothing
// left to do (event_base_dispatch returning) guarantees the last part.
//
// Threading: one thread per event_base, the one running its loop. Nothing is
// thread-safe; libevent's own threading support (evthread_use_pthreads) is
// not needed.

#ifndef SLUICE_BACKENDS_LIBEVENT_STREAMS_H_
#define SLUICE_BACKENDS_LIBEVENT_STREAMS_H_

#include "backends/libevent/addrinfo_error.h"
#include "backends/libevent/callback.h"
#include "backends/libevent/endpoint.h"
#include "backends/libevent/open_connection.h"
#include "backends/libevent/options.h"
#include "backends/libevent/server.h"
#include "backends/libevent/stream.h"
#include "backends/libevent/stream_reader.h"
#include "backends/libevent/stream_writer.h"
#include "core/coro/stream_exceptions.h"
#include "core/coro/task.h"
#include "core/tls/tls_context.h"
#include "core/tls/tls_session.h"

#endif  // SLUICE_BACKENDS_LIBEVENT_STREAMS_H_
