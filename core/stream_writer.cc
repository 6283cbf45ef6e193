#include "core/stream_writer.h"

#include <cassert>
#include <utility>

namespace sluice {

namespace {

// asyncio's _drain_helper raises ConnectionResetError('Connection lost')
// once the protocol saw connection_lost; this is that error as a value.
StreamError connection_lost_error() {
  return StreamError::connection(std::make_error_code(std::errc::connection_reset),
                                 "Connection lost");
}

// Results are built in place: moving a temporary Status (a std::variant)
// into an optional trips GCC 12's -Wmaybe-uninitialized at -O1 (a known
// false positive).
StatusPoll completed(StreamError error) { return StatusPoll(std::in_place, std::move(error)); }
StatusPoll completed_ok() { return StatusPoll(std::in_place, Ok{}); }

}  // namespace

std::string_view to_string(WriterState state) {
  switch (state) {
    case WriterState::kOpen:
      return "kOpen";
    case WriterState::kEofQueued:
      return "kEofQueued";
    case WriterState::kEofSent:
      return "kEofSent";
    case WriterState::kClosing:
      return "kClosing";
    case WriterState::kAborting:
      return "kAborting";
    case WriterState::kClosed:
      return "kClosed";
  }
  return "?";
}

std::string_view to_string(WriteAction action) {
  switch (action) {
    case WriteAction::kNone:
      return "kNone";
    case WriteAction::kSend:
      return "kSend";
    case WriteAction::kShutdownWrite:
      return "kShutdownWrite";
    case WriteAction::kClose:
      return "kClose";
    case WriteAction::kAbort:
      return "kAbort";
  }
  return "?";
}

// ---- User side ---------------------------------------------------------------

bool StreamWriter::dropping() const { return is_closing(); }

Status StreamWriter::write(std::string_view data) {
  // asyncio's order: the write_eof check comes before the empty and closed
  // checks.
  if (eof_called_) return StreamError::write_after_eof();
  if (data.empty()) return Ok{};
  if (dropping()) {
    ++writes_dropped_;
    return Ok{};
  }
  queue_.append(data);
  bytes_accepted_ += data.size();
  maybe_pause();
  return Ok{};
}

Status StreamWriter::write(std::string&& data) {
  if (eof_called_) return StreamError::write_after_eof();
  if (data.empty()) return Ok{};
  if (dropping()) {
    ++writes_dropped_;
    return Ok{};
  }
  bytes_accepted_ += data.size();
  queue_.append(std::move(data));
  maybe_pause();
  return Ok{};
}

Status StreamWriter::writelines(std::span<const std::string_view> pieces) {
  if (eof_called_) return StreamError::write_after_eof();
  for (std::string_view piece : pieces) {
    Status s = write(piece);
    assert(s.ok());  // only write_eof can fail a write, checked above
    (void)s;
  }
  return Ok{};
}

Status StreamWriter::write_eof() {
  if (!can_write_eof_) {
    return StreamError::not_supported("write_eof() is not supported by this transport");
  }
  if (state_ != WriterState::kOpen) return Ok{};  // closing, or already called
  eof_called_ = true;
  state_ = WriterState::kEofQueued;
  return Ok{};
}

void StreamWriter::close() {
  switch (state_) {
    case WriterState::kOpen:
    case WriterState::kEofQueued:  // close() sends the FIN anyway
    case WriterState::kEofSent:
      state_ = WriterState::kClosing;
      break;
    case WriterState::kClosing:
    case WriterState::kAborting:
    case WriterState::kClosed:
      break;
  }
}

void StreamWriter::abort() {
  if (state_ == WriterState::kAborting || state_ == WriterState::kClosed) return;
  bytes_dropped_ += queue_.clear();
  state_ = WriterState::kAborting;
}

StatusPoll StreamWriter::drain() {
  // (1) asyncio checks the reader's exception, which connection_lost(exc)
  // set; (2) then _drain_helper's "Connection lost".
  if (failure_) return completed(*failure_);
  if (state_ == WriterState::kClosed) return completed(connection_lost_error());
  // (3) closing: asyncio's one yield, modelled as "wait for the loss" (see
  // the header); (4)/(5) the paused check.
  if (paused_ || is_closing()) {
    drain_waiting_ = true;
    return std::nullopt;
  }
  return completed_ok();
}

StatusPoll StreamWriter::wait_closed() {
  if (state_ == WriterState::kClosed) {
    if (failure_) return completed(*failure_);
    return completed_ok();
  }
  closed_waiting_ = true;
  return std::nullopt;
}

Status StreamWriter::set_write_buffer_limits(std::optional<std::int64_t> high,
                                             std::optional<std::int64_t> low) {
  std::int64_t h = 0;
  if (high) {
    h = *high;
  } else if (low) {
    h = 4 * *low;
  } else {
    h = static_cast<std::int64_t>(kDefaultHighWater);
  }
  const std::int64_t l = low ? *low : h / 4;
  if (!(h >= l && l >= 0)) {
    return StreamError::invalid_argument("high must be >= low must be >= 0");
  }
  limits_ = WriteBufferLimits{static_cast<std::size_t>(l), static_cast<std::size_t>(h)};
  maybe_pause();
  return Ok{};
}

void StreamWriter::maybe_pause() {
  if (!paused_ && queue_.size() > limits_.high) paused_ = true;
}

// ---- Driver side -------------------------------------------------------------

WriteAction StreamWriter::action() const {
  switch (state_) {
    case WriterState::kOpen:
      return queue_.empty() ? WriteAction::kNone : WriteAction::kSend;
    case WriterState::kEofQueued:
      return queue_.empty() ? WriteAction::kShutdownWrite : WriteAction::kSend;
    case WriterState::kEofSent:
      return WriteAction::kNone;
    case WriterState::kClosing:
      return queue_.empty() ? WriteAction::kClose : WriteAction::kSend;
    case WriterState::kAborting:
      return WriteAction::kAbort;
    case WriterState::kClosed:
      return WriteAction::kNone;
  }
  return WriteAction::kNone;
}

WriterRelease StreamWriter::bytes_sent(std::size_t n) {
  assert(n <= queue_.size());
  assert(state_ != WriterState::kAborting && state_ != WriterState::kClosed);
  if (n > queue_.size()) n = queue_.size();
  queue_.consume(n);
  bytes_sent_ += n;
  WriterRelease release;
  // asyncio's _maybe_resume_protocol, after every send.
  if (paused_ && queue_.size() <= limits_.low) {
    paused_ = false;
    if (drain_waiting_) {
      drain_waiting_ = false;
      release.drain.emplace(Ok{});
    }
  }
  return release;
}

void StreamWriter::eof_sent() {
  assert(state_ == WriterState::kEofQueued && queue_.empty());
  if (state_ == WriterState::kEofQueued) state_ = WriterState::kEofSent;
}

WriterRelease StreamWriter::connection_lost(std::error_code error) {
  if (!error) return lose(nullptr);
  const StreamError failure = StreamError::connection(error);
  return lose(&failure);
}

WriterRelease StreamWriter::connection_lost(const StreamError& failure) { return lose(&failure); }

std::optional<std::error_code> StreamWriter::lost_error() const {
  if (!failure_) return std::nullopt;
  return failure_->code == StreamErrc::kConnectionError ? failure_->connection_error
                                                        : make_error_code(failure_->code);
}

WriterRelease StreamWriter::lose(const StreamError* failure) {
  WriterRelease release;
  assert(state_ != WriterState::kClosed);
  if (state_ == WriterState::kClosed) return release;
  bytes_dropped_ += queue_.clear();
  state_ = WriterState::kClosed;
  if (failure != nullptr) failure_.set(*failure);
  if (drain_waiting_) {
    drain_waiting_ = false;
    if (failure_) {
      release.drain.emplace(*failure_);
    } else if (paused_) {
      release.drain.emplace(Ok{});  // FlowControlMixin: paused waiters return
    } else {
      release.drain.emplace(connection_lost_error());  // waited in "the one yield"
    }
  }
  if (closed_waiting_) {
    closed_waiting_ = false;
    if (failure_) {
      release.closed.emplace(*failure_);
    } else {
      release.closed.emplace(Ok{});
    }
  }
  return release;
}

void StreamWriter::check_invariants() const {
#ifndef NDEBUG
  queue_.check_invariants();
  assert(limits_.low <= limits_.high);
  assert(bytes_accepted_ == bytes_sent_ + bytes_dropped_ + queue_.size());
  switch (state_) {
    case WriterState::kOpen:
      assert(!eof_called_);
      break;
    case WriterState::kEofQueued:
      assert(eof_called_);
      break;
    case WriterState::kEofSent:
      assert(eof_called_ && queue_.empty());
      break;
    case WriterState::kClosing:
      break;
    case WriterState::kAborting:
    case WriterState::kClosed:
      assert(queue_.empty());
      break;
  }
  if (state_ != WriterState::kAborting && state_ != WriterState::kClosed && paused_) {
    assert(!queue_.empty());
  }
  if (state_ != WriterState::kClosed) assert(!failure_);
  if (state_ == WriterState::kClosed) assert(!drain_waiting_ && !closed_waiting_);
  if (drain_waiting_) assert(paused_ || is_closing());
#endif
}

}  // namespace sluice
