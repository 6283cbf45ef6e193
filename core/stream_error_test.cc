#include "core/stream_error.h"

#include <system_error>

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

TEST(Result, HoldsValueOrError) {
  Result<int> good = 3;
  Result<int> bad = StreamError::write_after_eof();
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, StreamErrc::kWriteAfterEof);
}

}  // namespace
}  // namespace sluice
