#include "backends/libevent/stream.h"

#include <string>
#include <utility>
#include <vector>

#include "backends/libevent/internal/detached.h"
#include "backends/libevent/internal/loop_context.h"
#include "core/coro/stream_exceptions.h"
#include "core/tls/tls_session.h"

namespace sluice::libevent_backend {

using libevent_backend_internal::check_start_tls;
using libevent_backend_internal::check_stream_options;
using libevent_backend_internal::Detached;
using libevent_backend_internal::LoopContext;
using libevent_backend_internal::StreamOwner;
using libevent_backend_internal::StreamState;
using libevent_backend_internal::Tracked;
using libevent_backend_internal::Yield;

namespace {

// A read described by value: the callback forms' coroutine frame owns it
// (separators included).
struct OwnedRead {
  enum class Kind { kRead, kReadLine, kReadExactly, kReadUntil };
  Kind kind = Kind::kRead;
  std::int64_t n = -1;
  std::vector<std::string> separators;
  std::vector<std::string_view> views;  // into `separators`, set in the frame
};

ReadResultOp start(AsyncReader& r, const OwnedRead& q) {
  switch (q.kind) {
    case OwnedRead::Kind::kRead:
      return r.read(q.n).as_result();
    case OwnedRead::Kind::kReadLine:
      return r.readline().as_result();
    case OwnedRead::Kind::kReadExactly:
      return r.readexactly(q.n).as_result();
    case OwnedRead::Kind::kReadUntil:
      break;
  }
  return r.readuntil(std::span<const std::string_view>(q.views)).as_result();
}

// The callback forms: start the operation now (inside the caller's call, so
// operations stay in issue order), deliver in a later loop turn.
Detached read_then(StreamReader keep, StreamState* state, OwnedRead q,
                   StreamReader::ReadCallback cb) {
  q.views.assign(q.separators.begin(), q.separators.end());
  Tracked<ReadResultOp> op{start(state->async().reader(), q)};
  ReadResult result = co_await op;
  if (!op.suspended) co_await Yield{&state->loop()};
  cb(std::move(result));
}

Detached status_then(StreamWriter keep, StreamState* state, bool drain,
                     StreamWriter::StatusCallback cb) {
  Tracked<StatusResultOp> op{StatusResultOp(
      state->async(), drain ? StatusOpBase::Kind::kDrain : StatusOpBase::Kind::kWaitClosed)};
  Status status = co_await op;
  if (!op.suspended) co_await Yield{&state->loop()};
  cb(std::move(status));
}

// start_tls_status: StreamWriter::start_tls, as a Status. `keep` holds the
// connection while it runs.
Task<Status> start_tls_status(StreamWriter keep, StreamState* state, TlsContext context,
                              StartTlsOptions options) {
  const char* why = "";
  if (check_start_tls(context, options, &why)) co_return StreamError::invalid_argument(why);
  // asyncio's StreamWriter.start_tls: `await self.drain()` first.
  Status drained = co_await state->async().writer().drain().as_result();
  if (!drained.ok()) co_return drained;
  const TlsRole role = context.role();
  TlsOptions tls{
      .context = std::move(context),
      .role = role,
      .server_hostname = role == TlsRole::kClient
                             ? options.server_hostname.value_or(
                                   std::string(state->default_server_hostname()))
                             : std::string(),
  };
  Status started = state->start_tls(
      std::move(tls), options.buffered,
      options.ssl_handshake_timeout.value_or(kDefaultTlsHandshakeTimeout),
      options.ssl_shutdown_timeout.value_or(kDefaultTlsShutdownTimeout));
  if (!started.ok()) co_return started;
  co_return co_await state->async().handshake().as_result();
}

Task<void> start_tls_task(Task<Status> status) {
  Status s = co_await status;
  if (!s.ok()) throw_stream_error(std::move(s).error());
}

Detached start_tls_then(StreamWriter keep, StreamState* state, Task<Status> task,
                        StreamWriter::StatusCallback cb) {
  auto awaiter = task.operator co_await();
  Tracked<decltype(awaiter)> op{awaiter};
  Status status = co_await op;
  if (!op.suspended) co_await Yield{&state->loop()};
  cb(std::move(status));
}

// non_empty: the TLS accessors' "" is get_extra_info's nullopt.
std::optional<std::string> non_empty(std::string value) {
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace

// ---- StreamReader callbacks. ------------------------------------------------------

void StreamReader::read(std::int64_t n, ReadCallback cb) {
  read_then(*this, &state(), OwnedRead{OwnedRead::Kind::kRead, n, {}, {}}, std::move(cb));
}

void StreamReader::readline(ReadCallback cb) {
  read_then(*this, &state(), OwnedRead{OwnedRead::Kind::kReadLine, -1, {}, {}}, std::move(cb));
}

void StreamReader::readexactly(std::int64_t n, ReadCallback cb) {
  read_then(*this, &state(), OwnedRead{OwnedRead::Kind::kReadExactly, n, {}, {}}, std::move(cb));
}

void StreamReader::readuntil(std::string_view separator, ReadCallback cb) {
  read_then(*this, &state(),
            OwnedRead{OwnedRead::Kind::kReadUntil, -1, {std::string(separator)}, {}},
            std::move(cb));
}

void StreamReader::readuntil(std::span<const std::string_view> separators, ReadCallback cb) {
  read_then(*this, &state(),
            OwnedRead{OwnedRead::Kind::kReadUntil,
                      -1,
                      std::vector<std::string>(separators.begin(), separators.end()),
                      {}},
            std::move(cb));
}

// ---- StreamWriter. --------------------------------------------------------------

void StreamWriter::drain(StatusCallback cb) { status_then(*this, &state(), true, std::move(cb)); }

void StreamWriter::wait_closed(StatusCallback cb) {
  status_then(*this, &state(), false, std::move(cb));
}

Task<void> StreamWriter::start_tls(TlsContext context, StartTlsOptions options) {
  return start_tls_task(start_tls_status(*this, &state(), std::move(context), std::move(options)));
}

void StreamWriter::start_tls(TlsContext context, StartTlsOptions options, StatusCallback cb) {
  start_tls_then(*this, &state(),
                 start_tls_status(*this, &state(), std::move(context), std::move(options)),
                 std::move(cb));
}

std::optional<std::string> StreamWriter::get_extra_info(std::string_view name) const {
  if (name == "peername") {
    if (std::optional<Endpoint> p = state().peername()) return to_string(*p);
    return std::nullopt;
  }
  if (name == "sockname") {
    if (std::optional<Endpoint> s = state().sockname()) return to_string(*s);
    return std::nullopt;
  }
  if (name == "socket") {
    const int fd = state().fd();
    if (fd < 0) return std::nullopt;
    return std::to_string(fd);
  }
  // The TLS names: only once the handshake succeeded (before it, or after
  // it failed, the session's answers are not the peer's).
  const TlsSession* tls = ssl_object();
  const StatusPoll handshake = state().connection().handshake();
  if (tls == nullptr || !handshake || !handshake->ok()) return std::nullopt;
  if (name == "peercert") return non_empty(tls->peer_certificate_subject());
  if (name == "peercert_der") return non_empty(tls->peer_certificate_der());
  if (name == "cipher") return non_empty(std::string(tls->cipher()));
  if (name == "tls_version") return non_empty(std::string(tls->protocol_version()));
  if (name == "alpn_protocol") return non_empty(std::string(tls->alpn_protocol()));
  if (name == "server_hostname") return non_empty(std::string(tls->server_name()));
  return std::nullopt;
}

// ---- Stream. ------------------------------------------------------------------------

Stream HandleAccess::make(std::shared_ptr<StreamState> state) {
  if (!state) return Stream{};
  auto owner = std::make_shared<StreamOwner>(std::move(state));
  return Stream{StreamReader(owner), StreamWriter(owner)};
}

Stream make_stream(event_base* base, int fd, const StreamOptions& options, std::error_code& ec) {
  return HandleAccess::make(StreamState::create(LoopContext::of(base), fd, options, ec));
}

Stream make_stream(event_base* base, int fd, const StreamOptions& options) {
  const char* why = nullptr;
  std::error_code ec = check_stream_options(options, libevent_backend_internal::TlsUse::kEither,
                                            {}, &why);
  if (ec) throw std::system_error(ec, std::string("make_stream: ") + why);
  Stream s = make_stream(base, fd, options, ec);
  if (ec) throw std::system_error(ec, "make_stream");
  return s;
}

}  // namespace sluice::libevent_backend
