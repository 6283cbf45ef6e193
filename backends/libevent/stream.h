// File: backends/libevent/stream.h
//
// Stream: a connection's (reader, writer) pair, what asyncio's
// open_connection returns, and make_stream(), which wraps a socket that is
// already connected (a socketpair end, a socket accepted or connected by
// other code) the way asyncio's open_connection(sock=...) does.
//
// Example (the socketpair example):
//   int fds[2];
//   socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
//   auto [reader, writer] = sluice::libevent_backend::make_stream(base, fds[0]);
//   Stream peer = sluice::libevent_backend::make_stream(base, fds[1]);
//   writer.write("hello\n");
//   std::string line = co_await peer.reader.readline();
//
// make_stream takes ownership of the descriptor when it succeeds (it is
// closed when the connection is lost), makes it non-blocking and
// close-on-exec, sets TCP_NODELAY on TCP sockets unless options say otherwise,
// and starts reading at once. On failure the descriptor stays the caller's.
// Structured bindings work on Stream (`auto [reader, writer] = ...`).
//
// TLS: with options.ssl the stream speaks TLS in the context's role (either
// role: make_stream does not know which end it is), and returns at once,
// before the handshake, which runs in the background (a client's
// ClientHello leaves in this loop turn; ssl_handshake_timeout applies).
// Reads wait for it, writes are queued and encrypted once it is done, drain
// waits as usual; if it fails, reads, drains and wait_closed fail with its
// error (kTlsError, or kConnectionError{connection_reset / timed_out}). A
// client context that checks hostnames needs options.server_hostname (there
// is no host to default it to). To wait for the handshake itself, read, or
// use open_connection, which completes after it.
//
// Threading: call it on the event_base's thread (or before the loop runs).

#ifndef SLUICE_BACKENDS_LIBEVENT_STREAM_H_
#define SLUICE_BACKENDS_LIBEVENT_STREAM_H_

#include <memory>
#include <system_error>
#include <utility>

#include "backends/libevent/internal/stream_state.h"
#include "backends/libevent/options.h"
#include "backends/libevent/stream_reader.h"
#include "backends/libevent/stream_writer.h"

struct event_base;

namespace sluice::libevent_backend {

struct Stream {
  StreamReader reader;
  StreamWriter writer;
};

// make_stream: wrap the connected socket `fd`. Throws std::system_error (or
// sets `ec` and returns an empty Stream): kInvalidArgument for bad options
// (what() says which), or the socket's error (ENOTSOCK, EBADF...).
Stream make_stream(event_base* base, int fd, const StreamOptions& options = {});
Stream make_stream(event_base* base, int fd, const StreamOptions& options, std::error_code& ec);

// HandleAccess: the backend's way into the user handles (servers and
// connectors make them; tests look inside).
struct HandleAccess {
  // make: a Stream over `state` (null: an empty Stream).
  static Stream make(std::shared_ptr<libevent_backend_internal::StreamState> state);
  static libevent_backend_internal::StreamState& state(const StreamReader& r) { return r.state(); }
  static libevent_backend_internal::StreamState& state(const StreamWriter& w) { return w.state(); }
};

}  // namespace sluice::libevent_backend

#endif  // SLUICE_BACKENDS_LIBEVENT_STREAM_H_
