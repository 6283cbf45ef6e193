#include "backends/libevent/server.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <unordered_set>
#include <utility>

#include "backends/libevent/internal/detached.h"
#include "backends/libevent/internal/loop_context.h"
#include "backends/libevent/internal/resolver.h"
#include "backends/libevent/internal/socket_ops.h"
#include "backends/libevent/internal/stream_state.h"
#include "core/stream_error.h"

namespace sluice::libevent_backend_internal {

using libevent_backend::ClientConnectedCallback;
using libevent_backend::Endpoint;
using libevent_backend::HandleAccess;
using libevent_backend::ServerOptions;
using libevent_backend::ServerWaitOp;
using libevent_backend::Stream;
using libevent_backend::StreamReader;
using libevent_backend::StreamWriter;

// asyncio's constants.ACCEPT_RETRY_DELAY.
constexpr timeval kAcceptRetryDelay = {1, 0};

// ServerState: one server: its listening sockets, its active connections and
// the operations waiting on it.
class ServerState final : public ConnectionObserver,
                          public std::enable_shared_from_this<ServerState> {
 public:
  ServerState(std::shared_ptr<LoopContext> loop, ClientConnectedCallback callback,
              ServerOptions options)
      : loop_(std::move(loop)), callback_(std::move(callback)), options_(std::move(options)) {}
  ~ServerState();

  LoopContext& loop() const { return *loop_; }

  std::error_code listen_tcp(const std::string& host, std::uint16_t port);
  std::error_code listen_unix(const std::string& path);

  void close();
  bool is_serving() const { return !closed_; }
  std::vector<Endpoint> sockets() const;
  void close_clients();
  void abort_clients();
  std::size_t active_connections() const { return clients_.size(); }

  // start_wait: register `op`, or complete it at once (false).
  bool start_wait(ServerWaitOp& op, std::coroutine_handle<> h);
  void cancel_wait(ServerWaitOp& op);

  void connection_detached(StreamState& state) override;

  // run_client: the client callback of one connection, as a coroutine.
  static Detached run_client(std::shared_ptr<ServerState> server, StreamReader reader,
                             StreamWriter writer);

 private:
  struct Listener {
    ServerState* server = nullptr;
    UniqueFd fd;
    event* ev = nullptr;
    Endpoint bound;
  };

  std::error_code add_listener(UniqueFd fd);
  static void on_accept(int fd, short what, void* self);
  static void on_retry(int fd, short what, void* self);
  void accept_from(Listener& listener);
  void pause_accepting();
  void complete(ServerWaitOp& op, std::error_code result);
  void maybe_release_closed();
  void report_handler_exception(std::exception_ptr e);

  std::shared_ptr<LoopContext> loop_;
  ClientConnectedCallback callback_;
  ServerOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_set<StreamState*> clients_;
  std::vector<ServerWaitOp*> closed_waiters_;
  ServerWaitOp* forever_waiter_ = nullptr;
  bool closed_ = false;
  event* retry_event_ = nullptr;
  // start_unix_server's socket file, removed on close if it is still ours.
  std::string unix_path_;
  ino_t unix_inode_ = 0;
};

// ServerOwner: what the user's Server handles share; its end closes the
// server.
struct ServerOwner {
  explicit ServerOwner(std::shared_ptr<ServerState> s) : state(std::move(s)) {}
  ~ServerOwner() { state->close(); }
  ServerOwner(const ServerOwner&) = delete;
  ServerOwner& operator=(const ServerOwner&) = delete;

