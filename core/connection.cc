#include "core/connection.h"

#include <algorithm>
#include <array>
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

// Moves what `from` holds into `into`. Each kind is released at most once
// between two deliveries (a release needs a waiter, a waiter needs user code
// to run, and user code sees the waiter's result first), so nothing is
// overwritten; if it ever were, the earlier result is kept.
void absorb(Completions& into, Completions&& from) {
  assert(!(into.read && from.read) && !(into.drain && from.drain) &&
         !(into.closed && from.closed) && !(into.handshake && from.handshake));
  if (!into.read && from.read) into.read = std::move(from.read);
  if (!into.drain && from.drain) into.drain = std::move(from.drain);
  if (!into.closed && from.closed) into.closed = std::move(from.closed);
  if (!into.handshake && from.handshake) into.handshake = std::move(from.handshake);
}

// The scratch space application data is decrypted into when it is dropped
// (after close()).
constexpr std::size_t kDiscardChunk = 4096;

}  // namespace

Connection::Connection(ConnectionOptions options)
    : reader_(options.limit, options.pool),
      writer_(StreamWriterOptions{.can_write_eof = options.can_write_eof && !options.tls,
                                  .pool = options.pool}) {
  if (!options.tls) return;
  Result<std::unique_ptr<TlsSession>> session = TlsSession::create(*options.tls);
  if (session.ok()) {
    begin_tls(std::move(*session), options.tls->outgoing_limit, 0);
  } else {
    begin_tls(TlsSession::failed(std::move(session).error()), options.tls->outgoing_limit, 0);
  }
}

// ---- User side. -------------------------------------------------------------------

StatusPoll Connection::handshake() const {
  // Built in place: GCC 12 at -O1 misreads a moved temporary Status as
  // maybe-uninitialized (see stream_writer.cc).
  if (!tls_) return StatusPoll(std::in_place, Ok{});
  return tls_->handshake_result;
}

Status Connection::start_tls(TlsOptions options, StartTlsBuffered buffered) {
  if (tls_) return StreamError::invalid_argument("start_tls(): the connection already uses TLS");
  if (is_lost() || writer_.is_closing()) {
    return StreamError::invalid_argument("start_tls(): the connection is closing");
  }
  if (writer_.state() != WriterState::kOpen) {
    return StreamError::invalid_argument("start_tls(): write_eof() was called");
  }
  if (reader_.eof_received() || reader_.exception()) {
    return StreamError::invalid_argument("start_tls(): the peer already closed its side");
  }
  if (reader_.has_pending_read()) {
    return StreamError::invalid_argument("start_tls(): a read is waiting");
  }
  if (buffered == StartTlsBuffered::kRefuse && reader_.buffered_size() > 0) {
    return StreamError::tls("start_tls() refused",
                            "the peer sent data before the TLS handshake");
  }
  Result<std::unique_ptr<TlsSession>> session = TlsSession::create(options);
  if (!session.ok()) return std::move(session).error();
  // Committed from here on.
  std::string early;
  if (buffered == StartTlsBuffered::kHandOver) {
    early = reader_.take_buffered();
  } else {
    (void)reader_.discard_buffered();
  }
  writer_.set_can_write_eof(false);
  (*session)->append_input(early);
  begin_tls(std::move(*session), options.outgoing_limit, writer_.get_write_buffer_size());
  return Ok{};
}

// ---- Driver calls in. -----------------------------------------------------------------

Completions Connection::data_received(std::string_view data) {
  assert(!is_lost() && "data_received after connection_lost");
  Completions c;
  if (is_lost()) return c;
  if (tls_) {
    session().append_input(data);
    process_input();
    return take_stash();
  }
  c.read = reader_.feed_data(data);
  return c;
}

Completions Connection::commit_received(std::size_t k) {
  assert((!is_lost() || k == 0) && "commit_received after connection_lost");
  Completions c;
  if (tls_) {
    session().commit_input(is_lost() ? 0 : k);
    if (is_lost()) return c;
    if (k > 0) process_input();
    return take_stash();
  }
  if (is_lost()) {
    (void)reader_.commit(0);  // release the reservation only
    return c;
  }
  c.read = reader_.commit(k);
  return c;
}

