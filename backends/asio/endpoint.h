// File: backends/asio/endpoint.h
//
// Endpoint: the address of one end of a stream, or of a listening socket: a
// TCP endpoint (IPv4 or IPv6) or a UNIX socket path. What asyncio returns as
// get_extra_info('peername') / ('sockname') and server.sockets' getsockname().
//
// Example:
//   if (std::optional<Endpoint> peer = writer.peername())
//     std::cout << "connection from " << to_string(*peer) << "\n";
//   if (auto* tcp = std::get_if<asio::ip::tcp::endpoint>(&*peer)) port = tcp->port();

#ifndef SLUICE_BACKENDS_ASIO_ENDPOINT_H_
#define SLUICE_BACKENDS_ASIO_ENDPOINT_H_

#include <string>
#include <variant>

#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

namespace sluice::asio_backend {

using Endpoint = std::variant<asio::ip::tcp::endpoint, asio::local::stream_protocol::endpoint>;

// to_string: "127.0.0.1:8080", "[::1]:8080", or the UNIX socket's path ("" for
// an unnamed socket, e.g. one end of a socketpair).
std::string to_string(const Endpoint& endpoint);

}  // namespace sluice::asio_backend

#endif  // SLUICE_BACKENDS_ASIO_ENDPOINT_H_
