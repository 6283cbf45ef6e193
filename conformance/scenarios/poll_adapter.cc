#include "conformance/scenarios/poll_adapter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "conformance/poll_driver.h"
#include "conformance/scenarios/coro_support.h"
#include "conformance/scenarios/tls_setup.h"
#include "core/coro/async_connection.h"
#include "core/coro/task.h"

namespace sluice::scenarios {
namespace {

using conformance::PollLoop;
using namespace std::chrono_literals;

std::error_code errno_code(int e) { return {e, std::system_category()}; }

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// unix_address: the sockaddr of the UNIX socket at `path` (false if the
// path does not fit).
bool unix_address(const std::string& path, sockaddr_un& addr) {
  addr = sockaddr_un{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

void configure(AsyncConnection& c, const StreamConfig& config) {
  if (!config.write_high_water && !config.write_low_water) return;
  std::optional<std::int64_t> high, low;
  if (config.write_high_water) high = static_cast<std::int64_t>(*config.write_high_water);
  if (config.write_low_water) low = static_cast<std::int64_t>(*config.write_low_water);
  c.writer().set_write_buffer_limits(high, low);
}

// ConnectionList: connections adopted and maybe not lost yet (lost or freed
// ones are pruned, so the list does not grow with the connections served).
// It does not keep them alive: the loop does while their socket is open.
class ConnectionList {
 public:
  void add(const std::shared_ptr<AsyncConnection>& c) {
    if (list_.size() >= 2 * live_after_prune_ + 64) prune();
    list_.push_back(c);
  }
  std::size_t live() {
    prune();
    return list_.size();
  }
  template <typename F>
  void for_each_live(F f) {
    prune();
    for (const std::weak_ptr<AsyncConnection>& w : list_) {
      if (std::shared_ptr<AsyncConnection> c = w.lock()) f(*c);
    }
  }

 private:
  void prune() {
    std::erase_if(list_, [](const std::weak_ptr<AsyncConnection>& w) {
      std::shared_ptr<AsyncConnection> c = w.lock();
      return !c || c->connection().is_lost();
    });
    live_after_prune_ = list_.size();
  }
  std::vector<std::weak_ptr<AsyncConnection>> list_;
  std::size_t live_after_prune_ = 0;
};

class PollStream final : public Stream {
 public:
  PollStream(std::shared_ptr<AsyncConnection> conn, int fd, OpTracker& tracker)
      : conn_(std::move(conn)), fd_(fd), tracker_(tracker) {}
  // Dropping an unclosed stream closes it (asyncio's StreamWriter.__del__).
  ~PollStream() override {
    if (!conn_->writer().is_closing()) conn_->writer().close();
  }

  Op<ReadResult> start_read(std::int64_t n) override {
    std::shared_ptr<AsyncConnection> c = conn_;  // kept alive by the op
    return start_coro_op<ReadResult>(
        tracker_, [c, n] { return c->reader().read(n).as_result(); }, pending());
  }
  Op<ReadResult> start_readline() override {
    std::shared_ptr<AsyncConnection> c = conn_;  // kept alive by the op
    return start_coro_op<ReadResult>(
        tracker_, [c] { return c->reader().readline().as_result(); }, pending());
  }
  Op<ReadResult> start_readexactly(std::int64_t n) override {
    std::shared_ptr<AsyncConnection> c = conn_;  // kept alive by the op
    return start_coro_op<ReadResult>(
        tracker_, [c, n] { return c->reader().readexactly(n).as_result(); }, pending());
  }
  Op<ReadResult> start_readuntil(std::string separator) override {
    std::shared_ptr<AsyncConnection> c = conn_;  // kept alive by the op
    // The separator lives in the coroutine's copy of the lambda.
    return start_coro_op<ReadResult>(
        tracker_,
        [c, sep = std::move(separator)] {
          return c->reader().readuntil(std::string_view(sep)).as_result();
        },
        pending());
  }

  Status write(std::string data) override { return conn_->writer().try_write(std::move(data)); }
  void write_eof() override { conn_->writer().write_eof(); }
  void close() override { conn_->writer().close(); }
  void abort() override { conn_->writer().abort(); }
  Op<Status> start_drain() override {
    std::shared_ptr<AsyncConnection> c = conn_;  // kept alive by the op
    return start_coro_op<Status>(tracker_, [c] { return c->writer().drain().as_result(); });
  }
  Op<Status> start_wait_closed() override {
    std::shared_ptr<AsyncConnection> c = conn_;  // kept alive by the op
    return start_coro_op<Status>(tracker_, [c] { return c->writer().wait_closed().as_result(); });
  }
  void set_write_buffer_limits(std::size_t high, std::size_t low) override {
    conn_->writer().set_write_buffer_limits(static_cast<std::int64_t>(high),
                                           static_cast<std::int64_t>(low));
  }

  bool at_eof() const override { return reader().at_eof(); }
  bool is_closing() const override { return conn_->connection().writer().is_closing(); }
  bool eof_received() const override { return reader().eof_received(); }
  std::size_t buffered_size() const override { return reader().buffered_size(); }
  bool reading_paused() const override { return reader().reading_paused(); }
  std::uint64_t bytes_received() const override { return reader().bytes_fed(); }
  std::size_t write_buffer_size() const override {
    return conn_->connection().writer().get_write_buffer_size();
  }
  std::size_t limit() const override { return reader().limit(); }
  int native_handle() const override { return conn_->connection().is_lost() ? -1 : fd_; }
  bool tls() const override { return conn_->tls() != nullptr; }

 private:
  const sluice::StreamReader& reader() const { return conn_->connection().reader(); }
  std::function<bool()> pending() {
    std::shared_ptr<AsyncConnection> c = conn_;  // kept alive by the op
    return [c] { return c->connection().reader().has_pending_read(); };
  }

  std::shared_ptr<AsyncConnection> conn_;
  int fd_;
  OpTracker& tracker_;
};

// What a server shares with its pending waits.
struct ServerState {
  Behaviour behaviour = Behaviour::kHold;
  ServerConfig config;
  int fd = -1;
  std::uint16_t port = 0;
  bool listening = false;
  std::vector<std::weak_ptr<AsyncConnection>> connections;
  std::deque<std::unique_ptr<Stream>> held;
  std::shared_ptr<Op<std::error_code>::State> serve_forever;

  std::size_t active() {
    std::erase_if(connections, [](const std::weak_ptr<AsyncConnection>& w) {
      std::shared_ptr<AsyncConnection> c = w.lock();
      return !c || c->connection().is_lost();
    });
    return connections.size();
  }
};

class PollAdapterLoop final : public Loop {
 public:
  // tls: every connection over TLS with these contexts; null: plain.
  explicit PollAdapterLoop(const TlsSetup* tls) : tls_(tls) {}
  ~PollAdapterLoop() override {
    // Abort what is left, let every coroutine finish, then free.
    connections_.for_each_live([](AsyncConnection& c) { c.writer().abort(); });
    (void)run_until(
        [&] { return tracker_.all_finished() && behaviours_done() && connections_.live() == 0; },
        5s);
    pollers_.clear();
    tracker_.clear();
    behaviours_.clear();
  }

  // run_until: PollLoop::run_once resumes the posted coroutines first and
  // then waits for the sockets (unless something new was posted), so an Op
  // completed by the resumptions of a turn is only seen after that turn's
  // wait. Turns that do not wait, alternating with turns that wait at most
  // 1 ms, keep that latency small without spinning.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) override {
    tracker_.prune();
    prune_behaviours();
    const auto end = std::chrono::steady_clock::now() + deadline;
    auto finished = [&] {
      run_pollers();
      return done();
    };
    while (!finished()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      loop_.run_once(0ms);
      if (finished()) return true;
      loop_.run_once(1ms);
    }
    return true;
  }

  Op<Connected> start_connect(std::uint16_t port, const StreamConfig& config) override {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in.sin_port = htons(port);
    return connect_to(AF_INET, reinterpret_cast<const sockaddr*>(&in), sizeof in, config);
  }

  Op<Connected> start_connect_unix(const std::string& path, const StreamConfig& config) override {
    sockaddr_un un;
    if (!unix_address(path, un)) {
      return Op<Connected>::ready(Connected{nullptr, errno_code(ENAMETOOLONG)});
    }
    return connect_to(AF_UNIX, reinterpret_cast<const sockaddr*>(&un), sizeof un, config);
  }

  std::unique_ptr<Server> start_server(Behaviour behaviour, const ServerConfig& config) override;

  // ---- For the servers.

  // on_accept: a connection accepted by `state`'s server.
  void on_accept(const std::shared_ptr<ServerState>& state, int fd) {
    ServerState& server = *state;
    std::shared_ptr<AsyncConnection> c = adopt(fd, server.config.stream, TlsRole::kServer);
    if (server.connections.size() % 1024 == 1023) (void)server.active();  // prunes the lost
    server.connections.push_back(c);
    Task<void> t;
    if (tls_) {
      t = serve_after_handshake(state, c, fd);
    } else if (server.behaviour == Behaviour::kHold) {
      server.held.push_back(std::make_unique<PollStream>(c, fd, tracker_));
      return;
    } else {
      t = serve(server.behaviour, c->reader(), c->writer());
    }
    t.start();
    if (behaviours_.size() >= 2 * behaviours_after_prune_ + 64) prune_behaviours();
    behaviours_.push_back(Served{std::move(t), std::move(c)});
  }
  // add_poller: call `poller` between loop turns until it returns true.
  void add_poller(std::function<bool()> poller) { pollers_.push_back(std::move(poller)); }
  PollLoop& loop() { return loop_; }

 private:
  // connect_to: a blocking connect(), which on loopback and UNIX sockets
  // completes (or is refused) at once as long as the listener's backlog has
  // room.
  Op<Connected> connect_to(int family, const sockaddr* addr, socklen_t len,
                           const StreamConfig& config) {
    const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Op<Connected>::ready(Connected{nullptr, errno_code(errno)});
    if (::connect(fd, addr, len) != 0) {
      const int e = errno;
      ::close(fd);
      return Op<Connected>::ready(Connected{nullptr, errno_code(e)});
    }
    std::shared_ptr<AsyncConnection> c = adopt(fd, config, TlsRole::kClient);
    if (!tls_) {
      return Op<Connected>::ready(
          Connected{std::make_unique<PollStream>(std::move(c), fd, tracker_), {}});
    }
    // Like the backends' open_connection: complete after the handshake.
    return start_coro_op<Connected>(tracker_, [this, c, fd]() -> Task<Connected> {
      const Status s = co_await c->handshake().as_result();
      if (!s.ok()) {
        const std::error_code ec = s.error().to_error_code();
        co_return Connected{nullptr, is_tls_error(ec) ? ec : normalise(ec)};
      }
      co_return Connected{std::make_unique<PollStream>(c, fd, tracker_), {}};
    });
  }
  std::shared_ptr<AsyncConnection> adopt(int fd, const StreamConfig& config, TlsRole role) {
    set_nodelay(fd);  // fails harmlessly on UNIX sockets
    ConnectionOptions options;
    options.limit = config.limit;
    if (tls_ && role == TlsRole::kClient) {
      options.tls = TlsOptions{.context = tls_->client,
                               .role = TlsRole::kClient,
                               .server_hostname = tls_->server_hostname};
    } else if (tls_) {
      options.tls = TlsOptions{.context = tls_->server, .role = TlsRole::kServer};
    }
    std::shared_ptr<AsyncConnection> c = loop_.adopt(fd, options);
    configure(*c, config);
    connections_.add(c);
    return c;
  }
  // serve_after_handshake: over TLS, a server serves (or holds) a
  // connection once its handshake succeeded; a failed one closes by itself,
  // unseen (as the backends' servers do).
  Task<void> serve_after_handshake(std::shared_ptr<ServerState> server,
                                   std::shared_ptr<AsyncConnection> c, int fd) {
    // (A statement of its own: with the co_await inside the if's condition
    // GCC 12.2 generated code that trapped, SIGILL.)
    const Status handshake = co_await c->handshake().as_result();
    if (!handshake.ok()) co_return;
    if (server->behaviour == Behaviour::kHold) {
      server->held.push_back(std::make_unique<PollStream>(c, fd, tracker_));
      co_return;
    }
    co_await serve(server->behaviour, c->reader(), c->writer());
  }
  void prune_behaviours() {
    std::erase_if(behaviours_, [](const Served& b) { return b.task.done(); });
    behaviours_after_prune_ = behaviours_.size();
  }
  void run_pollers() {
    std::erase_if(pollers_, [](const std::function<bool()>& p) { return p(); });
  }
  bool behaviours_done() const {
    for (const Served& b : behaviours_) {
      if (!b.task.done()) return false;
    }
    return true;
  }

  // Declared first: destroyed last (every other member refers to it).
  PollLoop loop_;
  const TlsSetup* tls_;
  OpTracker tracker_;
  ConnectionList connections_;
  // The coroutines serving accepted connections, each with the connection it
  // uses (done ones pruned).
  struct Served {
    Task<void> task;
    std::shared_ptr<AsyncConnection> conn;
  };
  std::vector<Served> behaviours_;
  std::size_t behaviours_after_prune_ = 0;
  std::vector<std::function<bool()>> pollers_;
};

class PollServer final : public Server {
 public:
  PollServer(PollAdapterLoop& owner, std::shared_ptr<ServerState> state)
      : owner_(owner), state_(std::move(state)) {}
  ~PollServer() override {
    close();
    state_->held.clear();  // not taken: closed
  }

  std::uint16_t port() const override { return state_->port; }
  void close() override {
    if (state_->listening) {
      owner_.loop().stop_listening(state_->fd);  // closes it
      state_->listening = false;
      if (!state_->config.unix_path.empty()) ::unlink(state_->config.unix_path.c_str());
    }
    if (state_->serve_forever && !state_->serve_forever->finished()) {
      state_->serve_forever->value.emplace();
    }
  }
  bool is_serving() const override { return state_->listening; }
  void close_clients() override {
    for (const std::weak_ptr<AsyncConnection>& w : state_->connections) {
      std::shared_ptr<AsyncConnection> c = w.lock();
      if (c && !c->connection().is_lost()) c->writer().close();
    }
  }
  void abort_clients() override {
    for (const std::weak_ptr<AsyncConnection>& w : state_->connections) {
      std::shared_ptr<AsyncConnection> c = w.lock();
      if (c && !c->connection().is_lost()) c->writer().abort();
    }
  }
  std::size_t active_connections() const override { return state_->active(); }
  Op<std::error_code> start_wait_closed() override {
    auto op = std::make_shared<Op<std::error_code>::State>();
    owner_.add_poller([op, s = state_] {
      if (s->listening || s->active() > 0) return false;
      op->value.emplace();
      return true;
    });
    return Op<std::error_code>(std::move(op));
  }
  Op<std::error_code> start_serve_forever() override {
    if (!state_->listening) return Op<std::error_code>::ready(errno_code(EBADF));
    if (state_->serve_forever && !state_->serve_forever->finished()) {
      return Op<std::error_code>::ready(errno_code(EALREADY));
    }
    state_->serve_forever = std::make_shared<Op<std::error_code>::State>();
    return Op<std::error_code>(state_->serve_forever);
  }
  std::size_t accepted_waiting() const override { return state_->held.size(); }
  std::unique_ptr<Stream> take_accepted() override {
    if (state_->held.empty()) return nullptr;
    std::unique_ptr<Stream> s = std::move(state_->held.front());
    state_->held.pop_front();
    return s;
  }

 private:
  PollAdapterLoop& owner_;
  std::shared_ptr<ServerState> state_;
};

std::unique_ptr<Server> PollAdapterLoop::start_server(Behaviour behaviour,
                                                      const ServerConfig& config) {
  auto state = std::make_shared<ServerState>();
  state->behaviour = behaviour;
  state->config = config;
  int bound;
  if (config.unix_path.empty()) {
    state->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(state->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof in;
    bound = ::bind(state->fd, reinterpret_cast<sockaddr*>(&in), len) == 0 &&
            ::getsockname(state->fd, reinterpret_cast<sockaddr*>(&in), &len) == 0;
    state->port = ntohs(in.sin_port);
  } else {
    state->fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un;
    bound = unix_address(config.unix_path, un);
    if (bound) {
      ::unlink(config.unix_path.c_str());  // a stale socket file
      bound = ::bind(state->fd, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0;
    }
  }
  if (!bound || ::listen(state->fd, config.backlog) != 0) {
    const int e = errno;
    ::close(state->fd);
    throw std::system_error(errno_code(e), "poll server");
  }
  state->listening = true;
  // The listener (and its callback, which shares the state) goes at
  // stop_listening(). PollLoop accepts one connection per readiness event;
  // the rest of the queue is accepted here at once (asyncio accepts up to
  // `backlog` per event), else N simultaneous connects cost N turns of the
  // loop.
  loop_.listen(state->fd, [this, s = state](int fd) {
    on_accept(s, fd);
    for (int more = 1; more < s->config.backlog; ++more) {
      const int next = ::accept4(s->fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (next < 0) break;  // EAGAIN: the queue is empty
      on_accept(s, next);
    }
  });
  return std::make_unique<PollServer>(*this, std::move(state));
}

}  // namespace

std::unique_ptr<Loop> PollAdapter::create() { return std::make_unique<PollAdapterLoop>(nullptr); }

std::unique_ptr<Loop> PollTlsAdapter::create() {
  return std::make_unique<PollAdapterLoop>(&tls_setup());
}

}  // namespace sluice::scenarios
