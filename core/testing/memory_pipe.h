// File: core/testing/memory_pipe.h
//
// MemoryPipe: a test driver that wires two Connections to each other, with no
// sockets, following the driver contract of core/connection.h and nothing
// else. It is the proof that the seam is enough, and the loop every pipe test
// (plain and coroutine) runs on. Test-only.
//
// The model of a stream socket pair, per direction:
//   - bytes in flight live in a bounded buffer (`capacity`, the two kernel
//     socket buffers together); a send stops when it is full, so a reader
//     that stops reading pushes back on the peer's writer;
//   - a send takes at most `max_views` views (a gather write); a receive
//     hands at most `max_read` bytes to the reader through
//     prepare_receive/commit_received (the zero-copy path);
//   - write_eof -> FIN after the bytes already in flight; close -> FIN, and
//     this end stops receiving; a later send from the peer into a closed end
//     fails with connection_reset (the RST a real stack would answer with);
//     abort -> RST: bytes in flight are dropped and the peer is lost with
//     connection_reset; reset() resets both ends at once (a dropped link).
//   - a test can play a third party on the wire: inject() delivers raw bytes
//     to an end as if its peer had sent them, inject_fin() a FIN (e.g. a TLS
//     peer that closes TCP without close_notify), and set_tap() sees every
//     byte an end sends.
//
// Completions: each end hands what its Connection returned to its sink
// (set_sink, e.g. AsyncConnection::dispatch), or, with no sink, records it in
// its CompletionLog for the test to inspect.
//
// Example:
//   Connection client, server;
//   MemoryPipe pipe(client, server);
//   (void)client.writer().write("ping\n");
//   pipe.run();                                   // pump until quiet
//   EXPECT_EQ(**server.reader().readline(), "ping\n");

#ifndef SLUICE_CORE_TESTING_MEMORY_PIPE_H_
#define SLUICE_CORE_TESTING_MEMORY_PIPE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connection.h"

namespace sluice::testing {

struct MemoryPipeOptions {
  // Bytes in flight per direction (socket send + receive buffers).
  std::size_t capacity = 64 * 1024;
  // Bytes handed to a reader per receive (the recv() size).
  std::size_t max_read = 64 * 1024;
  // Views per send (IOV_MAX-like).
  std::size_t max_views = 16;
};

// CompletionLog: the completions one end received, in order.
struct CompletionLog {
  std::deque<ReadResult> reads;
  std::deque<Status> drains;
  std::deque<Status> closeds;
  std::deque<Status> handshakes;

  void add(Completions c);
  // take_read: the oldest completed read, if any.
  std::optional<ReadResult> take_read();
  std::optional<Status> take_drain();
  std::optional<Status> take_closed();
  std::optional<Status> take_handshake();
};

class MemoryPipe {
 public:
  using Sink = std::function<void(Completions)>;
  // The two ends: 0 is `a`, 1 is `b`.
  static constexpr int kA = 0;
  static constexpr int kB = 1;

  // Both connections must outlive the pipe.
  MemoryPipe(Connection& a, Connection& b, MemoryPipeOptions options = {});

  // set_sink: where end `side`'s completions go (replaces its log).
  void set_sink(int side, Sink sink);
  CompletionLog& log(int side) { return ends_[side].log; }

  // pump: one round of driving both ends (send what can be sent, deliver
  // what can be received, shut down / close / abort as asked). Returns true
  // if anything happened.
  bool pump();
  // run: pump until nothing happens (at most max_rounds rounds). Returns the
  // number of rounds that did something.
  std::size_t run(std::size_t max_rounds = 1'000'000);

  // reset: the link fails; both ends (if not lost yet) are lost with
  // connection_reset and everything in flight is dropped.
  void reset();

  // inject: `bytes` arrive at end `to_side` after what is in flight to it,
  // as if its peer had sent them (the peer's Connection knows nothing).
  void inject(int to_side, std::string_view bytes);
  // inject_fin: a FIN arrives at end `to_side` after what is in flight.
  void inject_fin(int to_side);
  // set_tap: `tap` sees every byte end `from_side` sends, in order.
  void set_tap(int from_side, std::function<void(std::string_view)> tap);

  // Introspection.
  std::size_t in_flight(int to_side) const {
    return ends_[to_side].inbound.size() - ends_[to_side].head;
  }
  std::size_t max_in_flight() const { return max_in_flight_; }
  std::uint64_t sends(int side) const { return ends_[side].sends; }
  std::uint64_t receives(int side) const { return ends_[side].receives; }

 private:
  struct End {
    Connection* conn = nullptr;
    Sink sink;
    CompletionLog log;
    // Bytes in flight toward this end: inbound[head..].
    std::string inbound;
    std::size_t head = 0;
    bool fin_inbound = false;  // the peer sent FIN (after inbound's bytes)
    bool eof_delivered = false;
    bool socket_closed = false;  // this end closed or aborted its socket
    bool reset_inbound = false;  // the peer sent RST
    bool lost = false;           // connection_lost() was reported
    std::uint64_t sends = 0;
    std::uint64_t receives = 0;
    std::function<void(std::string_view)> tap;  // sees what this end sends
  };

  bool pump_end(End& e, End& peer);
  void deliver(End& e, Completions c);
  void lose(End& e, std::error_code error);

  MemoryPipeOptions options_;
  End ends_[2];
  std::size_t max_in_flight_ = 0;
};

}  // namespace sluice::testing

#endif  // SLUICE_CORE_TESTING_MEMORY_PIPE_H_
