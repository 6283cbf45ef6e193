// File: backends/asio/streams.h
//
// The Asio backend in one include: asyncio's streams API over standalone Asio
// 1.22 (`sluice::asio_backend`).
//
//   #include "backends/asio/streams.h"
//   namespace sab = sluice::asio_backend;
//
//   asio::awaitable<void> client(std::string host, std::uint16_t port) {
//     auto ex = co_await asio::this_coro::executor;
//     auto [reader, writer] = co_await sab::async_open_connection(ex, host, port,
//                                                                 asio::use_awaitable);
//     writer.write("hello\n");
//     std::string echo = co_await reader.async_readline(asio::use_awaitable);
//     writer.close();
//     co_await writer.async_wait_closed(asio::use_awaitable);
//   }
//
// Headers (each documents its part):
//   stream_reader.h    StreamReader: async_read, async_readline,
//                      async_readexactly, async_readuntil (one or several
//                      separators), at_eof, last_error; cancellation.
//   stream_writer.h    StreamWriter: write, writelines, write_eof, close,
//                      abort, async_drain, async_wait_closed, water marks,
//                      async_start_tls (STARTTLS), peername / sockname /
//                      native_handle / ssl_object / get_extra_info.
//   stream.h           Stream {reader, writer}; make_stream() for sockets
//                      that are already connected (socketpair).
//   open_connection.h  async_open_connection, async_open_unix_connection.
//   server.h           start_server, start_unix_server, Server (the client
//                      callback an asio::awaitable or a sluice::Task).
//   options.h          StreamOptions (ssl, server_hostname, TLS timeouts),
//                      ServerOptions, StartTlsOptions.
//   endpoint.h         Endpoint (TCP or UNIX), to_string.
//   run_task.h         async_run: a sluice::Task on the streams' executor,
//                      for the coroutine forms (co_await reader.readline(),
//                      writer.drain()), which do not suspend when the result
//                      is ready (pipelined handlers go much faster).
//
// TLS: StreamOptions::ssl (a sluice::TlsContext, core/tls/tls_context.h) on
// async_open_connection, make_stream and ServerOptions::stream;
// StreamWriter::async_start_tls upgrades a plain connection in place.
//
// Errors are std::error_code: sluice::StreamErrc values (category
// "sluice.stream", core/stream_error.h) for stream errors, the OS/Asio error
// for connection errors, and TLS failures in category "sluice.tls"
// (sluice::is_tls_error(ec); message() carries OpenSSL's reason).

#ifndef SLUICE_BACKENDS_ASIO_STREAMS_H_
#define SLUICE_BACKENDS_ASIO_STREAMS_H_

#include "backends/asio/endpoint.h"
#include "backends/asio/open_connection.h"
#include "backends/asio/options.h"
#include "backends/asio/run_task.h"
#include "backends/asio/server.h"
#include "backends/asio/stream.h"
#include "backends/asio/stream_reader.h"
#include "backends/asio/stream_writer.h"

#endif  // SLUICE_BACKENDS_ASIO_STREAMS_H_