Completions Connection::eof_received() {
  assert(!is_lost() && "eof_received after connection_lost");
  Completions c;
  if (is_lost()) return c;
  if (tls_) {
    const TlsState before = session().state();
    session().input_eof();
    if (session().state() == TlsState::kFailed && before != TlsState::kFailed) {
      on_tls_failed();  // EOF during the handshake
    } else if (session().state() == TlsState::kEstablished && !writer_.is_closing()) {
      // asyncio's SSLProtocol: EOF without close_notify is EOF for the
      // application (not an error), and the transport closes.
      on_peer_finished();
    }
    return take_stash();
  }
  // asyncio: feed_eof and keep the transport open (half-close).
  c.read = reader_.feed_eof();
  return c;
}

Completions Connection::bytes_sent(std::size_t n) {
  if (!tls_) return from(writer_.bytes_sent(n));
  if (const std::size_t raw = raw_pending(); raw > 0) {
    assert(n <= raw);
    n = std::min(n, raw);
    tls_->raw_prefix -= n;
    stash(writer_.bytes_sent(n));
  } else {
    assert(n <= session().output_size());
    session().consume_output(std::min(n, session().output_size()));
  }
  return take_stash();
}

Completions Connection::connection_lost(std::error_code error) {
  assert(!is_lost() && "connection_lost twice");
  if (is_lost()) return Completions{};
  // (is_lost() turns true with the writer's connection_lost() below.)
  if (!tls_) {
    // StreamReaderProtocol.connection_lost: reader first, then the close
    // waiters and drains.
    ReadPoll read = error ? reader_.set_exception(error) : reader_.feed_eof();
    Completions c = from(writer_.connection_lost(error));
    c.read = std::move(read);
    return c;
  }
  tls_->raw_prefix = 0;
  session().clear_input();
  (void)session().clear_output();
  if (session().state() == TlsState::kFailed) {
    // The reader already holds the TLS error, and the handshake knows it;
    // the writer's waiters get it too (asyncio: connection_lost(exc)).
    stash(writer_.connection_lost(*session().error()));
    return take_stash();
  }
  if (!tls_->handshake_result) {
    finish_handshake(StreamError::connection(
        error ? error : std::make_error_code(std::errc::connection_reset),
        error ? "" : "Connection lost during the TLS handshake"));
  }
  stash(error ? reader_.set_exception(error) : reader_.feed_eof());
  stash(writer_.connection_lost(error));
  return take_stash();
}

// ---- Driver asks. ---------------------------------------------------------------------

bool Connection::want_read() const {
  if (is_lost()) return false;
  if (!tls_) {
    return !reader_.eof_received() && !writer_.is_closing() && !reader_.reading_paused();
  }
  if (session().input_ended()) return false;
  switch (session().state()) {
    case TlsState::kHandshaking:
      return true;
    case TlsState::kEstablished:
      if (session().close_notify_received()) return false;
      // Closing: read on, to get the peer's close_notify (what arrives
      // before it is dropped).
      if (writer_.is_closing()) return true;
      return !reader_.reading_paused();
    case TlsState::kShuttingDown:
      return true;
    case TlsState::kClosed:
    case TlsState::kFailed:
      return false;
  }
  return false;
}

WriteAction Connection::write_action() const {
  if (!tls_) return writer_.action();
  if (is_lost()) return WriteAction::kNone;
  const bool output = raw_pending() > 0 || session().output_size() > 0;
  // A failure lets its alert out, then closes (a user abort() after it
  // changes nothing: the alert is a few bytes).
  if (session().state() == TlsState::kFailed) {
    return output ? WriteAction::kSend : WriteAction::kClose;
  }
  if (writer_.state() == WriterState::kAborting) return WriteAction::kAbort;
  if (output) return WriteAction::kSend;
  switch (session().state()) {
    case TlsState::kHandshaking:
      return WriteAction::kNone;  // the peer's turn
    case TlsState::kEstablished:
      // Plaintext to encrypt, or (closing, all encrypted) close_notify to
      // queue: next_send() does either.
      if (writer_.get_write_buffer_size() > 0 || writer_.is_closing()) return WriteAction::kSend;
      return WriteAction::kNone;
    case TlsState::kShuttingDown:
      return WriteAction::kNone;  // waiting for the peer's close_notify
    case TlsState::kClosed:
      return WriteAction::kClose;
    case TlsState::kFailed:
      break;
  }
  return WriteAction::kNone;
}

