// File: core/stream_reader_test.cc
//
// Unit tests of StreamReader, only through its public API (core/stream_reader.h).
// The expected values come from asyncio's behaviour as written down in
// shared/reference/asyncio-streams-spec.md section 1 and from the reader
// tests of CPython's Lib/test/test_asyncio/test_streams.py (spec section 6,
// groups B-F). Each test checks one behaviour and is named after it.
//
// Conventions: a read either completes at once or is pending; whatever later
// completes it (feed_data, commit, feed_eof, set_exception) returns the
// completion. The helpers below (IsBytes, IsPending, IsOverrun, ...) check a
// ReadPoll and say what was actually returned when they fail.

#include "core/stream_reader.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "gtest/gtest.h"

namespace sluice {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

constexpr LimitOverrunKind kFound = LimitOverrunKind::kSeparatorFound;
constexpr LimitOverrunKind kNotFound = LimitOverrunKind::kSeparatorNotFound;

// test_streams.py's DATA (18 bytes).
constexpr std::string_view kData = "line1\nline2\nline3\n";

std::error_code Reset() { return std::make_error_code(std::errc::connection_reset); }
std::error_code BrokenPipe() { return std::make_error_code(std::errc::broken_pipe); }

// ---- Describing results (for failure messages and outcome comparisons). ----

std::string Quote(std::string_view s) {
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : s) {
    if (shown++ == 64) {
      out += "...(" + std::to_string(s.size()) + " bytes)";
      break;
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default: {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(u));
          out += hex;
        } else {
          out += c;
        }
      }
    }
  }
  out += "\"";
  return out;
}

const char* CodeName(StreamErrc code) {
  switch (code) {
    case StreamErrc::kIncompleteRead: return "kIncompleteRead";
    case StreamErrc::kLimitOverrun: return "kLimitOverrun";
    case StreamErrc::kInvalidArgument: return "kInvalidArgument";
    case StreamErrc::kConcurrentRead: return "kConcurrentRead";
    case StreamErrc::kConnectionError: return "kConnectionError";
    case StreamErrc::kWriteAfterEof: return "kWriteAfterEof";
    case StreamErrc::kNotSupported: return "kNotSupported";
    case StreamErrc::kTlsError: return "kTlsError";
  }
  return "unknown StreamErrc";
}

std::string Describe(const StreamError& e) {
  std::string out = CodeName(e.code);
  switch (e.code) {
    case StreamErrc::kIncompleteRead:
      out += " partial=" + Quote(e.partial) +
             " expected=" + (e.expected ? std::to_string(*e.expected) : std::string("nullopt"));
      break;
    case StreamErrc::kLimitOverrun:
      out += std::string(e.overrun == kFound ? " found" : " not-found") +
             " consumed=" + std::to_string(e.consumed);
      break;
    case StreamErrc::kConnectionError:
      out += " cause=" + e.connection_error.message();
      break;
    default:
      break;
  }
  out += " message=" + Quote(e.message());
  return out;
}

std::string Describe(const ReadPoll& p) {
  if (!p) return "no completion";
  if (p->ok()) return "bytes " + Quote(p->value());
  return "error " + Describe(p->error());
}

// ---- ReadPoll predicates. ----

// The call completed nothing: a read is pending, or a feed completed no read.
AssertionResult IsPending(const ReadPoll& p) {
  if (!p) return AssertionSuccess();
  return AssertionFailure() << "expected no completion, got " << Describe(p);
}

// The call completed a read with exactly `bytes`.
AssertionResult IsBytes(const ReadPoll& p, std::string_view bytes) {
  if (p && p->ok() && p->value() == bytes) return AssertionSuccess();
  return AssertionFailure() << "expected bytes " << Quote(bytes) << ", got " << Describe(p);
}

// The call completed a read with an error of `code`.
AssertionResult IsError(const ReadPoll& p, StreamErrc code) {
  if (p && !p->ok() && p->error().code == code) return AssertionSuccess();
  return AssertionFailure() << "expected error " << CodeName(code) << ", got " << Describe(p);
}

// The call completed a read with kLimitOverrun{kind, consumed}.
AssertionResult IsOverrun(const ReadPoll& p, LimitOverrunKind kind, std::size_t consumed) {
  if (p && !p->ok() && p->error().code == StreamErrc::kLimitOverrun &&
      p->error().overrun == kind && p->error().consumed == consumed) {
    return AssertionSuccess();
  }
  return AssertionFailure() << "expected kLimitOverrun " << (kind == kFound ? "found" : "not-found")
                            << " consumed=" << consumed << ", got " << Describe(p);
}

// The call completed a read with kIncompleteRead{partial, expected}.
AssertionResult IsIncomplete(const ReadPoll& p, std::string_view partial,
                             std::optional<std::size_t> expected) {
  if (p && !p->ok() && p->error().code == StreamErrc::kIncompleteRead &&
      p->error().partial == partial && p->error().expected == expected) {
    return AssertionSuccess();
  }
  return AssertionFailure() << "expected kIncompleteRead partial=" << Quote(partial) << " expected="
                            << (expected ? std::to_string(*expected) : std::string("nullopt"))
                            << ", got " << Describe(p);
}

// The call completed a read with kConnectionError{cause}.
AssertionResult IsConnectionError(const ReadPoll& p, std::error_code cause) {
  if (p && !p->ok() && p->error().code == StreamErrc::kConnectionError &&
      p->error().connection_error == cause) {
    return AssertionSuccess();
  }
  return AssertionFailure() << "expected kConnectionError cause=" << cause.message() << ", got "
                            << Describe(p);
}

// The message of the error a completed read failed with ("" if none).
std::string MessageOf(const ReadPoll& p) {
  if (!p || p->ok()) return "";
  return p->error().message();
}

// Feeds through prepare()/commit() instead of feed_data().
ReadPoll CommitData(StreamReader& r, std::string_view data) {
  std::span<char> space = r.prepare(data.size());
  EXPECT_GE(space.size(), data.size());
  if (!data.empty()) std::memcpy(space.data(), data.data(), data.size());
  return r.commit(data.size());
}

// ============================================================================
// Construction
// ============================================================================

TEST(StreamReaderCreate, DefaultLimitIs64KiB) {
  StreamReader r;
  EXPECT_EQ(kDefaultLimit, 65536u);
  EXPECT_EQ(r.limit(), 65536u);
}

TEST(StreamReaderCreate, AcceptsPositiveLimit) {
  Result<StreamReader> r = StreamReader::create(7);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->limit(), 7u);
}

TEST(StreamReaderCreate, AcceptsLimitOfOne) {
  Result<StreamReader> r = StreamReader::create(1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->limit(), 1u);
}

TEST(StreamReaderCreate, RejectsZeroLimit) {
  Result<StreamReader> r = StreamReader::create(0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, StreamErrc::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "Limit cannot be <= 0");
}

TEST(StreamReaderCreate, RejectsNegativeLimit) {
  for (std::int64_t limit :
       {std::int64_t{-1}, std::int64_t{-65536}, std::numeric_limits<std::int64_t>::min()}) {
    Result<StreamReader> r = StreamReader::create(limit);
    ASSERT_FALSE(r.ok()) << "limit " << limit;
    EXPECT_EQ(r.error().code, StreamErrc::kInvalidArgument) << "limit " << limit;
    EXPECT_EQ(r.error().message(), "Limit cannot be <= 0") << "limit " << limit;
  }
}

TEST(StreamReaderCreate, CreatedReaderAppliesItsLimit) {
  Result<StreamReader> created = StreamReader::create(3);
  ASSERT_TRUE(created.ok());
  StreamReader r = std::move(created).value();
  EXPECT_TRUE(IsPending(r.feed_data("abcd\n")));
  EXPECT_TRUE(IsOverrun(r.readline(), kFound, 4));
}

TEST(StreamReaderCreate, NewReaderIsEmptyAndIdle) {
  StreamReader r;
  EXPECT_EQ(r.buffered(), "");
  EXPECT_EQ(r.buffered_size(), 0u);
  EXPECT_FALSE(r.eof_received());
  EXPECT_FALSE(r.at_eof());
  EXPECT_FALSE(r.has_pending_read());
  EXPECT_FALSE(r.reading_paused());
  EXPECT_FALSE(r.exception().has_value());
  EXPECT_EQ(r.bytes_fed(), 0u);
  EXPECT_EQ(r.bytes_discarded(), 0u);
  r.check_invariants();
}

TEST(StreamReaderCreate, MovedReaderKeepsItsState) {
  StreamReader a(5);
  EXPECT_TRUE(IsPending(a.feed_data("ab\ncd")));
  StreamReader b = std::move(a);
  EXPECT_EQ(b.limit(), 5u);
  EXPECT_EQ(b.buffered(), "ab\ncd");
  EXPECT_TRUE(IsBytes(b.readline(), "ab\n"));
}

// ============================================================================
// Feeding (test_feed_empty_data, test_feed_nonempty_data)
// ============================================================================

TEST(StreamReaderFeed, EmptyDataLeavesBufferEmpty) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("")));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_EQ(r.bytes_fed(), 0u);
}

TEST(StreamReaderFeed, NonemptyDataIsBuffered) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data(kData)));
  EXPECT_EQ(r.buffered(), kData);
  EXPECT_EQ(r.buffered_size(), kData.size());
}

TEST(StreamReaderFeed, ConsecutiveFeedsAppendInOrder) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.feed_data("def")));
  EXPECT_TRUE(IsPending(r.feed_data("g")));
  EXPECT_EQ(r.buffered(), "abcdefg");
  EXPECT_EQ(r.bytes_fed(), 7u);
}

TEST(StreamReaderFeed, EmptyDataDoesNotCompletePendingRead) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(5)));
  EXPECT_TRUE(IsPending(r.feed_data("")));
  EXPECT_TRUE(r.has_pending_read());
  EXPECT_TRUE(IsBytes(r.feed_data("x"), "x"));
}

TEST(StreamReaderFeed, FeedEofIsIdempotent) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("ab")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(r.eof_received());
  EXPECT_EQ(r.buffered(), "ab");
  EXPECT_TRUE(IsBytes(r.read(-1), "ab"));
  EXPECT_TRUE(r.at_eof());
}

TEST(StreamReaderFeed, DataFedAfterExceptionIsStillBuffered) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_EQ(r.buffered(), "abc");
  EXPECT_EQ(r.bytes_fed(), 3u);
}

TEST(StreamReaderFeed, DataFedAfterEofIsADriverBugThatDropsTheBytes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("ab")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  // Asserted in debug builds; in release builds the bytes are dropped and
  // counted as discarded.
  EXPECT_DEBUG_DEATH((void)r.feed_data("late"), "");
#ifdef NDEBUG
  EXPECT_EQ(r.buffered(), "ab");
  EXPECT_EQ(r.bytes_discarded(), 4u);
  EXPECT_EQ(r.bytes_fed(), 6u);
#endif
}

// ============================================================================
// read(n) (test_read_zero, test_read, test_read_line_breaks, test_read_eof,
// test_read_exception, test_read_limit)
// ============================================================================

TEST(StreamReaderRead, ZeroReturnsEmptyAndConsumesNothing) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data(kData)));
  EXPECT_TRUE(IsBytes(r.read(0), ""));
  EXPECT_EQ(r.buffered(), kData);
}

TEST(StreamReaderRead, ZeroOnEmptyBufferCompletesAtOnce) {
  StreamReader r;
  EXPECT_TRUE(IsBytes(r.read(0), ""));
  EXPECT_FALSE(r.has_pending_read());
}

TEST(StreamReaderRead, PendingReadIsCompletedByFeedWithAllFedBytesUpToN) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(30)));
  EXPECT_TRUE(r.has_pending_read());
  EXPECT_TRUE(IsBytes(r.feed_data(kData), kData));
  EXPECT_FALSE(r.has_pending_read());
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderRead, PendingReadCompletesWithAtMostNBytes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(5)));
  EXPECT_TRUE(IsBytes(r.feed_data("abcdefgh"), "abcde"));
  EXPECT_EQ(r.buffered(), "fgh");
}

TEST(StreamReaderRead, ReturnsBufferedBytesWithoutWaitingToFillN) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsBytes(r.read(10), "abc"));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderRead, TakesNBytesAcrossFeedBoundaries) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("line1")));
  EXPECT_TRUE(IsPending(r.feed_data("line2")));
  EXPECT_TRUE(IsBytes(r.read(5), "line1"));
  EXPECT_EQ(r.buffered(), "line2");
}

TEST(StreamReaderRead, PendingReadReturnsEmptyWhenEofArrives) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(1024)));
  EXPECT_TRUE(IsBytes(r.feed_eof(), ""));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_TRUE(r.at_eof());
}

TEST(StreamReaderRead, AtEofWithEmptyBufferReturnsEmptyAtOnce) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.read(10), ""));
  EXPECT_TRUE(IsBytes(r.read(10), ""));
}

