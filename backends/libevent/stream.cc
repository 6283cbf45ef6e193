#include "backends/libevent/stream.h"

#include <string>
#include <utility>
#include <vector>

#include "backends/libevent/internal/detached.h"
#include "backends/libevent/internal/loop_context.h"

namespace sluice::libevent_backend {

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
  std::error_code ec;
  Stream s = make_stream(base, fd, options, ec);
  if (ec) throw std::system_error(ec, "make_stream");
  return s;
}

}  // namespace sluice::libevent_backend
