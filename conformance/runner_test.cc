// Tests of the runner and the output format, with a scripted fake backend
// (core_replay_test.cc runs the same runner on the real core).

#include "conformance/runner.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conformance/vector.h"
#include "core/result.h"
#include "core/stream_error.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

using Lines = std::vector<std::string>;

// A backend that records the calls it gets and, on each call, reports the
// completions scripted for that call (in call order).
class FakeBackend final : public ReplayBackend {
 public:
  std::optional<StreamError> open_error;
  std::deque<std::vector<Completion>> script;  // one entry per non-open call
  std::vector<std::string> calls;
  bool eof = false;

  Status open(std::int64_t limit) override {
    calls.push_back("open " + std::to_string(limit));
    if (open_error) return *open_error;
    return Ok{};
  }
  void feed(std::string_view bytes, std::vector<Completion>& done) override {
    calls.push_back("feed " + std::string(bytes));
    play(done);
  }
  void feed_eof(std::vector<Completion>& done) override {
    calls.push_back("feed_eof");
    play(done);
  }
  void set_exception(std::vector<Completion>& done) override {
    calls.push_back("set_exception");
    play(done);
  }
  void start_read(std::size_t i, const Op& op, std::vector<Completion>& done) override {
    calls.push_back("start_read " + std::to_string(i) + " " + std::string(op_name(op.kind)));
    play(done);
  }
  bool at_eof() override {
    calls.push_back("at_eof");
    return eof;
  }

 private:
  void play(std::vector<Completion>& done) {
    if (script.empty()) return;
    for (Completion& c : script.front()) done.push_back(std::move(c));
    script.pop_front();
  }
};

Op op_of(OpKind kind, std::int64_t n = 0) {
  Op op;
  op.kind = kind;
  op.n = n;
  return op;
}

Completion data(std::size_t i, std::string bytes) { return Completion{i, std::move(bytes)}; }
Completion failure(std::size_t i, StreamError e) { return Completion{i, std::move(e)}; }

TEST(RunnerTest, OpensWithTheConfigLimitAndSkipsTheConfigLine) {
  FakeBackend backend;
  Vector v{{op_of(OpKind::kConfig, 7), op_of(OpKind::kFeedEof)}};
  EXPECT_EQ(run_vector(v, backend), Lines{});
  EXPECT_EQ(backend.calls, (Lines{"open 7", "feed_eof"}));
}

TEST(RunnerTest, OpensWithTheDefaultLimitWithoutConfig) {
  FakeBackend backend;
  Vector v{{op_of(OpKind::kFeedEof)}};
  (void)run_vector(v, backend);
  EXPECT_EQ(backend.calls.at(0), "open 65536");
}

TEST(RunnerTest, OpenFailureIsTheAnswerForLineZeroAndEndsTheVector) {
  FakeBackend backend;
  backend.open_error = StreamError::invalid_argument("Limit cannot be <= 0");
  Vector v{{op_of(OpKind::kConfig, 0), op_of(OpKind::kAtEof)}};
  EXPECT_EQ(run_vector(v, backend), Lines{R"({"i":0,"error":"invalid_argument"})"});
  EXPECT_EQ(backend.calls, Lines{"open 0"});
}

TEST(RunnerTest, PassesFeedBytes) {
  FakeBackend backend;
  Op feed = op_of(OpKind::kFeed);
  feed.data = "hi";
  (void)run_vector(Vector{{feed}}, backend);
  EXPECT_EQ(backend.calls, (Lines{"open 65536", "feed hi"}));
}

TEST(RunnerTest, PrintsAtEofAsBool) {
  FakeBackend backend;
  backend.eof = true;
  EXPECT_EQ(run_vector(Vector{{op_of(OpKind::kAtEof)}}, backend),
            Lines{R"({"i":0,"bool":true})"});
  FakeBackend not_eof;
  EXPECT_EQ(run_vector(Vector{{op_of(OpKind::kAtEof)}}, not_eof),
            Lines{R"({"i":0,"bool":false})"});
}

TEST(RunnerTest, PrintsAReadThatCompletesAtOnce) {
  FakeBackend backend;
  backend.script = {{data(0, "hi")}};
  EXPECT_EQ(run_vector(Vector{{op_of(OpKind::kRead, 2)}}, backend),
            Lines{R"({"i":0,"hex":"6869"})"});
  EXPECT_EQ(backend.calls.at(1), "start_read 0 read");
}

