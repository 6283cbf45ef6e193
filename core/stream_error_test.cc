#include "core/stream_error.h"

#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "core/result.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(StreamError, IncompleteReadMessageNamesExpectedBytes) {
  EXPECT_EQ(StreamError::incomplete_read(std::string(18, 'x'), 36).message(),
            "18 bytes read on a total of 36 expected bytes");
}

TEST(StreamError, IncompleteReadWithoutExpectedSaysUndefined) {
  EXPECT_EQ(StreamError::incomplete_read("ab", std::nullopt).message(),
            "2 bytes read on a total of undefined expected bytes");
}

TEST(StreamError, LimitOverrunMessagesMatchAsyncio) {
  EXPECT_EQ(StreamError::limit_overrun(LimitOverrunKind::kSeparatorFound, 9).message(),
            "Separator is found, but chunk is longer than limit");
  EXPECT_EQ(StreamError::limit_overrun(LimitOverrunKind::kSeparatorNotFound, 5).message(),
            "Separator is not found, and chunk exceed the limit");
}

TEST(StreamError, ConcurrentReadMessageNamesOperation) {
  EXPECT_EQ(StreamError::concurrent_read("readuntil").message(),
            "readuntil() called while another coroutine is already waiting for incoming data");
}

TEST(StreamError, WriterConnectionLostSaysConnectionLost) {
  StreamError e = StreamError::connection(std::make_error_code(std::errc::connection_reset),
                                          "Connection lost");
  EXPECT_EQ(e.message(), "Connection lost");
  EXPECT_EQ(e.connection_error, std::errc::connection_reset);
}

TEST(StreamError, ConnectionErrorWithoutTextUsesTheCause) {
  EXPECT_EQ(StreamError::connection(std::make_error_code(std::errc::broken_pipe)).message(),
            std::make_error_code(std::errc::broken_pipe).message());
}

TEST(StreamError, TlsErrorMessageJoinsDetailAndReason) {
  StreamError e = StreamError::tls("TLS handshake failed", "certificate verify failed");
  EXPECT_EQ(e.code, StreamErrc::kTlsError);
  EXPECT_EQ(e.message(), "TLS handshake failed: certificate verify failed");
  EXPECT_EQ(StreamError::tls("", "").message(), "TLS error");
}

TEST(StreamError, TlsErrorsCompareByReason) {
  EXPECT_EQ(StreamError::tls("x", "a"), StreamError::tls("x", "a"));
  EXPECT_FALSE(StreamError::tls("x", "a") == StreamError::tls("x", "b"));
}

TEST(StreamError, ErrorCodeUsesSluiceCategory) {
  std::error_code ec = StreamErrc::kLimitOverrun;
  EXPECT_STREQ(ec.category().name(), "sluice.stream");
  EXPECT_EQ(ec, make_error_code(StreamErrc::kLimitOverrun));
}

TEST(StreamError, TlsErrorCodeKeepsTheWholeMessage) {
  const StreamError e = StreamError::tls("TLS handshake failed", "certificate verify failed");
  const std::error_code ec = e.to_error_code();
  EXPECT_TRUE(is_tls_error(ec));
  EXPECT_STREQ(ec.category().name(), "sluice.tls");
  EXPECT_EQ(ec.message(), "TLS handshake failed: certificate verify failed");
  EXPECT_EQ(std::system_error(ec).what(), ec.message());
}

TEST(StreamError, EqualTlsTextsGiveEqualErrorCodes) {
  const StreamError a = StreamError::tls("TLS handshake failed", "wrong version number");
  const StreamError b = StreamError::tls("TLS handshake failed", "wrong version number");
  const StreamError c = StreamError::tls("TLS handshake failed", "bad record mac");
  EXPECT_EQ(a.to_error_code(), b.to_error_code());
  EXPECT_NE(a.to_error_code(), c.to_error_code());
}

TEST(StreamError, TlsErrorTableIsBounded) {
  std::error_code last;
  for (int i = 0; i < kMaxTlsErrorTexts + 10; ++i) {
    last = StreamError::tls("bounded", std::to_string(i)).to_error_code();
  }
  EXPECT_TRUE(is_tls_error(last));
  EXPECT_EQ(last.value(), 0);
  EXPECT_EQ(last.message(), "TLS error");
}

