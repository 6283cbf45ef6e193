// File: conformance/runner.h
//
// ReplayBackend and run_vector: replaying a conformance vector against one
// implementation of the stream reader, and the result lines it prints
// (shared/conformance-vectors.md, "Output"). The runner and the output format
// live here, once; each implementation (the core, and the asio and libevent
// backends through loopback_replay.h) is a ReplayBackend that only turns
// operations into calls.
//
// How a vector runs: open(limit) first (a failure is the answer for line 0,
// and nothing else runs); then line by line: feed / feed_eof / set_exception
// pass their input on, a read op starts a read tagged with its line i, at_eof
// is answered at once. A backend reports every read that completes, during
// the call that completed it, as a Completion in the `done` list the runner
// passes in; the runner prints them in that order. Reads still unanswered
// after the last line print {"i":i,"pending":true}, in line order. A
// completion for a line that is not a waiting read (a backend bug) prints
// {"i":i,"error":"backend_bug_unexpected_completion"}, so comparisons catch it.
//
// Example:
//   Parsed<Vector> v = parse_vector(text);
//   CoreReplayBackend core;                       // core_replay.h
//   for (const std::string& line : run_vector(*v, core)) std::cout << line << "\n";
//
// Output: one compact JSON object per result, members in the format's order:
//   {"i":3,"hex":"6869"}      {"i":4,"bool":true}      {"i":5,"pending":true}
//   {"i":6,"error":"incomplete_read","partial":"6869","expected":4}  (or null)
//   {"i":7,"error":"limit_overrun","consumed":12}   (readuntil)
//   {"i":7,"error":"limit_overrun"}                 (readline)
//   {"i":8,"error":"invalid_argument"}  and connection_error, concurrent_read.

#ifndef SLUICE_CONFORMANCE_RUNNER_H_
#define SLUICE_CONFORMANCE_RUNNER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/vector.h"
#include "core/result.h"
#include "core/stream_error.h"

namespace sluice::conformance {

// A read that finished: the line i that started it and its outcome (bytes
// or a StreamError).
struct Completion {
  std::size_t i = 0;
  Result<std::string> result;
};

// ReplayBackend: one implementation under test. The runner calls open()
// once, then the other methods in vector order, never concurrently. A
// backend is used for one vector.
class ReplayBackend {
 public:
  virtual ~ReplayBackend() = default;

  // open: make the reader with this limit. An error (kInvalidArgument for a
  // limit <= 0) ends the vector; it is printed as the answer for line 0.
  virtual Status open(std::int64_t limit) = 0;

  // Each of these appends to `done` every read it completed, in the order
  // they completed (the pending read, for the core; a network backend may
  // complete one pending read and then a read started in its callback).
  virtual void feed(std::string_view bytes, std::vector<Completion>& done) = 0;
  virtual void feed_eof(std::vector<Completion>& done) = 0;
  virtual void set_exception(std::vector<Completion>& done) = 0;

  // start_read: start the read `op` (is_read(op.kind)) as line `i`. A read
  // that completes at once (or fails at once, e.g. kConcurrentRead) is
  // appended to `done`; otherwise it is pending until a later call
  // completes it.
  virtual void start_read(std::size_t i, const Op& op, std::vector<Completion>& done) = 0;

  // at_eof: the reader's at_eof() now.
  virtual bool at_eof() = 0;
};

// run_vector: replays `vector` on `backend` (fresh: open() not yet called)
// and returns the result lines, without line ends.
std::vector<std::string> run_vector(const Vector& vector, ReplayBackend& backend);

// format_result: the output line for the read of kind `kind` (it decides
// whether limit_overrun carries "consumed") that line `i` started.
std::string format_result(std::size_t i, OpKind kind, const Result<std::string>& result);

// format_error_result: the output line for a StreamError answering line i
// (used for open() failures and by format_result).
std::string format_error_result(std::size_t i, OpKind kind, const StreamError& error);

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_RUNNER_H_
