#include "conformance/asio_replay.h"

#include <unistd.h>

#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>

#include <asio/ip/tcp.hpp>

#include "backends/asio/stream.h"
#include "core/stream_error.h"

namespace sluice::conformance {

AsioReplayBackend::AsioReplayBackend(asio::io_context& io, std::chrono::milliseconds settle_timeout)
    : LoopbackReplayBackend("asio", settle_timeout), io_(io) {}

AsioReplayBackend::~AsioReplayBackend() {
  if (writer_) writer_.abort();  // completes a pending read (ignored: nobody reads the sink)
  reader_ = {};
  writer_ = {};
  io_.restart();
  while (io_.poll() > 0) {
  }
  io_.restart();
}

std::error_code AsioReplayBackend::wrap(int fd, std::size_t limit) {
  std::error_code ec;
  asio::ip::tcp::socket socket(io_);
  socket.assign(asio::ip::tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    return ec;
  }
  asio_backend::StreamOptions options;
  options.limit = limit;
  asio_backend::Stream stream = asio_backend::make_stream(std::move(socket), options, ec);
  if (ec) return ec;  // `socket` closes the descriptor
  reader_ = std::move(stream.reader);
  writer_ = std::move(stream.writer);
  return {};
}

void AsioReplayBackend::begin_read(std::size_t i, const Op& op) {
  auto handler = [sink = sink(), reader = reader_, i](std::error_code ec, std::string data) {
    if (!ec) {
      sink->completed.push_back(Completion{i, std::move(data)});
      return;
    }
    // The whole StreamError is the reader's last_error(), set right before
    // this handler runs.
    const std::optional<StreamError>& error = reader.last_error();
    sink->completed.push_back(
        Completion{i, error ? *error : StreamError::connection(ec, "replay: read failed")});
  };
  switch (op.kind) {
    case OpKind::kRead:
      reader_.async_read(op.n, std::move(handler));
      break;
    case OpKind::kReadline:
      reader_.async_readline(std::move(handler));
      break;
    case OpKind::kReadexactly:
      reader_.async_readexactly(op.n, std::move(handler));
      break;
    default:  // kReaduntil
      if (op.separator_list) {
        reader_.async_readuntil(std::span<const std::string>(op.separators), std::move(handler));
      } else {
        reader_.async_readuntil(
            op.separators.empty() ? std::string_view() : std::string_view(op.separators[0]),
            std::move(handler));
      }
      break;
  }
}

LoopbackReplayBackend::ReaderView AsioReplayBackend::reader_view() {
  return ReaderView{
      .fd = writer_.native_handle(),
      .bytes_received = reader_.bytes_received(),
      .reading = !reader_.reading_paused() && !reader_.eof_received(),
      .eof_received = reader_.eof_received(),
  };
}

bool AsioReplayBackend::run_ready() {
  if (io_.stopped()) io_.restart();
  return io_.poll() > 0;
}

void AsioReplayBackend::run_briefly() {
  if (io_.stopped()) io_.restart();
  if (io_.run_one_for(std::chrono::milliseconds(1)) == 0 && io_.stopped()) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace sluice::conformance