TEST(StreamReaderRead, AtEofReturnsRemainingBytesThenEmpty) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abcdef")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.read(4), "abcd"));
  EXPECT_TRUE(IsBytes(r.read(4), "ef"));
  EXPECT_TRUE(IsBytes(r.read(4), ""));
}

TEST(StreamReaderRead, IsNotBoundedByLimit) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("chunk")));
  EXPECT_TRUE(IsBytes(r.read(5), "chunk"));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderRead, FailsWithExceptionEvenWithDataBuffered) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("line\n")));
  EXPECT_TRUE(IsBytes(r.read(2), "li"));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsConnectionError(r.read(2), Reset()));
  EXPECT_EQ(r.buffered(), "ne\n");
}

// ============================================================================
// read(-1): read to EOF (test_read_until_eof, test_read_all_from_pipe_reader)
// ============================================================================

TEST(StreamReaderReadAll, CollectsChunksUntilEof) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(-1)));
  EXPECT_TRUE(IsPending(r.feed_data("chunk1\n")));
  EXPECT_TRUE(IsPending(r.feed_data("chunk2")));
  EXPECT_TRUE(r.has_pending_read());
  EXPECT_TRUE(IsBytes(r.feed_eof(), "chunk1\nchunk2"));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_TRUE(r.at_eof());
}

TEST(StreamReaderReadAll, DefaultArgumentReadsToEof) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.read()));
  EXPECT_TRUE(IsBytes(r.feed_eof(), "abc"));
}

TEST(StreamReaderReadAll, CompletesAtOnceWhenEofAlreadyFed) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("chunk1\n")));
  EXPECT_TRUE(IsPending(r.feed_data("chunk2")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.read(-1), "chunk1\nchunk2"));
}

TEST(StreamReaderReadAll, AnyNegativeSizeReadsToEof) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.read(-7)));
  EXPECT_TRUE(IsPending(r.feed_data("def")));
  EXPECT_TRUE(IsBytes(r.feed_eof(), "abcdef"));
}

TEST(StreamReaderReadAll, ReturnsEmptyAtEofWithNothingBuffered) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.read(-1), ""));
}

TEST(StreamReaderReadAll, ReadsMuchMoreThanTwiceTheLimitWithoutStayingPaused) {
  // test_read_all_from_pipe_reader: limit 1 must not deadlock.
  StreamReader r(1);
  EXPECT_TRUE(IsPending(r.feed_data("data")));
  EXPECT_TRUE(r.reading_paused());  // 4 > 2 * 1
  EXPECT_TRUE(IsPending(r.read(-1)));
  EXPECT_FALSE(r.reading_paused());  // it waits for EOF, so reading resumed
  EXPECT_TRUE(IsPending(r.feed_data("more data")));
  EXPECT_FALSE(r.reading_paused());
  EXPECT_TRUE(IsBytes(r.feed_eof(), "datamore data"));
}

TEST(StreamReaderReadAll, ExceptionLosesCollectedBytes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(-1)));
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsConnectionError(r.set_exception(Reset()), Reset()));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_EQ(r.bytes_discarded(), 3u);
  EXPECT_EQ(r.bytes_fed(), 3u);
}

TEST(StreamReaderReadAll, FailsWithExceptionEvenWithDataBuffered) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsConnectionError(r.read(-1), Reset()));
  EXPECT_EQ(r.buffered(), "abc");
}

// ============================================================================
// readline (test_readline*, test_at_eof)
// ============================================================================

TEST(StreamReaderReadline, WaitsAcrossFeedsAndKeepsRemainder) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("chunk1 ")));
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsPending(r.feed_data("chunk2 ")));
  EXPECT_TRUE(IsPending(r.feed_data("chunk3 ")));
  EXPECT_TRUE(IsBytes(r.feed_data("\n chunk4"), "chunk1 chunk2 chunk3 \n"));
  EXPECT_EQ(r.buffered(), " chunk4");
}

TEST(StreamReaderReadline, ReturnsBufferedLineWithoutWaiting) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data(kData.substr(0, 6))));
  EXPECT_TRUE(IsPending(r.feed_data(kData.substr(6))));
  EXPECT_TRUE(IsBytes(r.readline(), "line1\n"));
  EXPECT_EQ(r.buffered(), "line2\nline3\n");
}

TEST(StreamReaderReadline, ReturnsPartialLineAtEof) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("some data")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.readline(), "some data"));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_TRUE(r.at_eof());
}

TEST(StreamReaderReadline, ReturnsEmptyAtEofWithNothingBuffered) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.readline(), ""));
}

TEST(StreamReaderReadline, PendingReadlineReturnsPartialLineWhenEofArrives) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsBytes(r.feed_eof(), "abc"));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReadline, PendingReadlineReturnsEmptyWhenEofArrivesWithNothingBuffered) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsBytes(r.feed_eof(), ""));
}

TEST(StreamReaderReadline, FollowingReadCrossesLineBoundary) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data(kData)));
  EXPECT_TRUE(IsBytes(r.readline(), "line1\n"));
  EXPECT_TRUE(IsBytes(r.read(7), "line2\nl"));
  EXPECT_EQ(r.buffered(), "ine3\n");
}

TEST(StreamReaderReadline, ReadsSuccessiveLinesThenPartialLastLine) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("a\nb\nc")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.readline(), "a\n"));
  EXPECT_TRUE(IsBytes(r.readline(), "b\n"));
  EXPECT_TRUE(IsBytes(r.readline(), "c"));
  EXPECT_TRUE(IsBytes(r.readline(), ""));
}

TEST(StreamReaderReadline, FailsWithExceptionAfterEarlierSuccess) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("line\n")));
  EXPECT_TRUE(IsBytes(r.readline(), "line\n"));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsConnectionError(r.readline(), Reset()));
  EXPECT_EQ(r.buffered(), "");
}

// test_readline_limit_with_existing_data, first sub-case.
TEST(StreamReaderReadline, DiscardsOverlongLineThroughNewlineWhenSeparatorFound) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("li")));
  EXPECT_TRUE(IsPending(r.feed_data("ne1\nline2\n")));
  ReadPoll p = r.readline();
  EXPECT_TRUE(IsOverrun(p, kFound, 5));
  EXPECT_EQ(MessageOf(p), "Separator is found, but chunk is longer than limit");
  EXPECT_EQ(r.buffered(), "line2\n");
  EXPECT_EQ(r.bytes_discarded(), 6u);
}

// test_readline_limit_with_existing_data, second sub-case.
TEST(StreamReaderReadline, ClearsBufferWhenOverlongLineHasNoNewline) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("li")));
  EXPECT_TRUE(IsPending(r.feed_data("ne1")));
  EXPECT_TRUE(IsPending(r.feed_data("li")));
  ReadPoll p = r.readline();
  EXPECT_TRUE(IsOverrun(p, kNotFound, 7));
  EXPECT_EQ(MessageOf(p), "Separator is not found, and chunk exceed the limit");
  EXPECT_EQ(r.buffered(), "");
  EXPECT_EQ(r.bytes_discarded(), 7u);
}

// test_readline_limit, first sub-case (all bytes buffered before the readline runs).
TEST(StreamReaderReadline, DiscardsWholeOverlongLineSpanningChunks) {
  StreamReader r(7);
  EXPECT_TRUE(IsPending(r.feed_data("chunk1")));
  EXPECT_TRUE(IsPending(r.feed_data("chunk2")));
  EXPECT_TRUE(IsPending(r.feed_data("chunk3\n")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsOverrun(r.readline(), kFound, 18));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_TRUE(r.at_eof());
}

// test_readline_limit, second sub-case.
TEST(StreamReaderReadline, DiscardsOverlongFirstLineAndKeepsNextLine) {
  StreamReader r(7);
  EXPECT_TRUE(IsPending(r.feed_data("chunk1")));
  EXPECT_TRUE(IsPending(r.feed_data("chunk2\n")));
  EXPECT_TRUE(IsPending(r.feed_data("chunk3\n")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsOverrun(r.readline(), kFound, 12));
  EXPECT_EQ(r.buffered(), "chunk3\n");
  EXPECT_TRUE(IsBytes(r.readline(), "chunk3\n"));
}

// test_readline_limit: strictness of the limit.
TEST(StreamReaderReadline, LineBodyOfExactlyLimitBytesIsAccepted) {
  StreamReader r(7);
  EXPECT_TRUE(IsPending(r.feed_data("1234567\n")));
  EXPECT_TRUE(IsBytes(r.readline(), "1234567\n"));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReadline, LineBodyOfLimitPlusOneBytesFailsAndIsDiscarded) {
  StreamReader r(7);
  EXPECT_TRUE(IsPending(r.feed_data("12345678\n")));
  EXPECT_TRUE(IsOverrun(r.readline(), kFound, 8));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReadline, UnterminatedLineOfLimitPlusOneBytesFailsAndClearsBuffer) {
  StreamReader r(7);
  EXPECT_TRUE(IsPending(r.feed_data("12345678")));
  EXPECT_TRUE(IsOverrun(r.readline(), kNotFound, 8));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReadline, UnterminatedLineOfLimitBytesWaits) {
  StreamReader r(7);
  EXPECT_TRUE(IsPending(r.feed_data("1234567")));
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_EQ(r.buffered(), "1234567");
  EXPECT_TRUE(IsBytes(r.feed_data("\n"), "1234567\n"));
}

TEST(StreamReaderReadline, PendingReadlineFailsAsSoonAsUnterminatedDataPassesLimit) {
  StreamReader r(7);
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsPending(r.feed_data("chunk1")));
  EXPECT_TRUE(IsOverrun(r.feed_data("chunk2"), kNotFound, 12));
  EXPECT_FALSE(r.has_pending_read());
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReadline, PendingReadlineFailsWhenFedLineIsOverlong) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsOverrun(r.feed_data("abcdef\nxy"), kFound, 6));
  EXPECT_EQ(r.buffered(), "xy");
}

// The quirk of spec 1.9: the tail of a discarded line becomes the next line.
TEST(StreamReaderReadline, TailOfDiscardedUnterminatedLineIsReturnedAsNextLine) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcdef")));
  EXPECT_TRUE(IsOverrun(r.readline(), kNotFound, 6));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_TRUE(IsPending(r.feed_data("gh\nnext\n")));
  EXPECT_TRUE(IsBytes(r.readline(), "gh\n"));
  EXPECT_EQ(r.buffered(), "next\n");
}

TEST(StreamReaderReadline, TailOfDiscardedLineCompletesTheNextPendingReadline) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsOverrun(r.feed_data("abcdef"), kNotFound, 6));
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsBytes(r.feed_data("gh\nnext\n"), "gh\n"));
  EXPECT_EQ(r.buffered(), "next\n");
}

TEST(StreamReaderReadline, AtEofBufferOverLimitFailsAndIsCleared) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcd")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsOverrun(r.readline(), kNotFound, 4));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_TRUE(r.at_eof());
  EXPECT_TRUE(IsBytes(r.readline(), ""));
}

TEST(StreamReaderReadline, AtEofBufferOfExactlyLimitIsReturned) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.readline(), "abc"));
}

TEST(StreamReaderReadline, IsReaduntilWithDefaultNewlineSeparator) {
  StreamReader a;
  StreamReader b;
  EXPECT_TRUE(IsPending(a.feed_data("x\ny")));
  EXPECT_TRUE(IsPending(b.feed_data("x\ny")));
  EXPECT_TRUE(IsBytes(a.readline(), "x\n"));
  EXPECT_TRUE(IsBytes(b.readuntil(), "x\n"));
  EXPECT_EQ(a.buffered(), b.buffered());
}

// ============================================================================
// readuntil, one separator (test_readuntil_*)
// ============================================================================

TEST(StreamReaderReaduntil, RejectsEmptySeparator) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc\n")));
  ReadPoll p = r.readuntil("");
  EXPECT_TRUE(IsError(p, StreamErrc::kInvalidArgument));
  EXPECT_EQ(MessageOf(p), "Separator should be at least one-byte string");
  EXPECT_EQ(r.buffered(), "abc\n");
  EXPECT_FALSE(r.has_pending_read());
}

TEST(StreamReaderReaduntil, RejectsSeparatorListWithEmptyMember) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc\n")));
  ReadPoll only_empty = r.readuntil({""});
  EXPECT_TRUE(IsError(only_empty, StreamErrc::kInvalidArgument));
  EXPECT_EQ(MessageOf(only_empty), "Separator should be at least one-byte string");
  ReadPoll one_empty = r.readuntil({"\n", ""});
  EXPECT_TRUE(IsError(one_empty, StreamErrc::kInvalidArgument));
  EXPECT_EQ(MessageOf(one_empty), "Separator should be at least one-byte string");
  EXPECT_EQ(r.buffered(), "abc\n");
  EXPECT_FALSE(r.has_pending_read());
}

TEST(StreamReaderReaduntil, RejectsEmptySeparatorList) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc\n")));
  ReadPoll p = r.readuntil(std::span<const std::string_view>());
  EXPECT_TRUE(IsError(p, StreamErrc::kInvalidArgument));
  EXPECT_EQ(MessageOf(p), "Separator should contain at least one element");
  EXPECT_EQ(r.buffered(), "abc\n");
  EXPECT_FALSE(r.has_pending_read());
}

