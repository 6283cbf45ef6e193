#include "conformance/scenarios/asio_adapter.h"

#include <algorithm>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "backends/asio/streams.h"
#include "conformance/scenarios/support.h"
#include "conformance/scenarios/tls_setup.h"

namespace sluice::scenarios {
namespace {

namespace sab = sluice::asio_backend;
using namespace std::chrono_literals;

constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

// options_of: a connection's options; over TLS (`tls` not null) a client's
// or a server's (`role`).
sab::StreamOptions options_of(const StreamConfig& config, const TlsSetup* tls, TlsRole role) {
  sab::StreamOptions o;
  o.limit = config.limit;
  o.write_high_water = config.write_high_water;
  o.write_low_water = config.write_low_water;
  if (tls && role == TlsRole::kClient) {
    o.ssl = tls->client;
    o.server_hostname = tls->server_hostname;
  } else if (tls) {
    o.ssl = tls->server;
  }
  return o;
}

// error_of: a failed operation's std::error_code as the core's StreamError.
StreamError error_of(std::error_code ec) {
  if (ec.category() == stream_errc_category()) {
    StreamError e;
    e.code = static_cast<StreamErrc>(ec.value());
    return e;
  }
  return StreamError::connection(normalise(ec));
}

Status status_of(std::error_code ec) {
  if (!ec) return Ok{};
  return error_of(ec);
}

// read_error: the StreamError of a failed read: the whole one the reader
// kept (partial, expected, consumed), connection errors normalised.
StreamError read_error(std::error_code ec, const sab::StreamReader& reader) {
  if (const std::optional<StreamError>& e = reader.last_error()) {
    StreamError copy = *e;
    copy.connection_error = normalise(copy.connection_error);
    return copy;
  }
  return error_of(ec);
}

using Registry = WriterRegistry<sab::StreamWriter>;

class AsioStream final : public Stream {
 public:
  AsioStream(sab::StreamReader reader, sab::StreamWriter writer)
      : reader_(std::move(reader)), writer_(std::move(writer)) {}
  // Dropping an unclosed stream closes it (the registry holds a handle, so
  // it must be explicit).
  ~AsioStream() override {
    if (!writer_.is_closing()) writer_.close();
  }

  Op<ReadResult> start_read(std::int64_t n) override {
    return start_read_op([&](auto handler) { reader_.async_read(n, std::move(handler)); });
  }
  Op<ReadResult> start_readline() override {
    return start_read_op([&](auto handler) { reader_.async_readline(std::move(handler)); });
  }
  Op<ReadResult> start_readexactly(std::int64_t n) override {
    return start_read_op([&](auto handler) { reader_.async_readexactly(n, std::move(handler)); });
  }
  Op<ReadResult> start_readuntil(std::string separator) override {
    return start_read_op(
        [&](auto handler) { reader_.async_readuntil(separator, std::move(handler)); });
  }

  Status write(std::string data) override {
    std::error_code ec;
    writer_.write(std::move(data), ec);
    return status_of(ec);
  }
  void write_eof() override {
    std::error_code ignored;
    writer_.write_eof(ignored);
  }
  void close() override { writer_.close(); }
  void abort() override { writer_.abort(); }
  Op<Status> start_drain() override {
    auto state = std::make_shared<Op<Status>::State>();
    writer_.async_drain([state](std::error_code ec) { state->value.emplace(status_of(ec)); });
    return Op<Status>(std::move(state));
  }
  Op<Status> start_wait_closed() override {
    auto state = std::make_shared<Op<Status>::State>();
    writer_.async_wait_closed([state](std::error_code ec) { state->value.emplace(status_of(ec)); });
    return Op<Status>(std::move(state));
  }
  void set_write_buffer_limits(std::size_t high, std::size_t low) override {
    writer_.set_write_buffer_limits(static_cast<std::int64_t>(high),
                                    static_cast<std::int64_t>(low));
  }

