#include "conformance/libevent_replay.h"

#include <event2/event.h>
#include <unistd.h>

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/libevent/stream.h"
#include "core/stream_reader.h"

namespace sluice::conformance {

namespace sle = libevent_backend;

LibeventReplayBackend::LibeventReplayBackend(event_base* base,
                                             std::chrono::milliseconds settle_timeout)
    : LoopbackReplayBackend("libevent", settle_timeout),
      base_(base),
      loop_(libevent_backend_internal::LoopContext::of(base)),
      tick_(evtimer_new(
          base, [](evutil_socket_t, short, void*) {}, nullptr)) {}

LibeventReplayBackend::~LibeventReplayBackend() {
  if (writer_) writer_.abort();  // completes a pending read (ignored: nobody reads the sink)
  reader_ = {};
  writer_ = {};
  // The abort, the failed read's callback and the connection's end each run
  // in a loop turn; none waits on the network.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((!state_.expired() || !loop_->idle()) && std::chrono::steady_clock::now() < deadline) {
    if (!run_ready()) run_briefly();
  }
  if (tick_ != nullptr) event_free(tick_);
}

std::error_code LibeventReplayBackend::wrap(int fd, std::size_t limit) {
  if (tick_ == nullptr) {
    ::close(fd);
    return std::make_error_code(std::errc::not_enough_memory);
  }
  sle::StreamOptions options;
  options.limit = limit;
  std::error_code ec;
  sle::Stream stream = sle::make_stream(base_, fd, options, ec);
  if (ec) {
    ::close(fd);  // make_stream leaves it to us on failure
    return ec;
  }
  reader_ = std::move(stream.reader);
  writer_ = std::move(stream.writer);
  state_ = sle::HandleAccess::state(reader_).shared_from_this();
  return {};
}

void LibeventReplayBackend::begin_read(std::size_t i, const Op& op) {
  auto handler = [sink = sink(), i](ReadResult result) {
    sink->completed.push_back(Completion{i, std::move(result)});
  };
  switch (op.kind) {
    case OpKind::kRead:
      reader_.read(op.n, std::move(handler));
      break;
    case OpKind::kReadline:
      reader_.readline(std::move(handler));
      break;
    case OpKind::kReadexactly:
      reader_.readexactly(op.n, std::move(handler));
      break;
    default:  // kReaduntil; the callback forms copy the separators
      if (op.separator_list) {
        const std::vector<std::string_view> separators(op.separators.begin(),
                                                       op.separators.end());
        reader_.readuntil(std::span<const std::string_view>(separators), std::move(handler));
      } else {
        reader_.readuntil(
            op.separators.empty() ? std::string_view() : std::string_view(op.separators[0]),
            std::move(handler));
      }
      break;
  }
}

LoopbackReplayBackend::ReaderView LibeventReplayBackend::reader_view() {
  return ReaderView{
      .fd = writer_.native_handle(),
      .bytes_received = reader_.core().bytes_fed(),
      .reading = reader_.is_reading(),
      .eof_received = reader_.core().eof_received(),
  };
}

bool LibeventReplayBackend::run_ready() {
  event_base_loop(base_, EVLOOP_NONBLOCK);
  return !loop_->idle() || event_base_get_num_events(base_, EVENT_BASE_COUNT_ACTIVE) > 0;
}

void LibeventReplayBackend::run_briefly() {
  if (tick_ == nullptr) return;  // wrap() failed: nothing runs here
  const timeval one_ms = {0, 1000};
  evtimer_add(tick_, &one_ms);
  event_base_loop(base_, EVLOOP_ONCE);
  evtimer_del(tick_);
}

}  // namespace sluice::conformance
