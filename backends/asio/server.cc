// start_server / start_unix_server and the Server they return.

#include "backends/asio/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <cstring>
#include <exception>
#include <set>
#include <string>
#include <utility>

#include <asio/basic_socket_acceptor.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>
#include <asio/steady_timer.hpp>

#include "backends/asio/internal/intrusive_list.h"
#include "backends/asio/internal/self_owned.h"
#include "backends/asio/stream.h"

namespace sluice::asio_backend_internal {

namespace {

using Acceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

// SO_REUSEPORT as an Asio socket option.
class ReusePort {
 public:
  explicit ReusePort(bool on) : value_(on ? 1 : 0) {}
  template <typename Protocol>
  int level(const Protocol&) const {
    return SOL_SOCKET;
  }
  template <typename Protocol>
  int name(const Protocol&) const {
    return SO_REUSEPORT;
  }
  template <typename Protocol>
  const void* data(const Protocol&) const {
    return &value_;
  }
  template <typename Protocol>
  std::size_t size(const Protocol&) const {
    return sizeof(value_);
  }

 private:
  int value_;
};

// How long accepting pauses after running out of descriptors or memory
// (asyncio's constants.ACCEPT_RETRY_DELAY).
constexpr std::chrono::seconds kAcceptRetryDelay(1);

void report_handler_exception(const asio_backend::HandlerExceptionHook& hook,
                              std::exception_ptr e) {
  if (hook) {
    try {
      hook(e);
      return;
    } catch (...) {  // a throwing hook falls back to the log
    }
  }
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    what = x.what();
  } catch (...) {
  }
  std::fprintf(stderr, "Unhandled exception in client_connected_cb: %s\n", what.c_str());
}

// ClientLauncher: the client callback and the exception hook, shared by the
// server and every connection's spawned coroutine.
struct ClientLauncher {
  asio_backend::ClientConnectedCallback callback;
  asio_backend::HandlerExceptionHook hook;
};

// launch_client: co_spawn the client callback on one connection. The
// callback is called here and its coroutine spawned as is (no wrapper
// coroutine: one frame less per connection; a coroutine's body starts only
// once spawned). Its completion handler holds the launcher, so the callback
// object outlives the coroutine it made (a lambda's captures stay valid).
// A callback that throws before returning its coroutine is reported like
// one that throws inside it: from the executor, then the writer is closed.
// report_and_close: what a handler that threw gets: reported, then its
// connection closed (from the executor).
void report_and_close(const ClientLauncher& launcher, const std::exception_ptr& e,
                      asio_backend::StreamWriter& writer) {
  report_handler_exception(launcher.hook, e);
  writer.close();
}

// run_task: a Task client callback's driver (it catches everything).
SelfOwned run_task(asio::any_io_executor executor, Task<void> task,
                   std::shared_ptr<const ClientLauncher> launcher,
                   asio_backend::StreamWriter writer) {
  co_await ResumeOn{executor};  // from the loop, as co_spawn starts
  std::exception_ptr error;
  try {
    co_await task;
  } catch (...) {
    error = std::current_exception();
  }
  if (error) report_and_close(*launcher, error, writer);
}

void launch_client(const asio::any_io_executor& executor,
                   const std::shared_ptr<const ClientLauncher>& launcher,
                   asio_backend::Stream stream) {
  const asio_backend::ClientConnectedCallback& callback = launcher->callback;
  asio::awaitable<void> client;
  Task<void> task;
  try {
    if (callback.task()) {
      task = callback.task()(stream.reader, stream.writer);
    } else {
      client = callback.awaitable()(stream.reader, stream.writer);
    }
  } catch (...) {
    asio::post(executor, [launcher, writer = std::move(stream.writer),
                          e = std::current_exception()]() mutable {
      report_and_close(*launcher, e, writer);
    });
    return;
  }
  if (task.valid()) {
    run_task(executor, std::move(task), launcher, std::move(stream.writer));
    return;
  }
  asio::co_spawn(executor, std::move(client),
                 [launcher, writer = std::move(stream.writer)](std::exception_ptr e) mutable {
                   if (e) report_and_close(*launcher, e, writer);
                 });
}

}  // namespace

// validate_server_options: nullopt, or kInvalidArgument and why.
std::optional<StreamError> validate_server_options(const asio_backend::ServerOptions& options) {
  if (options.backlog < 0) return StreamError::invalid_argument("backlog must be >= 0");
  return validate_options(options.stream, TlsRole::kServer, "");
}

