#include "conformance/json.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "conformance/parse_error.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

using namespace std::string_literals;

JsonValue must_parse(std::string_view text) {
  Parsed<JsonValue> v = parse_json(text);
  EXPECT_TRUE(v.ok()) << text << ": " << (v.ok() ? "" : v.error().to_string());
  return v.ok() ? *v : JsonValue();
}

// The error for `text`, which must not parse.
ParseError must_fail(std::string_view text) {
  Parsed<JsonValue> v = parse_json(text);
  EXPECT_FALSE(v.ok()) << "parsed: " << text;
  return v.ok() ? ParseError{} : v.error();
}

TEST(JsonTest, ParsesLiterals) {
  EXPECT_TRUE(must_parse("null").is_null());
  EXPECT_TRUE(must_parse("true").as_bool());
  EXPECT_FALSE(must_parse("false").as_bool());
}

TEST(JsonTest, ParsesIntegers) {
  EXPECT_EQ(must_parse("0").as_int64(), 0);
  EXPECT_EQ(must_parse("42").as_int64(), 42);
  EXPECT_EQ(must_parse("-1").as_int64(), -1);
  EXPECT_EQ(must_parse("-0").as_int64(), 0);
}

TEST(JsonTest, ParsesInt64Extremes) {
  EXPECT_EQ(must_parse("9223372036854775807").as_int64(),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(must_parse("-9223372036854775808").as_int64(),
            std::numeric_limits<std::int64_t>::min());
}

TEST(JsonTest, HugeIntegerHasNoIntegerValue) {
  JsonValue v = must_parse("9223372036854775808");
  ASSERT_TRUE(v.is_number());
  EXPECT_EQ(v.as_int64(), std::nullopt);
  EXPECT_EQ(v.number_text(), "9223372036854775808");
  EXPECT_EQ(must_parse("-99999999999999999999999999999").as_int64(), std::nullopt);
}

TEST(JsonTest, FractionAndExponentAreNumbersWithoutIntegerValue) {
  EXPECT_EQ(must_parse("1.5").as_int64(), std::nullopt);
  EXPECT_EQ(must_parse("1.0").as_int64(), std::nullopt);
  EXPECT_EQ(must_parse("1e3").as_int64(), std::nullopt);
  EXPECT_EQ(must_parse("-2.5E-3").number_text(), "-2.5E-3");
}

TEST(JsonTest, RejectsMalformedNumbers) {
  for (std::string_view bad : {"01", "-", "+1", ".5", "1.", "1e", "1e+", "-a", "NaN", "Infinity",
                               "0x10"}) {
    must_fail(bad);
  }
}

TEST(JsonTest, ParsesStringEscapes) {
  EXPECT_EQ(must_parse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
}

TEST(JsonTest, ParsesUnicodeEscapesOfEitherCase) {
  EXPECT_EQ(must_parse(R"("\u0041\u00e9\u00E9\u20AC")").as_string(), "A\xc3\xa9\xc3\xa9\xe2\x82\xac");
}

TEST(JsonTest, ParsesNulEscape) {
  EXPECT_EQ(must_parse(R"("a\u0000b")").as_string(), "a\0b"s);
}

TEST(JsonTest, CombinesSurrogatePairs) {
  EXPECT_EQ(must_parse(R"("\ud83d\ude00")").as_string(), "\xf0\x9f\x98\x80");
}

TEST(JsonTest, RejectsLoneSurrogates) {
  must_fail(R"("\ud83d")");
  must_fail(R"("\ud83dx")");
  must_fail(R"("\ud83d\u0041")");
  must_fail(R"("\ude00")");
}

TEST(JsonTest, RejectsBadEscapes) {
  must_fail(R"("\x")");
  must_fail(R"("\u12")");
  must_fail(R"("\u12g4")");
  must_fail("\"\\");
}

TEST(JsonTest, RejectsUnescapedControlCharacters) {
  ParseError e = must_fail("\"a\nb\"");
  EXPECT_EQ(e.column, 3u);
  EXPECT_NE(e.message.find("control character"), std::string::npos) << e.message;
}

TEST(JsonTest, AcceptsValidUtf8) {
  EXPECT_EQ(must_parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"").as_string(),
            "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
}

TEST(JsonTest, RejectsInvalidUtf8) {
  must_fail("\"\xff\"");          // not a lead byte
  must_fail("\"\x80\"");          // lone continuation byte
  must_fail("\"\xc0\xaf\"");      // overlong
  must_fail("\"\xe0\x80\xaf\"");  // overlong
  must_fail("\"\xed\xa0\x80\"");  // encoded surrogate
  must_fail("\"\xf4\x90\x80\x80\"");  // above U+10FFFF
  must_fail("\"\xe2\x82\"");      // truncated
  must_fail("\"\xe2\x82");        // truncated at end of input
}

TEST(JsonTest, RejectsUnterminatedString) {
  ParseError e = must_fail(R"({"op":"read)");
  EXPECT_EQ(e.column, 7u);
  EXPECT_EQ(e.message, "unterminated string");
}

TEST(JsonTest, ParsesObjectsInOrder) {
  JsonValue v = must_parse(R"( { "op" : "feed" , "hex":"6869" } )");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.as_object().size(), 2u);
  EXPECT_EQ(v.as_object()[0].name, "op");
  EXPECT_EQ(v.find("hex")->as_string(), "6869");
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(JsonTest, ParsesArrays) {
  JsonValue v = must_parse(R"(["0d0a", "0a", [], {}])");
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.as_array().size(), 4u);
  EXPECT_EQ(v.as_array()[1].as_string(), "0a");
  EXPECT_TRUE(v.as_array()[2].is_array());
  EXPECT_TRUE(v.as_array()[3].is_object());
}

TEST(JsonTest, RejectsDuplicateMemberNames) {
  ParseError e = must_fail(R"({"n":1,"n":2})");
  EXPECT_EQ(e.column, 8u);
  EXPECT_NE(e.message.find("duplicate"), std::string::npos) << e.message;
}

TEST(JsonTest, RejectsTrailingCommas) {
  must_fail("[1,]");
  must_fail(R"({"a":1,})");
}

TEST(JsonTest, RejectsMissingSeparators) {
  must_fail(R"({"a" 1})");
  must_fail(R"({"a":1 "b":2})");
  must_fail("[1 2]");
  must_fail("{1:2}");
}

TEST(JsonTest, RejectsTrailingGarbageWithItsColumn) {
  ParseError e = must_fail(R"({"op":"at_eof"} x)");
  EXPECT_EQ(e.column, 17u);
  EXPECT_EQ(e.message, "trailing characters after the JSON value ('x')");
}

TEST(JsonTest, RejectsASecondValue) { must_fail("{} {}"); }

TEST(JsonTest, RejectsEmptyInput) {
  EXPECT_EQ(must_fail("").message, "expected a JSON value, got end of input");
  must_fail("   ");
}

TEST(JsonTest, RejectsByteOrderMark) { must_fail("\xef\xbb\xbf{}"); }

TEST(JsonTest, RejectsBadLiterals) {
  must_fail("tru");
  must_fail("nul");
  must_fail("True");
}

TEST(JsonTest, AcceptsNestingUpToTheDepthLimit) {
  std::string deep = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parse_json(deep).ok());
}