// test_readuntil_multi_chunks.
TEST(StreamReaderReaduntil, ReturnsChunkIncludingMultiByteSeparatorAndKeepsRest) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("lineAAA")));
  EXPECT_TRUE(IsBytes(r.readuntil("AAA"), "lineAAA"));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_TRUE(IsPending(r.feed_data("lineAAAxxx")));
  EXPECT_TRUE(IsBytes(r.readuntil("AAA"), "lineAAA"));
  EXPECT_EQ(r.buffered(), "xxx");
}

// test_readuntil_multi_chunks_1, with every chunking it uses.
TEST(StreamReaderReaduntil, FindsSeparatorSplitAcrossBufferedFeeds) {
  const std::vector<std::vector<std::string_view>> chunkings = {
      {"QWEaa", "XYaa", "a"}, {"QWEaa", "XYa", "aa"}, {"aaa"}, {"Xaaa"}, {"XXX", "a", "a", "a"}};
  const std::vector<std::string_view> expected = {"QWEaaXYaaa", "QWEaaXYaaa", "aaa", "Xaaa",
                                                  "XXXaaa"};
  StreamReader r;
  for (std::size_t i = 0; i < chunkings.size(); ++i) {
    for (std::string_view chunk : chunkings[i]) EXPECT_TRUE(IsPending(r.feed_data(chunk)));
    EXPECT_TRUE(IsBytes(r.readuntil("aaa"), expected[i])) << "chunking " << i;
    EXPECT_EQ(r.buffered(), "") << "chunking " << i;
  }
}

TEST(StreamReaderReaduntil, PendingReaduntilFindsSeparatorSplitAcrossFeeds) {
  const std::vector<std::vector<std::string_view>> chunkings = {
      {"QWEaa", "XYaa", "a"}, {"QWEaa", "XYa", "aa"}, {"aaa"}, {"Xaaa"}, {"XXX", "a", "a", "a"}};
  const std::vector<std::string_view> expected = {"QWEaaXYaaa", "QWEaaXYaaa", "aaa", "Xaaa",
                                                  "XXXaaa"};
  StreamReader r;
  for (std::size_t i = 0; i < chunkings.size(); ++i) {
    EXPECT_TRUE(IsPending(r.readuntil("aaa"))) << "chunking " << i;
    const std::vector<std::string_view>& chunks = chunkings[i];
    for (std::size_t c = 0; c + 1 < chunks.size(); ++c) {
      EXPECT_TRUE(IsPending(r.feed_data(chunks[c]))) << "chunking " << i << " chunk " << c;
    }
    EXPECT_TRUE(IsBytes(r.feed_data(chunks.back()), expected[i])) << "chunking " << i;
    EXPECT_EQ(r.buffered(), "") << "chunking " << i;
  }
}

// test_readuntil_eof.
TEST(StreamReaderReaduntil, EofBeforeSeparatorYieldsIncompleteReadWithWholeBuffer) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("some dataAA")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  ReadPoll p = r.readuntil("AAA");
  EXPECT_TRUE(IsIncomplete(p, "some dataAA", std::nullopt));
  EXPECT_EQ(MessageOf(p), "11 bytes read on a total of undefined expected bytes");
  EXPECT_EQ(r.buffered(), "");
  EXPECT_TRUE(r.at_eof());
}

TEST(StreamReaderReaduntil, EofWithEmptyBufferYieldsEmptyIncompleteRead) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_eof()));
  ReadPoll p = r.readuntil("\n");
  EXPECT_TRUE(IsIncomplete(p, "", std::nullopt));
  EXPECT_EQ(MessageOf(p), "0 bytes read on a total of undefined expected bytes");
}

TEST(StreamReaderReaduntil, PendingReaduntilFailsWithIncompleteReadWhenEofArrives) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readuntil("AAA")));
  EXPECT_TRUE(IsPending(r.feed_data("xyzAA")));
  EXPECT_TRUE(IsIncomplete(r.feed_eof(), "xyzAA", std::nullopt));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReaduntil, FoundSeparatorBeatsEof) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abcAAAdef")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.readuntil("AAA"), "abcAAA"));
  EXPECT_TRUE(IsIncomplete(r.readuntil("AAA"), "def", std::nullopt));
}

TEST(StreamReaderReaduntil, LimitCheckBeatsEofAndKeepsBuffer) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcdef")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsOverrun(r.readuntil("\n"), kNotFound, 6));
  EXPECT_EQ(r.buffered(), "abcdef");
  EXPECT_FALSE(r.at_eof());
}

// test_readuntil_limit_found_sep.
TEST(StreamReaderReaduntil, OverrunReportsNotFoundThenFoundAndLeavesBufferUntouched) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("some dataAA")));
  ReadPoll not_found = r.readuntil("AAA");
  EXPECT_TRUE(IsOverrun(not_found, kNotFound, 9));
  EXPECT_EQ(MessageOf(not_found), "Separator is not found, and chunk exceed the limit");
  EXPECT_EQ(r.buffered(), "some dataAA");

  EXPECT_TRUE(IsPending(r.feed_data("A")));
  ReadPoll found = r.readuntil("AAA");
  EXPECT_TRUE(IsOverrun(found, kFound, 9));
  EXPECT_EQ(MessageOf(found), "Separator is found, but chunk is longer than limit");
  EXPECT_EQ(r.buffered(), "some dataAAA");
  EXPECT_EQ(r.bytes_discarded(), 0u);
}

TEST(StreamReaderReaduntil, OverrunLeavesBufferReadable) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcdef\ngh")));
  EXPECT_TRUE(IsOverrun(r.readuntil("\n"), kFound, 6));
  EXPECT_TRUE(IsBytes(r.readexactly(7), "abcdef\n"));
  EXPECT_TRUE(IsBytes(r.read(10), "gh"));
}

TEST(StreamReaderReaduntil, ChunkBeforeSeparatorOfLimitMinusOneIsAccepted) {
  StreamReader r(5);
  EXPECT_TRUE(IsPending(r.feed_data("abcd\nz")));
  EXPECT_TRUE(IsBytes(r.readuntil("\n"), "abcd\n"));
}

TEST(StreamReaderReaduntil, ChunkBeforeSeparatorOfExactlyLimitIsAccepted) {
  StreamReader r(5);
  EXPECT_TRUE(IsPending(r.feed_data("abcde\r\nz")));
  EXPECT_TRUE(IsBytes(r.readuntil("\r\n"), "abcde\r\n"));
  EXPECT_EQ(r.buffered(), "z");
}

TEST(StreamReaderReaduntil, ChunkBeforeSeparatorOfLimitPlusOneOverrunsAtSeparatorStart) {
  StreamReader r(5);
  EXPECT_TRUE(IsPending(r.feed_data("abcdef\r\nz")));
  EXPECT_TRUE(IsOverrun(r.readuntil("\r\n"), kFound, 6));
  EXPECT_EQ(r.buffered(), "abcdef\r\nz");
}

TEST(StreamReaderReaduntil, OnlyTheFirstSeparatorIsCheckedAgainstLimit) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("ab\n" + std::string(100, 'x') + "\n")));
  EXPECT_TRUE(IsBytes(r.readuntil("\n"), "ab\n"));
}

TEST(StreamReaderReaduntil, UnterminatedDataOfLimitBytesWaitsAndOneMoreOverruns) {
  StreamReader r(5);
  EXPECT_TRUE(IsPending(r.readuntil("\n")));
  EXPECT_TRUE(IsPending(r.feed_data("abcd")));   // limit - 1
  EXPECT_TRUE(IsPending(r.feed_data("e")));      // limit: offset 5 is not > 5
  EXPECT_TRUE(IsOverrun(r.feed_data("f"), kNotFound, 6));
  EXPECT_EQ(r.buffered(), "abcdef");
}

// Spec 1.8: limit 4 and sep "\r\n": 5 bytes still wait, 6 raise consumed=5.
TEST(StreamReaderReaduntil, TwoByteSeparatorWaitsAtFiveBytesAndOverrunsAtSixWithLimitFour) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("aaaaa")));
  EXPECT_TRUE(IsPending(r.readuntil("\r\n")));
  EXPECT_TRUE(IsOverrun(r.feed_data("a"), kNotFound, 5));
  EXPECT_EQ(r.buffered(), "aaaaaa");
}

TEST(StreamReaderReaduntil, SixUnterminatedBytesAtOnceOverrunWithConsumedFive) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("aaaaaa")));
  EXPECT_TRUE(IsOverrun(r.readuntil("\r\n"), kNotFound, 5));
}

// Spec 1.8: the not-found `consumed` depends on how the bytes arrived.
TEST(StreamReaderReaduntil, NotFoundConsumedDependsOnChunking) {
  {
    StreamReader r(8);
    EXPECT_TRUE(IsPending(r.readuntil("\r\n")));
    EXPECT_TRUE(IsPending(r.feed_data("aaaaa")));
    EXPECT_TRUE(IsPending(r.feed_data("aaa")));
    EXPECT_TRUE(IsOverrun(r.feed_data("aaa"), kNotFound, 10));
  }
  {
    StreamReader r(8);
    EXPECT_TRUE(IsPending(r.readuntil("\r\n")));
    EXPECT_TRUE(IsPending(r.feed_data("aaaaa")));
    EXPECT_TRUE(IsPending(r.feed_data("aaa")));
    EXPECT_TRUE(IsPending(r.feed_data("a")));
    EXPECT_TRUE(IsOverrun(r.feed_data("a"), kNotFound, 9));
  }
}

TEST(StreamReaderReaduntil, NotFoundConsumedForOneLargeBufferIsLengthMinusSeparatorPlusOne) {
  StreamReader r(8);
  EXPECT_TRUE(IsPending(r.feed_data(std::string(100, 'a'))));
  EXPECT_TRUE(IsOverrun(r.readuntil("\r\n"), kNotFound, 99));
  EXPECT_EQ(r.buffered_size(), 100u);
}

TEST(StreamReaderReaduntil, OverrunKindDependsOnChunking) {
  {
    StreamReader r(3);
    EXPECT_TRUE(IsPending(r.feed_data("abcd\n")));
    EXPECT_TRUE(IsOverrun(r.readuntil("\n"), kFound, 4));
  }
  {
    StreamReader r(3);
    EXPECT_TRUE(IsPending(r.readuntil("\n")));
    EXPECT_TRUE(IsOverrun(r.feed_data("abcd"), kNotFound, 4));
    EXPECT_TRUE(IsPending(r.feed_data("\n")));
    EXPECT_TRUE(IsOverrun(r.readuntil("\n"), kFound, 4));
    EXPECT_EQ(r.buffered(), "abcd\n");
  }
}

TEST(StreamReaderReaduntil, EachCallRescansFromTheStart) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcdef")));
  EXPECT_TRUE(IsOverrun(r.readuntil("\n"), kNotFound, 6));
  EXPECT_TRUE(IsBytes(r.readuntil("b"), "ab"));
}

TEST(StreamReaderReaduntil, SeparatorLongerThanBufferWaits) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("ab")));
  EXPECT_TRUE(IsPending(r.readuntil("abcd")));
  EXPECT_TRUE(IsPending(r.feed_data("c")));
  EXPECT_TRUE(IsBytes(r.feed_data("d"), "abcd"));
}

TEST(StreamReaderReaduntil, HandlesNulBytesInDataAndSeparator) {
  using std::string_view_literals::operator""sv;
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("a\0b\0\0c"sv)));
  EXPECT_TRUE(IsBytes(r.readuntil("\0\0"sv), "a\0b\0\0"sv));
  EXPECT_EQ(r.buffered(), "c");
}

TEST(StreamReaderReaduntil, SeparatorIsCopied) {
  StreamReader r;
  std::string sep = "XY";
  EXPECT_TRUE(IsPending(r.readuntil(sep)));
  sep[0] = 'Q';
  sep[1] = 'Q';
  EXPECT_TRUE(IsPending(r.feed_data("aQQb")));
  EXPECT_TRUE(IsBytes(r.feed_data("XYc"), "aQQbXY"));
}

// ============================================================================
// readuntil with several separators (test_readuntil_multi_separator*)
// ============================================================================

TEST(StreamReaderReaduntilMulti, ReturnsChunkForWhicheverSeparatorComesFirst) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("line 1\nline 2\r")));
  EXPECT_TRUE(IsBytes(r.readuntil({"\r", "\n"}), "line 1\n"));
  EXPECT_TRUE(IsBytes(r.readuntil({"\r", "\n"}), "line 2\r"));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReaduntilMulti, EarliestEndWinsEvenWhenThatSeparatorIsLongerAndListedLater) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("ABCDEFG")));
  EXPECT_TRUE(IsBytes(r.readuntil({"DEF", "BCDE"}), "ABCDE"));
  EXPECT_EQ(r.buffered(), "FG");
}

