// open_connection / open_unix_connection: resolve, connect, wrap, and over
// TLS wait for the handshake.

#include "backends/asio/open_connection.h"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/connect.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

namespace sluice::asio_backend_internal {

namespace {

// ConnectOp<Protocol>: one open_connection in progress. Shared by the
// asynchronous steps and (weakly) by the caller's cancellation slot.
template <typename Protocol>
struct ConnectOp : std::enable_shared_from_this<ConnectOp<Protocol>> {
  ConnectOp(const asio::any_io_executor& ex, std::string h, const asio_backend::StreamOptions& opts,
            std::unique_ptr<ConnectHandler> hd, asio::cancellation_slot s)
      : resolver(ex),
        socket(ex),
        host(std::move(h)),
        options(opts),
        handler(std::move(hd)),
        slot(s) {}

  // The cancellation slot's handler: stops whichever step is running.
  struct Cancel {
    std::weak_ptr<ConnectOp> op;
    void operator()(asio::cancellation_type type) {
      if (type == asio::cancellation_type::none) return;
      if (std::shared_ptr<ConnectOp> o = op.lock()) {
        o->cancelled = true;
        o->resolver.cancel();
        o->connect_signal.emit(type);
        // The TLS handshake: abort the connection; its handshake then ends
        // (with the loss) and the wait below completes.
        if (std::shared_ptr<StreamState> s = o->handshaking.lock()) s->abort();
      }
    }
  };

  void arm_cancellation() {
    if (slot.is_connected()) slot.template emplace<Cancel>(Cancel{this->weak_from_this()});
  }

  // connected: the socket is connected (or `ec` says why not).
  void connected(std::error_code ec) {
    if (!ec && cancelled) ec = asio::error::operation_aborted;
    asio_backend::Stream stream;
    if (!ec) stream = make_stream(Socket(std::move(socket)), options, ec, host);
    if (ec || !options.ssl) {
      finish(ec, std::move(stream));
      return;
    }
    // asyncio completes open_connection(ssl=...) after the handshake. The
    // handles wait inside the handshake's waiter (a cycle through the
    // StreamState until the handshake ends, which it always does: success,
    // failure, loss, or ssl_handshake_timeout).
    const std::shared_ptr<StreamState>& state = HandleAccess::state(stream.writer);
    handshaking = state;
    state->start_wait_handshake(make_pending_handler<std::error_code>(
        [op = this->shared_from_this(), stream](std::error_code ec) mutable {
          // Cancelled: whatever the handshake says (its loss, usually).
          if (op->cancelled) ec = asio::error::operation_aborted;
          if (ec) {
            // A failed handshake closes itself (the alert goes out first);
            // a cancellation that came too late closes it here.
            if (!stream.writer.is_closing()) stream.writer.abort();
            stream = asio_backend::Stream{};
          }
          op->finish(ec, std::move(stream));
        },
        state->executor()));
  }

  void finish(std::error_code ec, asio_backend::Stream stream) {
    // Never inside the slot's handler (completions are never inline), so the
    // slot may be cleared.
    if (slot.is_connected()) slot.clear();
    handshaking.reset();
    handler->complete(ec, std::move(stream));
  }

  asio::ip::tcp::resolver resolver;
  typename Protocol::socket socket;
  // The host given (TCP): server_hostname's default.
  std::string host;
  asio_backend::StreamOptions options;
  std::unique_ptr<ConnectHandler> handler;
  asio::cancellation_slot slot;
  asio::cancellation_signal connect_signal;
  // The connection while its TLS handshake runs (for Cancel).
  std::weak_ptr<StreamState> handshaking;
  bool cancelled = false;
};

}  // namespace

void start_open_connection(const asio::any_io_executor& executor, std::string host,
                           std::uint16_t port, const asio_backend::StreamOptions& options,
                           std::unique_ptr<ConnectHandler> handler, asio::cancellation_slot slot) {
  if (validate_options(options, TlsRole::kClient, host)) {
    handler->complete(make_error_code(StreamErrc::kInvalidArgument), asio_backend::Stream{});
    return;
  }
  using Op = ConnectOp<asio::ip::tcp>;
  auto op = std::make_shared<Op>(executor, host, options, std::move(handler), slot);
  op->arm_cancellation();
  op->resolver.async_resolve(
      host, std::to_string(port), asio::ip::resolver_base::numeric_service,
      [op](std::error_code ec, asio::ip::tcp::resolver::results_type results) {
        if (ec || op->cancelled) {
          op->finish(op->cancelled ? asio::error::operation_aborted : ec, asio_backend::Stream{});
          return;
        }
        asio::async_connect(
            op->socket, results,
            asio::bind_cancellation_slot(
                op->connect_signal.slot(),
                [op](std::error_code ec, const asio::ip::tcp::endpoint&) { op->connected(ec); }));
      });
}

void start_open_unix_connection(const asio::any_io_executor& executor, std::string path,
                                const asio_backend::StreamOptions& options,
                                std::unique_ptr<ConnectHandler> handler,
                                asio::cancellation_slot slot) {
  if (validate_options(options, TlsRole::kClient, "")) {
    handler->complete(make_error_code(StreamErrc::kInvalidArgument), asio_backend::Stream{});
    return;
  }
  asio::local::stream_protocol::endpoint endpoint;
  try {
    endpoint = asio::local::stream_protocol::endpoint(path);
  } catch (const std::system_error& e) {  // the path is too long
    handler->complete(e.code(), asio_backend::Stream{});
    return;
  }
  using Op = ConnectOp<asio::local::stream_protocol>;
  auto op = std::make_shared<Op>(executor, std::string(), options, std::move(handler), slot);
  op->arm_cancellation();
  op->socket.async_connect(
      endpoint, asio::bind_cancellation_slot(op->connect_signal.slot(),
                                             [op](std::error_code ec) { op->connected(ec); }));
}

}  // namespace sluice::asio_backend_internal