class ServerState final : public ShutdownHook,
                          public LossListener,
                          public std::enable_shared_from_this<ServerState> {
 public:
  struct Listener {
    explicit Listener(const asio::any_io_executor& ex) : acceptor(ex), retry(ex) {}
    Acceptor acceptor;
    asio::steady_timer retry;
    asio_backend::Endpoint endpoint;
  };

  ServerState(const asio::any_io_executor& ex, asio_backend::ClientConnectedCallback cb,
              const asio_backend::ServerOptions& opts)
      : executor(ex),
        launcher(std::make_shared<const ClientLauncher>(
            ClientLauncher{std::move(cb), opts.on_handler_exception})),
        options(opts) {}

  ~ServerState() override {
    if (registry) registry->remove(*this);
    // The connections outlive the server: they stop telling it.
    clients.for_each([](StreamState& s) { s.set_loss_listener(nullptr); });
    clients.clear();
  }

  std::shared_ptr<ShutdownHook> lock_hook() override { return weak_from_this().lock(); }

  // ShutdownHook: destroy the waiting handlers (see context_registry.h).
  void on_context_shutdown() override {
    registry = nullptr;
    serve_slot = asio::cancellation_slot();
    std::vector<std::unique_ptr<StatusHandler>> a = std::move(wait_closed);
    wait_closed.clear();
    std::vector<std::unique_ptr<StatusHandler>> b = std::move(serve_forever);
    serve_forever.clear();
  }

  void start() {
    ContextRegistry& r = ContextRegistry::of(executor);
    if (r.add(*this)) registry = &r;
    serving = true;
    for (const auto& l : listeners) accept(l);
  }

  void accept(const std::shared_ptr<Listener>& l) {
    l->acceptor.async_accept(
        [self = shared_from_this(), l](std::error_code ec, asio_backend_internal::Socket socket) {
          self->on_accept(l, ec, std::move(socket));
        });
  }

  void on_accept(const std::shared_ptr<Listener>& l, std::error_code ec, Socket socket) {
    if (closed) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      const int e = ec.value();
      if (ec.category() == asio::error::get_system_category() &&
          (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)) {
        std::fprintf(stderr, "socket.accept() out of system resource: %s\n", ec.message().c_str());
        l->retry.expires_after(kAcceptRetryDelay);
        l->retry.async_wait([self = shared_from_this(), l](std::error_code e) {
          if (!e && !self->closed) self->accept(l);
        });
        return;
      }
      accept(l);  // e.g. the client gave up (ECONNABORTED): go on
      return;
    }
    std::error_code sec;
    asio_backend::Stream stream = make_stream(std::move(socket), options.stream, sec);
    if (!sec) attach(std::move(stream));
    accept(l);
  }

  void attach(asio_backend::Stream stream) {
    const std::shared_ptr<StreamState> state = HandleAccess::state(stream.writer);
    // Active from the accept (as asyncio's transports attach to the server
    // before the TLS handshake): close_clients() and wait_closed see it.
    clients.push_back(*state);
    state->set_loss_listener(this);
    if (!options.stream.ssl) {
      launch_client(executor, launcher, std::move(stream));
      return;
    }
    // TLS: the callback runs only after a successful handshake. A failed one
    // (a bad client, a plain-text client, a timeout) is dropped silently, as
    // asyncio does outside debug mode: the core sends its alert and closes.
    // The handles wait inside the handshake's waiter, which the handshake's
    // end (bounded by ssl_handshake_timeout) always releases. Closing the
    // server meanwhile does not stop it: like any accepted connection, it is
    // served once established.
    state->start_wait_handshake(make_pending_handler<std::error_code>(
        [executor = executor, launcher = launcher,
         stream = std::move(stream)](std::error_code ec) mutable {
          if (ec) return;  // dropping the handles: the connection is closing already
          launch_client(executor, launcher, std::move(stream));
        },
        executor));
  }

  // LossListener: a connection is no longer active.
  void stream_lost(StreamState& stream) override {
    // Alive until the waiters are woken (destroying one may drop the last
    // Server handle).
    const std::shared_ptr<ServerState> self = shared_from_this();
    clients.remove(stream);
    maybe_wake_closed();
  }
  void stream_detached(StreamState& stream) override { clients.remove(stream); }

  // close: stop listening. serve_result is what a pending serve_forever gets.
  void close(std::error_code serve_result, bool inside_cancellation) {
    if (closed) return;
    closed = true;
    serving = false;
    for (const auto& l : listeners) {
      std::error_code ignored;
      l->acceptor.close(ignored);
      l->retry.cancel();
    }
    listeners.clear();
    if (!unix_path.empty()) {
      struct stat st {};
      if (::stat(unix_path.c_str(), &st) == 0 && st.st_dev == unix_dev && st.st_ino == unix_ino) {
        ::unlink(unix_path.c_str());
      }
    }
    if (!inside_cancellation && serve_slot.is_connected()) serve_slot.clear();
    serve_slot = asio::cancellation_slot();
    std::vector<std::unique_ptr<StatusHandler>> serving_handlers = std::move(serve_forever);
    serve_forever.clear();
    for (auto& h : serving_handlers) h->complete(serve_result);
    maybe_wake_closed();
  }

  void maybe_wake_closed() {
    if (!closed || !clients.empty()) return;
    std::vector<std::unique_ptr<StatusHandler>> handlers = std::move(wait_closed);
    wait_closed.clear();
    for (auto& h : handlers) h->complete(std::error_code());
  }

  template <typename F>
  void for_each_client(F f) {
    // Collected first: f may lose a connection (which leaves the list).
    std::vector<std::shared_ptr<StreamState>> live;
    live.reserve(clients.size());
    clients.for_each([&](StreamState& s) {
      if (std::shared_ptr<StreamState> p = s.weak_from_this().lock()) live.push_back(std::move(p));
    });
    for (auto& s : live) f(*s);
  }

  asio::any_io_executor executor;
  std::shared_ptr<const ClientLauncher> launcher;
  asio_backend::ServerOptions options;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::string unix_path;
  dev_t unix_dev = 0;
  ino_t unix_ino = 0;
  bool serving = false;
  bool closed = false;
  // The active connections: accepted and not yet lost (each tells
  // stream_lost, or stream_detached if it goes first; the links are in the
  // StreamState, so tracking one allocates nothing).
  IntrusiveList<StreamState, ServerClientsTag> clients;
  std::vector<std::unique_ptr<StatusHandler>> wait_closed;
  std::vector<std::unique_ptr<StatusHandler>> serve_forever;
  asio::cancellation_slot serve_slot;
  ContextRegistry* registry = nullptr;
};

