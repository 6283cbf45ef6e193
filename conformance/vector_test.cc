#include "conformance/vector.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/parse_error.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

using namespace std::string_literals;

Vector must_parse(std::string_view text) {
  Parsed<Vector> v = parse_vector(text);
  EXPECT_TRUE(v.ok()) << text << "\n" << (v.ok() ? "" : v.error().to_string());
  return v.ok() ? *v : Vector{};
}

// The only op of a one-line vector.
Op must_parse_op(std::string_view line) {
  Vector v = must_parse(line);
  EXPECT_EQ(v.ops.size(), 1u) << line;
  return v.ops.empty() ? Op{} : v.ops[0];
}

// The error message for `text`, which must not parse, as to_string() gives it.
std::string must_fail(std::string_view text) {
  Parsed<Vector> v = parse_vector(text);
  EXPECT_FALSE(v.ok()) << "parsed: " << text;
  return v.ok() ? "" : v.error().to_string();
}

// ---- Each op parses. --------------------------------------------------------

TEST(VectorTest, ParsesConfig) {
  Op op = must_parse_op(R"({"op":"config","limit":4})");
  EXPECT_EQ(op.kind, OpKind::kConfig);
  EXPECT_EQ(op.n, 4);
  EXPECT_FALSE(op.chunk_sensitive);
}

TEST(VectorTest, ParsesConfigChunkSensitive) {
  Vector v = must_parse(R"({"op":"config","limit":8,"chunk_sensitive":true})");
  EXPECT_TRUE(v.chunk_sensitive());
  EXPECT_EQ(v.limit(), 8);
}

TEST(VectorTest, ConfigWithoutLimitUsesTheDefault) {
  EXPECT_EQ(must_parse(R"({"op":"config"})").limit(), kDefaultVectorLimit);
}

TEST(VectorTest, VectorWithoutConfigUsesTheDefaultLimit) {
  Vector v = must_parse(R"({"op":"at_eof"})");
  EXPECT_EQ(v.limit(), 65536);
  EXPECT_FALSE(v.chunk_sensitive());
}

TEST(VectorTest, ConfigAcceptsNonPositiveLimit) {
  EXPECT_EQ(must_parse(R"({"op":"config","limit":0})").limit(), 0);
  EXPECT_EQ(must_parse(R"({"op":"config","limit":-5})").limit(), -5);
}

TEST(VectorTest, ParsesFeed) {
  Op op = must_parse_op(R"({"op":"feed","hex":"68690a"})");
  EXPECT_EQ(op.kind, OpKind::kFeed);
  EXPECT_EQ(op.data, "hi\n");
}

TEST(VectorTest, ParsesFeedHexOfEitherCase) {
  EXPECT_EQ(must_parse_op(R"({"op":"feed","hex":"0DfF00aB"})").data, "\x0d\xff\x00\xab"s);
}

TEST(VectorTest, ParsesEmptyFeed) {
  EXPECT_EQ(must_parse_op(R"({"op":"feed","hex":""})").data, "");
}

TEST(VectorTest, ParsesFeedEof) {
  EXPECT_EQ(must_parse_op(R"({"op":"feed_eof"})").kind, OpKind::kFeedEof);
}

TEST(VectorTest, ParsesSetException) {
  EXPECT_EQ(must_parse_op(R"({"op":"set_exception"})").kind, OpKind::kSetException);
}

TEST(VectorTest, ParsesRead) {
  Op op = must_parse_op(R"({"op":"read","n":-1})");
  EXPECT_EQ(op.kind, OpKind::kRead);
  EXPECT_EQ(op.n, -1);
}