TEST(StreamError, ConnectionErrorCodeIsItsCause) {
  const std::error_code cause = std::make_error_code(std::errc::connection_reset);
  EXPECT_EQ(StreamError::connection(cause).to_error_code(), cause);
  EXPECT_EQ(StreamError::connection({}).to_error_code(),
            make_error_code(StreamErrc::kConnectionError));
  EXPECT_EQ(StreamError::incomplete_read("ab", 3).to_error_code(),
            make_error_code(StreamErrc::kIncompleteRead));
  EXPECT_FALSE(is_tls_error(make_error_code(StreamErrc::kTlsError)));
}

TEST(StreamErrorSlot, EmptySlotReadsAsNoError) {
  StreamErrorSlot slot;
  EXPECT_FALSE(slot);
  EXPECT_EQ(slot.as_optional(), std::nullopt);
}

TEST(StreamErrorSlot, SetErrorIsReadBack) {
  StreamErrorSlot slot;
  slot.set(StreamError::write_after_eof());
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot->code, StreamErrc::kWriteAfterEof);
  EXPECT_EQ(slot.as_optional(), StreamError::write_after_eof());
}

TEST(StreamErrorSlot, LaterSetReplacesTheErrorInPlace) {
  StreamErrorSlot slot;
  slot.set(StreamError::write_after_eof());
  const std::optional<StreamError>& held = slot.as_optional();
  slot.set(StreamError::not_supported("nope"));
  EXPECT_EQ(&slot.as_optional(), &held);
  EXPECT_EQ(held, StreamError::not_supported("nope"));
}

TEST(Result, HoldsValueOrError) {
  Result<int> good = 3;
  Result<int> bad = StreamError::write_after_eof();
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, StreamErrc::kWriteAfterEof);
}

TEST(Result, ErrorIsBoxedSoAResultIsItsValuePlusAWord) {
  EXPECT_EQ(sizeof(Status), sizeof(void*));
  EXPECT_LE(sizeof(Result<std::string>), sizeof(std::string) + sizeof(void*));
}

TEST(Result, CopyingAnErrorResultCopiesTheError) {
  Result<std::string> original = StreamError::incomplete_read("ab", 3);
  Result<std::string> copy = original;
  copy.error().partial = "changed";
  EXPECT_EQ(original.error().partial, "ab");
  EXPECT_EQ(copy.error().partial, "changed");
}

TEST(Result, CopiedErrorStatusComparesEqual) {
  const Status original = StreamError::connection(std::make_error_code(std::errc::broken_pipe));
  const Status copy = original;
  EXPECT_EQ(copy, original);
  EXPECT_NE(copy, Status(Ok{}));
}

TEST(Result, ErrorsCompareByContent) {
  EXPECT_EQ(Result<int>(StreamError::incomplete_read("ab", 3)),
            Result<int>(StreamError::incomplete_read("ab", 3)));
  EXPECT_NE(Result<int>(StreamError::incomplete_read("ab", 3)),
            Result<int>(StreamError::incomplete_read("ab", 4)));
}

TEST(Result, MovedFromErrorResultIsStillAnError) {
  Status failed = StreamError::write_after_eof();
  Status taken = std::move(failed);
  EXPECT_FALSE(failed.ok());  // NOLINT(bugprone-use-after-move): the point
  EXPECT_EQ(taken.error().code, StreamErrc::kWriteAfterEof);
}

TEST(Result, ErrorMovesOutOfAnRvalueResult) {
  Result<std::string> r = StreamError::incomplete_read(std::string(100, 'p'), 200);
  StreamError e = std::move(r).error();
  EXPECT_EQ(e.partial, std::string(100, 'p'));
}

TEST(Result, WorksWithOtherErrorTypes) {
  Result<int, std::string> bad = std::string("no");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "no");
  Result<int, std::string> good = 7;
  EXPECT_EQ(*good, 7);
}

}  // namespace
}  // namespace sluice