// ServerOwner: what the user's Server handles share; the last one closes.
struct ServerOwner {
  explicit ServerOwner(std::shared_ptr<ServerState> s) : state(std::move(s)) {}
  ~ServerOwner() { state->close(std::error_code(), false); }
  ServerOwner(const ServerOwner&) = delete;
  ServerOwner& operator=(const ServerOwner&) = delete;

  std::shared_ptr<ServerState> state;
};

const asio::any_io_executor& executor_of(const ServerOwner& owner) { return owner.state->executor; }

void start_server_wait_closed(ServerOwner& owner, std::unique_ptr<StatusHandler> handler) {
  ServerState& s = *owner.state;
  if (s.closed && s.clients.empty()) {
    handler->complete(std::error_code());
    return;
  }
  s.wait_closed.push_back(std::move(handler));
}

namespace {

struct ServeForeverCancellation {
  std::weak_ptr<ServerState> state;
  void operator()(asio::cancellation_type type) {
    if (type == asio::cancellation_type::none) return;
    if (std::shared_ptr<ServerState> s = state.lock()) {
      s->close(asio::error::operation_aborted, /*inside_cancellation=*/true);
    }
  }
};

}  // namespace

void start_serve_forever(ServerOwner& owner, std::unique_ptr<StatusHandler> handler,
                         asio::cancellation_slot slot) {
  ServerState& s = *owner.state;
  if (s.closed) {
    handler->complete(asio::error::bad_descriptor);
    return;
  }
  if (!s.serve_forever.empty()) {
    handler->complete(asio::error::already_started);
    return;
  }
  s.serve_forever.push_back(std::move(handler));
  if (slot.is_connected()) {
    s.serve_slot = slot;
    slot.emplace<ServeForeverCancellation>(ServeForeverCancellation{s.weak_from_this()});
  }
}

}  // namespace sluice::asio_backend_internal

