#include "examples/show.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice::examples {
namespace {

TEST(ShowTest, QuotesTheLineWithoutItsLineEnd) {
  EXPECT_EQ(show("hello\r\n"), "\"hello\"");
  EXPECT_EQ(show("hello\n"), "\"hello\"");
}

TEST(ShowTest, EscapesQuotesBackslashesAndNonPrintableBytes) {
  EXPECT_EQ(show(std::string("a\"b\\c\td\0\xff", 9)), R"("a\"b\\c\x09d\x00\xff")");
}

TEST(ShowTest, CutsLongLinesAndSaysHowLong) {
  EXPECT_EQ(show(std::string(100, 'x') + "\n"), "\"" + std::string(60, 'x') + "\"... (100 bytes)");
}

}  // namespace
}  // namespace sluice::examples