  bool at_eof() const override { return reader_.at_eof(); }
  bool is_closing() const override { return writer_.is_closing(); }
  bool eof_received() const override { return reader_.eof_received(); }
  std::size_t buffered_size() const override { return reader_.buffered_size(); }
  bool reading_paused() const override { return reader_.reading_paused(); }
  std::uint64_t bytes_received() const override { return reader_.bytes_received(); }
  std::size_t write_buffer_size() const override { return writer_.get_write_buffer_size(); }
  std::size_t limit() const override { return reader_.limit(); }
  int native_handle() const override { return writer_.native_handle(); }
  bool tls() const override { return writer_.ssl_object() != nullptr; }

 private:
  // start_read_op: `start(handler)` starts the read; the handler is bound
  // to a cancellation signal that Op::cancel() emits.
  template <typename Start>
  Op<ReadResult> start_read_op(Start start) {
    auto state = std::make_shared<Op<ReadResult>::State>();
    auto signal = std::make_shared<asio::cancellation_signal>();
    state->extra = signal;
    state->cancel = [s = signal.get()] { s->emit(asio::cancellation_type::terminal); };
    start(asio::bind_cancellation_slot(
        signal->slot(), [state, reader = reader_](std::error_code ec, std::string data) {
          if (ec == asio::error::operation_aborted) return;  // cancelled: never completes
          if (!ec) {
            state->value.emplace(std::move(data));
          } else {
            state->value.emplace(read_error(ec, reader));
          }
        }));
    return Op<ReadResult>(std::move(state));
  }

  sab::StreamReader reader_;
  sab::StreamWriter writer_;
};

// ---- Server behaviours, as Asio coroutines. ------------------------------------

asio::awaitable<void> nothing() { co_return; }

asio::awaitable<void> serve(Behaviour b, sab::StreamReader reader, sab::StreamWriter writer) {
  switch (b) {
    case Behaviour::kEchoLines:
      for (;;) {
        auto [ec, line] = co_await reader.async_readline(kAsTuple);
        if (ec || line.empty()) break;
        writer.write(std::move(line));
        auto [drain_ec] = co_await writer.async_drain(kAsTuple);
        if (drain_ec) break;
      }
      break;
    case Behaviour::kEchoBytes:
      for (;;) {
        auto [ec, data] = co_await reader.async_read(64 * 1024, kAsTuple);
        if (ec || data.empty()) break;
        writer.write(std::move(data));
        auto [drain_ec] = co_await writer.async_drain(kAsTuple);
        if (drain_ec) break;
      }
      break;
    case Behaviour::kReadToEofThenAnswer: {
      auto [ec, all] = co_await reader.async_read(-1, kAsTuple);
      if (!ec) {
        writer.write("received " + std::to_string(all.size()) + " bytes\n");
        auto [drain_ec] = co_await writer.async_drain(kAsTuple);
        (void)drain_ec;
      }
      break;
    }
    case Behaviour::kCloseAtOnce:
    case Behaviour::kHold:
      break;
  }
  writer.close();
}

// Behaviour::kHold's connections, waiting for Server::take_accepted.
struct HoldQueue {
  std::deque<std::unique_ptr<Stream>> held;
};

class AsioServer final : public Server {
 public:
  AsioServer(sab::Server server, std::shared_ptr<HoldQueue> queue)
      : server_(std::move(server)), queue_(std::move(queue)) {
    const std::vector<sab::Endpoint> sockets = server_.sockets();
    const auto* tcp = std::get_if<asio::ip::tcp::endpoint>(&sockets.front());
    port_ = tcp ? tcp->port() : 0;
  }
  ~AsioServer() override {
    server_.close();
    queue_->held.clear();  // not taken: closed
  }

  std::uint16_t port() const override { return port_; }
  void close() override { server_.close(); }
  bool is_serving() const override { return server_.is_serving(); }
  void close_clients() override { server_.close_clients(); }
  void abort_clients() override { server_.abort_clients(); }
  std::size_t active_connections() const override { return server_.active_connections(); }
  Op<std::error_code> start_wait_closed() override {
    auto state = std::make_shared<Op<std::error_code>::State>();
    server_.async_wait_closed([state](std::error_code ec) { state->value.emplace(normalise(ec)); });
    return Op<std::error_code>(std::move(state));
  }
  Op<std::error_code> start_serve_forever() override {
    auto state = std::make_shared<Op<std::error_code>::State>();
    server_.async_serve_forever(
        [state](std::error_code ec) { state->value.emplace(normalise(ec)); });
    return Op<std::error_code>(std::move(state));
  }
  std::size_t accepted_waiting() const override { return queue_->held.size(); }
  std::unique_ptr<Stream> take_accepted() override {
    if (queue_->held.empty()) return nullptr;
    std::unique_ptr<Stream> s = std::move(queue_->held.front());
    queue_->held.pop_front();
    return s;
  }