TEST(JsonTest, RejectsNestingBeyondTheDepthLimit) {
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  ParseError e = must_fail(deep);
  EXPECT_NE(e.message.find("nesting deeper"), std::string::npos) << e.message;
  // A very deep input fails the same way, without exhausting the stack.
  must_fail(std::string(1000000, '['));
}

TEST(JsonTest, ErrorNamesTheColumn) {
  ParseError e = must_fail(R"({"op" "read"})");
  EXPECT_EQ(e.line, 0u);
  EXPECT_EQ(e.column, 7u);
  EXPECT_EQ(e.to_string(), "column 7: expected ':' after member name, got '\"'");
}

TEST(JsonTest, EqualityIgnoresMemberOrder) {
  EXPECT_EQ(must_parse(R"({"i":1,"hex":"00"})"), must_parse(R"({"hex":"00","i":1})"));
  EXPECT_NE(must_parse(R"({"i":1,"hex":"00"})"), must_parse(R"({"i":1,"hex":"01"})"));
  EXPECT_NE(must_parse(R"({"i":1})"), must_parse(R"({"i":1,"hex":"00"})"));
  EXPECT_NE(must_parse(R"({"i":1,"x":null})"), must_parse(R"({"i":1,"y":null})"));
}

TEST(JsonTest, EqualityComparesIntegersByValueAndArraysInOrder) {
  EXPECT_EQ(must_parse("-0"), must_parse("0"));
  EXPECT_NE(must_parse("1"), must_parse("1.0"));
  EXPECT_NE(must_parse("null"), must_parse("false"));
  EXPECT_NE(must_parse(R"(["a","b"])"), must_parse(R"(["b","a"])"));
}

TEST(JsonTest, QuoteEscapesSpecialCharacters) {
  EXPECT_EQ(json_quote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(json_quote("vectors/x.jsonl"), R"("vectors/x.jsonl")");
}

TEST(JsonTest, QuoteRoundTrips) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all += static_cast<char>(c);
  all += "\xc3\xa9";
  EXPECT_EQ(must_parse(json_quote(all)).as_string(), all);
}

}  // namespace
}  // namespace sluice::conformance