std::size_t Connection::next_send(std::span<std::string_view> out) {
  if (!tls_) return writer_.peek(out);
  if (is_lost() || out.empty()) return 0;
  if (std::size_t raw = raw_pending(); raw > 0) {
    // Plaintext queued before start_tls(): as it is, and no further.
    const std::size_t k = writer_.peek(out);
    std::size_t i = 0;
    for (; i < k && raw > 0; ++i) {
      if (out[i].size() > raw) out[i] = out[i].substr(0, raw);
      raw -= out[i].size();
    }
    return i;
  }
  produce_output();
  return session().peek_output(out);
}

bool Connection::handshake_in_progress() const {
  return tls_ && !is_lost() && session().state() == TlsState::kHandshaking &&
         !tls_->handshake_result;
}

bool Connection::shutdown_in_progress() const {
  if (!tls_ || is_lost() || handshake_in_progress()) return false;
  const WriteAction action = write_action();
  return writer_.is_closing() && action != WriteAction::kClose && action != WriteAction::kAbort;
}

// ---- TLS. -------------------------------------------------------------------------------

void Connection::begin_tls(std::unique_ptr<TlsSession> new_session, std::size_t outgoing_limit,
                           std::size_t raw_prefix) {
  assert(!tls_ && new_session);
  tls_ = std::make_unique<TlsParts>();
  tls_->session = std::move(new_session);
  tls_->outgoing_limit = std::max<std::size_t>(outgoing_limit, 1);
  tls_->raw_prefix = raw_prefix;
  if (session().state() == TlsState::kFailed) {
    on_tls_failed();  // the session could not be set up
    return;
  }
  process_input();  // a client's ClientHello; a server's handed-over bytes
}

void Connection::process_input() {
  for (;;) {
    switch (session().state()) {
      case TlsState::kHandshaking:
        // (A close() during the handshake lets it finish: what was written
        // before close() is still delivered. abort() gives up at once.)
        if (session().handshake() == TlsState::kHandshaking) return;
        if (session().state() == TlsState::kFailed) {
          on_tls_failed();
          return;
        }
        finish_handshake(Ok{});
        continue;  // application data may have come with the last flight
      case TlsState::kEstablished:
        if (session().close_notify_received()) {
          session().clear_input();  // nothing after close_notify is read
          return;
        }
        if (writer_.is_closing()) {
          discard_application_data();
        } else {
          decrypt_into_reader();
        }
        return;
      case TlsState::kShuttingDown:
        discard_application_data();
        return;
      case TlsState::kClosed:
      case TlsState::kFailed:
        session().clear_input();
        return;
    }
  }
}

void Connection::decrypt_into_reader() {
  while (session().has_pending_plaintext()) {
    // Straight into the reader's buffer: one record's worth of room.
    std::span<char> space = reader_.prepare(kTlsMaxRecordPlaintext);
    const TlsRead r = session().read(space);
    stash(reader_.commit(r.kind == TlsRead::Kind::kData ? r.size : 0));
    switch (r.kind) {
      case TlsRead::Kind::kData:
        continue;
      case TlsRead::Kind::kWantInput:
        return;
      case TlsRead::Kind::kCloseNotify:
        on_peer_finished();
        return;
      case TlsRead::Kind::kFailed:
        on_tls_failed();
        return;
    }
  }
}

