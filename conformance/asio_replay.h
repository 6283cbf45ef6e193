// File: conformance/asio_replay.h
//
// AsioReplayBackend: the ReplayBackend (runner.h) that runs a conformance
// vector on the Asio backend (backends/asio) over a real loopback TCP
// connection. The reader is a sluice::asio_backend::StreamReader on one end;
// the peer, the rules a real connection imposes (skipped lines) and the
// settling after each line are LoopbackReplayBackend's
// (loopback_replay.h), shared with every network backend.
//
// Example:
//   asio::io_context io;                      // one for many vectors
//   AsioReplayBackend backend(io);
//   std::vector<std::string> lines = run_vector(vector, backend);
//   if (backend.error()) std::cerr << *backend.error() << "\n";   // "asio: ..."
//
// Threading: runs `io` on the calling thread; nothing else may run it
// meanwhile. Linux only (SIOCINQ, TCP_INFO).

#ifndef SLUICE_CONFORMANCE_ASIO_REPLAY_H_
#define SLUICE_CONFORMANCE_ASIO_REPLAY_H_

#include <chrono>
#include <cstddef>
#include <system_error>

#include <asio/io_context.hpp>

#include "backends/asio/stream_reader.h"
#include "backends/asio/stream_writer.h"
#include "conformance/loopback_replay.h"
#include "conformance/vector.h"

namespace sluice::conformance {

class AsioReplayBackend final : public LoopbackReplayBackend {
 public:
  explicit AsioReplayBackend(asio::io_context& io,
                             std::chrono::milliseconds settle_timeout = kDefaultSettleTimeout);
  // Aborts the connection and runs `io` until nothing of it is left.
  ~AsioReplayBackend() override;

  bool at_eof() override { return reader_.at_eof(); }

 private:
  std::error_code wrap(int fd, std::size_t limit) override;
  void begin_read(std::size_t i, const Op& op) override;
  ReaderView reader_view() override;
  bool run_ready() override;
  void run_briefly() override;

  asio::io_context& io_;
  asio_backend::StreamReader reader_;
  asio_backend::StreamWriter writer_;
};

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_ASIO_REPLAY_H_
