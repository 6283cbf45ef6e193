// File: conformance/loopback_replay.h
//
// LoopbackReplayBackend: what every network backend's ReplayBackend
// (runner.h) shares: a conformance vector replayed over a real loopback TCP
// connection, as shared/conformance-vectors.md ("Running it over a network
// backend") says. The reader is the backend's StreamReader on one end; the
// other end, the peer, is a plain non-blocking socket this class controls:
//
//   feed           the peer sends the bytes;
//   feed_eof       the peer shuts down its write side (FIN);
//   set_exception  the peer resets the connection (SO_LINGER 0, then close:
//                  RST).
//
// What a real connection cannot do (conformance/generate_vectors.py emulates
// both rules when it decides which vectors are chunk_sensitive):
//   - After set_exception the connection is gone: later feed, feed_eof and
//     set_exception lines are skipped.
//   - A set_exception after feed_eof is sent, but never reaches the reader:
//     once the reader has the EOF it stops reading from the socket, as
//     asyncio's transports do, and Linux reports a FIN before a reset that
//     follows it anyway.
//
// Settling: after each line (and so after each read it starts) the event
// loop runs until the connection has settled, so the results do not depend
// on timing: everything the peer sent (bytes, FIN, RST) has reached the
// reader's socket, and either the reader has taken all of it (bytes read, EOF
// or reset seen) or the reader does not read (paused by flow control, or past
// the EOF), and no handler is ready. Then what the reader did not take stays
// in the socket until a read drains the buffer and resumes reading. A
// connection that does not settle within the timeout is a failure of the
// backend: error() says so, and the vector's results are not to be trusted.
//
// These rules live here once; a backend (asio_replay.h, libevent_replay.h)
// only wraps the reader's socket in its stream, starts reads, says what its
// reader is doing, and runs its loop:
//
//   class MyReplayBackend final : public LoopbackReplayBackend {
//     std::error_code wrap(int fd, std::size_t limit) override;  // make the stream
//     void begin_read(std::size_t i, const Op& op) override;     // completions: complete()
//     ReaderView reader_view() override;
//     bool run_ready() override;   // run what is ready, without waiting
//     void run_briefly() override; // wait up to ~1 ms for something, run it
//   };
//
// Threading: one thread; the backend runs its loop on it. Linux only
// (SIOCINQ, TCP_INFO).

#ifndef SLUICE_CONFORMANCE_LOOPBACK_REPLAY_H_
#define SLUICE_CONFORMANCE_LOOPBACK_REPLAY_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "conformance/runner.h"
#include "conformance/vector.h"
#include "core/result.h"

namespace sluice::conformance {

class LoopbackReplayBackend : public ReplayBackend {
 public:
  // The longest a line may take to settle before error() is set.
  static constexpr std::chrono::milliseconds kDefaultSettleTimeout{5000};

  // Closes the peer's socket. A backend's destructor first releases its
  // stream (aborting it) and runs its loop until nothing of it is left.
  ~LoopbackReplayBackend() override;

  LoopbackReplayBackend(const LoopbackReplayBackend&) = delete;
  LoopbackReplayBackend& operator=(const LoopbackReplayBackend&) = delete;

  Status open(std::int64_t limit) final;
  void feed(std::string_view bytes, std::vector<Completion>& done) final;
  void feed_eof(std::vector<Completion>& done) final;
  void set_exception(std::vector<Completion>& done) final;
  void start_read(std::size_t i, const Op& op, std::vector<Completion>& done) final;

  // error: the first failure of the backend or of the connection (a socket
  // that could not be set up, a line that did not settle), as "NAME:
  // message", nullopt if none.
  const std::optional<std::string>& error() const { return error_; }

 protected:
  // What the reader is doing now, as the backend sees it.
  struct ReaderView {
    int fd = -1;                      // its socket; -1 once the connection is lost
    std::uint64_t bytes_received = 0; // read from the socket so far (core bytes_fed())
    bool reading = false;             // the backend reads from the socket now
    bool eof_received = false;        // the peer's EOF was read from the socket
  };

  // Where the read handlers put their results; shared with them, so a
  // handler that outlives the backend is harmless.
  struct Sink {
    std::vector<Completion> completed;
  };

  // name: the prefix of error() ("asio", "libevent").
  LoopbackReplayBackend(std::string name, std::chrono::milliseconds settle_timeout);

  // wrap: make the backend's stream over `fd`, the reader's end of the
  // connection (connected, blocking), with the reader's `limit` (> 0). It
  // takes `fd` either way (closes it on failure).
  virtual std::error_code wrap(int fd, std::size_t limit) = 0;
  // begin_read: start `op` (a read op) as line `i`; its handler appends the
  // Completion to sink()->completed, whenever it completes.
  virtual void begin_read(std::size_t i, const Op& op) = 0;
  virtual ReaderView reader_view() = 0;
  // run_ready: run the handlers that are ready now without waiting; true if
  // any ran (so more may be ready: the loop is not known to be quiescent).
  virtual bool run_ready() = 0;
  // run_briefly: wait up to about a millisecond for the loop to have
  // something to do, and do it.
  virtual void run_briefly() = 0;

  const std::shared_ptr<Sink>& sink() const { return sink_; }
  void fail(std::string message);

 private:
  // Sends what the peer still has to send, as far as its socket takes it,
  // then the FIN if feed_eof asked for one.
  void flush_peer();
  // Runs the loop until settled() and quiescent (or the timeout), then moves
  // the completed reads to `done`.
  void settle(std::vector<Completion>& done);
  bool settled();
  void close_peer();

  std::string name_;
  std::chrono::milliseconds settle_timeout_;
  std::shared_ptr<Sink> sink_ = std::make_shared<Sink>();
  int peer_ = -1;            // the peer's socket (non-blocking, TCP_NODELAY)
  std::string outbox_;       // fed, not yet taken by the peer's socket
  std::uint64_t sent_ = 0;   // bytes fed (sent or in outbox_)
  bool eof_sent_ = false;    // the peer shut down its write side
  bool reset_sent_ = false;  // the peer reset the connection
  std::optional<std::string> error_;
};

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_LOOPBACK_REPLAY_H_
