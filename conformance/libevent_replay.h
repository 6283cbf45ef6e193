// File: conformance/libevent_replay.h
//
// LibeventReplayBackend: the ReplayBackend (runner.h) that runs a conformance
// vector on the libevent backend (backends/libevent) over a real loopback TCP
// connection. The reader is a sluice::libevent_backend::StreamReader on one
// end, read through its callback forms; the peer, the rules a real
// connection imposes (skipped lines) and the settling after each line are
// LoopbackReplayBackend's (loopback_replay.h), shared with the Asio one, so
// both replay a vector alike.
//
// Quiescence on libevent: the backend runs user callbacks and its pumps from
// one "ready" step per loop turn (backends/libevent/internal/loop_context.h);
// the loop is quiescent when its LoopContext is idle() (nothing posted, no
// pump scheduled) and no event is active. "The reader does not read" is the
// driver's own answer, is_reading() (EV_READ not watched), which is up to
// date once the loop is quiescent.
//
// Example:
//   event_base* base = event_base_new();      // one for many vectors
//   {
//     LibeventReplayBackend backend(base);
//     std::vector<std::string> lines = run_vector(vector, backend);
//     if (backend.error()) std::cerr << *backend.error() << "\n";  // "libevent: ..."
//   }
//   event_base_free(base);                    // after every backend is gone
//
// Threading: runs `base`'s loop on the calling thread; nothing else may run
// it meanwhile. Linux only (SIOCINQ, TCP_INFO).

#ifndef SLUICE_CONFORMANCE_LIBEVENT_REPLAY_H_
#define SLUICE_CONFORMANCE_LIBEVENT_REPLAY_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <system_error>

#include "backends/libevent/internal/loop_context.h"
#include "backends/libevent/internal/stream_state.h"
#include "backends/libevent/stream_reader.h"
#include "backends/libevent/stream_writer.h"
#include "conformance/loopback_replay.h"
#include "conformance/vector.h"

struct event;
struct event_base;

namespace sluice::conformance {

class LibeventReplayBackend final : public LoopbackReplayBackend {
 public:
  explicit LibeventReplayBackend(event_base* base,
                                 std::chrono::milliseconds settle_timeout = kDefaultSettleTimeout);
  // Aborts the connection and runs the loop until nothing of it is left (the
  // loop may then go on with another backend, or be freed).
  ~LibeventReplayBackend() override;

  bool at_eof() override { return reader_.at_eof(); }

 private:
  std::error_code wrap(int fd, std::size_t limit) override;
  void begin_read(std::size_t i, const Op& op) override;
  ReaderView reader_view() override;
  bool run_ready() override;
  void run_briefly() override;

  event_base* base_;
  std::shared_ptr<libevent_backend_internal::LoopContext> loop_;
  event* tick_ = nullptr;  // run_briefly's 1 ms timer
  libevent_backend::StreamReader reader_;
  libevent_backend::StreamWriter writer_;
  // The connection, to know when its last part (a pump, a callback) is gone.
  std::weak_ptr<libevent_backend_internal::StreamState> state_;
};

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_LIBEVENT_REPLAY_H_