  std::shared_ptr<ServerState> state;
};

ServerState::~ServerState() {
  close();
  if (retry_event_) event_free(retry_event_);
  for (StreamState* s : clients_) s->set_observer(nullptr);
}

// ---- Listening. ----------------------------------------------------------------------

std::error_code ServerState::add_listener(UniqueFd fd) {
  if (::listen(fd.get(), options_.backlog) < 0) return errno_error();
  auto l = std::make_unique<Listener>();
  l->server = this;
  if (std::optional<Endpoint> bound = local_endpoint(fd.get())) l->bound = *bound;
  l->ev =
      event_new(loop_->base(), fd.get(), EV_READ | EV_PERSIST, &ServerState::on_accept, l.get());
  if (l->ev == nullptr) return std::make_error_code(std::errc::not_enough_memory);
  l->fd = std::move(fd);
  listeners_.push_back(std::move(l));
  return {};
}

std::error_code ServerState::listen_tcp(const std::string& host, std::uint16_t port) {
  std::vector<Endpoint> endpoints;
  if (std::error_code ec = resolve_now(host, port, AI_PASSIVE, endpoints)) return ec;
  std::vector<UniqueFd> bound;
  for (const Endpoint& e : endpoints) {
    UniqueFd fd(::socket(e.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd.valid()) continue;  // asyncio: a family this host lacks is skipped
    const int on = 1;
    if (options_.reuse_address &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0) {
      return errno_error();
    }
    if (options_.reuse_port &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0) {
      return errno_error();
    }
    if (e.family() == AF_INET6 &&
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) {
      return errno_error();
    }
    if (::bind(fd.get(), e.data(), e.size()) < 0) {
      const int err = errno;
      if (err == EADDRNOTAVAIL && e.family() == AF_INET6) continue;  // bpo-30945
      return errno_error(err);
    }
    bound.push_back(std::move(fd));
  }
  if (bound.empty()) return std::make_error_code(std::errc::address_not_available);
  for (UniqueFd& fd : bound) {
    if (std::error_code ec = add_listener(std::move(fd))) return ec;
  }
  for (auto& l : listeners_) event_add(l->ev, nullptr);
  return {};
}

std::error_code ServerState::listen_unix(const std::string& path) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  const bool abstract = !path.empty() && path[0] == '\0';
  if (path.empty() || path.size() >= sizeof(un.sun_path) + (abstract ? 1 : 0)) {
    return std::make_error_code(path.empty() ? std::errc::invalid_argument
                                             : std::errc::filename_too_long);
  }
  std::memcpy(un.sun_path, path.data(), path.size());
  const auto len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
  struct stat st {};
  if (!abstract && ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    ::unlink(path.c_str());  // a stale socket (asyncio does the same)
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_error();
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&un), len) < 0) return errno_error();
  if (!abstract && ::stat(path.c_str(), &st) == 0) {
    unix_path_ = path;
    unix_inode_ = st.st_ino;
  }
  if (std::error_code ec = add_listener(std::move(fd))) return ec;
  for (auto& l : listeners_) event_add(l->ev, nullptr);
  return {};
}

std::vector<Endpoint> ServerState::sockets() const {
  std::vector<Endpoint> out;
  for (const auto& l : listeners_) out.push_back(l->bound);
  return out;
}

void ServerState::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& l : listeners_) {
    if (l->ev) event_free(l->ev);
  }
  listeners_.clear();  // closes the sockets
  if (retry_event_) event_del(retry_event_);
  if (!unix_path_.empty()) {
    struct stat st {};
    if (::stat(unix_path_.c_str(), &st) == 0 && st.st_ino == unix_inode_) {
      ::unlink(unix_path_.c_str());
    }
    unix_path_.clear();
  }
  if (ServerWaitOp* op = std::exchange(forever_waiter_, nullptr)) complete(*op, {});
  maybe_release_closed();
}

void ServerState::close_clients() {
  // A copy: closing may not lose a connection at once, but be safe.
  std::vector<StreamState*> clients(clients_.begin(), clients_.end());
  for (StreamState* s : clients) s->close();
}

void ServerState::abort_clients() {
  std::vector<StreamState*> clients(clients_.begin(), clients_.end());
  for (StreamState* s : clients) s->abort();
}

// ---- Accepting. ----------------------------------------------------------------------

void ServerState::on_accept(int, short, void* self) {
  auto* listener = static_cast<Listener*>(self);
  std::shared_ptr<ServerState> keep = listener->server->shared_from_this();
  keep->accept_from(*listener);
}

void ServerState::accept_from(Listener& listener) {
  const int fd_listen = listener.fd.get();
  for (int i = 0; i < std::max(1, options_.backlog); ++i) {
    if (closed_) return;
    const int fd = ::accept4(fd_listen, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        std::fprintf(stderr, "socket.accept() out of system resource: %s\n",
                     errno_error(err).message().c_str());
        pause_accepting();
        return;
      }
      std::fprintf(stderr, "accept() failed: %s\n", errno_error(err).message().c_str());
      return;
    }
    std::error_code ec;
    std::shared_ptr<StreamState> state = StreamState::create(loop_, fd, options_.stream, ec);
    if (!state) {
      ::close(fd);
      continue;
    }
    state->set_observer(this);
    clients_.insert(state.get());
    Stream stream = HandleAccess::make(std::move(state));
    run_client(shared_from_this(), std::move(stream.reader), std::move(stream.writer));
  }
}

