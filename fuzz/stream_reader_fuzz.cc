// Invariant: for any limit, byte stream, chunking and sequence of reads
// (every kind, several separators, EOF, connection errors, cancellation), the
// StreamReader gives exactly the results of a literal model of CPython 3.13's
// algorithm, and after every step:
//   - bytes handed out + buffered + discarded + held by a pending read(-1)
//     == bytes fed;
//   - buffered bytes and the pause flag equal the model's; if more than
//     2*limit is buffered after a feed, reading is paused or a read waits;
//   - a readuntil/readline result ends with a separator and contains no
//     earlier separator end;
//   - check_invariants() holds.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream_reader.h"
#include "fuzz/fuzz_input.h"

namespace {

using sluice::LimitOverrunKind;
using sluice::ReadPoll;
using sluice::ReadResult;
using sluice::StreamErrc;
using sluice::StreamError;

#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

// CPython 3.13's StreamReader, transcribed as plainly as possible: a string
// buffer, find() from asyncio's offset, one waiter.
class Model {
 public:
  enum class Kind { kNone, kRead, kReadAll, kReadExactly, kReadUntil, kReadLine };
  struct Op {
    Kind kind = Kind::kNone;
    std::size_t n = 0;
    std::vector<std::string> seps;  // sorted by length, stable
    std::size_t offset = 0;
    std::string collected;
  };

  explicit Model(std::size_t limit) : limit_(limit) {}

  std::string buf;
  bool eof = false;
  bool paused = false;
  bool has_exc = false;
  std::uint64_t discarded = 0;

  bool pending() const { return op_.kind != Kind::kNone; }

  ReadPoll feed(const std::string& data) {
    if (data.empty()) return std::nullopt;
    buf += data;
    if (!paused && buf.size() > 2 * limit_) paused = true;
    return advance();
  }
  ReadPoll feed_eof() {
    eof = true;
    return advance();
  }
  ReadPoll set_exception() {
    has_exc = true;
    if (!pending()) return std::nullopt;
    discarded += op_.collected.size();
    op_ = Op{};
    return ReadResult(exc());
  }
  void cancel() {
    if (op_.kind == Kind::kReadAll) buf = op_.collected + buf;
    op_ = Op{};
  }

  // What `op` gives if tried now, without ever becoming the pending read.
  ReadPoll try_now(Op op) {
    if (has_exc) return ReadResult(exc());
    if (pending()) return ReadResult(StreamError::concurrent_read("x"));
    return attempt(op);
  }

  ReadPoll start(Op op) {
    if (has_exc) return ReadResult(exc());
    ReadPoll r = attempt(op);
    if (r) return r;
    if (pending()) {
      discarded += op.collected.size();
      return ReadResult(StreamError::concurrent_read("x"));
    }
    op_ = std::move(op);
    paused = false;
    return std::nullopt;
  }

  static StreamError exc() { return StreamError::connection(std::make_error_code(std::errc::connection_reset)); }

 private:

  void maybe_resume() {
    if (paused && buf.size() <= limit_) paused = false;
  }
  std::string take(std::size_t n) {
    std::string out = buf.substr(0, n);
    buf.erase(0, n);
    return out;
  }

  ReadPoll advance() {
    if (!pending()) return std::nullopt;
    ReadPoll r = attempt(op_);
    if (r) {
      op_ = Op{};
      return r;
    }
    paused = false;
    return std::nullopt;
  }