TEST(StreamReaderReaduntilMulti, EarliestEndWinsOverEarliestStart) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("ABCDEXZ")));
  EXPECT_TRUE(IsBytes(r.readuntil({"BCDEX", "CD"}), "ABCD"));
  EXPECT_EQ(r.buffered(), "EXZ");
}

TEST(StreamReaderReaduntilMulti, TieOnEndReturnsTheChunkThroughThatEnd) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("xx\r\nyy")));
  EXPECT_TRUE(IsBytes(r.readuntil({"\r\n", "\n"}), "xx\r\n"));
  EXPECT_EQ(r.buffered(), "yy");
}

// test_readuntil_multi_separator_limit.
TEST(StreamReaderReaduntilMulti, TieOnEndUsesShortestSeparatorStartForLimit) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("some dataA")));
  ReadPoll p = r.readuntil({"A", "ome dataA"});
  EXPECT_TRUE(IsOverrun(p, kFound, 9));
  EXPECT_EQ(MessageOf(p), "Separator is found, but chunk is longer than limit");
  EXPECT_EQ(r.buffered(), "some dataA");
}

TEST(StreamReaderReaduntilMulti, TieOnEndUsesShortestSeparatorEvenWhenLongerIsListedFirst) {
  // "\r\n" starts at 2 (within limit 2) but "\n" (start 3) wins the tie.
  StreamReader r(2);
  EXPECT_TRUE(IsPending(r.feed_data("xx\r\nyy")));
  EXPECT_TRUE(IsOverrun(r.readuntil({"\r\n", "\n"}), kFound, 3));
  EXPECT_EQ(r.buffered(), "xx\r\nyy");
}

TEST(StreamReaderReaduntilMulti, PrefixSeparatorEndingEarlierWins) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("xabcd")));
  EXPECT_TRUE(IsBytes(r.readuntil({"abc", "ab"}), "xab"));
  EXPECT_EQ(r.buffered(), "cd");
}

TEST(StreamReaderReaduntilMulti, OverlappingSeparatorsPickEarliestEnd) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("aabaab")));
  EXPECT_TRUE(IsBytes(r.readuntil({"ba", "aab"}), "aab"));
  EXPECT_EQ(r.buffered(), "aab");
  EXPECT_TRUE(IsBytes(r.readuntil({"aab", "ab"}), "aab"));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReaduntilMulti, DuplicateSeparatorsBehaveLikeOne) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("a\nb\n")));
  EXPECT_TRUE(IsBytes(r.readuntil({"\n", "\n"}), "a\n"));
  EXPECT_TRUE(IsBytes(r.readuntil({"\n", "b\n", "\n"}), "b\n"));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReaduntilMulti, SingleElementListBehavesLikeSingleSeparator) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("some data\r\nmore")));
  EXPECT_TRUE(IsBytes(r.readuntil({"\r\n"}), "some data\r\n"));
  EXPECT_EQ(r.buffered(), "more");
}

// test_readuntil_multi_separator_negative_offset.
TEST(StreamReaderReaduntilMulti, OffsetIsClampedAtZeroWhileBufferIsShorterThanLongestSeparator) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("data")));
  EXPECT_TRUE(IsPending(r.readuntil({"A", "long sep"})));
  EXPECT_TRUE(IsPending(r.feed_data("Z")));
  EXPECT_TRUE(IsBytes(r.feed_data("Aaaa"), "dataZA"));
  EXPECT_EQ(r.buffered(), "aaa");
}

TEST(StreamReaderReaduntilMulti, NotFoundOffsetUsesLongestSeparator) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.readuntil({"a", "bbbb"})));
  EXPECT_TRUE(IsPending(r.feed_data("xxxxxx")));  // offset 6 + 1 - 4 = 3, not > 3
  EXPECT_TRUE(IsOverrun(r.feed_data("x"), kNotFound, 4));
  EXPECT_EQ(r.buffered(), "xxxxxxx");
}

TEST(StreamReaderReaduntilMulti, PendingReadFindsSeparatorAcrossFeeds) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readuntil({"XYZ", "Q"})));
  EXPECT_TRUE(IsPending(r.feed_data("abX")));
  EXPECT_TRUE(IsPending(r.feed_data("Y")));
  EXPECT_TRUE(IsBytes(r.feed_data("QZ"), "abXYQ"));
  EXPECT_EQ(r.buffered(), "Z");
}

TEST(StreamReaderReaduntilMulti, EofBeforeAnySeparatorYieldsIncompleteRead) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readuntil({"\r\n", "\n\n"})));
  EXPECT_TRUE(IsPending(r.feed_data("abc\r")));
  EXPECT_TRUE(IsIncomplete(r.feed_eof(), "abc\r", std::nullopt));
}

TEST(StreamReaderReaduntilMulti, SeparatorsAreCopied) {
  StreamReader r;
  std::string first = "XY";
  std::string second = "ZW";
  std::vector<std::string_view> seps = {first, second};
  EXPECT_TRUE(IsPending(r.readuntil(std::span<const std::string_view>(seps))));
  first[0] = 'Q';
  first[1] = 'Q';
  second[0] = 'Q';
  second[1] = 'Q';
  seps.clear();
  EXPECT_TRUE(IsPending(r.feed_data("aQQb")));
  EXPECT_TRUE(IsBytes(r.feed_data("ZWc"), "aQQbZW"));
}

// ============================================================================
// readexactly (test_readexactly*)
// ============================================================================

TEST(StreamReaderReadexactly, ZeroReturnsEmptyAndConsumesNothing) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data(kData)));
  EXPECT_TRUE(IsBytes(r.readexactly(0), ""));
  EXPECT_EQ(r.buffered(), kData);
}

TEST(StreamReaderReadexactly, ZeroOnEmptyBufferCompletesAtOnce) {
  StreamReader r;
  EXPECT_TRUE(IsBytes(r.readexactly(0), ""));
  EXPECT_FALSE(r.has_pending_read());
}

TEST(StreamReaderReadexactly, NegativeSizeIsInvalidAndLeavesBufferUntouched) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data(kData)));
  ReadPoll p = r.readexactly(-1);
  EXPECT_TRUE(IsError(p, StreamErrc::kInvalidArgument));
  EXPECT_EQ(MessageOf(p), "readexactly size can not be less than zero");
  EXPECT_EQ(r.buffered(), kData);
  EXPECT_FALSE(r.has_pending_read());
}

TEST(StreamReaderReadexactly, WaitsAcrossFeedsAndLeavesSurplus) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readexactly(2 * kData.size())));
  EXPECT_TRUE(IsPending(r.feed_data(kData)));
  EXPECT_TRUE(IsBytes(r.feed_data(kData), std::string(kData) + std::string(kData)));
  EXPECT_TRUE(IsPending(r.feed_data(kData)));
  EXPECT_EQ(r.buffered(), kData);
}

TEST(StreamReaderReadexactly, SizeAboveLimitIsAllowed) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("chunk")));
  EXPECT_TRUE(IsBytes(r.readexactly(5), "chunk"));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReadexactly, EofBeforeEnoughBytesYieldsIncompleteReadWithEverything) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readexactly(36)));
  EXPECT_TRUE(IsPending(r.feed_data(kData)));
  ReadPoll p = r.feed_eof();
  EXPECT_TRUE(IsIncomplete(p, kData, 36));
  EXPECT_EQ(MessageOf(p), "18 bytes read on a total of 36 expected bytes");
  EXPECT_EQ(r.buffered(), "");
  EXPECT_TRUE(r.at_eof());
}

TEST(StreamReaderReadexactly, AtEofWithBufferedShortfallYieldsIncompleteReadAtOnce) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsIncomplete(r.readexactly(5), "abc", 5));
  EXPECT_EQ(r.buffered(), "");
}

TEST(StreamReaderReadexactly, AtEofWithEmptyBufferYieldsEmptyIncompleteRead) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_eof()));
  ReadPoll p = r.readexactly(4);
  EXPECT_TRUE(IsIncomplete(p, "", 4));
  EXPECT_EQ(MessageOf(p), "0 bytes read on a total of 4 expected bytes");
}

TEST(StreamReaderReadexactly, SucceedsAtEofWhenEnoughIsBuffered) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abcdef")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.readexactly(6), "abcdef"));
  EXPECT_TRUE(r.at_eof());
}

TEST(StreamReaderReadexactly, FailsWithExceptionAfterEarlierSuccess) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("line\n")));
  EXPECT_TRUE(IsBytes(r.readexactly(2), "li"));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsConnectionError(r.readexactly(2), Reset()));
  EXPECT_EQ(r.buffered(), "ne\n");
}

// ============================================================================
// Exception state (test_exception, test_exception_waiter, test_exception_cancel)
// ============================================================================

TEST(StreamReaderException, IsEmptyUntilSet) {
  StreamReader r;
  EXPECT_FALSE(r.exception().has_value());
}

TEST(StreamReaderException, ReturnsTheErrorThatWasSet) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  ASSERT_TRUE(r.exception().has_value());
  EXPECT_EQ(r.exception()->code, StreamErrc::kConnectionError);
  EXPECT_EQ(r.exception()->connection_error, Reset());
  // Every read fails with that same error.
  ReadPoll p = r.read(1);
  ASSERT_TRUE(IsError(p, StreamErrc::kConnectionError));
  EXPECT_EQ(p->error().connection_error, r.exception()->connection_error);
}

TEST(StreamReaderException, LaterCallReplacesTheCause) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsPending(r.set_exception(BrokenPipe())));
  ASSERT_TRUE(r.exception().has_value());
  EXPECT_EQ(r.exception()->connection_error, BrokenPipe());
  EXPECT_TRUE(IsConnectionError(r.readline(), BrokenPipe()));
}

TEST(StreamReaderException, ReferenceTakenOnceSetFollowsALaterCause) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  const std::optional<StreamError>& held = r.exception();
  EXPECT_TRUE(IsPending(r.set_exception(BrokenPipe())));
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->connection_error, BrokenPipe());
}

TEST(StreamReaderException, CompletesPendingReadline) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsConnectionError(r.set_exception(Reset()), Reset()));
  EXPECT_FALSE(r.has_pending_read());
}

TEST(StreamReaderException, CompletesEveryKindOfPendingRead) {
  {
    StreamReader r;
    EXPECT_TRUE(IsPending(r.read(5)));
    EXPECT_TRUE(IsConnectionError(r.set_exception(Reset()), Reset()));
  }
  {
    StreamReader r;
    EXPECT_TRUE(IsPending(r.read(-1)));
    EXPECT_TRUE(IsConnectionError(r.set_exception(Reset()), Reset()));
  }
  {
    StreamReader r;
    EXPECT_TRUE(IsPending(r.feed_data("ab")));
    EXPECT_TRUE(IsPending(r.readexactly(5)));
    EXPECT_TRUE(IsConnectionError(r.set_exception(Reset()), Reset()));
    EXPECT_EQ(r.buffered(), "ab");
  }
  {
    StreamReader r;
    EXPECT_TRUE(IsPending(r.feed_data("ab")));
    EXPECT_TRUE(IsPending(r.readuntil("XY")));
    EXPECT_TRUE(IsConnectionError(r.set_exception(Reset()), Reset()));
    EXPECT_EQ(r.buffered(), "ab");
  }
  {
    StreamReader r;
    EXPECT_TRUE(IsPending(r.readuntil({"X", "YY"})));
    EXPECT_TRUE(IsConnectionError(r.set_exception(Reset()), Reset()));
  }
}

TEST(StreamReaderException, SetAfterCancelledReadIsHarmless) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  r.cancel_pending_read();
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_FALSE(r.has_pending_read());
  ASSERT_TRUE(r.exception().has_value());
  EXPECT_EQ(r.exception()->connection_error, Reset());
}

TEST(StreamReaderException, WithoutPendingReadCompletesNothing) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
}

TEST(StreamReaderException, KeepsBufferedBytesButMakesThemUnreadable) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("ab\ncd")));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_EQ(r.buffered(), "ab\ncd");
  EXPECT_TRUE(IsConnectionError(r.read(10), Reset()));
  EXPECT_TRUE(IsConnectionError(r.readline(), Reset()));
  EXPECT_TRUE(IsConnectionError(r.readuntil("c"), Reset()));
  EXPECT_TRUE(IsConnectionError(r.readuntil({"c", "d"}), Reset()));
  EXPECT_TRUE(IsConnectionError(r.readexactly(2), Reset()));
  EXPECT_EQ(r.buffered(), "ab\ncd");
}

TEST(StreamReaderException, DoesNotSetEof) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_FALSE(r.eof_received());
  EXPECT_FALSE(r.at_eof());
}

TEST(StreamReaderException, WinsOverEofForEveryRead) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsConnectionError(r.read(5), Reset()));
  EXPECT_TRUE(IsConnectionError(r.readline(), Reset()));
  EXPECT_TRUE(IsConnectionError(r.readexactly(3), Reset()));
}

// ============================================================================
// Order of checks (spec 1.5): bad argument, then exception, then the read.
// ============================================================================

