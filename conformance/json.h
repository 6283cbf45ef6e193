// File: conformance/json.h
//
// JsonValue and parse_json: a small, strict JSON (RFC 8259) parser, enough for
// the conformance vector format (shared/conformance-vectors.md) and for
// comparing replay output with expected results. No third-party library.
//
// It parses untrusted input (it is fuzzed), so: no exceptions, no undefined
// behaviour on any input, nesting bounded by kMaxJsonDepth (the parser
// recurses once per level), and every rejection is a ParseError naming the
// byte column where the text went wrong.
//
// Strictness (everything RFC 8259 forbids is rejected):
//   - exactly one value, with optional whitespace (space, tab, CR, LF) around
//     it; anything after it is an error ("trailing characters");
//   - strings must be valid UTF-8 (no overlong forms, no surrogates, nothing
//     above U+10FFFF); bytes below 0x20 must be escaped; escapes are \" \\ \/
//     \b \f \n \r \t and \uXXXX (hex digits of either case), with surrogate
//     pairs combined and lone surrogates rejected; \u0000 is allowed (the
//     decoded string may hold NUL bytes);
//   - numbers follow the grammar exactly (no '+', no leading zeros, no '.5',
//     no NaN or Infinity). Every number keeps its text; a number with no
//     fraction and no exponent that fits in int64 also has an integer value
//     (as_int64()); a huge one does not, so it is reported, never wrapped;
//   - duplicate member names in one object are rejected;
//   - no byte-order mark, no comments, no trailing commas.
//
// Example:
//   Parsed<JsonValue> v = parse_json(R"({"op":"read","n":-1})");
//   if (v.ok() && v->is_object()) {
//     const JsonValue* n = v->find("n");
//     if (n != nullptr && n->as_int64()) use(*n->as_int64());   // -1
//   }
//
// Cost: O(size of the text); values are owned copies.

#ifndef SLUICE_CONFORMANCE_JSON_H_
#define SLUICE_CONFORMANCE_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/parse_error.h"

namespace sluice::conformance {

// kMaxJsonDepth: how deeply arrays and objects may nest. The vector format
// needs 2 (an array in an object); 64 leaves room and bounds the recursion.
inline constexpr int kMaxJsonDepth = 64;

struct JsonMember;

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  // A null value.
  JsonValue() = default;
  static JsonValue boolean(bool b);
  // number: `text` must be a valid JSON number (parse_json guarantees it);
  // `integer` is its value if it is an integer that fits in int64.
  static JsonValue number(std::string text, std::optional<std::int64_t> integer);
  static JsonValue integer(std::int64_t n);
  static JsonValue string(std::string s);
  static JsonValue array(std::vector<JsonValue> elements);
  // object: the members in the order written. Precondition: unique names.
  static JsonValue object(std::vector<JsonMember> members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Each accessor's precondition: the value has that type.
  bool as_bool() const;
  // The number as written, e.g. "-12" or "1.5e3".
  const std::string& number_text() const;
  // The number's value if it is written as an integer (no fraction, no
  // exponent) and fits in int64; nullopt otherwise (including "1.0").
  std::optional<std::int64_t> as_int64() const;
  const std::string& as_string() const;
  const std::vector<JsonValue>& as_array() const;
  const std::vector<JsonMember>& as_object() const;

  // find: the member of this object called `name`, or nullptr (also when
  // this is not an object). Valid while this value lives.
  const JsonValue* find(std::string_view name) const;

  // Equality as JSON values: objects compare as sets of members (order does
  // not matter), arrays element by element, integers by value, other numbers
  // by their text.
  friend bool operator==(const JsonValue& a, const JsonValue& b);

  // A short description of the type for error messages: "a string", "null"...
  std::string_view type_name() const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::optional<std::int64_t> integer_;  // kNumber
  std::string text_;                     // kString: the value; kNumber: text
  std::vector<JsonValue> elements_;      // kArray
  std::vector<JsonMember> members_;      // kObject
};

struct JsonMember {
  std::string name;
  JsonValue value;

  friend bool operator==(const JsonMember&, const JsonMember&) = default;
};

// parse_json: the one JSON value in `text`, or a ParseError with line 0 and
// the 1-based byte column of the problem.
Parsed<JsonValue> parse_json(std::string_view text);

// json_quote: `s` as a JSON string literal, quotes included. '"', '\\' and
// bytes below 0x20 are escaped; other bytes (UTF-8 included) are copied.
std::string json_quote(std::string_view s);

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_JSON_H_
