// File: backends/asio/stream.h
//
// Stream: a connection's (reader, writer) pair, what asyncio's
// open_connection returns, and make_stream(), which wraps a socket that is
// already connected (a socketpair end, a socket accepted or connected by other
// code) the way asyncio's open_connection(sock=...) does.
//
// Example (the socketpair example):
//   asio::local::stream_protocol::socket a(io), b(io);
//   asio::local::connect_pair(a, b);
//   auto [reader, writer] = sluice::asio_backend::make_stream(std::move(a));
//   auto peer = sluice::asio_backend::make_stream(std::move(b));
//   writer.write("hello\n");
//   std::string line = co_await peer.reader.async_readline(asio::use_awaitable);
//
// The socket's executor becomes the stream's executor. The socket is made
// non-blocking; TCP sockets get TCP_NODELAY unless options say otherwise.
// Structured bindings work on Stream (`auto [reader, writer] = ...`).
//
// TLS: options.ssl is allowed, with either role (the context's role is this
// end's: a client context for the end that connected, a server context for
// the one that accepted). make_stream returns at once and the handshake runs
// in the background (a client's ClientHello leaves on the next loop turn):
// writes are queued and sent encrypted once it completes, reads wait for
// plaintext, and a failed handshake fails the pending and later reads (and
// drains, wait_closed) with its TLS error; the connection then closes.
// There is no host here, so a client context that checks hostnames needs
// options.server_hostname. get_extra_info's TLS names are nullopt until the
// handshake succeeded; use async_open_connection / a server to start with an
// established connection.

#ifndef SLUICE_BACKENDS_ASIO_STREAM_H_
#define SLUICE_BACKENDS_ASIO_STREAM_H_

#include <memory>
#include <string_view>
#include <system_error>

#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include "backends/asio/internal/stream_state.h"
#include "backends/asio/options.h"
#include "backends/asio/stream_reader.h"
#include "backends/asio/stream_writer.h"

namespace sluice::asio_backend {

struct Stream {
  StreamReader reader;
  StreamWriter writer;
};

// make_stream: wrap a connected socket. Throws std::system_error (or sets
// `ec` and returns an empty Stream): kInvalidArgument for bad options
// (options.h, "Validation"; the throwing form's what() says which), or the
// socket's error (e.g. bad_descriptor for a closed socket).
Stream make_stream(asio::ip::tcp::socket&& socket, const StreamOptions& options = {});
Stream make_stream(asio::ip::tcp::socket&& socket, const StreamOptions& options,
                   std::error_code& ec);
Stream make_stream(asio::local::stream_protocol::socket&& socket,
                   const StreamOptions& options = {});
Stream make_stream(asio::local::stream_protocol::socket&& socket, const StreamOptions& options,
                   std::error_code& ec);

}  // namespace sluice::asio_backend

namespace sluice::asio_backend_internal {

struct HandleAccess {
  // make: a Stream over a new StreamState (null state: an empty Stream).
  static asio_backend::Stream make(std::shared_ptr<StreamState> state);
  // state: the StreamState behind a handle.
  static const std::shared_ptr<StreamState>& state(const asio_backend::StreamWriter& writer) {
    return writer.owner_->state;
  }
};

// make_stream: the generic form every public one ends in. `host`: the name
// open_connection was given (see StreamState::create).
asio_backend::Stream make_stream(Socket&& socket, const asio_backend::StreamOptions& options,
                                 std::error_code& ec, std::string_view host = {});

}  // namespace sluice::asio_backend_internal

#endif  // SLUICE_BACKENDS_ASIO_STREAM_H_