TEST(StreamReaderOrderOfChecks, NegativeReadexactlyBeatsException) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsError(r.readexactly(-1), StreamErrc::kInvalidArgument));
}

TEST(StreamReaderOrderOfChecks, EmptySeparatorBeatsException) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsError(r.readuntil(""), StreamErrc::kInvalidArgument));
  EXPECT_TRUE(IsError(r.readuntil({"a", ""}), StreamErrc::kInvalidArgument));
}

TEST(StreamReaderOrderOfChecks, EmptySeparatorListBeatsException) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsError(r.readuntil(std::span<const std::string_view>()),
                      StreamErrc::kInvalidArgument));
}

TEST(StreamReaderOrderOfChecks, ExceptionBeatsBufferedDataForReadZero) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsConnectionError(r.read(0), Reset()));
}

TEST(StreamReaderOrderOfChecks, ExceptionBeatsBufferedDataForReadexactlyZero) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsConnectionError(r.readexactly(0), Reset()));
}

TEST(StreamReaderOrderOfChecks, ExceptionBeatsBufferedLine) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc\n")));
  EXPECT_TRUE(IsPending(r.set_exception(Reset())));
  EXPECT_TRUE(IsConnectionError(r.readline(), Reset()));
  EXPECT_TRUE(IsConnectionError(r.readuntil("\n"), Reset()));
  EXPECT_EQ(r.buffered(), "abc\n");
}

TEST(StreamReaderOrderOfChecks, InvalidArgumentBeatsConcurrentRead) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsError(r.readexactly(-1), StreamErrc::kInvalidArgument));
  EXPECT_TRUE(IsError(r.readuntil(""), StreamErrc::kInvalidArgument));
  EXPECT_TRUE(r.has_pending_read());
  EXPECT_TRUE(IsBytes(r.feed_data("x\n"), "x\n"));
}

// ============================================================================
// The seam: the call that completes a pending read returns it, once.
// ============================================================================

TEST(StreamReaderSeam, ReadThatMustWaitBecomesThePendingRead) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(r.has_pending_read());
}

TEST(StreamReaderSeam, FeedDataReturnsTheCompletionOnlyOnce) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsPending(r.feed_data("ab")));
  EXPECT_TRUE(IsBytes(r.feed_data("c\nd"), "abc\n"));
  EXPECT_FALSE(r.has_pending_read());
  EXPECT_TRUE(IsPending(r.feed_data("\n")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_EQ(r.buffered(), "d\n");
}

TEST(StreamReaderSeam, CommitReturnsTheCompletion) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readexactly(4)));
  EXPECT_TRUE(IsPending(CommitData(r, "ab")));
  EXPECT_TRUE(IsBytes(CommitData(r, "cdef"), "abcd"));
  EXPECT_EQ(r.buffered(), "ef");
}

TEST(StreamReaderSeam, FeedEofReturnsTheCompletion) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(-1)));
  EXPECT_TRUE(IsPending(r.feed_data("xyz")));
  EXPECT_TRUE(IsBytes(r.feed_eof(), "xyz"));
  EXPECT_FALSE(r.has_pending_read());
}

TEST(StreamReaderSeam, SetExceptionReturnsTheCompletion) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readexactly(3)));
  EXPECT_TRUE(IsConnectionError(r.set_exception(Reset()), Reset()));
  EXPECT_FALSE(r.has_pending_read());
}

TEST(StreamReaderSeam, DriverMayStartANewReadRightAfterACompletion) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsBytes(r.feed_data("one\ntwo\nthr"), "one\n"));
  EXPECT_TRUE(IsBytes(r.readline(), "two\n"));
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsBytes(r.feed_data("ee\n"), "three\n"));
}

// ============================================================================
// Concurrent reads (spec 1.4)
// ============================================================================

TEST(StreamReaderConcurrentRead, SecondReadThatMustWaitFailsAndFirstStaysPending) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsError(r.read(5), StreamErrc::kConcurrentRead));
  EXPECT_TRUE(r.has_pending_read());
  EXPECT_TRUE(IsBytes(r.feed_data("x\n"), "x\n"));
  EXPECT_FALSE(r.has_pending_read());
}

TEST(StreamReaderConcurrentRead, MessageNamesTheSecondOperationAsAsyncioDoes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readexactly(3)));
  const std::string tail = "() called while another coroutine is already waiting for incoming data";
  ReadPoll read = r.read(5);
  ASSERT_TRUE(IsError(read, StreamErrc::kConcurrentRead));
  EXPECT_EQ(MessageOf(read), "read" + tail);
  ReadPoll read_all = r.read(-1);
  ASSERT_TRUE(IsError(read_all, StreamErrc::kConcurrentRead));
  EXPECT_EQ(MessageOf(read_all), "read" + tail);
  ReadPoll exactly = r.readexactly(2);
  ASSERT_TRUE(IsError(exactly, StreamErrc::kConcurrentRead));
  EXPECT_EQ(MessageOf(exactly), "readexactly" + tail);
  ReadPoll until = r.readuntil("x");
  ASSERT_TRUE(IsError(until, StreamErrc::kConcurrentRead));
  EXPECT_EQ(MessageOf(until), "readuntil" + tail);
  ReadPoll until_multi = r.readuntil({"x", "y"});
  ASSERT_TRUE(IsError(until_multi, StreamErrc::kConcurrentRead));
  EXPECT_EQ(MessageOf(until_multi), "readuntil" + tail);
  ReadPoll line = r.readline();  // asyncio reports readline as readuntil
  ASSERT_TRUE(IsError(line, StreamErrc::kConcurrentRead));
  EXPECT_EQ(MessageOf(line), "readuntil" + tail);
  EXPECT_TRUE(IsBytes(r.feed_data("abc"), "abc"));
}

TEST(StreamReaderConcurrentRead, SecondReadThatCanCompleteAtOnceCompletes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("ab\ncd")));
  EXPECT_TRUE(IsPending(r.readexactly(10)));
  EXPECT_TRUE(IsBytes(r.readline(), "ab\n"));
  EXPECT_TRUE(r.has_pending_read());
  EXPECT_EQ(r.buffered(), "cd");
  EXPECT_TRUE(IsBytes(r.feed_data("efghijklmn"), "cdefghijkl"));
  EXPECT_EQ(r.buffered(), "mn");
}

TEST(StreamReaderConcurrentRead, SecondReadAllThatMustWaitFailsAndKeepsAccountingExact) {
  // asyncio's read(-1) takes limit-sized blocks before it finds it must wait,
  // so what it took is lost with the RuntimeError; whatever the port does
  // with those bytes, they must be accounted for and the first read must
  // stay pending.
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.readexactly(10)));
  EXPECT_TRUE(IsError(r.read(-1), StreamErrc::kConcurrentRead));
  EXPECT_TRUE(r.has_pending_read());
  EXPECT_EQ(r.bytes_fed(), r.buffered_size() + r.bytes_discarded());
  r.check_invariants();
}

// Spec 1.8: readuntil's `offset` is a local that survives its waits. If
// another read consumes bytes meanwhile, asyncio keeps searching from the old
// offset: here the "Z" at index 1 of "cZ" is skipped.
TEST(StreamReaderConcurrentRead, PendingReaduntilKeepsItsOffsetWhenAnotherReadConsumes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.readuntil("Z")));  // offset becomes 3
  EXPECT_TRUE(IsBytes(r.read(2), "ab"));     // buffer "c"
  EXPECT_TRUE(IsPending(r.feed_data("Z")));  // buflen 2 - offset 3 < 1: no scan
  EXPECT_TRUE(IsPending(r.feed_data("YW")));  // scans from 3: nothing
  EXPECT_TRUE(IsBytes(r.feed_data("Z"), "cZYWZ"));
}

// Found by fuzz/stream_reader_fuzz: a read(-1) that fails with
// kConcurrentRead has taken the buffer; the pending readuntil must then
// search from its asyncio offset (1 here), not from where it had scanned.
TEST(StreamReaderConcurrentRead, FailedReadAllMovesPendingReaduntilBackToItsOffset) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readuntil("bb")));
  EXPECT_TRUE(IsPending(r.feed_data("b\n")));  // offset becomes 2 + 1 - 2 = 1
  ReadPoll all = r.read(-1);
  ASSERT_TRUE(all.has_value());
  ASSERT_FALSE(all->ok());
  EXPECT_EQ(all->error().code, StreamErrc::kConcurrentRead);
  EXPECT_TRUE(IsBytes(r.feed_data("bbbb"), "bbb"));  // asyncio: find("bb", 1)
}

// Found by fuzz/stream_reader_fuzz: after a read consumed under a pending
// readuntil, asyncio's next offset (buflen + 1 - longest separator) can fall
// below the offset the scan restarted at; the "a" at 2 must then be found.
TEST(StreamReaderConcurrentRead, PendingReaduntilSearchesFromAsyncioOffsetEvenBelowItsRestart) {
  StreamReader r;
  static constexpr std::string_view kSeps[] = {"aab", "a", "ba"};
  EXPECT_TRUE(IsPending(r.readuntil(kSeps)));
  EXPECT_TRUE(IsPending(r.feed_data("d0z\r\n")));  // offset 5 + 1 - 3 = 3
  EXPECT_TRUE(IsBytes(r.readline(), "d0z\r\n"));    // consumed under it
  EXPECT_TRUE(IsPending(r.feed_data("xya")));       // 3 - 3 < 1: no scan
  EXPECT_TRUE(IsPending(r.feed_data("z")));         // scans from 3; offset 2
  EXPECT_TRUE(IsBytes(r.feed_data("w"), "xya"));    // find from 2
}

TEST(StreamReaderConcurrentRead, ZeroSizedReadsCompleteWhileAnotherWaits) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsBytes(r.read(0), ""));
  EXPECT_TRUE(IsBytes(r.readexactly(0), ""));
  EXPECT_TRUE(r.has_pending_read());
}

// ============================================================================
// Flow control (spec 1.10)
// ============================================================================

TEST(StreamReaderFlowControl, DoesNotPauseAtExactlyTwiceTheLimit) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("12345678")));
  EXPECT_FALSE(r.reading_paused());
}

TEST(StreamReaderFlowControl, PausesAboveTwiceTheLimit) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("12345678")));
  EXPECT_TRUE(IsPending(r.feed_data("9")));
  EXPECT_TRUE(r.reading_paused());
}

TEST(StreamReaderFlowControl, PausesOnOneLargeFeed) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("123456789")));
  EXPECT_TRUE(r.reading_paused());
}

TEST(StreamReaderFlowControl, CommitPausesLikeFeedData) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(CommitData(r, "12345678")));
  EXPECT_FALSE(r.reading_paused());
  EXPECT_TRUE(IsPending(CommitData(r, "9")));
  EXPECT_TRUE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ResumesOnlyWhenAReadDrainsToLimitOrLess) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("abcdefghi")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsBytes(r.read(4), "abcd"));  // 5 left: still above the limit
  EXPECT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsBytes(r.read(1), "e"));  // 4 left
  EXPECT_FALSE(r.reading_paused());
}

TEST(StreamReaderFlowControl, StaysPausedBelowTwiceLimitUntilLimitIsReached) {
  // Hysteresis: 8 bytes (not > 2*limit) after pausing keeps it paused.
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("abcdefghi")));
  EXPECT_TRUE(IsBytes(r.read(1), "a"));
  EXPECT_TRUE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ReadlineSuccessResumesAtLimit) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("ab\ncd\nefg")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsBytes(r.readline(), "ab\n"));  // 6 left
  EXPECT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsBytes(r.readline(), "cd\n"));  // 3 left
  EXPECT_FALSE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ReaduntilSuccessResumesAtLimit) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("abXYcdefg")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsBytes(r.readuntil({"XY", "Z"}), "abXY"));  // 5 left
  EXPECT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsBytes(r.readuntil("c"), "c"));  // 4 left
  EXPECT_FALSE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ReadexactlySuccessResumesAtLimit) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("abcdefghi")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsBytes(r.readexactly(5), "abcde"));
  EXPECT_FALSE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ResumesWhenAReadStartsWaiting) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("abcdefghi")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsPending(r.readexactly(20)));
  EXPECT_FALSE(r.reading_paused());
  EXPECT_EQ(r.buffered(), "abcdefghi");
}

TEST(StreamReaderFlowControl, ReadexactlyAboveTwiceLimitCompletesWithRepeatedFeeds) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.readexactly(27)));
  EXPECT_TRUE(IsPending(r.feed_data("abcdefghi")));
  EXPECT_FALSE(r.reading_paused()) << "the read still waits, so reading must not stay paused";
  EXPECT_TRUE(IsPending(r.feed_data("jklmnopqr")));
  EXPECT_FALSE(r.reading_paused()) << "the read still waits, so reading must not stay paused";
  EXPECT_TRUE(IsBytes(r.feed_data("stuvwxyz0"), "abcdefghijklmnopqrstuvwxyz0"));
  EXPECT_FALSE(r.reading_paused());
  EXPECT_EQ(r.buffered(), "");
}

