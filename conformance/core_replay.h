// File: conformance/core_replay.h
//
// CoreReplayBackend: the ReplayBackend (runner.h) that runs a conformance
// vector directly on sluice::StreamReader, the sans-IO core. Every operation
// is one call on the reader; a read that returns an empty ReadPoll is the
// pending read, and the feed_data / feed_eof / set_exception call that
// returns its ReadResult completes it. set_exception uses
// std::make_error_code(std::errc::connection_reset) (asyncio's
// ConnectionResetError()).
//
// Example:
//   Parsed<Vector> v = parse_vector(text);
//   std::vector<std::string> lines = replay_on_core(*v);

#ifndef SLUICE_CONFORMANCE_CORE_REPLAY_H_
#define SLUICE_CONFORMANCE_CORE_REPLAY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/runner.h"
#include "conformance/vector.h"
#include "core/stream_reader.h"

namespace sluice::conformance {

class CoreReplayBackend final : public ReplayBackend {
 public:
  Status open(std::int64_t limit) override;
  void feed(std::string_view bytes, std::vector<Completion>& done) override;
  void feed_eof(std::vector<Completion>& done) override;
  void set_exception(std::vector<Completion>& done) override;
  void start_read(std::size_t i, const Op& op, std::vector<Completion>& done) override;
  bool at_eof() override;

  // The reader (after a successful open()), for tests.
  const StreamReader* reader() const { return reader_ ? &*reader_ : nullptr; }

 private:
  // Hands a completion of the pending read to `done`.
  void deliver(ReadPoll poll, std::vector<Completion>& done);

  std::optional<StreamReader> reader_;
  // The line whose read is pending on the reader.
  std::optional<std::size_t> pending_;
};

// replay_on_core: run_vector(vector, a fresh CoreReplayBackend).
std::vector<std::string> replay_on_core(const Vector& vector);

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_CORE_REPLAY_H_
