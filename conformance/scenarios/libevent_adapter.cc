#include "conformance/scenarios/libevent_adapter.h"

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "backends/libevent/streams.h"
#include "conformance/scenarios/coro_support.h"
#include "conformance/scenarios/support.h"
#include "conformance/scenarios/tls_setup.h"

namespace sluice::scenarios {
namespace {

namespace sle = sluice::libevent_backend;
using namespace std::chrono_literals;

// options_of: a connection's options; over TLS (`tls` not null) a client's
// or a server's (`role`).
sle::StreamOptions options_of(const StreamConfig& config, const TlsSetup* tls, TlsRole role) {
  sle::StreamOptions o;
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

using Registry = WriterRegistry<sle::StreamWriter>;

class LibeventStream final : public Stream {
 public:
  LibeventStream(sle::Stream s, OpTracker& tracker)
      : reader_(std::move(s.reader)), writer_(std::move(s.writer)), tracker_(tracker) {}
  // Dropping an unclosed stream closes it (asyncio's StreamWriter.__del__;
  // the adapter's registry holds a handle, so it must be explicit).
  ~LibeventStream() override {
    if (!writer_.is_closing()) writer_.close();
  }

  Op<ReadResult> start_read(std::int64_t n) override {
    return start_coro_op<ReadResult>(
        tracker_, [r = reader_, n]() mutable { return r.read(n).as_result(); }, pending());
  }
  Op<ReadResult> start_readline() override {
    return start_coro_op<ReadResult>(
        tracker_, [r = reader_]() mutable { return r.readline().as_result(); }, pending());
  }
  Op<ReadResult> start_readexactly(std::int64_t n) override {
    return start_coro_op<ReadResult>(
        tracker_, [r = reader_, n]() mutable { return r.readexactly(n).as_result(); }, pending());
  }
  Op<ReadResult> start_readuntil(std::string separator) override {
    // The separator lives in the coroutine's copy of the lambda.
    return start_coro_op<ReadResult>(
        tracker_,
        [r = reader_, sep = std::move(separator)]() mutable {
          return r.readuntil(std::string_view(sep)).as_result();
        },
        pending());
  }

  Status write(std::string data) override { return writer_.try_write(std::move(data)); }
  void write_eof() override { writer_.write_eof(); }
  void close() override { writer_.close(); }
  void abort() override { writer_.abort(); }
  Op<Status> start_drain() override {
    return start_coro_op<Status>(tracker_,
                                 [w = writer_]() mutable { return w.drain().as_result(); });
  }
  Op<Status> start_wait_closed() override {
    return start_coro_op<Status>(tracker_,
                                 [w = writer_]() mutable { return w.wait_closed().as_result(); });
  }
  void set_write_buffer_limits(std::size_t high, std::size_t low) override {
    writer_.set_write_buffer_limits(static_cast<std::int64_t>(high),
                                    static_cast<std::int64_t>(low));
  }

  bool at_eof() const override { return reader_.at_eof(); }
  bool is_closing() const override { return writer_.is_closing(); }
  bool eof_received() const override { return reader_.core().eof_received(); }
  std::size_t buffered_size() const override { return reader_.buffered_size(); }
  bool reading_paused() const override { return reader_.core().reading_paused(); }
  std::uint64_t bytes_received() const override { return reader_.core().bytes_fed(); }
  std::size_t write_buffer_size() const override { return writer_.get_write_buffer_size(); }
  std::size_t limit() const override { return reader_.limit(); }
  int native_handle() const override { return writer_.native_handle(); }
  bool tls() const override { return writer_.ssl_object() != nullptr; }

 private:
  std::function<bool()> pending() {
    return [r = reader_] { return r.core().has_pending_read(); };
  }

  sle::StreamReader reader_;
  sle::StreamWriter writer_;
  OpTracker& tracker_;
};

Task<void> nothing() { co_return; }

// Behaviour::kHold's connections, waiting for Server::take_accepted.
struct HoldQueue {
  std::deque<std::unique_ptr<Stream>> held;
};

class LibeventServer final : public Server {
 public:
  LibeventServer(sle::Server server, std::shared_ptr<HoldQueue> queue)
      : server_(std::move(server)), queue_(std::move(queue)) {
    port_ = server_.sockets().front().port();
  }
  ~LibeventServer() override {
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
    server_.wait_closed([state](std::error_code ec) { state->value.emplace(normalise(ec)); });
    return Op<std::error_code>(std::move(state));
  }
  Op<std::error_code> start_serve_forever() override {
    auto state = std::make_shared<Op<std::error_code>::State>();
    server_.serve_forever([state](std::error_code ec) { state->value.emplace(normalise(ec)); });
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
  sle::Server server_;
  std::shared_ptr<HoldQueue> queue_;
  std::uint16_t port_ = 0;
};

class LibeventLoop final : public Loop {
 public:
  // tls: every connection over TLS with these contexts; null: plain.
  explicit LibeventLoop(const TlsSetup* tls) : base_(event_base_new()), tls_(tls) {
    // A tick, so that EVLOOP_ONCE returns at least every 10 ms.
    tick_ = event_new(
        base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
    const timeval tv = {0, 10 * 1000};
    event_add(tick_, &tv);
  }

  ~LibeventLoop() override {
    // Abort what is left and let every coroutine finish.
    registry_.abort_all();
    (void)run_until([&] { return tracker_.all_finished() && registry_.live() == 0; }, 5s);
    tracker_.clear();
    registry_.clear();
    event_free(tick_);
    // Then let the backend finish its own work (nothing may be left on the
    // base when it is freed), with a deadline.
    bool expired = false;
    event* deadline = evtimer_new(
        base_, [](evutil_socket_t, short, void* flag) { *static_cast<bool*>(flag) = true; },
        &expired);
    const timeval tv = {5, 0};
    evtimer_add(deadline, &tv);
    while (!expired &&
           event_base_get_num_events(base_, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) > 1) {
      event_base_loop(base_, EVLOOP_ONCE);
    }
    event_free(deadline);
    event_base_free(base_);
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) override {
    tracker_.prune();
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      event_base_loop(base_, EVLOOP_ONCE);
    }
    return true;
  }

  Op<Connected> start_connect(std::uint16_t port, const StreamConfig& config) override {
    auto state = std::make_shared<Op<Connected>::State>();
    sle::open_connection(
        base_, "127.0.0.1", port, options_of(config, tls_, TlsRole::kClient),
        [this, state](std::error_code ec, sle::Stream s) { connected(*state, ec, std::move(s)); });
    return Op<Connected>(std::move(state));
  }

  Op<Connected> start_connect_unix(const std::string& path, const StreamConfig& config) override {
    auto state = std::make_shared<Op<Connected>::State>();
    sle::open_unix_connection(
        base_, path, options_of(config, tls_, TlsRole::kClient),
        [this, state](std::error_code ec, sle::Stream s) { connected(*state, ec, std::move(s)); });
    return Op<Connected>(std::move(state));
  }

  std::unique_ptr<Server> start_server(Behaviour behaviour, const ServerConfig& config) override {
    auto queue = std::make_shared<HoldQueue>();
    sle::ServerOptions options;
    options.stream = options_of(config.stream, tls_, TlsRole::kServer);
    options.backlog = config.backlog;
    sle::ClientConnectedCallback callback =
        [this, behaviour, queue](sle::StreamReader r, sle::StreamWriter w) -> Task<void> {
      registry_.add(w);
      if (behaviour == Behaviour::kHold) {
        queue->held.push_back(
            std::make_unique<LibeventStream>(sle::Stream{std::move(r), std::move(w)}, tracker_));
        return nothing();
      }
      return serve(behaviour, std::move(r), std::move(w));
    };
    sle::Server server =
        config.unix_path.empty()
            ? sle::start_server(base_, std::move(callback), "127.0.0.1", 0, options)
            : sle::start_unix_server(base_, std::move(callback), config.unix_path, options);
    return std::make_unique<LibeventServer>(std::move(server), std::move(queue));
  }

 private:
  void connected(Op<Connected>::State& state, std::error_code ec, sle::Stream s) {
    if (ec) {
      state.value.emplace(Connected{nullptr, normalise(ec)});
      return;
    }
    registry_.add(s.writer);
    state.value.emplace(Connected{std::make_unique<LibeventStream>(std::move(s), tracker_), {}});
  }

  event_base* base_;
  const TlsSetup* tls_;
  event* tick_ = nullptr;
  OpTracker tracker_;
  Registry registry_;
};

}  // namespace

std::unique_ptr<Loop> LibeventAdapter::create() { return std::make_unique<LibeventLoop>(nullptr); }

std::unique_ptr<Loop> LibeventTlsAdapter::create() {
  return std::make_unique<LibeventLoop>(&tls_setup());
}

}  // namespace sluice::scenarios
