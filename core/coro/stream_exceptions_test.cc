#include "core/coro/stream_exceptions.h"

#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace sluice {
namespace {

TEST(StreamExceptionsTest, IncompleteReadCarriesPartialAndExpected) {
  try {
    throw_stream_error(StreamError::incomplete_read(std::string(18, 'x'), 36));
  } catch (const IncompleteReadError& e) {
    EXPECT_EQ(e.partial(), std::string(18, 'x'));
    EXPECT_EQ(e.expected(), 36u);
    EXPECT_STREQ(e.what(), "18 bytes read on a total of 36 expected bytes");
    EXPECT_EQ(e.code(), make_error_code(StreamErrc::kIncompleteRead));
    return;
  }
  FAIL() << "not thrown";
}

TEST(StreamExceptionsTest, IncompleteReadFromReaduntilExpectsNothing) {
  try {
    throw_stream_error(StreamError::incomplete_read("ab", std::nullopt));
  } catch (const IncompleteReadError& e) {
    EXPECT_EQ(e.expected(), std::nullopt);
    EXPECT_STREQ(e.what(), "2 bytes read on a total of undefined expected bytes");
    return;
  }
  FAIL() << "not thrown";
}

TEST(StreamExceptionsTest, LimitOverrunCarriesConsumed) {
  try {
    throw_stream_error(StreamError::limit_overrun(LimitOverrunKind::kSeparatorFound, 9));
  } catch (const LimitOverrunError& e) {
    EXPECT_EQ(e.consumed(), 9u);
    EXPECT_STREQ(e.what(), "Separator is found, but chunk is longer than limit");
    return;
  }
  FAIL() << "not thrown";
}

TEST(StreamExceptionsTest, ConnectionErrorCodeIsTheCause) {
  const std::error_code reset = std::make_error_code(std::errc::connection_reset);
  try {
    throw_stream_error(StreamError::connection(reset));
  } catch (const ConnectionError& e) {
    EXPECT_EQ(e.code(), reset);
    EXPECT_EQ(e.error().connection_error, reset);
    return;
  }
  FAIL() << "not thrown";
}

TEST(StreamExceptionsTest, TlsErrorCarriesOpenSslsReason) {
  try {
    throw_stream_error(StreamError::tls("TLS handshake failed", "certificate verify failed"));
  } catch (const TlsError& e) {
    EXPECT_EQ(e.code(), make_error_code(StreamErrc::kTlsError));
    EXPECT_EQ(e.reason(), "certificate verify failed");
    EXPECT_STREQ(e.what(), "TLS handshake failed: certificate verify failed");
    return;
  }
  FAIL() << "not thrown";
}

TEST(StreamExceptionsTest, OtherErrorsAreStreamExceptionsWithTheirCode) {
  try {
    throw_stream_error(StreamError::write_after_eof());
  } catch (const IncompleteReadError&) {
    FAIL() << "wrong class";
  } catch (const StreamException& e) {
    EXPECT_EQ(e.code(), make_error_code(StreamErrc::kWriteAfterEof));
    EXPECT_STREQ(e.what(), "Cannot call write() after write_eof()");
    return;
  }
  FAIL() << "not thrown";
}

TEST(StreamExceptionsTest, EveryClassIsASystemError) {
  EXPECT_THROW(throw_stream_error(StreamError::concurrent_read("read")), std::system_error);
  EXPECT_THROW(throw_stream_error(StreamError::incomplete_read("", 1)), std::system_error);
  EXPECT_THROW(throw_stream_error(StreamError::invalid_argument("x")), StreamException);
}

TEST(StreamExceptionsTest, CopiesShareThePayload) {
  StreamException a(StreamError::incomplete_read("abc", 5));
  StreamException b = a;
  EXPECT_EQ(&a.error(), &b.error());
  EXPECT_STREQ(a.what(), b.what());
}

}  // namespace
}  // namespace sluice