// asyncio pauses in feed_data before the woken reader runs; the read then
// resumes only if it leaves limit or fewer bytes.
TEST(StreamReaderFlowControl, FeedThatCompletesAReadStaysPausedWhenMoreThanLimitRemains) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsBytes(r.feed_data("ab\ncdefghij"), "ab\n"));
  EXPECT_EQ(r.buffered(), "cdefghij");
  EXPECT_TRUE(r.reading_paused());
}

TEST(StreamReaderFlowControl, FeedThatCompletesAReadResumesWhenLimitOrLessRemains) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.readexactly(8)));
  EXPECT_TRUE(IsBytes(r.feed_data("abcdefghij"), "abcdefgh"));
  EXPECT_FALSE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ReaduntilNotFoundOverrunDoesNotResume) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("aaaaaaaaa")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsOverrun(r.readuntil("\n"), kNotFound, 9));
  EXPECT_TRUE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ReaduntilFoundOverrunDoesNotResume) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("aaaaaaaa\nb")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsOverrun(r.readuntil("\n"), kFound, 8));
  EXPECT_TRUE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ReadlineNotFoundOverrunResumes) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("aaaaaaaaaa")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsOverrun(r.readline(), kNotFound, 10));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_FALSE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ReadlineFoundOverrunResumesWhenDiscardLeavesLimitOrLess) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("aaaaaaaa\nb")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsOverrun(r.readline(), kFound, 8));
  EXPECT_EQ(r.buffered(), "b");
  EXPECT_FALSE(r.reading_paused());
}

TEST(StreamReaderFlowControl, ReadlineFoundOverrunStaysPausedWhenMoreThanLimitRemains) {
  StreamReader r(4);
  EXPECT_TRUE(IsPending(r.feed_data("aaaaaaaa\nbbbbbb")));
  ASSERT_TRUE(r.reading_paused());
  EXPECT_TRUE(IsOverrun(r.readline(), kFound, 8));
  EXPECT_EQ(r.buffered(), "bbbbbb");
  EXPECT_TRUE(r.reading_paused());
}

// ============================================================================
// cancel_pending_read
// ============================================================================

TEST(StreamReaderCancel, CancellingPendingReadKeepsBufferedBytes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.readexactly(10)));
  r.cancel_pending_read();
  EXPECT_FALSE(r.has_pending_read());
  EXPECT_EQ(r.buffered(), "abc");
  EXPECT_TRUE(IsBytes(r.read(3), "abc"));
}

TEST(StreamReaderCancel, CancellingReadAllPutsCollectedBytesBackInOrder) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(-1)));
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.feed_data("def")));
  r.cancel_pending_read();
  EXPECT_FALSE(r.has_pending_read());
  EXPECT_EQ(r.buffered(), "abcdef");
  EXPECT_TRUE(IsPending(r.feed_data("ghi")));
  EXPECT_EQ(r.buffered(), "abcdefghi");
  EXPECT_EQ(r.bytes_discarded(), 0u);
  EXPECT_EQ(r.bytes_fed(), 9u);
}

TEST(StreamReaderCancel, CancelledReadIsNotCompletedByLaterCalls) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  r.cancel_pending_read();
  EXPECT_TRUE(IsPending(r.feed_data("x\n")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_EQ(r.buffered(), "x\n");
}

TEST(StreamReaderCancel, NewReadMayWaitAfterCancel) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readline()));
  r.cancel_pending_read();
  EXPECT_TRUE(IsPending(r.readexactly(2)));
  EXPECT_TRUE(IsBytes(r.feed_data("xy"), "xy"));
}

TEST(StreamReaderCancel, NewReaduntilAfterCancelScansTheWholeBuffer) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.readuntil("X")));
  r.cancel_pending_read();
  EXPECT_TRUE(IsBytes(r.readuntil("b"), "ab"));
  EXPECT_TRUE(IsPending(r.readuntil({"QQQ", "XYZ"})));
  EXPECT_TRUE(IsPending(r.feed_data("dQQ")));
  r.cancel_pending_read();
  EXPECT_TRUE(IsBytes(r.readuntil("cd"), "cd"));
}

TEST(StreamReaderCancel, WithoutPendingReadDoesNothing) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  r.cancel_pending_read();
  EXPECT_FALSE(r.has_pending_read());
  EXPECT_EQ(r.buffered(), "abc");
}

// ============================================================================
// at_eof (test_at_eof)
// ============================================================================

TEST(StreamReaderAtEof, BecomesTrueOnlyOnceEofIsFedAndBufferIsDrained) {
  StreamReader r;
  EXPECT_FALSE(r.at_eof());
  EXPECT_TRUE(IsPending(r.feed_data("some data\n")));
  EXPECT_FALSE(r.at_eof());
  EXPECT_TRUE(IsBytes(r.readline(), "some data\n"));
  EXPECT_FALSE(r.at_eof());
  EXPECT_TRUE(IsPending(r.feed_data("some data\n")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_FALSE(r.at_eof());
  EXPECT_TRUE(IsBytes(r.readline(), "some data\n"));
  EXPECT_TRUE(r.at_eof());
}

TEST(StreamReaderAtEof, IsTrueRightAfterEofOnEmptyReader) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(r.at_eof());
  EXPECT_TRUE(r.eof_received());
}

TEST(StreamReaderAtEof, IsTrueAfterIncompleteReadEmptiesTheBuffer) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_FALSE(r.at_eof());
  EXPECT_TRUE(IsIncomplete(r.readuntil("X"), "abc", std::nullopt));
  EXPECT_TRUE(r.at_eof());
}

// ============================================================================
// prepare()/commit(): the zero-copy feed
// ============================================================================

TEST(StreamReaderZeroCopy, PrepareReturnsAtLeastTheRequestedSpace) {
  StreamReader r;
  EXPECT_GE(r.prepare(1).size(), 1u);
  EXPECT_TRUE(IsPending(r.commit(0)));
  EXPECT_GE(r.prepare(100000).size(), 100000u);
  EXPECT_TRUE(IsPending(r.commit(0)));
}

TEST(StreamReaderZeroCopy, CommitFeedsTheBytesWrittenInPlace) {
  StreamReader r;
  EXPECT_TRUE(IsPending(CommitData(r, "hello\nworld")));
  EXPECT_EQ(r.buffered(), "hello\nworld");
  EXPECT_EQ(r.bytes_fed(), 11u);
  EXPECT_TRUE(IsBytes(r.readline(), "hello\n"));
}

TEST(StreamReaderZeroCopy, CommitOfPartOfThePreparedSpaceFeedsOnlyThatPart) {
  StreamReader r;
  std::span<char> space = r.prepare(64);
  ASSERT_GE(space.size(), 64u);
  std::memcpy(space.data(), "abcdefgh", 8);
  EXPECT_TRUE(IsPending(r.commit(3)));
  EXPECT_EQ(r.buffered(), "abc");
  EXPECT_EQ(r.bytes_fed(), 3u);
}

TEST(StreamReaderZeroCopy, PrepareKeepsBufferedBytes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsBytes(r.read(1), "a"));
  EXPECT_TRUE(IsPending(CommitData(r, std::string(5000, 'x'))));
  EXPECT_EQ(r.buffered(), "bc" + std::string(5000, 'x'));
}

TEST(StreamReaderZeroCopy, CommitZeroReleasesTheReservation) {
  StreamReader r;
  std::span<char> space = r.prepare(4096);
  ASSERT_GE(space.size(), 4096u);
  EXPECT_TRUE(IsPending(r.commit(0)));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_EQ(r.bytes_fed(), 0u);
  EXPECT_EQ(r.buffer_capacity(), 0u);
}

TEST(StreamReaderZeroCopy, CommitZeroDoesNotCompleteAPendingRead) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(4)));
  (void)r.prepare(16);
  EXPECT_TRUE(IsPending(r.commit(0)));
  EXPECT_TRUE(r.has_pending_read());
}

// Runs one script of feeds and reads, feeding with feed_data or with
// prepare/commit, and logs every returned value and the state after it.
enum class Op { kFeed, kEof, kRead, kReadline, kReaduntil, kReadexactly };
struct Step {
  Op op;
  std::string_view arg;
  std::int64_t n;
};

std::vector<std::string> RunScript(const std::vector<Step>& steps, bool zero_copy) {
  StreamReader r(4);
  std::vector<std::string> log;
  for (const Step& s : steps) {
    ReadPoll p;
    switch (s.op) {
      case Op::kFeed: p = zero_copy ? CommitData(r, s.arg) : r.feed_data(s.arg); break;
      case Op::kEof: p = r.feed_eof(); break;
      case Op::kRead: p = r.read(s.n); break;
      case Op::kReadline: p = r.readline(); break;
      case Op::kReaduntil: p = r.readuntil(s.arg); break;
      case Op::kReadexactly: p = r.readexactly(s.n); break;
    }
    log.push_back(Describe(p) + " | buffered=" + Quote(r.buffered()) +
                  " paused=" + (r.reading_paused() ? "yes" : "no") +
                  " pending=" + (r.has_pending_read() ? "yes" : "no") +
                  " fed=" + std::to_string(r.bytes_fed()));
  }
  return log;
}

TEST(StreamReaderZeroCopy, PrepareCommitBehavesExactlyLikeFeedData) {
  const std::vector<Step> script = {
      {Op::kReadline, "", 0},       {Op::kFeed, "ab", 0},        {Op::kFeed, "c\nde", 0},
      {Op::kReaduntil, "XY", 0},    {Op::kFeed, "fgX", 0},       {Op::kFeed, "Yzz", 0},
      {Op::kReadexactly, "", 5},    {Op::kFeed, "123456789012", 0}, {Op::kRead, "", 3},
      {Op::kRead, "", 2},           {Op::kReadline, "", 0},      {Op::kFeed, "", 0},
      {Op::kFeed, "\n", 0},         {Op::kFeed, "abcdefgh", 0},  {Op::kReadline, "", 0},
      {Op::kRead, "", -1},          {Op::kFeed, "tail", 0},      {Op::kEof, "", 0},
  };
  const std::vector<std::string> with_feed = RunScript(script, /*zero_copy=*/false);
  const std::vector<std::string> with_commit = RunScript(script, /*zero_copy=*/true);
  ASSERT_EQ(with_feed.size(), with_commit.size());
  for (std::size_t i = 0; i < with_feed.size(); ++i) {
    EXPECT_EQ(with_feed[i], with_commit[i]) << "step " << i;
  }
  // Spot checks that the script did what it was written for.
  EXPECT_EQ(with_feed[2].rfind("bytes \"abc\\n\"", 0), 0u) << with_feed[2];
  EXPECT_EQ(with_feed[5].rfind("bytes \"defgXY\"", 0), 0u) << with_feed[5];
  EXPECT_EQ(with_feed[7].rfind("bytes \"zz123\"", 0), 0u) << with_feed[7];
  EXPECT_EQ(with_feed[12].rfind("bytes \"9012\\n\"", 0), 0u) << with_feed[12];
  EXPECT_EQ(with_feed[17].rfind("bytes \"tail\"", 0), 0u) << with_feed[17];
}

// ============================================================================
// Memory: a reader with nothing buffered holds no heap buffer
// ============================================================================

TEST(StreamReaderMemory, NewReaderHoldsNoBuffer) {
  StreamReader r;
  EXPECT_EQ(r.buffer_capacity(), 0u);
}

TEST(StreamReaderMemory, HoldsABufferWhileBytesAreBuffered) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_GE(r.buffer_capacity(), 3u);
}

TEST(StreamReaderMemory, ReleasesTheBufferWhenEveryKindOfReadDrainsIt) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abcdef")));
  EXPECT_TRUE(IsBytes(r.read(10), "abcdef"));
  EXPECT_EQ(r.buffer_capacity(), 0u) << "after read(n)";

  EXPECT_TRUE(IsPending(r.feed_data("line\n")));
  EXPECT_TRUE(IsBytes(r.readline(), "line\n"));
  EXPECT_EQ(r.buffer_capacity(), 0u) << "after readline";

  EXPECT_TRUE(IsPending(r.feed_data("abcXY")));
  EXPECT_TRUE(IsBytes(r.readuntil("XY"), "abcXY"));
  EXPECT_EQ(r.buffer_capacity(), 0u) << "after readuntil";

  EXPECT_TRUE(IsPending(r.feed_data("abcd")));
  EXPECT_TRUE(IsBytes(r.readexactly(2), "ab"));
  EXPECT_TRUE(IsBytes(r.readexactly(2), "cd"));
  EXPECT_EQ(r.buffer_capacity(), 0u) << "after readexactly";

  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsBytes(r.feed_data("pending\n"), "pending\n"));
  EXPECT_EQ(r.buffer_capacity(), 0u) << "after a pending readline completed";

  EXPECT_TRUE(IsPending(r.feed_data(std::string(100000, 'z'))));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsBytes(r.read(-1), std::string(100000, 'z')));
  EXPECT_EQ(r.buffer_capacity(), 0u) << "after read(-1)";
}

