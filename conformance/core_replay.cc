#include "conformance/core_replay.h"

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "conformance/runner.h"
#include "conformance/vector.h"
#include "core/result.h"
#include "core/stream_reader.h"

namespace sluice::conformance {

Status CoreReplayBackend::open(std::int64_t limit) {
  Result<StreamReader> reader = StreamReader::create(limit);
  if (!reader.ok()) return std::move(reader).error();
  reader_.emplace(std::move(reader).value());
  pending_.reset();
  return Ok{};
}

void CoreReplayBackend::deliver(ReadPoll poll, std::vector<Completion>& done) {
  if (!poll) return;
  assert(pending_.has_value());
  if (!pending_) return;
  done.push_back(Completion{*pending_, std::move(*poll)});
  pending_.reset();
}

void CoreReplayBackend::feed(std::string_view bytes, std::vector<Completion>& done) {
  assert(reader_);
  deliver(reader_->feed_data(bytes), done);
}

void CoreReplayBackend::feed_eof(std::vector<Completion>& done) {
  assert(reader_);
  deliver(reader_->feed_eof(), done);
}

void CoreReplayBackend::set_exception(std::vector<Completion>& done) {
  assert(reader_);
  deliver(reader_->set_exception(std::make_error_code(std::errc::connection_reset)), done);
}

void CoreReplayBackend::start_read(std::size_t i, const Op& op, std::vector<Completion>& done) {
  assert(reader_);
  ReadPoll poll;
  switch (op.kind) {
    case OpKind::kRead:
      poll = reader_->read(op.n);
      break;
    case OpKind::kReadline:
      poll = reader_->readline();
      break;
    case OpKind::kReadexactly:
      poll = reader_->readexactly(op.n);
      break;
    case OpKind::kReaduntil:
      if (op.separator_list) {
        std::vector<std::string_view> seps(op.separators.begin(), op.separators.end());
        poll = reader_->readuntil(std::span<const std::string_view>(seps));
      } else {
        // parse_vector gives exactly one; an Op built by hand without one
        // asks for the empty separator (invalid_argument).
        poll = reader_->readuntil(op.separators.empty() ? std::string_view()
                                                        : std::string_view(op.separators[0]));
      }
      break;
    default:
      assert(false && "start_read: not a read op");
      return;
  }
  if (poll) {
    done.push_back(Completion{i, std::move(*poll)});
    return;
  }
  // The core fails a second waiting read with kConcurrentRead, so a read
  // that waits is the only pending one.
  assert(!pending_.has_value());
  pending_ = i;
}

bool CoreReplayBackend::at_eof() {
  assert(reader_);
  return reader_->at_eof();
}

std::vector<std::string> replay_on_core(const Vector& vector) {
  CoreReplayBackend backend;
  return run_vector(vector, backend);
}

}  // namespace sluice::conformance