void ServerState::pause_accepting() {
  if (retry_event_ == nullptr) {
    retry_event_ = evtimer_new(loop_->base(), &ServerState::on_retry, this);
    if (retry_event_ == nullptr) return;
  }
  for (auto& l : listeners_) event_del(l->ev);
  evtimer_add(retry_event_, &kAcceptRetryDelay);
}

void ServerState::on_retry(int, short, void* self) {
  auto* server = static_cast<ServerState*>(self);
  if (server->closed_) return;
  for (auto& l : server->listeners_) event_add(l->ev, nullptr);
}

namespace {

// handshake_ok: the TLS handshake's outcome, in a frame of its own: the
// awaiter (a Status) would otherwise sit in every connection's run_client
// frame for the connection's whole life, TLS or not (issue 8 counts bytes
// per idle connection).
Task<bool> handshake_ok(StreamWriter writer) {
  Status handshake = co_await HandleAccess::state(writer).async().handshake().as_result();
  co_return handshake.ok();
}

}  // namespace

Detached ServerState::run_client(std::shared_ptr<ServerState> server, StreamReader reader,
                                 StreamWriter writer) {
  co_await Yield{&server->loop()};  // asyncio runs the task in a later turn
  // The handshake first (asyncio: the client callback sees an established
  // connection). A failure - a bad client, a plain-text one, EOF, the
  // timeout - is dropped silently (asyncio logs it only in debug mode): the
  // core sends its alert and closes that connection by itself.
  if (server->options_.stream.ssl) {
    // Its own statement: GCC 12 miscompiles some co_await inside a condition.
    const bool established = co_await handshake_ok(writer);
    if (!established) co_return;
  }
  try {
    Task<void> task = server->callback_(reader, writer);
    if (task.valid()) co_await task;
  } catch (...) {
    server->report_handler_exception(std::current_exception());
    writer.close();
  }
}

void ServerState::report_handler_exception(std::exception_ptr e) {
  if (options_.on_handler_exception) {
    options_.on_handler_exception(e);
    return;
  }
  std::fprintf(stderr, "Unhandled exception in client_connected_cb: %s\n", describe(e));
}

// ---- Connections and waiters. ------------------------------------------------------

void ServerState::connection_detached(StreamState& state) {
  clients_.erase(&state);
  maybe_release_closed();
}

bool ServerState::start_wait(ServerWaitOp& op, std::coroutine_handle<> h) {
  if (op.kind_ == ServerWaitOp::Kind::kWaitClosed) {
    if (closed_ && clients_.empty()) return false;
    op.handle_ = h;
    op.linked_ = true;
    closed_waiters_.push_back(&op);
    return true;
  }
  if (forever_waiter_ != nullptr) {
    op.result_ = std::make_error_code(std::errc::connection_already_in_progress);
    return false;
  }
  if (closed_) {
    op.result_ = std::make_error_code(std::errc::bad_file_descriptor);
    return false;
  }
  op.handle_ = h;
  op.linked_ = true;
  forever_waiter_ = &op;
  return true;
}

void ServerState::cancel_wait(ServerWaitOp& op) {
  op.linked_ = false;
  if (op.kind_ == ServerWaitOp::Kind::kServeForever) {
    if (forever_waiter_ == &op) forever_waiter_ = nullptr;
    close();  // asyncio: cancelling serve_forever closes the server
    return;
  }
  closed_waiters_.erase(std::remove(closed_waiters_.begin(), closed_waiters_.end(), &op),
                        closed_waiters_.end());
}

void ServerState::complete(ServerWaitOp& op, std::error_code result) {
  op.linked_ = false;
  op.result_ = result;
  loop_->post(op.handle_);
}

void ServerState::maybe_release_closed() {
  if (!closed_ || !clients_.empty()) return;
  std::vector<ServerWaitOp*> waiters = std::move(closed_waiters_);
  closed_waiters_.clear();
  for (ServerWaitOp* op : waiters) complete(*op, {});
}

}  // namespace sluice::libevent_backend_internal

