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
// Errors (thrown as std::system_error by the Task, passed to the callback
// with an empty Stream): connect()'s errno (std::errc::connection_refused,
// ...), a resolution failure in addrinfo_category() (EAI_NONAME...),
// StreamErrc::kInvalidArgument for bad options, ENAMETOOLONG for a UNIX path
// that does not fit.
//
// The Task is lazy: nothing happens until it is co_awaited or started. The
// callback is never invoked inside open_connection(); it runs in a later turn
// of the loop. Destroying the Task while it waits cancels the attempt (the
// socket is closed, a pending lookup's answer is dropped).
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