TEST(VectorTest, ParsesReadWithInt64Extremes) {
  EXPECT_EQ(must_parse_op(R"({"op":"read","n":9223372036854775807})").n,
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(must_parse_op(R"({"op":"readexactly","n":-9223372036854775808})").n,
            std::numeric_limits<std::int64_t>::min());
}

TEST(VectorTest, ParsesReadline) {
  EXPECT_EQ(must_parse_op(R"({"op":"readline"})").kind, OpKind::kReadline);
}

TEST(VectorTest, ParsesReadexactly) {
  Op op = must_parse_op(R"({"op":"readexactly","n":3})");
  EXPECT_EQ(op.kind, OpKind::kReadexactly);
  EXPECT_EQ(op.n, 3);
}

TEST(VectorTest, ParsesReaduntilWithOneSeparator) {
  Op op = must_parse_op(R"({"op":"readuntil","sep":"0d0a"})");
  EXPECT_EQ(op.kind, OpKind::kReaduntil);
  EXPECT_EQ(op.separators, std::vector<std::string>{"\r\n"});
  EXPECT_FALSE(op.separator_list);
}

TEST(VectorTest, ParsesReaduntilWithASeparatorList) {
  Op op = must_parse_op(R"({"op":"readuntil","sep":["0d0a","0A"]})");
  EXPECT_EQ(op.separators, (std::vector<std::string>{"\r\n", "\n"}));
  EXPECT_TRUE(op.separator_list);
}

TEST(VectorTest, ParsesReaduntilWithAOneElementList) {
  Op op = must_parse_op(R"({"op":"readuntil","sep":["0a"]})");
  EXPECT_EQ(op.separators, std::vector<std::string>{"\n"});
  EXPECT_TRUE(op.separator_list);
}

TEST(VectorTest, ParsesReaduntilWithEmptySeparators) {
  EXPECT_EQ(must_parse_op(R"({"op":"readuntil","sep":""})").separators,
            std::vector<std::string>{""});
  Op op = must_parse_op(R"({"op":"readuntil","sep":[]})");
  EXPECT_TRUE(op.separators.empty());
  EXPECT_TRUE(op.separator_list);
}

TEST(VectorTest, ParsesAtEof) { EXPECT_EQ(must_parse_op(R"({"op":"at_eof"})").kind, OpKind::kAtEof); }

TEST(VectorTest, IgnoresUnknownMembers) {
  Op op = must_parse_op(R"({"expect":{"i":0,"hex":"00"},"op":"read","n":1,"note":[1,2.5,null]})");
  EXPECT_EQ(op.kind, OpKind::kRead);
  EXPECT_EQ(op.n, 1);
}

TEST(VectorTest, IgnoresMembersTheOpDoesNotUse) {
  EXPECT_EQ(must_parse_op(R"({"op":"readline","n":"not checked"})").kind, OpKind::kReadline);
}

TEST(VectorTest, LineIsItsIndex) {
  Vector v = must_parse(
      "{\"op\":\"config\",\"limit\":4}\n"
      "{\"op\":\"readline\"}\n"
      "{\"op\":\"feed\",\"hex\":\"0a\"}\n");
  ASSERT_EQ(v.ops.size(), 3u);
  EXPECT_EQ(v.ops[0].kind, OpKind::kConfig);
  EXPECT_EQ(v.ops[1].kind, OpKind::kReadline);
  EXPECT_EQ(v.ops[2].kind, OpKind::kFeed);
}

// ---- Line ends and blank lines. ----------------------------------------------

TEST(VectorTest, AcceptsMissingFinalNewline) {
  EXPECT_EQ(must_parse("{\"op\":\"at_eof\"}\n{\"op\":\"at_eof\"}").ops.size(), 2u);
}

TEST(VectorTest, AcceptsTrailingBlankLines) {
  EXPECT_EQ(must_parse("{\"op\":\"at_eof\"}\n\n").ops.size(), 1u);
  EXPECT_EQ(must_parse("{\"op\":\"at_eof\"}\n  \n\t\n").ops.size(), 1u);
}

TEST(VectorTest, AcceptsCrlfLineEnds) {
  EXPECT_EQ(must_parse("{\"op\":\"at_eof\"}\r\n{\"op\":\"feed_eof\"}\r\n").ops.size(), 2u);
}

TEST(VectorTest, EmptyTextIsAnEmptyVector) {
  EXPECT_TRUE(must_parse("").ops.empty());
  EXPECT_TRUE(must_parse("\n").ops.empty());
}

TEST(VectorTest, RejectsBlankLineInTheMiddle) {
  EXPECT_EQ(must_fail("{\"op\":\"at_eof\"}\n\n{\"op\":\"at_eof\"}\n"),
            "line 2 (i=1): blank line inside the vector (only allowed at the end)");
}

// ---- Malformed input: clear errors naming the line. --------------------------

TEST(VectorTest, RejectsNonJsonWithLineAndColumn) {
  EXPECT_EQ(must_fail("{\"op\":\"at_eof\"}\n{\"op\":\"read\" \"n\":1}\n"),
            "line 2 (i=1), column 14: expected ',' or '}' in object, got '\"'");
}

TEST(VectorTest, RejectsTrailingGarbage) {
  EXPECT_EQ(must_fail("{\"op\":\"at_eof\"},\n"),
            "line 1 (i=0), column 16: trailing characters after the JSON value (',')");
}

TEST(VectorTest, RejectsNonObjectLine) {
  EXPECT_EQ(must_fail("[\"read\"]"), "line 1 (i=0): expected a JSON object, got an array");
}

TEST(VectorTest, RejectsMissingOp) {
  EXPECT_EQ(must_fail(R"({"n":1})"), "line 1 (i=0): missing member \"op\"");
}

TEST(VectorTest, RejectsNonStringOp) {
  EXPECT_EQ(must_fail(R"({"op":3})"), "line 1 (i=0): member \"op\" must be a string, got a number");
}

TEST(VectorTest, RejectsUnknownOp) {
  EXPECT_EQ(must_fail("{\"op\":\"at_eof\"}\n{\"op\":\"peek\"}"), "line 2 (i=1): unknown op \"peek\"");
}

TEST(VectorTest, RejectsConfigAfterTheFirstLine) {
  EXPECT_EQ(must_fail("{\"op\":\"at_eof\"}\n{\"op\":\"config\",\"limit\":4}"),
            "line 2 (i=1): op \"config\": config is only valid on the first line");
}

TEST(VectorTest, RejectsSecondConfig) {
  EXPECT_NE(must_fail("{\"op\":\"config\",\"limit\":4}\n{\"op\":\"config\",\"limit\":4}")
                .find("line 2 (i=1)"),
            std::string::npos);
}

TEST(VectorTest, RejectsNonIntegerLimit) {
  EXPECT_EQ(must_fail(R"({"op":"config","limit":"4"})"),
            "line 1 (i=0): op \"config\": member \"limit\" must be an integer, got a string");
}

TEST(VectorTest, RejectsNonBooleanChunkSensitive) {
  EXPECT_EQ(must_fail(R"({"op":"config","chunk_sensitive":1})"),
            "line 1 (i=0): op \"config\": member \"chunk_sensitive\" must be a boolean, got a "
            "number");
}

TEST(VectorTest, RejectsFeedWithoutHex) {
  EXPECT_EQ(must_fail(R"({"op":"feed"})"), "line 1 (i=0): op \"feed\": missing member \"hex\"");
}

TEST(VectorTest, RejectsFeedWithNonStringHex) {
  EXPECT_EQ(must_fail(R"({"op":"feed","hex":104})"),
            "line 1 (i=0): op \"feed\": member \"hex\" must be a hex string, got a number");
}

TEST(VectorTest, RejectsOddLengthHex) {
  EXPECT_EQ(must_fail(R"({"op":"feed","hex":"686"})"),
            "line 1 (i=0): op \"feed\": member \"hex\": odd number of hex digits (3)");
}

TEST(VectorTest, RejectsNonHexDigit) {
  EXPECT_EQ(must_fail(R"({"op":"feed","hex":"6g"})"),
            "line 1 (i=0): op \"feed\": member \"hex\": not a hex digit at offset 1: \"g\"");
}

TEST(VectorTest, RejectsReadWithoutN) {
  EXPECT_EQ(must_fail(R"({"op":"read"})"), "line 1 (i=0): op \"read\": missing member \"n\"");
  EXPECT_EQ(must_fail(R"({"op":"readexactly"})"),
            "line 1 (i=0): op \"readexactly\": missing member \"n\"");
}

TEST(VectorTest, RejectsNonIntegerN) {
  EXPECT_EQ(must_fail(R"({"op":"read","n":1.5})"),
            "line 1 (i=0): op \"read\": member \"n\" must be an integer, got 1.5");
  EXPECT_EQ(must_fail(R"({"op":"read","n":1e2})"),
            "line 1 (i=0): op \"read\": member \"n\" must be an integer, got 1e2");
  EXPECT_EQ(must_fail(R"({"op":"readexactly","n":"3"})"),
            "line 1 (i=0): op \"readexactly\": member \"n\" must be an integer, got a string");
  EXPECT_EQ(must_fail(R"({"op":"read","n":null})"),
            "line 1 (i=0): op \"read\": member \"n\" must be an integer, got null");
}

TEST(VectorTest, RejectsOutOfRangeN) {
  EXPECT_EQ(must_fail(R"({"op":"read","n":9223372036854775808})"),
            "line 1 (i=0): op \"read\": member \"n\" is out of range (int64): "
            "9223372036854775808");
  EXPECT_NE(must_fail(R"({"op":"readexactly","n":-99999999999999999999999})").find("out of range"),
            std::string::npos);
}

TEST(VectorTest, RejectsReaduntilWithoutSep) {
  EXPECT_EQ(must_fail(R"({"op":"readuntil"})"),
            "line 1 (i=0): op \"readuntil\": missing member \"sep\"");
}

TEST(VectorTest, RejectsReaduntilWithBadSep) {
  EXPECT_EQ(must_fail(R"({"op":"readuntil","sep":10})"),
            "line 1 (i=0): op \"readuntil\": member \"sep\" must be a hex string or an array of "
            "them, got a number");
  EXPECT_EQ(must_fail(R"({"op":"readuntil","sep":["0a",10]})"),
            "line 1 (i=0): op \"readuntil\": member \"sep\" must hold hex strings, got a number");
  EXPECT_EQ(must_fail(R"({"op":"readuntil","sep":["0a","zz"]})"),
            "line 1 (i=0): op \"readuntil\": member \"sep\": not a hex digit at offset 0: \"z\"");
}

TEST(VectorTest, RejectsFeedAfterFeedEof) {
  EXPECT_EQ(must_fail("{\"op\":\"feed_eof\"}\n{\"op\":\"at_eof\"}\n{\"op\":\"feed\",\"hex\":\"\"}"),
            "line 3 (i=2): op \"feed\": feed after feed_eof (asyncio asserts against it)");
}

TEST(VectorTest, AcceptsFeedAfterSetException) {
  EXPECT_EQ(must_parse("{\"op\":\"set_exception\"}\n{\"op\":\"feed\",\"hex\":\"61\"}").ops.size(),
            2u);
}

TEST(VectorTest, ReportsTheFirstBadLine) {
  EXPECT_EQ(must_fail("{\"op\":\"at_eof\"}\n{\"op\":\"at_eof\"}\n{\"op\":\"x\"}\n{\"op\":\"y\"}\n"),
            "line 3 (i=2): unknown op \"x\"");
}

TEST(VectorTest, RejectsNulByteInLine) {
  must_fail("{\"op\":\"at_eof\"}\0"s);
}

// ---- Hex helpers. ---------------------------------------------------------

TEST(VectorTest, EncodeHexIsLowerCase) {
  EXPECT_EQ(encode_hex("\x00\xab\xff\n"s), "00abff0a");
  EXPECT_EQ(encode_hex(""), "");
}

TEST(VectorTest, DecodeHexRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  Parsed<std::string> decoded = decode_hex(encode_hex(all));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, all);
}

TEST(VectorTest, OpNameNamesEveryOp) {
  EXPECT_EQ(op_name(OpKind::kConfig), "config");
  EXPECT_EQ(op_name(OpKind::kFeedEof), "feed_eof");
  EXPECT_EQ(op_name(OpKind::kSetException), "set_exception");
  EXPECT_EQ(op_name(OpKind::kReaduntil), "readuntil");
  EXPECT_EQ(op_name(OpKind::kAtEof), "at_eof");
}

}  // namespace
}  // namespace sluice::conformance
