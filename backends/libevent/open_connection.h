// File: backends/libevent/open_connection.h
//
// open_connection / open_unix_connection: asyncio's open_connection and
// open_unix_connection on a libevent event_base, as a sluice coroutine (a
// Task<Stream>) or with a callback.
//
//   Task<void> client(event_base* base, std::uint16_t port) {
//     auto [reader, writer] = co_await open_connection(base, "127.0.0.1", port);
//     writer.write("hello\n");
//     std::string echo = co_await reader.readline();
//     writer.close();
//     co_await writer.wait_closed();
//   }
//
//   open_connection(base, "example.com", 80, {}, [](std::error_code ec, Stream s) {
//     if (ec) return report(ec);
//     ...
//   });
//
// TCP: `host` is resolved without blocking the loop (a name goes to
// getaddrinfo() on a helper thread, see internal/resolver.h for why not
// evdns; a numeric IPv4 or IPv6 address, or "" for the loopback, is resolved
// at once), and each resolved address is tried in turn until one connects
// (no happy eyeballs); the error is the last address's. TCP_NODELAY is set
// unless options.tcp_nodelay is false.
// UNIX: `path` is the socket's path (a leading '\0' names an abstract
// socket).
//
// TLS (asyncio's ssl=): with options.ssl (a client context) the connection
// speaks TLS from the first byte, and open_connection completes only after
// the handshake, as asyncio's does:
//
//   StreamOptions options;
//   options.ssl = client_context;           // TlsContext::client(), trust loaded
//   auto [reader, writer] = co_await open_connection(base, "example.com", 443, options);
//
// The name checked in the server's certificate and sent as SNI is
// options.server_hostname, by default `host` (open_unix_connection has no
// host: a context that checks hostnames needs server_hostname). The
// handshake may take options.ssl_handshake_timeout (60 s). A failed
// handshake fails the call; the connection then closes by itself (after
// sending OpenSSL's alert), nothing leaks.
//
// Errors (thrown by the Task, passed to the callback with an empty Stream):
//   - connect()'s errno (std::errc::connection_refused, ...), a resolution
//     failure in addrinfo_category() (EAI_NONAME...), ENAMETOOLONG for a
//     UNIX path that does not fit: std::system_error;
//   - StreamErrc::kInvalidArgument for bad options (what() says which;
//     options.h lists the TLS rules): std::system_error;
//   - the TLS handshake refused (bad certificate, hostname mismatch, a peer
//     not speaking TLS): the Task throws sluice::TlsError (its error() is the
//     StreamError, tls_reason OpenSSL's reason); the callback gets
//     StreamError::to_error_code(): is_tls_error(ec), ec.message() the whole
//     text, e.g. "TLS handshake failed: ... certificate verify failed
//     (hostname mismatch)";
//   - EOF or a reset during the handshake: sluice::ConnectionError /
//     std::errc::connection_reset; the handshake timeout: std::errc::timed_out.
//
// The Task is lazy: nothing happens until it is co_awaited or started. The
// callback is never invoked inside open_connection(); it runs in a later turn
// of the loop. Destroying the Task while it waits cancels the attempt (the
// socket is closed - reset, during a TLS handshake - a pending lookup's
// answer is dropped).
//
// Threading: the event_base's thread (or before the loop runs).

#ifndef SLUICE_BACKENDS_LIBEVENT_OPEN_CONNECTION_H_
#define SLUICE_BACKENDS_LIBEVENT_OPEN_CONNECTION_H_

#include <cstdint>
#include <string>
#include <system_error>

#include "backends/libevent/callback.h"
#include "backends/libevent/options.h"
#include "backends/libevent/stream.h"
#include "core/coro/task.h"

struct event_base;

namespace sluice::libevent_backend {

// ConnectCallback: receives the error (none on success) and the Stream
// (empty on failure).
using ConnectCallback = Callback<void(std::error_code, Stream)>;

// open_connection: connect to host:port over TCP.
Task<Stream> open_connection(event_base* base, std::string host, std::uint16_t port,
                             StreamOptions options = {});
void open_connection(event_base* base, std::string host, std::uint16_t port, StreamOptions options,
                     ConnectCallback cb);

// open_unix_connection: connect to the UNIX socket at `path`.
Task<Stream> open_unix_connection(event_base* base, std::string path, StreamOptions options = {});
void open_unix_connection(event_base* base, std::string path, StreamOptions options,
                          ConnectCallback cb);

}  // namespace sluice::libevent_backend

#endif  // SLUICE_BACKENDS_LIBEVENT_OPEN_CONNECTION_H_