TEST(StreamReaderMemory, HoldsNoBufferWhilePendingReadAllHasTakenEverything) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.read(-1)));
  EXPECT_TRUE(IsPending(r.feed_data("abcdef")));
  EXPECT_EQ(r.buffered(), "");
  EXPECT_EQ(r.buffer_capacity(), 0u);
}

TEST(StreamReaderMemory, ReleasesTheBufferAfterIncompleteRead) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsIncomplete(r.readexactly(5), "abc", 5));
  EXPECT_EQ(r.buffer_capacity(), 0u);
}

TEST(StreamReaderMemory, ReleasesTheBufferAfterReadlineOverrunClearsIt) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcdefgh")));
  EXPECT_TRUE(IsOverrun(r.readline(), kNotFound, 8));
  EXPECT_EQ(r.buffer_capacity(), 0u);
}

TEST(StreamReaderMemory, ReleasesTheBufferAfterCommitIsReadOut) {
  StreamReader r;
  EXPECT_TRUE(IsPending(CommitData(r, "abc\n")));
  EXPECT_TRUE(IsBytes(r.readline(), "abc\n"));
  EXPECT_EQ(r.buffer_capacity(), 0u);
}

TEST(StreamReaderMemory, PooledReaderBuffersInAPoolBlock) {
  BufferPool pool(16384, 4);
  StreamReader r(kDefaultLimit, &pool);
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_EQ(r.buffer_capacity(), 16384u);
  EXPECT_EQ(pool.in_use(), 1u);
}

TEST(StreamReaderMemory, PooledReaderGivesTheBlockBackWhenReadOut) {
  BufferPool pool(16384, 4);
  StreamReader r(kDefaultLimit, &pool);
  EXPECT_TRUE(IsPending(r.readline()));
  EXPECT_TRUE(IsBytes(r.feed_data("line\n"), "line\n"));
  EXPECT_EQ(r.buffer_capacity(), 0u);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(StreamReaderMemory, PooledReaderReusesOneBlockForEveryRequest) {
  BufferPool pool(16384, 4);
  StreamReader r(kDefaultLimit, &pool);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(IsPending(r.readline()));
    std::span<char> room = r.prepare(4096);
    std::memcpy(room.data(), "request\n", 8);
    EXPECT_TRUE(IsBytes(r.commit(8), "request\n"));
  }
  EXPECT_EQ(pool.allocations(), 1u);
  EXPECT_EQ(pool.reuses(), 99u);
  EXPECT_EQ(r.buffer_capacity(), 0u);
}

TEST(StreamReaderMemory, PooledReaderGivesTheBlockBackAfterReadlineView) {
  BufferPool pool(16384, 4);
  StreamReader r(kDefaultLimit, &pool);
  EXPECT_TRUE(IsPending(r.feed_data("a\n")));
  ASSERT_TRUE(r.readline_view().has_value());
  EXPECT_EQ(pool.in_use(), 1u);  // the view's storage lives until the next call
  EXPECT_FALSE(r.readline_view().has_value());
  EXPECT_EQ(pool.in_use(), 0u);
}

// ============================================================================
// Accounting: fed == handed out + buffered + discarded
// ============================================================================

TEST(StreamReaderAccounting, FedEqualsHandedOutPlusBufferedPlusDiscarded) {
  StreamReader r(4);
  std::uint64_t handed = 0;
  auto take = [&](const ReadPoll& p) {
    if (p && p->ok()) handed += p->value().size();
    if (p && !p->ok() && p->error().code == StreamErrc::kIncompleteRead) {
      handed += p->error().partial.size();
    }
  };
  auto check = [&](const char* where) {
    EXPECT_EQ(r.bytes_fed(), handed + r.buffered_size() + r.bytes_discarded()) << where;
    r.check_invariants();
  };

  EXPECT_TRUE(IsPending(r.feed_data("ab\ncdefgh\nij")));
  check("after first feed");
  ReadPoll p = r.readline();
  EXPECT_TRUE(IsBytes(p, "ab\n"));
  take(p);
  check("after readline");
  EXPECT_TRUE(IsOverrun(r.readline(), kFound, 6));  // drops "cdefgh\n"
  EXPECT_EQ(r.bytes_discarded(), 7u);
  check("after found overrun");
  EXPECT_TRUE(IsPending(r.feed_data("klmnop")));
  EXPECT_TRUE(IsOverrun(r.readline(), kNotFound, 8));  // drops "ijklmnop"
  EXPECT_EQ(r.bytes_discarded(), 15u);
  check("after not-found overrun");
  EXPECT_TRUE(IsPending(r.feed_data("xy\n")));
  p = r.readline();
  EXPECT_TRUE(IsBytes(p, "xy\n"));
  take(p);
  check("after tail line");
  EXPECT_TRUE(IsPending(r.readexactly(3)));
  EXPECT_TRUE(IsPending(r.feed_data("zz")));
  check("while readexactly waits");
  p = r.feed_data("zzz");
  EXPECT_TRUE(IsBytes(p, "zzz"));
  take(p);
  check("after readexactly");
  EXPECT_TRUE(IsPending(r.read(-1)));  // collects "zz"
  EXPECT_TRUE(IsPending(r.feed_data("q")));
  EXPECT_TRUE(IsConnectionError(r.set_exception(Reset()), Reset()));  // loses "zzq"
  EXPECT_EQ(r.bytes_discarded(), 18u);
  check("after read(-1) lost to the exception");
  EXPECT_TRUE(IsPending(r.feed_data("rest")));
  check("after feeding past the exception");
  EXPECT_EQ(r.bytes_fed(), 31u);
  EXPECT_EQ(handed, 9u);
  EXPECT_EQ(r.buffered(), "rest");
}

TEST(StreamReaderAccounting, IncompleteReadPartialIsHandedOutNotDiscarded) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsIncomplete(r.readexactly(5), "abc", 5));
  EXPECT_EQ(r.bytes_discarded(), 0u);
  EXPECT_EQ(r.bytes_fed(), 3u);
}

TEST(StreamReaderAccounting, ReadlineOverrunAtEofCountsClearedBytesAsDiscarded) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcd")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_TRUE(IsOverrun(r.readline(), kNotFound, 4));
  EXPECT_EQ(r.bytes_discarded(), 4u);
}

TEST(StreamReaderAccounting, ReaduntilOverrunDiscardsNothing) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcdef\n")));
  EXPECT_TRUE(IsOverrun(r.readuntil("\n"), kFound, 6));
  EXPECT_EQ(r.bytes_discarded(), 0u);
  EXPECT_EQ(r.buffered_size(), 7u);
}

// ============================================================================
// Chunking invariance: how the bytes are split does not change a found result
// ============================================================================

struct ScanCase {
  std::vector<std::string_view> separators;
  std::string_view input;
  ReadPoll expected;          // the completion (nullopt: never completes)
  std::string_view rest;      // buffered afterwards
};

std::vector<ScanCase> ScanCases() {
  using std::string_view_literals::operator""sv;
  return {
      {{"\r\n"}, "abc\r\ndef", ReadResult(std::string("abc\r\n")), "def"},
      {{"aaa"}, "QWEaaXYaaab", ReadResult(std::string("QWEaaXYaaa")), "b"},
      {{"abab"}, "abaababab", ReadResult(std::string("abaabab")), "ab"},
      {{"\r\n\r\n"}, "GET / HTTP/1.1\r\nHost: x\r\n\r\nbody",
       ReadResult(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), "body"},
      {{"\0\0"sv}, "a\0b\0\0c"sv, ReadResult(std::string("a\0b\0\0"sv)), "c"},
      {{"ZZ"}, "abcdef", std::nullopt, "abcdef"},
      {{"DEF", "BCDE"}, "ABCDEFG", ReadResult(std::string("ABCDE")), "FG"},
      {{"\r\n", "\n", "END"}, "xx\rENDyy", ReadResult(std::string("xx\rEND")), "yy"},
      {{"A", "long sep"}, "dataZAaaa", ReadResult(std::string("dataZA")), "aaa"},
      {{"aab", "ab"}, "xaabz", ReadResult(std::string("xaab")), "z"},
      {{"long sep", "p"}, "xlong seq", std::nullopt, "xlong seq"},
  };
}

// Issues readuntil (before chunk `read_at`, or after all chunks) and feeds the
// chunks; returns the completion (described) and what stays buffered.
std::string RunChunked(const ScanCase& c, const std::vector<std::string_view>& chunks,
                       std::size_t read_at) {
  StreamReader r;
  std::optional<std::string> completion;
  auto record = [&](const ReadPoll& p) {
    if (!p) return;
    EXPECT_FALSE(completion.has_value()) << "completed twice";
    completion = Describe(p);
  };
  for (std::size_t i = 0; i <= chunks.size(); ++i) {
    if (i == read_at) {
      record(c.separators.size() == 1
                 ? r.readuntil(c.separators[0])
                 : r.readuntil(std::span<const std::string_view>(c.separators)));
    }
    if (i < chunks.size()) record(r.feed_data(chunks[i]));
  }
  r.check_invariants();
  return completion.value_or(Describe(std::nullopt)) + " | rest=" + Quote(r.buffered());
}

std::string ExpectedOutcome(const ScanCase& c) {
  return Describe(c.expected) + " | rest=" + Quote(c.rest);
}

TEST(StreamReaderChunking, ReaduntilResultDoesNotDependOnSplitPoint) {
  for (const ScanCase& c : ScanCases()) {
    const std::string want = ExpectedOutcome(c);
    for (std::size_t split = 0; split <= c.input.size(); ++split) {
      std::vector<std::string_view> chunks = {c.input.substr(0, split), c.input.substr(split)};
      for (std::size_t read_at = 0; read_at <= chunks.size(); ++read_at) {
        EXPECT_EQ(RunChunked(c, chunks, read_at), want)
            << "input " << Quote(c.input) << " split at " << split << " read issued before chunk "
            << read_at;
      }
    }
  }
}

TEST(StreamReaderChunking, ReaduntilResultIsTheSameForOneByteFeeds) {
  for (const ScanCase& c : ScanCases()) {
    const std::string want = ExpectedOutcome(c);
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < c.input.size(); ++i) bytes.push_back(c.input.substr(i, 1));
    for (std::size_t read_at = 0; read_at <= bytes.size(); ++read_at) {
      EXPECT_EQ(RunChunked(c, bytes, read_at), want)
          << "input " << Quote(c.input) << " one byte per feed, read issued before byte "
          << read_at;
    }
  }
}

TEST(StreamReaderChunking, ReadlineResultDoesNotDependOnSplitPoint) {
  const std::string_view input = "first line\nsecond";
  for (std::size_t split = 0; split <= input.size(); ++split) {
    StreamReader r;
    EXPECT_TRUE(IsPending(r.readline()));
    ReadPoll first = r.feed_data(input.substr(0, split));
    ReadPoll second = r.feed_data(input.substr(split));
    const bool done_early = split >= 11;
    EXPECT_TRUE(IsBytes(done_early ? first : second, "first line\n")) << "split " << split;
    EXPECT_TRUE(IsPending(done_early ? second : first)) << "split " << split;
    EXPECT_EQ(r.buffered(), "second") << "split " << split;
  }
}

TEST(StreamReaderChunking, OneByteCommitsGiveTheSameResultAsOneFeed) {
  const std::string_view input = "abaababab";
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readuntil("abab")));
  std::optional<std::string> got;
  for (std::size_t i = 0; i < input.size(); ++i) {
    ReadPoll p = CommitData(r, input.substr(i, 1));
    if (p) {
      EXPECT_FALSE(got.has_value());
      got = Describe(p);
    }
  }
  EXPECT_EQ(got.value_or("never completed"), Describe(ReadResult(std::string("abaabab"))));
  EXPECT_EQ(r.buffered(), "ab");
}

// ============================================================================
// Incremental scanning: one byte at a time is O(n) (no time is measured; a
// quadratic rescan of a 1 MiB line would not finish within the test timeout)
// ============================================================================

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST(StreamReaderScanning, MiBLineFedByteByByteCompletesPendingReaduntil) {
  std::string line;
  line.reserve(kMiB);
  while (line.size() + 4 < kMiB) line += "abc"[line.size() % 3];  // never "abcd"
  line += "abcd";
  StreamReader r(2 * kMiB);
  ASSERT_TRUE(IsPending(r.readuntil("abcd")));
  std::size_t completions = 0;
  ReadPoll last;
  for (std::size_t i = 0; i < line.size(); ++i) {
    ReadPoll p = r.feed_data(std::string_view(line).substr(i, 1));
    if (p) {
      ++completions;
      last = std::move(p);
      EXPECT_EQ(i + 1, line.size()) << "completed early";
    }
  }
  EXPECT_EQ(completions, 1u);
  ASSERT_TRUE(last && last->ok());
  EXPECT_EQ(last->value().size(), line.size());
  EXPECT_TRUE(last->value() == line);
  EXPECT_EQ(r.buffered_size(), 0u);
}

