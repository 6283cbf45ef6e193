// File: conformance/asio_replay.h
//
// AsioReplayBackend: the ReplayBackend (runner.h) that runs a conformance
// vector on the Asio backend (backends/asio) over a real loopback TCP
// connection, as shared/conformance-vectors.md ("Running it over a network
// backend") says. The reader is a sluice::asio_backend::StreamReader on one
// end; the other end, the peer, is a plain socket this class controls:
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
// Settling: after each line (and so after each read it starts) the
// io_context runs until the connection has settled, so the results do not
// depend on timing: everything the peer sent (bytes, FIN, RST) has reached
// the reader's socket, and either the reader has taken all of it (bytes
// read, EOF or reset seen) or the reader does not read (paused by flow
// control, or past the EOF), and no handler is ready. Then what the reader
// did not take stays in the socket until a read drains the buffer and
// resumes reading. A connection that does not settle within the timeout is a
// failure of the backend: error() says so, and the vector's results are not
// to be trusted.
//
// Example:
//   asio::io_context io;                      // one for many vectors
//   AsioReplayBackend backend(io);
//   std::vector<std::string> lines = run_vector(vector, backend);
//   if (backend.error()) std::cerr << *backend.error() << "\n";
//
// Threading: runs `io` on the calling thread; nothing else may run it
// meanwhile. Linux only (SIOCINQ, TCP_INFO).

#ifndef SLUICE_CONFORMANCE_ASIO_REPLAY_H_
#define SLUICE_CONFORMANCE_ASIO_REPLAY_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "backends/asio/stream_reader.h"
#include "backends/asio/stream_writer.h"
#include "conformance/runner.h"
#include "conformance/vector.h"

namespace sluice::conformance {

class AsioReplayBackend final : public ReplayBackend {
 public:
  // The longest a line may take to settle before error() is set.
  static constexpr std::chrono::milliseconds kDefaultSettleTimeout{5000};

  explicit AsioReplayBackend(asio::io_context& io,
                             std::chrono::milliseconds settle_timeout = kDefaultSettleTimeout);
  // Aborts the connection and runs `io` until nothing of it is left.
  ~AsioReplayBackend() override;

  AsioReplayBackend(const AsioReplayBackend&) = delete;
  AsioReplayBackend& operator=(const AsioReplayBackend&) = delete;

  Status open(std::int64_t limit) override;
  void feed(std::string_view bytes, std::vector<Completion>& done) override;
  void feed_eof(std::vector<Completion>& done) override;
  void set_exception(std::vector<Completion>& done) override;
  void start_read(std::size_t i, const Op& op, std::vector<Completion>& done) override;
  bool at_eof() override;

  // error: the first failure of the backend or of the connection (a socket
  // that could not be set up, a line that did not settle), nullopt if none.
  const std::optional<std::string>& error() const { return error_; }

 private:
  // Where the read handlers put their results; shared with them, so a
  // handler that outlives this object is harmless.
  struct Sink {
    std::vector<Completion> completed;
  };

  void fail(std::string message);
  // Sends what the peer still has to send, as far as its socket takes it.
  void flush_peer();
  // Runs the io_context until settled() and quiescent (or the timeout), then
  // moves the completed reads to `done`.
  void settle(std::vector<Completion>& done);
  bool settled();

  asio::io_context& io_;
  std::chrono::milliseconds settle_timeout_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket peer_;
  asio_backend::StreamReader reader_;
  asio_backend::StreamWriter writer_;
  std::shared_ptr<Sink> sink_ = std::make_shared<Sink>();

  std::string outbox_;       // fed, not yet taken by the peer's socket
  std::uint64_t sent_ = 0;   // bytes fed (sent or in outbox_)
  bool eof_sent_ = false;    // the peer shut down its write side
  bool reset_sent_ = false;  // the peer reset the connection
  std::optional<std::string> error_;
};

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_ASIO_REPLAY_H_