void Connection::discard_application_data() {
  std::array<char, kDiscardChunk> scratch;
  while (session().has_pending_plaintext()) {
    const TlsRead r = session().read(scratch);
    switch (r.kind) {
      case TlsRead::Kind::kData:
        tls_->bytes_discarded += r.size;
        continue;
      case TlsRead::Kind::kWantInput:
        return;
      case TlsRead::Kind::kCloseNotify:
        // kShuttingDown: the shutdown is complete (kClosed). kEstablished
        // (still flushing our plaintext): shutdown() will find it done.
        if (!reader_.eof_received()) stash(reader_.feed_eof());
        return;
      case TlsRead::Kind::kFailed:
        on_tls_failed();
        return;
    }
  }
}

void Connection::produce_output() {
  if (session().state() != TlsState::kEstablished) return;
  if (writer_.state() == WriterState::kAborting || writer_.state() == WriterState::kClosed) return;
  std::array<std::string_view, 1> front;
  while (session().output_size() < tls_->outgoing_limit && writer_.get_write_buffer_size() > 0) {
    (void)writer_.peek(front);
    const std::string_view chunk = front[0].substr(0, kTlsMaxRecordPlaintext);
    if (session().write(chunk) != chunk.size()) {
      on_tls_failed();
      return;
    }
    // The plaintext is now ciphertext: it leaves the writer's queue, which
    // may release drains (returned by the next call that returns
    // Completions).
    stash(writer_.bytes_sent(chunk.size()));
  }
  if (writer_.is_closing() && writer_.get_write_buffer_size() == 0) {
    if (session().shutdown() == TlsState::kFailed) on_tls_failed();
  }
}

void Connection::on_peer_finished() {
  if (!reader_.eof_received()) stash(reader_.feed_eof());
  writer_.close();
}

void Connection::on_tls_failed() {
  assert(session().state() == TlsState::kFailed);
  const StreamError& error = *session().error();
  stash(reader_.set_exception(error));
  if (!tls_->handshake_result) finish_handshake(error);
  // Unsent plaintext can never go out; writes from now on are dropped.
  tls_->raw_prefix = 0;
  writer_.abort();
}

void Connection::finish_handshake(Status result) {
  assert(!tls_->handshake_result);
  tls_->handshake_result = result;
  tls_->stash.handshake = std::move(result);
}

std::size_t Connection::raw_pending() const {
  return std::min(tls_->raw_prefix, writer_.get_write_buffer_size());
}

void Connection::stash(WriterRelease release) {
  absorb(tls_->stash, from(std::move(release)));
}

void Connection::stash(ReadPoll read) {
  Completions c;
  c.read = std::move(read);
  absorb(tls_->stash, std::move(c));
}

Completions Connection::take_stash() {
  return std::exchange(tls_->stash, Completions{});
}

void Connection::check_invariants() const {
#ifndef NDEBUG
  reader_.check_invariants();
  writer_.check_invariants();
  if (is_lost()) assert(reader_.eof_received() || reader_.exception());
  if (!tls_) return;
  assert(tls_->session != nullptr);
  session().check_invariants();
  assert(!writer_.can_write_eof());
  if (tls_->raw_prefix > 0) assert(tls_->raw_prefix <= writer_.get_write_buffer_size());
  switch (session().state()) {
    case TlsState::kHandshaking:
      // Only a loss ends a handshake without leaving this state.
      assert(is_lost() || !tls_->handshake_result);
      break;
    case TlsState::kEstablished:
    case TlsState::kShuttingDown:
    case TlsState::kClosed:
      assert(tls_->handshake_result && tls_->handshake_result->ok());
      break;
    case TlsState::kFailed:
      assert(tls_->handshake_result && reader_.exception() && writer_.is_closing());
      break;
  }
  // The peer is done: the reader saw EOF and the connection is closing.
  if (session().close_notify_received() && !is_lost()) {
    assert(reader_.eof_received() && writer_.is_closing());
  }
  // Everything received is processed at once: at most one partial record
  // waits, inside OpenSSL.
  if (!is_lost()) assert(session().input_size() == 0);
#endif
}

}  // namespace sluice
