#include "core/connection.h"

#include <cassert>
#include <utility>

namespace sluice {

namespace {

Completions from(WriterRelease release) {
  Completions c;
  c.drain = std::move(release.drain);
  c.closed = std::move(release.closed);
  return c;
}

}  // namespace

Connection::Connection(ConnectionOptions options)
    : reader_(options.limit),
      writer_(StreamWriterOptions{.can_write_eof = options.can_write_eof}) {}

Completions Connection::data_received(std::string_view data) {
  assert(!lost_ && "data_received after connection_lost");
  Completions c;
  if (lost_) return c;
  c.read = reader_.feed_data(data);
  return c;
}

Completions Connection::commit_received(std::size_t k) {
  assert((!lost_ || k == 0) && "commit_received after connection_lost");
  Completions c;
  if (lost_) {
    (void)reader_.commit(0);  // release the reservation only
    return c;
  }
  c.read = reader_.commit(k);
  return c;
}

Completions Connection::eof_received() {
  assert(!lost_ && "eof_received after connection_lost");
  Completions c;
  if (lost_) return c;
  // asyncio: feed_eof and keep the transport open (half-close).
  c.read = reader_.feed_eof();
  return c;
}

Completions Connection::bytes_sent(std::size_t n) { return from(writer_.bytes_sent(n)); }

Completions Connection::connection_lost(std::error_code error) {
  assert(!lost_ && "connection_lost twice");
  if (lost_) return Completions{};
  lost_ = true;
  // StreamReaderProtocol.connection_lost: reader first, then the close
  // waiters and drains.
  ReadPoll read = error ? reader_.set_exception(error) : reader_.feed_eof();
  Completions c = from(writer_.connection_lost(error));
  c.read = std::move(read);
  return c;
}

bool Connection::want_read() const {
  return !lost_ && !reader_.eof_received() && !writer_.is_closing() && !reader_.reading_paused();
}

void Connection::check_invariants() const {
#ifndef NDEBUG
  reader_.check_invariants();
  writer_.check_invariants();
  assert(lost_ == (writer_.state() == WriterState::kClosed));
  if (lost_) assert(reader_.eof_received() || reader_.exception());
#endif
}

}  // namespace sluice