  ReadPoll attempt(Op& op) {
    switch (op.kind) {
      case Kind::kRead:
        if (buf.empty() && !eof) return std::nullopt;
        {
          std::string d = take(std::min(op.n, buf.size()));
          maybe_resume();
          return ReadResult(d);
        }
      case Kind::kReadAll:
        while (!buf.empty()) {
          op.collected += take(std::min(limit_, buf.size()));
          maybe_resume();
        }
        if (!eof) return std::nullopt;
        maybe_resume();
        return ReadResult(op.collected);
      case Kind::kReadExactly:
        if (buf.size() >= op.n) {
          std::string d = take(op.n);
          maybe_resume();
          return ReadResult(d);
        }
        if (!eof) return std::nullopt;
        return ReadResult(StreamError::incomplete_read(take(buf.size()), op.n));
      case Kind::kReadUntil:
        return until(op);
      case Kind::kReadLine: {
        ReadPoll r = until(op);
        if (!r || r->ok()) return r;
        StreamError e = r->error();
        if (e.code == StreamErrc::kIncompleteRead) return ReadResult(e.partial);
        std::size_t before = buf.size();
        if (e.consumed < buf.size() && buf[e.consumed] == '\n') {
          buf.erase(0, e.consumed + 1);
        } else {
          buf.clear();
        }
        discarded += before - buf.size();
        maybe_resume();
        return r;
      }
      case Kind::kNone:
        break;
    }
    std::abort();
  }

  ReadPoll until(Op& op) {
    const std::size_t min = op.seps.front().size(), max = op.seps.back().size();
    const std::size_t buflen = buf.size();
    if (static_cast<std::int64_t>(buflen) - static_cast<std::int64_t>(op.offset) >=
        static_cast<std::int64_t>(min)) {
      std::optional<std::size_t> start, end;
      for (const std::string& sep : op.seps) {
        std::size_t i = buf.find(sep, op.offset);
        if (i != std::string::npos && (!end || i + sep.size() < *end)) {
          start = i;
          end = i + sep.size();
        }
      }
      if (end) {
        if (*start > limit_) {
          return ReadResult(StreamError::limit_overrun(LimitOverrunKind::kSeparatorFound, *start));
        }
        std::string chunk = take(*end);
        maybe_resume();
        return ReadResult(chunk);
      }
      op.offset = buflen + 1 > max ? buflen + 1 - max : 0;
      if (op.offset > limit_) {
        return ReadResult(StreamError::limit_overrun(LimitOverrunKind::kSeparatorNotFound, op.offset));
      }
    }
    if (eof) return ReadResult(StreamError::incomplete_read(take(buflen), std::nullopt));
    return std::nullopt;
  }

