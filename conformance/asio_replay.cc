#include "conformance/asio_replay.h"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <span>
#include <system_error>
#include <thread>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/socket_base.hpp>

#include "backends/asio/stream.h"
#include "core/stream_reader.h"

namespace sluice::conformance {

namespace {

// The kernel's view of the reader's socket.
struct SocketView {
  std::uint64_t queued = 0;  // bytes received by the kernel, not yet read
  int state = TCP_ESTABLISHED;
};

bool view_socket(int fd, SocketView& view) {
  int queued = 0;
  if (::ioctl(fd, SIOCINQ, &queued) != 0) return false;
  tcp_info info{};
  socklen_t size = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return false;
  view.queued = static_cast<std::uint64_t>(queued);
  view.state = info.tcpi_state;
  return true;
}

}  // namespace

AsioReplayBackend::AsioReplayBackend(asio::io_context& io, std::chrono::milliseconds settle_timeout)
    : io_(io), settle_timeout_(settle_timeout), acceptor_(io), peer_(io) {}

AsioReplayBackend::~AsioReplayBackend() {
  if (writer_) writer_.abort();  // completes a pending read (ignored: nobody reads sink_)
  reader_ = {};
  writer_ = {};
  std::error_code ignored;
  peer_.close(ignored);
  acceptor_.close(ignored);
  io_.restart();
  while (io_.poll() > 0) {
  }
  io_.restart();
}

void AsioReplayBackend::fail(std::string message) {
  if (!error_) error_ = "asio: " + std::move(message);
}

Status AsioReplayBackend::open(std::int64_t limit) {
  // The core decides what a bad limit is (and how it is reported).
  Result<sluice::StreamReader> check = sluice::StreamReader::create(limit);
  if (!check.ok()) return std::move(check).error();

  std::error_code ec;
  const asio::ip::tcp::endpoint loopback(asio::ip::address_v4::loopback(), 0);
  if (acceptor_.open(loopback.protocol(), ec); !ec) acceptor_.bind(loopback, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) peer_.connect(acceptor_.local_endpoint(), ec);
  asio::ip::tcp::socket accepted(io_);
  if (!ec) acceptor_.accept(accepted, ec);
  if (!ec) peer_.non_blocking(true, ec);
  // Each feed leaves at once (Nagle would hold small sends back until the
  // reader's kernel acknowledges the previous ones).
  if (!ec) peer_.set_option(asio::ip::tcp::no_delay(true), ec);
  asio_backend::Stream stream;
  if (!ec) {
    asio_backend::StreamOptions options;
    options.limit = static_cast<std::size_t>(limit);
    stream = asio_backend::make_stream(std::move(accepted), options, ec);
  }
  acceptor_.close();  // one connection per vector
  if (ec) {
    fail("cannot set up a loopback connection: " + ec.message());
    return StreamError::connection(ec, "replay: no loopback connection");
  }
  reader_ = std::move(stream.reader);
  writer_ = std::move(stream.writer);
  return Ok{};
}

void AsioReplayBackend::feed(std::string_view bytes, std::vector<Completion>& done) {
  if (!reset_sent_ && !bytes.empty()) {
    outbox_.append(bytes);
    sent_ += bytes.size();
  }
  settle(done);
}

void AsioReplayBackend::feed_eof(std::vector<Completion>& done) {
  if (!reset_sent_ && !eof_sent_) {
    eof_sent_ = true;
    flush_peer();  // the FIN goes after the bytes; settle() sends it when they are out
  }
  settle(done);
}

void AsioReplayBackend::set_exception(std::vector<Completion>& done) {
  if (!reset_sent_) {
    // Everything sent before is in the reader's socket (the last settle()
    // saw to it), so the RST destroys nothing in flight.
    reset_sent_ = true;
    std::error_code ignored;
    peer_.set_option(asio::socket_base::linger(true, 0), ignored);
    peer_.close(ignored);
  }
  settle(done);
}

void AsioReplayBackend::start_read(std::size_t i, const Op& op, std::vector<Completion>& done) {
  auto handler = [sink = sink_, reader = reader_, i](std::error_code ec, std::string data) {
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
    case OpKind::kReaduntil:
      if (op.separator_list) {
        reader_.async_readuntil(std::span<const std::string>(op.separators), std::move(handler));
      } else {
        reader_.async_readuntil(
            op.separators.empty() ? std::string_view() : std::string_view(op.separators[0]),
            std::move(handler));
      }
      break;
    default:
      fail("start_read: not a read op");
      return;
  }
  settle(done);
}

bool AsioReplayBackend::at_eof() { return reader_.at_eof(); }

void AsioReplayBackend::flush_peer() {
  while (!outbox_.empty()) {
    std::error_code ec;
    const std::size_t n = peer_.write_some(asio::buffer(outbox_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return;
    if (ec) {
      fail("the peer cannot send: " + ec.message());
      outbox_.clear();
      return;
    }
    outbox_.erase(0, n);
  }
  if (eof_sent_ && peer_.is_open()) {
    std::error_code ec;
    peer_.shutdown(asio::socket_base::shutdown_send, ec);  // idempotent
    if (ec) fail("the peer cannot shut down: " + ec.message());
  }
}

bool AsioReplayBackend::settled() {
  if (!outbox_.empty()) return false;
  const int fd = writer_.native_handle();
  if (fd < 0) return true;  // the reader's connection is lost: nothing more arrives
  SocketView view;
  if (!view_socket(fd, view)) {
    fail("cannot inspect the reader's socket");
    return true;
  }
  // Everything sent has reached the reader's socket...
  if (reader_.bytes_received() + view.queued != sent_) return false;
  if (eof_sent_ && view.state == TCP_ESTABLISHED) return false;
  if (reset_sent_ && view.state != TCP_CLOSE) return false;
  // ...and the reader does not read now, or it has taken all of it.
  if (reader_.reading_paused() || reader_.eof_received()) return true;
  return view.queued == 0 && (!eof_sent_ || reader_.eof_received()) && !reset_sent_;
}

void AsioReplayBackend::settle(std::vector<Completion>& done) {
  const auto deadline = std::chrono::steady_clock::now() + settle_timeout_;
  while (!error_) {
    if (std::chrono::steady_clock::now() >= deadline) {
      fail("the connection did not settle within " + std::to_string(settle_timeout_.count()) +
           " ms");
      break;
    }
    if (eof_sent_ || !outbox_.empty()) flush_peer();
    if (io_.stopped()) io_.restart();
    if (io_.poll() > 0) continue;  // quiescent first
    if (settled()) break;
    // Wait for the socket (or, with nothing to wait on, a moment).
    if (io_.stopped()) io_.restart();
    if (io_.run_one_for(std::chrono::milliseconds(1)) == 0 && io_.stopped()) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  for (Completion& c : sink_->completed) done.push_back(std::move(c));
  sink_->completed.clear();
}

}  // namespace sluice::conformance