namespace sluice::asio_backend {

namespace {

using asio_backend_internal::Acceptor;
using asio_backend_internal::ServerOwner;
using asio_backend_internal::ServerState;

void throw_if(const std::error_code& ec, const char* what) {
  if (ec) throw std::system_error(ec, what);
}

// throw_if_invalid: bad options as std::system_error(kInvalidArgument) whose
// what() says which and why.
void throw_if_invalid(const ServerOptions& options, const char* what) {
  if (std::optional<StreamError> bad = asio_backend_internal::validate_server_options(options)) {
    throw std::system_error(bad->to_error_code(), std::string(what) + ": " + bad->message());
  }
}

// listen_on: open, configure, bind and listen one TCP socket.
std::error_code listen_on(ServerState& state, const asio::ip::tcp::endpoint& endpoint,
                          const ServerOptions& options) {
  auto l = std::make_shared<ServerState::Listener>(state.executor);
  std::error_code ec;
  const asio::generic::stream_protocol::endpoint generic(endpoint);
  l->acceptor.open(generic.protocol(), ec);
  if (ec) return ec;
  if (options.reuse_address) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return ec;
  if (options.reuse_port) l->acceptor.set_option(asio_backend_internal::ReusePort(true), ec);
  if (ec) return ec;
  if (endpoint.address().is_v6()) l->acceptor.set_option(asio::ip::v6_only(true), ec);
  if (ec) return ec;
  l->acceptor.bind(generic, ec);
  if (ec) return ec;
  l->acceptor.listen(options.backlog, ec);
  if (ec) return ec;
  const asio::generic::stream_protocol::endpoint bound = l->acceptor.local_endpoint(ec);
  if (ec) return ec;
  asio::ip::tcp::endpoint tcp;
  std::memcpy(tcp.data(), bound.data(), bound.size());
  tcp.resize(bound.size());
  l->endpoint = tcp;
  state.listeners.push_back(std::move(l));
  return ec;
}

}  // namespace

Server start_server(const asio::any_io_executor& executor, ClientConnectedCallback callback,
                    std::optional<std::string_view> host, std::uint16_t port,
                    const ServerOptions& options, std::error_code& ec) {
  ec.clear();
  if (asio_backend_internal::validate_server_options(options)) {
    ec = make_error_code(StreamErrc::kInvalidArgument);
    return Server();
  }
  asio::ip::tcp::resolver resolver(executor);
  const std::string host_string = host ? std::string(*host) : std::string();
  const auto results = resolver.resolve(
      host_string, std::to_string(port),
      asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service, ec);
  if (ec) return Server();
  if (results.empty()) {
    ec = asio::error::host_not_found;
    return Server();
  }
  auto state = std::make_shared<ServerState>(executor, std::move(callback), options);
  std::set<asio::ip::tcp::endpoint> seen;
  for (const auto& entry : results) {
    if (!seen.insert(entry.endpoint()).second) continue;
    ec = listen_on(*state, entry.endpoint(), options);
    if (ec) {
      state->close(std::error_code(), false);
      return Server();
    }
  }
  state->start();
  return Server(std::make_shared<ServerOwner>(std::move(state)));
}

Server start_server(const asio::any_io_executor& executor, ClientConnectedCallback callback,
                    std::optional<std::string_view> host, std::uint16_t port,
                    const ServerOptions& options) {
  throw_if_invalid(options, "start_server");
  std::error_code ec;
  Server server = start_server(executor, std::move(callback), host, port, options, ec);
  throw_if(ec, "start_server");
  return server;
}

Server start_unix_server(const asio::any_io_executor& executor, ClientConnectedCallback callback,
                         std::string_view path, const ServerOptions& options, std::error_code& ec) {
  ec.clear();
  if (asio_backend_internal::validate_server_options(options)) {
    ec = make_error_code(StreamErrc::kInvalidArgument);
    return Server();
  }
  const std::string path_string(path);
  asio::local::stream_protocol::endpoint endpoint;
  try {
    endpoint = asio::local::stream_protocol::endpoint(path_string);
  } catch (const std::system_error& e) {  // the path is too long
    ec = e.code();
    return Server();
  }
  // A stale socket file from an earlier server is removed (asyncio does so).
  struct stat st {};
  if (!path_string.empty() && ::stat(path_string.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    ::unlink(path_string.c_str());
  }
  auto state = std::make_shared<ServerState>(executor, std::move(callback), options);
  auto l = std::make_shared<ServerState::Listener>(executor);
  const asio::generic::stream_protocol::endpoint generic(endpoint);
  l->acceptor.open(generic.protocol(), ec);
  if (!ec) l->acceptor.bind(generic, ec);
  if (!ec) l->acceptor.listen(options.backlog, ec);
  if (ec) return Server();
  l->endpoint = endpoint;
  state->listeners.push_back(std::move(l));
  if (!path_string.empty() && ::stat(path_string.c_str(), &st) == 0) {
    state->unix_path = path_string;
    state->unix_dev = st.st_dev;
    state->unix_ino = st.st_ino;
  }
  state->start();
  return Server(std::make_shared<ServerOwner>(std::move(state)));
}

Server start_unix_server(const asio::any_io_executor& executor, ClientConnectedCallback callback,
                         std::string_view path, const ServerOptions& options) {
  throw_if_invalid(options, "start_unix_server");
  std::error_code ec;
  Server server = start_unix_server(executor, std::move(callback), path, options, ec);
  throw_if(ec, "start_unix_server");
  return server;
}

void Server::close() { owner_->state->close(std::error_code(), false); }

bool Server::is_serving() const { return owner_->state->serving && !owner_->state->closed; }

std::vector<Endpoint> Server::sockets() const {
  std::vector<Endpoint> out;
  for (const auto& l : owner_->state->listeners) out.push_back(l->endpoint);
  return out;
}

void Server::close_clients() {
  owner_->state->for_each_client([](asio_backend_internal::StreamState& s) { s.close(); });
}

void Server::abort_clients() {
  owner_->state->for_each_client([](asio_backend_internal::StreamState& s) { s.abort(); });
}

std::size_t Server::active_connections() const { return owner_->state->clients.size(); }

}  // namespace sluice::asio_backend