 private:
  sab::Server server_;
  std::shared_ptr<HoldQueue> queue_;
  std::uint16_t port_ = 0;
};

class AsioLoop final : public Loop {
 public:
  // tls: every connection over TLS with these contexts; null: plain.
  explicit AsioLoop(const TlsSetup* tls) : work_(asio::make_work_guard(io_)), tls_(tls) {}

  ~AsioLoop() override {
    // Abort what is left, drop the handles, then let the context run out of
    // work (the handlers of what completed) before it goes.
    registry_.abort_all();
    (void)run_until([&] { return registry_.live() == 0; }, 5s);
    registry_.clear();
    work_.reset();
    io_.restart();
    io_.run_for(5s);
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) override {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= end) return false;
      io_.run_one_for(std::min<std::chrono::steady_clock::duration>(10ms, end - now));
      for (int i = 0; i < 63 && io_.poll_one() > 0; ++i) {
      }
      if (io_.stopped()) io_.restart();
    }
    return true;
  }

  Op<Connected> start_connect(std::uint16_t port, const StreamConfig& config) override {
    auto state = std::make_shared<Op<Connected>::State>();
    sab::async_open_connection(
        io_.get_executor(), "127.0.0.1", port, options_of(config, tls_, TlsRole::kClient),
        [this, state](std::error_code ec, sab::Stream s) { connected(*state, ec, std::move(s)); });
    return Op<Connected>(std::move(state));
  }

  Op<Connected> start_connect_unix(const std::string& path, const StreamConfig& config) override {
    auto state = std::make_shared<Op<Connected>::State>();
    sab::async_open_unix_connection(
        io_.get_executor(), path, options_of(config, tls_, TlsRole::kClient),
        [this, state](std::error_code ec, sab::Stream s) { connected(*state, ec, std::move(s)); });
    return Op<Connected>(std::move(state));
  }

  std::unique_ptr<Server> start_server(Behaviour behaviour, const ServerConfig& config) override {
    auto queue = std::make_shared<HoldQueue>();
    sab::ServerOptions options;
    options.stream = options_of(config.stream, tls_, TlsRole::kServer);
    options.backlog = config.backlog;
    sab::ClientConnectedCallback callback = [this, behaviour, queue](
                                                sab::StreamReader r,
                                                sab::StreamWriter w) -> asio::awaitable<void> {
      registry_.add(w);
      if (behaviour == Behaviour::kHold) {
        queue->held.push_back(std::make_unique<AsioStream>(std::move(r), std::move(w)));
        return nothing();
      }
      return serve(behaviour, std::move(r), std::move(w));
    };
    sab::Server server =
        config.unix_path.empty()
            ? sab::start_server(io_.get_executor(), std::move(callback), "127.0.0.1", 0, options)
            : sab::start_unix_server(io_.get_executor(), std::move(callback), config.unix_path,
                                     options);
    return std::make_unique<AsioServer>(std::move(server), std::move(queue));
  }

 private:
  void connected(Op<Connected>::State& state, std::error_code ec, sab::Stream s) {
    if (ec) {
      state.value.emplace(Connected{nullptr, normalise(ec)});
      return;
    }
    registry_.add(s.writer);
    state.value.emplace(
        Connected{std::make_unique<AsioStream>(std::move(s.reader), std::move(s.writer)), {}});
  }

  // Declared first: destroyed last (handles must not outlive it).
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  const TlsSetup* tls_;
  Registry registry_;
};

}  // namespace

std::unique_ptr<Loop> AsioAdapter::create() { return std::make_unique<AsioLoop>(nullptr); }

std::unique_ptr<Loop> AsioTlsAdapter::create() { return std::make_unique<AsioLoop>(&tls_setup()); }

}  // namespace sluice::scenarios
