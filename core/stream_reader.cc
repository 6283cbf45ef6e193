#include "core/stream_reader.h"

#include <cassert>
#include <cstring>
#include <utility>

namespace sluice {
namespace {

// asyncio's names for the operations, used in kConcurrentRead messages
// (readline reports as readuntil, as in CPython).
const char* operation_name(int kind_index) {
  static constexpr const char* kNames[] = {"", "read", "read", "readexactly", "readuntil",
                                           "readuntil"};
  return kNames[kind_index];
}

}  // namespace

StreamReader::StreamReader(std::size_t limit, BufferPool* pool) : limit_(limit), buffer_(pool) {
  assert(limit > 0);
}

Result<StreamReader> StreamReader::create(std::int64_t limit) {
  if (limit <= 0) return StreamError::invalid_argument("Limit cannot be <= 0");
  return StreamReader(static_cast<std::size_t>(limit));
}

// ---- Driver side -----------------------------------------------------------

ReadPoll StreamReader::feed_data(std::string_view data) {
  if (eof_) {
    assert(false && "feed_data after feed_eof");
    bytes_fed_ += data.size();
    bytes_discarded_ += data.size();
    return std::nullopt;
  }
  if (data.empty()) {
    buffer_.release_if_empty();  // after readline_view()
    return std::nullopt;         // asyncio: no wakeup for b''
  }
  buffer_.append(data);
  bytes_fed_ += data.size();
  after_feed();
  return advance();
}

std::span<char> StreamReader::prepare(std::size_t n) { return buffer_.prepare(n); }

ReadPoll StreamReader::commit(std::size_t n) {
  if (eof_) {
    assert(n == 0 && "commit after feed_eof");
    buffer_.commit(0);
    bytes_fed_ += n;
    bytes_discarded_ += n;
    return std::nullopt;
  }
  buffer_.commit(n);
  if (n == 0) return std::nullopt;
  bytes_fed_ += n;
  after_feed();
  return advance();
}

ReadPoll StreamReader::feed_eof() {
  buffer_.release_if_empty();  // after readline_view()
  eof_ = true;
  return advance();
}

ReadPoll StreamReader::set_exception(std::error_code cause) {
  return set_exception(StreamError::connection(cause));
}

ReadPoll StreamReader::set_exception(StreamError error) {
  buffer_.release_if_empty();  // after readline_view()
  exception_.set(std::move(error));
  if (op_.kind == OpKind::kNone) return std::nullopt;
  // What read(-1) had collected is lost with the error, as in asyncio.
  bytes_discarded_ += bytes_held_by_pending_read();
  op_ = PendingOp{};
  return ReadResult(*exception_);
}

void StreamReader::after_feed() {
  // asyncio checks for pause in feed_data, before the woken reader runs.
  if (!paused_ && buffer_.size() > 2 * limit_) paused_ = true;
}

// ---- User side --------------------------------------------------------------

ReadPoll StreamReader::read(std::int64_t n) {
  buffer_.release_if_empty();  // after readline_view()
  if (exception_) return ReadResult(*exception_);
  if (n == 0) return ReadResult(std::string());
  if (n > 0 && op_.kind == OpKind::kNone && !buffer_.empty()) {
    // Fast path (bytes already buffered): what attempt() would do.
    return take_chunk(std::min(static_cast<std::size_t>(n), buffer_.size()));
  }
  PendingOp op;
  if (n < 0) {
    op.kind = OpKind::kReadAll;
  } else {
    op.kind = OpKind::kRead;
    op.n() = static_cast<std::size_t>(n);
  }
  return start(std::move(op));
}

std::optional<Result<std::string_view>> StreamReader::readline_view() {
  using ViewResult = Result<std::string_view>;
  buffer_.release_if_empty();  // the previous view's lifetime ends here
  if (exception_) return ViewResult(*exception_);
  if (op_.kind != OpKind::kNone) return ViewResult(StreamError::concurrent_read("readuntil"));
  const std::string_view data = buffer_.view();
  // Bytes at the front already known to hold no newline (the buffer holds
  // the stream's bytes [consumed, bytes_fed_)).
  const std::uint64_t consumed = bytes_fed_ - data.size();
  const std::size_t clean =
      view_clean_end_ > consumed ? static_cast<std::size_t>(view_clean_end_ - consumed) : 0;
  assert(clean <= data.size());
  const void* hit =
      data.size() == clean ? nullptr : std::memchr(data.data() + clean, '\n', data.size() - clean);
  if (hit != nullptr) {
    const std::size_t start = static_cast<const char*>(hit) - data.data();
    // (view_clean_end_ now lies before what is left: nothing is known.)
    if (start <= limit_) {
      buffer_.consume_keeping_storage(start + 1);
      maybe_resume();
      return ViewResult(data.substr(0, start + 1));
    }
    discard(start + 1);  // readline's discard of the over-long line
    maybe_resume();
    return ViewResult(StreamError::limit_overrun(LimitOverrunKind::kSeparatorFound, start));
  }
  view_clean_end_ = bytes_fed_;
  if (!data.empty() && data.size() > limit_) {
    // readuntil's offset is buflen here (1-byte separator): over the limit.
    const std::size_t n = data.size();
    discard(n);
    maybe_resume();
    return ViewResult(StreamError::limit_overrun(LimitOverrunKind::kSeparatorNotFound, n));
  }
  if (eof_) {
    // readline's partial last line (or "" at EOF), as a view.
    buffer_.consume_keeping_storage(data.size());
    return ViewResult(data);
  }
  return std::nullopt;
}

ReadPoll StreamReader::readexactly(std::int64_t n) {
  buffer_.release_if_empty();  // after readline_view()
  if (n < 0) return ReadResult(StreamError::invalid_argument("readexactly size can not be less than zero"));
  if (exception_) return ReadResult(*exception_);
  if (n == 0) return ReadResult(std::string());
  if (op_.kind == OpKind::kNone && buffer_.size() >= static_cast<std::size_t>(n)) {
    // Fast path (enough bytes already buffered): what attempt() would do.
    return take_chunk(static_cast<std::size_t>(n));
  }
  PendingOp op;
  op.kind = OpKind::kReadExactly;
  op.n() = static_cast<std::size_t>(n);
  return start(std::move(op));
}

ReadPoll StreamReader::readline() {
  buffer_.release_if_empty();  // after readline_view()
  if (!exception_ && op_.kind == OpKind::kNone) {
    // Fast path: a whole line within the limit is buffered. Everything
    // else is out of line, so this path stays small.
    const std::size_t end = find_through('\n');
    if (end != 0 && end - 1 <= limit_) return take_chunk(end);
    return readline_slow(end == 0);
  }
  return readline_slow(false);
}

ReadPoll StreamReader::readline_slow(bool buffered_is_clean) {
  if (exception_) return ReadResult(*exception_);
  PendingOp op;
  op.kind = OpKind::kReadLine;
  const std::string_view newline[] = {"\n"};
  return start_readuntil(std::move(op), newline, buffered_is_clean);
}

ReadPoll StreamReader::readuntil(std::string_view separator) {
  return readuntil(std::span<const std::string_view>(&separator, 1));
}

ReadPoll StreamReader::readuntil(std::span<const std::string_view> separators) {
  buffer_.release_if_empty();  // after readline_view()
  if (separators.empty()) {
    return ReadResult(StreamError::invalid_argument("Separator should contain at least one element"));
  }
  for (std::string_view s : separators) {
    if (s.empty()) {
      return ReadResult(StreamError::invalid_argument("Separator should be at least one-byte string"));
    }
  }
  if (exception_) return ReadResult(*exception_);
  bool clean = false;
  if (separators.size() == 1 && separators[0].size() == 1 && op_.kind == OpKind::kNone) {
    // Fast path, as readline()'s.
    const std::size_t end = find_through(separators[0][0]);
    if (end != 0 && end - 1 <= limit_) return take_chunk(end);
    clean = end == 0;
  }
  PendingOp op;
  op.kind = OpKind::kReadUntil;
  return start_readuntil(std::move(op), separators, clean);
}

std::size_t StreamReader::find_through(char separator) const {
  const std::string_view data = buffer_.view();
  if (data.empty()) return 0;
  const void* hit = std::memchr(data.data(), separator, data.size());
  return hit == nullptr ? 0 : static_cast<const char*>(hit) - data.data() + 1;
}

ReadPoll StreamReader::start_readuntil(PendingOp op, std::span<const std::string_view> separators,
                                       bool buffered_is_clean) {
  if (op_.kind == OpKind::kNone) {
    search_.reset(separators);
    // The fast path (readline(), readuntil()) found no 1-byte separator in
    // what is buffered: those bytes need no second scan.
    if (buffered_is_clean) search_.skip_to(buffer_.size());
    return start(std::move(op));
  }
  // Another read is pending (and may own search_): try this one once with a
  // scanner of its own. If it would have to wait, that is kConcurrentRead.
  SeparatorSearch search;
  search.reset(separators);
  const std::size_t before = buffer_.size();
  ReadPoll r = attempt(op, search);
  if (!r) return ReadResult(StreamError::concurrent_read(operation_name(static_cast<int>(op.kind))));
  if (buffer_.size() != before) bytes_moved_under_pending_op();
  return r;
}

ReadPoll StreamReader::start(PendingOp op) {
  if (op_.kind == OpKind::kNone) {
    ReadPoll r = attempt(op, search_);
    if (r) return r;
    op_ = std::move(op);
    paused_ = false;  // asyncio's _wait_for_data resumes before waiting
    return std::nullopt;
  }
  const std::size_t before = buffer_.size();
  ReadPoll r = attempt(op, search_);
  if (buffer_.size() != before) bytes_moved_under_pending_op();
  if (!r) {
    // asyncio's read(-1) has already taken what was buffered when it finds
    // it must wait; those bytes are lost with the RuntimeError.
    bytes_discarded_ += op.collected ? op.collected->size() : 0;
    return ReadResult(StreamError::concurrent_read(operation_name(static_cast<int>(op.kind))));
  }
  return r;
}

void StreamReader::bytes_moved_under_pending_op() {
  // asyncio's pending readuntil keeps its numeric offset into a buffer that
  // just lost bytes at the front; it will search from that offset again.
  if (op_.kind == OpKind::kReadUntil || op_.kind == OpKind::kReadLine) {
    search_.restart_at(op_.offset());
  }
}

void StreamReader::cancel_pending_read() {
  buffer_.release_if_empty();  // after readline_view()
  if (op_.kind == OpKind::kReadAll && op_.collected && !op_.collected->empty()) {
    // Put the collected bytes back in front (the buffer is empty while a
    // read(-1) waits), so cancelling loses nothing.
    assert(buffer_.empty());
    buffer_.append(*op_.collected);
  }
  op_ = PendingOp{};
}

std::string StreamReader::take_buffered() {
  assert(op_.kind == OpKind::kNone && "take_buffered() while a read is pending");
  buffer_.release_if_empty();  // after readline_view()
  std::string bytes = buffer_.empty() ? std::string() : buffer_.take(buffer_.size());
  maybe_resume();
  return bytes;
}

std::size_t StreamReader::discard_buffered() {
  assert(op_.kind == OpKind::kNone && "discard_buffered() while a read is pending");
  const std::size_t n = buffer_.size();
  discard(n);
  buffer_.release_if_empty();  // after readline_view()
  maybe_resume();
  return n;
}

// ---- The operations --------------------------------------------------------

ReadPoll StreamReader::advance() {
  switch (op_.kind) {
    case OpKind::kNone:
      return std::nullopt;
    case OpKind::kReadUntil:
    case OpKind::kReadLine: {
      // Under a pending readuntil most feeds (all of them, for a peer
      // trickling a long line) leave it waiting: decide that without
      // building a result.
      const UntilStep step = step_readuntil(op_, search_);
      if (step.kind == UntilStep::Kind::kWait) {
        paused_ = false;  // waiting again: asyncio's _wait_for_data resumes
        return std::nullopt;
      }
      return complete_readuntil(step);
    }
    default:
      return advance_other();
  }
}

ReadPoll StreamReader::complete_readuntil(UntilStep step) {
  ReadPoll r = readuntil_result(op_.kind, step);
  op_ = PendingOp{};
  return r;
}

ReadPoll StreamReader::advance_other() {
  ReadPoll r = attempt(op_, search_);
  if (r) {
    op_ = PendingOp{};
  } else {
    paused_ = false;  // waiting again: asyncio's _wait_for_data resumes
  }
  return r;
}

ReadPoll StreamReader::attempt(PendingOp& op, SeparatorSearch& search) {
  switch (op.kind) {
    case OpKind::kRead:
      if (buffer_.empty() && !eof_) return std::nullopt;
      if (buffer_.empty()) {  // at EOF: b''
        maybe_resume();
        return ReadResult(std::string());
      }
      return take_chunk(std::min(op.n(), buffer_.size()));
    case OpKind::kReadAll:
      // asyncio reads limit-sized blocks while any are buffered; the net
      // effect is that everything buffered is collected and reading resumes.
      if (!buffer_.empty()) {
        if (!op.collected) {
          op.collected = std::make_unique<std::string>(buffer_.take(buffer_.size()));
        } else {
          op.collected->append(buffer_.view());
          buffer_.clear();
        }
      }
      if (!eof_) return std::nullopt;
      paused_ = false;
      if (!op.collected) return ReadResult(std::string());
      return ReadResult(std::move(*op.collected));
    case OpKind::kReadExactly:
      if (buffer_.size() >= op.n()) return take_chunk(op.n());
      if (!eof_) return std::nullopt;
      return ReadResult(StreamError::incomplete_read(buffer_.take(buffer_.size()), op.n()));
    case OpKind::kReadUntil:
    case OpKind::kReadLine:
      return readuntil_result(op.kind, step_readuntil(op, search));
    case OpKind::kNone:
      break;
  }
  assert(false);
  return std::nullopt;
}

StreamReader::UntilStep StreamReader::step_readuntil(PendingOp& op, SeparatorSearch& search) {
  const std::size_t buflen = buffer_.size();
  // asyncio scans only when a separator could fit past `offset`.
  std::size_t& offset = op.offset();
  if (buflen >= offset && buflen - offset >= search.min_length()) {
    // asyncio searches from `offset`. That never reaches back into bytes the
    // scanner has seen, except after a read consumed under this pending one
    // (bytes_moved_under_pending_op): then the scanner restarted at the old
    // offset, and asyncio's next offset (buflen + 1 - max) can be lower.
    if (offset < search.floor()) search.restart_at(offset);
    const std::optional<SeparatorSearch::Match> match = search.scan(buffer_.view());
    if (match) {
      if (match->start > limit_) return {UntilStep::Kind::kOverrunFound, match->start};
      return {UntilStep::Kind::kChunk, match->end};
    }
    const std::size_t max_length = search.max_length();
    offset = buflen + 1 > max_length ? buflen + 1 - max_length : 0;
    if (offset > limit_) return {UntilStep::Kind::kOverrunNotFound, offset};
  }
  if (eof_) return {UntilStep::Kind::kEof, buflen};
  return {UntilStep::Kind::kWait, 0};
}

ReadPoll StreamReader::readuntil_result(OpKind kind, UntilStep step) {
  const bool line = kind == OpKind::kReadLine;
  switch (step.kind) {
    case UntilStep::Kind::kWait:
      return std::nullopt;
    case UntilStep::Kind::kChunk:
      return take_chunk(step.n);
    case UntilStep::Kind::kEof:
      // readline returns the partial line; readuntil fails with it.
      if (line) return ReadResult(buffer_.take(step.n));
      return ReadResult(StreamError::incomplete_read(buffer_.take(step.n), std::nullopt));
    case UntilStep::Kind::kOverrunFound:
    case UntilStep::Kind::kOverrunNotFound: {
      const LimitOverrunKind overrun = step.kind == UntilStep::Kind::kOverrunFound
                                           ? LimitOverrunKind::kSeparatorFound
                                           : LimitOverrunKind::kSeparatorNotFound;
      if (line) {
        // asyncio's readline: drop the over-long line through its newline if
        // it is there, else everything buffered; then resume reading.
        const std::string_view data = buffer_.view();
        discard(step.n < data.size() && data[step.n] == '\n' ? step.n + 1 : data.size());
        maybe_resume();
      }
      return ReadResult(StreamError::limit_overrun(overrun, step.n));
    }
  }
  assert(false);
  return std::nullopt;
}

void StreamReader::discard(std::size_t n) {
  buffer_.consume(n);
  bytes_discarded_ += n;
}

void StreamReader::check_invariants() const {
#ifndef NDEBUG
  assert(buffer_.capacity() > 0 || buffer_.empty());
  // A pending op never survives EOF or an error: either completes it.
  assert(op_.kind == OpKind::kNone || (!eof_ && !exception_));
  // read(-1) only waits with nothing buffered; only read(-1) collects.
  assert(op_.kind != OpKind::kReadAll || buffer_.empty());
  assert(op_.kind == OpKind::kReadAll || !op_.collected);
  // readline_view()'s clean prefix lies within what was fed.
  assert(view_clean_end_ <= bytes_fed_);
  // A waiting read has resumed reading (only a feed can pause it again, and
  // the feed's attempt resumes when the read keeps waiting).
  assert(op_.kind == OpKind::kNone || !paused_);
  assert(bytes_discarded_ <= bytes_fed_);
#endif
}

}  // namespace sluice