namespace sluice::libevent_backend {

using libevent_backend_internal::Detached;
using libevent_backend_internal::LoopContext;
using libevent_backend_internal::ServerOwner;
using libevent_backend_internal::ServerState;
using libevent_backend_internal::Tracked;
using libevent_backend_internal::Yield;

// ---- ServerWaitOp. -------------------------------------------------------------------

ServerWaitOp::~ServerWaitOp() {
  if (linked_) server_->cancel_wait(*this);
}

bool ServerWaitOp::await_suspend(std::coroutine_handle<> h) {
  return server_->start_wait(*this, h);
}

void ServerWaitOp::await_resume() const {
  if (result_) {
    throw std::system_error(result_,
                            kind_ == Kind::kServeForever ? "serve_forever" : "wait_closed");
  }
}

// ---- Server. ---------------------------------------------------------------------------

namespace {

// check_server_options: kInvalidArgument for bad stream options (ssl must be
// a server context) or an empty callback; `why` says which.
std::error_code check_server_options(const ServerOptions& options,
                                     const ClientConnectedCallback& callback, const char** why) {
  if (std::error_code ec = libevent_backend_internal::check_stream_options(
          options.stream, libevent_backend_internal::TlsUse::kServer, {}, why)) {
    return ec;
  }
  if (!callback) {
    if (why) *why = "the client callback is empty";
    return make_error_code(StreamErrc::kInvalidArgument);
  }
  return {};
}

Detached wait_then(std::shared_ptr<ServerState> server, ServerWaitOp::Kind kind,
                   Server::WaitCallback cb) {
  Tracked<ServerWaitOp> op{ServerWaitOp(server, kind)};
  std::error_code ec;
  try {
    co_await op;
  } catch (const std::system_error& e) {
    ec = e.code();
  }
  if (!op.suspended) co_await Yield{&server->loop()};
  cb(ec);
}

}  // namespace

ServerState& Server::state() const { return *owner_->state; }
const std::shared_ptr<ServerState>& Server::shared_state() const { return owner_->state; }
event_base* Server::base() const { return state().loop().base(); }
void Server::close() { state().close(); }
bool Server::is_serving() const { return state().is_serving(); }
std::vector<Endpoint> Server::sockets() const { return state().sockets(); }
void Server::close_clients() { state().close_clients(); }
void Server::abort_clients() { state().abort_clients(); }
std::size_t Server::active_connections() const { return state().active_connections(); }

ServerWaitOp Server::wait_closed() {
  return ServerWaitOp(shared_state(), ServerWaitOp::Kind::kWaitClosed);
}
void Server::wait_closed(WaitCallback cb) {
  wait_then(shared_state(), ServerWaitOp::Kind::kWaitClosed, std::move(cb));
}
ServerWaitOp Server::serve_forever() {
  return ServerWaitOp(shared_state(), ServerWaitOp::Kind::kServeForever);
}
void Server::serve_forever(WaitCallback cb) {
  wait_then(shared_state(), ServerWaitOp::Kind::kServeForever, std::move(cb));
}

Server start_server(event_base* base, ClientConnectedCallback callback,
                    std::optional<std::string_view> host, std::uint16_t port,
                    const ServerOptions& options, std::error_code& ec) {
  ec = check_server_options(options, callback, nullptr);
  if (ec) return Server();
  auto state = std::make_shared<ServerState>(LoopContext::of(base), std::move(callback), options);
  ec = state->listen_tcp(host ? std::string(*host) : std::string(), port);
  if (ec) return Server();
  return Server(std::make_shared<ServerOwner>(std::move(state)));
}

Server start_server(event_base* base, ClientConnectedCallback callback,
                    std::optional<std::string_view> host, std::uint16_t port,
                    const ServerOptions& options) {
  const char* why = "";
  std::error_code ec = check_server_options(options, callback, &why);
  if (ec) throw std::system_error(ec, std::string("start_server: ") + why);
  Server s = start_server(base, std::move(callback), host, port, options, ec);
  if (ec) throw std::system_error(ec, "start_server");
  return s;
}

Server start_unix_server(event_base* base, ClientConnectedCallback callback, std::string_view path,
                         const ServerOptions& options, std::error_code& ec) {
  ec = check_server_options(options, callback, nullptr);
  if (ec) return Server();
  auto state = std::make_shared<ServerState>(LoopContext::of(base), std::move(callback), options);
  ec = state->listen_unix(std::string(path));
  if (ec) return Server();
  return Server(std::make_shared<ServerOwner>(std::move(state)));
}

Server start_unix_server(event_base* base, ClientConnectedCallback callback, std::string_view path,
                         const ServerOptions& options) {
  const char* why = "";
  std::error_code ec = check_server_options(options, callback, &why);
  if (ec) throw std::system_error(ec, std::string("start_unix_server: ") + why);
  Server s = start_unix_server(base, std::move(callback), path, options, ec);
  if (ec) throw std::system_error(ec, "start_unix_server");
  return s;
}

}  // namespace sluice::libevent_backend