TEST(StreamReaderScanning, MiBLineFedByteByByteCompletesPendingReadline) {
  std::string line(kMiB - 1, 'x');
  line += '\n';
  StreamReader r(2 * kMiB);
  ASSERT_TRUE(IsPending(r.readline()));
  std::size_t completions = 0;
  ReadPoll last;
  for (std::size_t i = 0; i < line.size(); ++i) {
    ReadPoll p = r.feed_data(std::string_view(line).substr(i, 1));
    if (p) {
      ++completions;
      last = std::move(p);
    }
  }
  EXPECT_EQ(completions, 1u);
  ASSERT_TRUE(last && last->ok());
  EXPECT_TRUE(last->value() == line);
}

TEST(StreamReaderScanning, MiBLineFedByteByByteCompletesPendingMultiSeparatorReaduntil) {
  std::string line;
  line.reserve(kMiB);
  while (line.size() + 5 < kMiB) line += "x\r\n";  // neither "\r\n\r\n" nor "\n\n"
  line += "\r\n";
  StreamReader r(2 * kMiB);
  ASSERT_TRUE(IsPending(r.readuntil({"\r\n\r\n", "\n\n"})));
  std::size_t completions = 0;
  ReadPoll last;
  for (std::size_t i = 0; i < line.size(); ++i) {
    ReadPoll p = r.feed_data(std::string_view(line).substr(i, 1));
    if (p) {
      ++completions;
      last = std::move(p);
    }
  }
  EXPECT_EQ(completions, 1u);
  ASSERT_TRUE(last && last->ok());
  EXPECT_TRUE(last->value() == line);
}

// ============================================================================
// StreamError texts and the error category
// ============================================================================

TEST(StreamErrorMessage, IncompleteReadWithExpectedCount) {
  StreamError e = StreamError::incomplete_read(std::string(18, 'x'), 36);
  EXPECT_EQ(e.code, StreamErrc::kIncompleteRead);
  EXPECT_EQ(e.partial, std::string(18, 'x'));
  EXPECT_EQ(e.expected, std::optional<std::size_t>(36));
  EXPECT_EQ(e.message(), "18 bytes read on a total of 36 expected bytes");
}

TEST(StreamErrorMessage, IncompleteReadWithUndefinedExpected) {
  StreamError e = StreamError::incomplete_read("some dataAA", std::nullopt);
  EXPECT_FALSE(e.expected.has_value());
  EXPECT_EQ(e.message(), "11 bytes read on a total of undefined expected bytes");
}

TEST(StreamErrorMessage, LimitOverrunSeparatorFound) {
  StreamError e = StreamError::limit_overrun(kFound, 9);
  EXPECT_EQ(e.code, StreamErrc::kLimitOverrun);
  EXPECT_EQ(e.consumed, 9u);
  EXPECT_EQ(e.overrun, kFound);
  EXPECT_EQ(e.message(), "Separator is found, but chunk is longer than limit");
}

TEST(StreamErrorMessage, LimitOverrunSeparatorNotFound) {
  StreamError e = StreamError::limit_overrun(kNotFound, 99);
  EXPECT_EQ(e.consumed, 99u);
  EXPECT_EQ(e.overrun, kNotFound);
  EXPECT_EQ(e.message(), "Separator is not found, and chunk exceed the limit");
}

TEST(StreamErrorMessage, InvalidArgumentsFromTheReaderCarryAsyncioTexts) {
  StreamReader r;
  EXPECT_EQ(MessageOf(r.readexactly(-1)), "readexactly size can not be less than zero");
  EXPECT_EQ(MessageOf(r.readuntil("")), "Separator should be at least one-byte string");
  EXPECT_EQ(MessageOf(r.readuntil({"x", ""})), "Separator should be at least one-byte string");
  EXPECT_EQ(MessageOf(r.readuntil(std::span<const std::string_view>())),
            "Separator should contain at least one element");
  Result<StreamReader> bad = StreamReader::create(0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "Limit cannot be <= 0");
}

TEST(StreamErrorMessage, ConcurrentReadNamesTheOperation) {
  EXPECT_EQ(StreamError::concurrent_read("readexactly").message(),
            "readexactly() called while another coroutine is already waiting for incoming data");
  EXPECT_EQ(StreamError::concurrent_read("readexactly").code, StreamErrc::kConcurrentRead);
}

TEST(StreamErrorMessage, WriteAfterEof) {
  StreamError e = StreamError::write_after_eof();
  EXPECT_EQ(e.code, StreamErrc::kWriteAfterEof);
  EXPECT_EQ(e.message(), "Cannot call write() after write_eof()");
}

TEST(StreamErrorMessage, ConnectionErrorKeepsItsCauseAndHasAMessage) {
  StreamError e = StreamError::connection(Reset());
  EXPECT_EQ(e.code, StreamErrc::kConnectionError);
  EXPECT_EQ(e.connection_error, Reset());
  EXPECT_FALSE(e.message().empty());
}

TEST(StreamErrcCategory, NameIsSluiceStream) {
  EXPECT_STREQ(stream_errc_category().name(), "sluice.stream");
  EXPECT_STREQ(make_error_code(StreamErrc::kLimitOverrun).category().name(), "sluice.stream");
}

TEST(StreamErrcCategory, MakeErrorCodeUsesTheCategoryAndTheEnumValue) {
  for (StreamErrc e : {StreamErrc::kIncompleteRead, StreamErrc::kLimitOverrun,
                       StreamErrc::kInvalidArgument, StreamErrc::kConcurrentRead,
                       StreamErrc::kConnectionError, StreamErrc::kWriteAfterEof}) {
    std::error_code ec = make_error_code(e);
    EXPECT_TRUE(ec.category() == stream_errc_category()) << CodeName(e);
    EXPECT_EQ(ec.value(), static_cast<int>(e)) << CodeName(e);
    EXPECT_TRUE(static_cast<bool>(ec)) << CodeName(e);
    EXPECT_FALSE(ec.message().empty()) << CodeName(e);
  }
}

TEST(StreamErrcCategory, StreamErrcConvertsImplicitlyToErrorCode) {
  std::error_code ec = StreamErrc::kIncompleteRead;
  EXPECT_EQ(ec, make_error_code(StreamErrc::kIncompleteRead));
  EXPECT_TRUE(ec == StreamErrc::kIncompleteRead);
  EXPECT_FALSE(ec == StreamErrc::kLimitOverrun);
}

}  // namespace
}  // namespace sluice

// ============================================================================
// readline_view: readline without the copy
// ============================================================================

namespace sluice {
namespace {

using View = std::optional<Result<std::string_view>>;

std::string ViewText(const View& v) { return v && v->ok() ? std::string(**v) : "<not a view>"; }

TEST(StreamReaderReadlineView, ReturnsBufferedLineAsViewIntoTheBuffer) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("ab\ncd")));
  const char* start = r.buffered().data();
  View v = r.readline_view();
  EXPECT_EQ(ViewText(v), "ab\n");
  EXPECT_EQ((*v)->data(), start);
  EXPECT_EQ(r.buffered(), "cd");
}

TEST(StreamReaderReadlineView, ReturnsNulloptAndChangesNothingWithoutALine) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_FALSE(r.readline_view().has_value());
  EXPECT_EQ(r.buffered(), "abc");
  EXPECT_FALSE(r.has_pending_read());
  EXPECT_TRUE(IsPending(r.feed_data("d\ne")));
  EXPECT_EQ(ViewText(r.readline_view()), "abcd\n");
}

TEST(StreamReaderReadlineView, EmptiedBufferKeepsItsMemoryUntilTheNextCall) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("line\n")));
  View v = r.readline_view();
  EXPECT_EQ(ViewText(v), "line\n");  // still readable: storage kept
  EXPECT_GT(r.buffer_capacity(), 0u);
  EXPECT_FALSE(r.readline_view().has_value());
  EXPECT_EQ(r.buffer_capacity(), 0u);
}

TEST(StreamReaderReadlineView, OverlongLineWithNewlineIsDiscardedLikeReadline) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcde\nxy\n")));
  View v = r.readline_view();
  ASSERT_TRUE(v && !v->ok());
  EXPECT_EQ(v->error().code, StreamErrc::kLimitOverrun);
  EXPECT_EQ(v->error().consumed, 5u);
  EXPECT_EQ(r.buffered(), "xy\n");
}

TEST(StreamReaderReadlineView, OverlongUnterminatedDataIsDiscardedLikeReadline) {
  StreamReader r(3);
  EXPECT_TRUE(IsPending(r.feed_data("abcd")));
  View v = r.readline_view();
  ASSERT_TRUE(v && !v->ok());
  EXPECT_EQ(v->error().overrun, LimitOverrunKind::kSeparatorNotFound);
  EXPECT_EQ(v->error().consumed, 4u);
  EXPECT_EQ(r.buffered_size(), 0u);
  EXPECT_EQ(r.bytes_discarded(), 4u);
}

TEST(StreamReaderReadlineView, ReturnsPartialLineThenEmptyAtEof) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("tail")));
  EXPECT_TRUE(IsPending(r.feed_eof()));
  EXPECT_EQ(ViewText(r.readline_view()), "tail");
  EXPECT_EQ(ViewText(r.readline_view()), "");
  EXPECT_TRUE(r.at_eof());
}

TEST(StreamReaderReadlineView, HeldConnectionErrorWins) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("x\n")));
  EXPECT_TRUE(IsPending(r.set_exception(std::make_error_code(std::errc::connection_reset))));
  View v = r.readline_view();
  ASSERT_TRUE(v && !v->ok());
  EXPECT_EQ(v->error().code, StreamErrc::kConnectionError);
}

TEST(StreamReaderReadlineView, RefusedWhileAReadIsPending) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.readexactly(10)));
  View v = r.readline_view();
  ASSERT_TRUE(v && !v->ok());
  EXPECT_EQ(v->error().code, StreamErrc::kConcurrentRead);
  EXPECT_TRUE(r.has_pending_read());
}

TEST(StreamReaderReadlineView, FindsNewlineAfterOtherReadsConsumedScannedBytes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("abc")));
  EXPECT_FALSE(r.readline_view().has_value());  // "abc" known newline-free
  EXPECT_TRUE(IsBytes(r.read(2), "ab"));
  EXPECT_TRUE(IsPending(r.feed_data("\nz")));  // buffer "c\nz": newline at 1
  EXPECT_EQ(ViewText(r.readline_view()), "c\n");
}

TEST(StreamReaderReadlineView, FindsNewlineInBytesACancelledReadAllPutBack) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("ab")));
  EXPECT_FALSE(r.readline_view().has_value());  // "ab" known newline-free
  EXPECT_TRUE(IsPending(r.read(-1)));            // takes "ab"
  EXPECT_TRUE(IsPending(r.feed_data("c\nd")));
  r.cancel_pending_read();                       // "abc\nd" back in the buffer
  EXPECT_EQ(ViewText(r.readline_view()), "abc\n");
  r.check_invariants();
}

TEST(StreamReaderReadlineView, LongLineTrickledByteByByteCompletes) {
  StreamReader r(2 << 20);
  const std::string line(1 << 20, 'x');
  for (char c : line) {
    EXPECT_TRUE(IsPending(r.feed_data(std::string_view(&c, 1))));
    ASSERT_FALSE(r.readline_view().has_value());
  }
  EXPECT_TRUE(IsPending(r.feed_data("\n")));
  EXPECT_EQ(r.readline_view()->value().size(), line.size() + 1);
}


// ---- Handing the buffer over (Connection::start_tls). ----

TEST(StreamReaderHandOver, TakeBufferedReturnsEverythingAndResumes) {
  StreamReader r(2);
  EXPECT_TRUE(IsPending(r.feed_data("hello")));  // > 2*limit: paused
  ASSERT_TRUE(r.reading_paused());
  EXPECT_EQ(r.take_buffered(), "hello");
  EXPECT_EQ(r.buffered_size(), 0u);
  EXPECT_FALSE(r.reading_paused());
  EXPECT_EQ(r.bytes_discarded(), 0u);
  EXPECT_EQ(r.take_buffered(), "");
  r.check_invariants();
}

TEST(StreamReaderHandOver, DiscardBufferedCountsTheBytes) {
  StreamReader r;
  EXPECT_TRUE(IsPending(r.feed_data("injected")));
  EXPECT_EQ(r.discard_buffered(), 8u);
  EXPECT_EQ(r.bytes_discarded(), 8u);
  EXPECT_EQ(r.buffered_size(), 0u);
  r.check_invariants();
}

TEST(StreamReaderHandOver, SetExceptionTakesAnyStreamError) {
  StreamReader r;
  ASSERT_TRUE(IsPending(r.readline()));
  const StreamError tls = StreamError::tls("TLS error", "bad record mac");
  ReadPoll failed = r.set_exception(tls);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->error(), tls);
  EXPECT_EQ(r.read(0)->error(), tls);  // sticky
}

}  // namespace
}  // namespace sluice