TEST(RunnerTest, PrintsEmptyDataAsEmptyHex) {
  FakeBackend backend;
  backend.script = {{data(0, "")}};
  EXPECT_EQ(run_vector(Vector{{op_of(OpKind::kRead, 0)}}, backend),
            Lines{R"({"i":0,"hex":""})"});
}

TEST(RunnerTest, PrintsCompletionsInTheOrderTheyBecomeAvailable) {
  FakeBackend backend;
  // Line 0 waits, line 1 completes at once, line 2 (a feed) completes line 0.
  backend.script = {{}, {data(1, "")}, {data(0, "x")}};
  Op feed = op_of(OpKind::kFeed);
  feed.data = "x";
  Vector v{{op_of(OpKind::kReadline), op_of(OpKind::kRead, 0), feed}};
  EXPECT_EQ(run_vector(v, backend), (Lines{R"({"i":1,"hex":""})", R"({"i":0,"hex":"78"})"}));
}

TEST(RunnerTest, PrintsPendingReadsAfterTheLastLineInLineOrder) {
  FakeBackend backend;
  backend.script = {{}, {failure(1, StreamError::concurrent_read("read"))}, {}};
  Vector v{{op_of(OpKind::kReadline), op_of(OpKind::kRead, 1), op_of(OpKind::kReadexactly, 3)}};
  EXPECT_EQ(run_vector(v, backend),
            (Lines{R"({"i":1,"error":"concurrent_read"})", R"({"i":0,"pending":true})",
                   R"({"i":2,"pending":true})"}));
}

TEST(RunnerTest, FlagsACompletionForALineThatIsNotWaiting) {
  FakeBackend backend;
  backend.script = {{data(0, "")}, {data(0, "again")}};
  Vector v{{op_of(OpKind::kRead, 0), op_of(OpKind::kFeedEof)}};
  EXPECT_EQ(run_vector(v, backend),
            (Lines{R"({"i":0,"hex":""})",
                   R"({"i":0,"error":"backend_bug_unexpected_completion"})"}));
}

// ---- format_result ----------------------------------------------------------

TEST(FormatResultTest, DataIsLowerCaseHex) {
  EXPECT_EQ(format_result(3, OpKind::kRead, std::string("\x00\xff", 2)),
            R"({"i":3,"hex":"00ff"})");
}

TEST(FormatResultTest, IncompleteReadWithExpected) {
  EXPECT_EQ(format_result(4, OpKind::kReadexactly, StreamError::incomplete_read("hi", 4)),
            R"({"i":4,"error":"incomplete_read","partial":"6869","expected":4})");
}

TEST(FormatResultTest, IncompleteReadWithoutExpectedIsNull) {
  EXPECT_EQ(format_result(5, OpKind::kReaduntil, StreamError::incomplete_read("", std::nullopt)),
            R"({"i":5,"error":"incomplete_read","partial":"","expected":null})");
}

TEST(FormatResultTest, ReaduntilLimitOverrunCarriesConsumed) {
  EXPECT_EQ(format_result(6, OpKind::kReaduntil,
                          StreamError::limit_overrun(LimitOverrunKind::kSeparatorFound, 12)),
            R"({"i":6,"error":"limit_overrun","consumed":12})");
}

TEST(FormatResultTest, ReadlineLimitOverrunHasNoConsumed) {
  EXPECT_EQ(format_result(7, OpKind::kReadline,
                          StreamError::limit_overrun(LimitOverrunKind::kSeparatorNotFound, 12)),
            R"({"i":7,"error":"limit_overrun"})");
}

TEST(FormatResultTest, InvalidArgument) {
  EXPECT_EQ(format_result(8, OpKind::kReadexactly, StreamError::invalid_argument("n")),
            R"({"i":8,"error":"invalid_argument"})");
}

TEST(FormatResultTest, ConnectionError) {
  EXPECT_EQ(format_result(9, OpKind::kRead,
                          StreamError::connection(std::make_error_code(std::errc::connection_reset))),
            R"({"i":9,"error":"connection_error"})");
}

TEST(FormatResultTest, ConcurrentRead) {
  EXPECT_EQ(format_result(10, OpKind::kReadline, StreamError::concurrent_read("readline")),
            R"({"i":10,"error":"concurrent_read"})");
}

}  // namespace
}  // namespace sluice::conformance
