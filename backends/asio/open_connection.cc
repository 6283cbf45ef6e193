// open_connection / open_unix_connection: resolve, connect, wrap.

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
  ConnectOp(const asio::any_io_executor& ex, const asio_backend::StreamOptions& opts,
            std::unique_ptr<ConnectHandler> h, asio::cancellation_slot s)
      : resolver(ex), socket(ex), options(opts), handler(std::move(h)), slot(s) {}

  // The cancellation slot's handler: stops whichever step is running.
  struct Cancel {
    std::weak_ptr<ConnectOp> op;
    void operator()(asio::cancellation_type type) {
      if (type == asio::cancellation_type::none) return;
      if (std::shared_ptr<ConnectOp> o = op.lock()) {
        o->cancelled = true;
        o->resolver.cancel();
        o->connect_signal.emit(type);
      }
    }
  };

  void arm_cancellation() {
    if (slot.is_connected()) slot.template emplace<Cancel>(Cancel{this->weak_from_this()});
  }

  void finish(std::error_code ec) {
    // Never inside the slot's handler (completions are never inline), so the
    // slot may be cleared.
    if (slot.is_connected()) slot.clear();
    if (!ec && cancelled) ec = asio::error::operation_aborted;
    asio_backend::Stream stream;
    if (!ec) stream = make_stream(Socket(std::move(socket)), options, ec);
    handler->complete(ec, std::move(stream));
  }

  asio::ip::tcp::resolver resolver;
  typename Protocol::socket socket;
  asio_backend::StreamOptions options;
  std::unique_ptr<ConnectHandler> handler;
  asio::cancellation_slot slot;
  asio::cancellation_signal connect_signal;
  bool cancelled = false;
};

bool options_valid(const asio_backend::StreamOptions& options) {
  if (options.limit == 0) return false;
  if (options.write_high_water && options.write_low_water &&
      *options.write_low_water > *options.write_high_water) {
    return false;
  }
  return true;
}

}  // namespace

void start_open_connection(const asio::any_io_executor& executor, std::string host,
                           std::uint16_t port, const asio_backend::StreamOptions& options,
                           std::unique_ptr<ConnectHandler> handler, asio::cancellation_slot slot) {
  if (!options_valid(options)) {
    handler->complete(make_error_code(StreamErrc::kInvalidArgument), asio_backend::Stream{});
    return;
  }
  using Op = ConnectOp<asio::ip::tcp>;
  auto op = std::make_shared<Op>(executor, options, std::move(handler), slot);
  op->arm_cancellation();
  op->resolver.async_resolve(
      host, std::to_string(port), asio::ip::resolver_base::numeric_service,
      [op](std::error_code ec, asio::ip::tcp::resolver::results_type results) {
        if (ec || op->cancelled) {
          op->finish(op->cancelled ? asio::error::operation_aborted : ec);
          return;
        }
        asio::async_connect(
            op->socket, results,
            asio::bind_cancellation_slot(
                op->connect_signal.slot(),
                [op](std::error_code ec, const asio::ip::tcp::endpoint&) { op->finish(ec); }));
      });
}

void start_open_unix_connection(const asio::any_io_executor& executor, std::string path,
                                const asio_backend::StreamOptions& options,
                                std::unique_ptr<ConnectHandler> handler,
                                asio::cancellation_slot slot) {
  if (!options_valid(options)) {
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
  auto op = std::make_shared<Op>(executor, options, std::move(handler), slot);
  op->arm_cancellation();
  op->socket.async_connect(
      endpoint, asio::bind_cancellation_slot(op->connect_signal.slot(),
                                             [op](std::error_code ec) { op->finish(ec); }));
}

}  // namespace sluice::asio_backend_internal