  std::size_t limit_;
  Op op_;
};

bool same(const ReadPoll& a, const ReadPoll& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  if (a->ok() != b->ok()) return false;
  if (a->ok()) return **a == **b;
  const StreamError& x = a->error();
  const StreamError& y = b->error();
  if (x.code != y.code) return false;
  switch (x.code) {
    case StreamErrc::kIncompleteRead:
      return x.partial == y.partial && x.expected == y.expected;
    case StreamErrc::kLimitOverrun:
      return x.consumed == y.consumed && x.overrun == y.overrun;
    default:
      return true;
  }
}

std::size_t handed_out(const ReadPoll& r) {
  if (!r) return 0;
  if (r->ok()) return (*r)->size();
  return r->error().code == StreamErrc::kIncompleteRead ? r->error().partial.size() : 0;
}

// A readuntil result must end at the earliest end of any separator in it.
void check_until_result(const ReadPoll& r, const std::vector<std::string>& seps) {
  if (!r || !r->ok()) return;
  const std::string& data = **r;
  std::size_t earliest = std::string::npos;
  for (const std::string& s : seps) {
    std::size_t i = data.find(s);
    if (i != std::string::npos) earliest = std::min(earliest, i + s.size());
  }
  FUZZ_CHECK(earliest == data.size());
}

// A readline result holds at most one newline, at its end.
void check_line_result(const ReadPoll& r) {
  if (!r || !r->ok()) return;
  const std::string& data = **r;
  const std::size_t i = data.find('\n');
  FUZZ_CHECK(i == std::string::npos || i + 1 == data.size());
}

std::string stream_bytes(sluice::fuzz::FuzzInput& in, std::size_t max_len) {
  // Often bytes from a tiny alphabet, so separators actually occur.
  const bool small_alphabet = in.byte() & 1;
  std::string raw = in.bytes(max_len);
  if (small_alphabet) {
    for (char& c : raw) c = "ab\n\rx"[static_cast<unsigned char>(c) % 5];
  }
  return raw;
}

std::vector<std::string> separators(sluice::fuzz::FuzzInput& in) {
  std::vector<std::string> seps(in.range(1, 3));
  for (std::string& s : seps) {
    s.resize(in.range(1, 4));
    for (char& c : s) c = "ab\n\r"[in.range(0, 3)];
  }
  return seps;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::FuzzInput in(data, size);
  const std::size_t limit = in.byte() & 0x80 ? in.range(1, 70000) : in.range(1, 16);
  sluice::StreamReader reader(limit);
  Model model(limit);
  std::uint64_t out = 0;

  // asyncio's pending readuntil keeps its numeric offset when a second read
  // consumes under it, and can then skip a separator: no shape check then.
  bool disturbed = false;
  bool after_view = false;
  // SLUICE_FUZZ_TRACE=1 prints each step (to minimise and explain a crash).
  const bool trace = std::getenv("SLUICE_FUZZ_TRACE") != nullptr;
  auto show = [](const ReadPoll& r) -> std::string {
    if (!r) return "pending";
    if (r->ok()) return "data[" + **r + "]";
    const StreamError& e = r->error();
    return "error " + std::to_string(static_cast<int>(e.code)) + " partial[" + e.partial +
           "] consumed=" + std::to_string(e.consumed);
  };
  auto check = [&](const ReadPoll& mine, const ReadPoll& want) {
    if (trace) {
      std::fprintf(stderr, "  mine=%s want=%s buffered=[%s] model=[%s]\n", show(mine).c_str(),
                   show(want).c_str(), std::string(reader.buffered()).c_str(), model.buf.c_str());
    }
    FUZZ_CHECK(same(mine, want));
    if (!reader.has_pending_read()) disturbed = false;
    if (reader.has_pending_read() && mine) disturbed = true;
    out += handed_out(mine);
    reader.check_invariants();
    FUZZ_CHECK(reader.buffered() == model.buf);
    FUZZ_CHECK(reader.reading_paused() == model.paused);
    FUZZ_CHECK(reader.has_pending_read() == model.pending());
    FUZZ_CHECK(reader.at_eof() == (model.eof && model.buf.empty()));
    FUZZ_CHECK(reader.bytes_fed() == out + reader.buffered_size() + reader.bytes_discarded() +
                                         reader.bytes_held_by_pending_read());
    FUZZ_CHECK(reader.bytes_discarded() == model.discarded);
    // Idle holds no buffer, except that readline_view() keeps an emptied
    // buffer's memory (its view's) until the next call.
    FUZZ_CHECK(reader.buffered_size() > 0 ? reader.buffer_capacity() > 0
                                          : reader.buffer_capacity() == 0 || after_view);
  };

  // What the pending read is, to check its completion's shape.
  enum class Pending { kOther, kLine, kUntil } pending = Pending::kOther;

  std::vector<std::string> pending_seps;
  for (int steps = 0; steps < 200 && !in.empty(); ++steps) {
    const std::size_t action = in.range(0, 12);
    after_view = action == 12;
    if (trace) std::fprintf(stderr, "step %d: action %zu (limit %zu)\n", steps, action, limit);
    switch (action) {
      case 0:
      case 1:
      case 2: {
        if (reader.eof_received()) break;
        std::string chunk = stream_bytes(in, limit > 16 ? 4096 : 24);
        ReadPoll mine = reader.feed_data(chunk);
        ReadPoll want = model.feed(chunk);
        if (pending == Pending::kLine && !disturbed) check_line_result(mine);
        if (pending == Pending::kUntil && !disturbed) check_until_result(mine, pending_seps);
        check(mine, want);
        // (An empty feed changes nothing, as in asyncio, so only a real one
        // must leave an over-full buffer paused or feeding a waiting read.)
        FUZZ_CHECK(chunk.empty() || reader.buffered_size() <= 2 * limit ||
                   reader.reading_paused() || reader.has_pending_read());
        break;
      }
      case 3: {
        if (reader.eof_received()) break;
        std::string chunk = stream_bytes(in, 64);
        std::span<char> room = reader.prepare(chunk.size());
        FUZZ_CHECK(room.size() >= chunk.size());
        std::copy(chunk.begin(), chunk.end(), room.begin());
        ReadPoll mine = reader.commit(chunk.size());
        ReadPoll want = model.feed(chunk);
        check(mine, want);
        break;
      }
      case 4: {
        ReadPoll mine = reader.feed_eof();
        check(mine, model.feed_eof());
        break;
      }
      case 5: {
        if (in.range(0, 7) != 0) break;  // rare
        ReadPoll mine = reader.set_exception(std::make_error_code(std::errc::connection_reset));
        check(mine, model.set_exception());
        break;
      }
      case 6: {
        const std::int64_t n = static_cast<std::int64_t>(in.range(0, 40)) - 2;
        Model::Op op;
        if (n < 0) {
          op.kind = Model::Kind::kReadAll;
        } else if (n > 0) {
          op.kind = Model::Kind::kRead;
          op.n = static_cast<std::size_t>(n);
        }
        ReadPoll mine = reader.read(n);
        if (!mine) pending = Pending::kOther;
        ReadPoll want = n != 0        ? model.start(op)
                        : model.has_exc ? ReadPoll(ReadResult(Model::exc()))
                                        : ReadPoll(ReadResult(std::string()));
        check(mine, want);
        break;
      }
      case 7: {
        const std::int64_t n = static_cast<std::int64_t>(in.range(0, 80)) - 1;
        ReadPoll mine = reader.readexactly(n);
        if (!mine) pending = Pending::kOther;
        ReadPoll want;
        if (n < 0) {
          want = ReadResult(StreamError::invalid_argument(""));
        } else if (n == 0) {
          want = model.has_exc ? ReadPoll(ReadResult(Model::exc())) : ReadPoll(ReadResult(std::string()));
        } else {
          want = model.start(Model::Op{Model::Kind::kReadExactly, static_cast<std::size_t>(n), {}, 0, {}});
        }
        check(mine, want);
        break;
      }
      case 8:
      case 9: {
        ReadPoll mine = reader.readline();
        ReadPoll want = model.start(Model::Op{Model::Kind::kReadLine, 0, {"\n"}, 0, {}});
        check_line_result(mine);
        if (!mine) pending = Pending::kLine;
        check(mine, want);
        break;
      }
      case 10: {
        std::vector<std::string> seps = separators(in);
        std::vector<std::string_view> views(seps.begin(), seps.end());
        if (trace) {
          for (const std::string& sep : seps) std::fprintf(stderr, "  sep [%s]\n", sep.c_str());
        }
        ReadPoll mine = reader.readuntil(std::span<const std::string_view>(views));
        std::stable_sort(seps.begin(), seps.end(),
                         [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
        ReadPoll want = model.start(Model::Op{Model::Kind::kReadUntil, 0, seps, 0, {}});
        check_until_result(mine, seps);
        if (!mine) {
          pending = Pending::kUntil;
          pending_seps = seps;
        }
        check(mine, want);
        break;
      }
      case 11: {
        reader.cancel_pending_read();
        model.cancel();
        check(std::nullopt, std::nullopt);
        break;
      }
      case 12: {
        // readline_view never waits: it equals a readline that completes at
        // once, and otherwise changes nothing.
        std::optional<sluice::Result<std::string_view>> view = reader.readline_view();
        ReadPoll mine;
        if (view) mine = view->ok() ? ReadResult(std::string(**view)) : ReadResult(view->error());
        ReadPoll want = model.try_now(Model::Op{Model::Kind::kReadLine, 0, {"\n"}, 0, {}});
        check_line_result(mine);
        check(mine, want);
        break;
      }
    }
  }
  return 0;
}
