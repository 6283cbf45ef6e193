#include "conformance/json.h"

#include <cassert>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace sluice::conformance {

// ---- JsonValue --------------------------------------------------------------

JsonValue JsonValue::boolean(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

JsonValue JsonValue::number(std::string text, std::optional<std::int64_t> integer) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.text_ = std::move(text);
  v.integer_ = integer;
  return v;
}

JsonValue JsonValue::integer(std::int64_t n) { return number(std::to_string(n), n); }

JsonValue JsonValue::string(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.text_ = std::move(s);
  return v;
}

JsonValue JsonValue::array(std::vector<JsonValue> elements) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.elements_ = std::move(elements);
  return v;
}

JsonValue JsonValue::object(std::vector<JsonMember> members) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.members_ = std::move(members);
  return v;
}

bool JsonValue::as_bool() const {
  assert(is_bool());
  return bool_;
}

const std::string& JsonValue::number_text() const {
  assert(is_number());
  return text_;
}

std::optional<std::int64_t> JsonValue::as_int64() const {
  assert(is_number());
  return integer_;
}

const std::string& JsonValue::as_string() const {
  assert(is_string());
  return text_;
}

const std::vector<JsonValue>& JsonValue::as_array() const {
  assert(is_array());
  return elements_;
}

const std::vector<JsonMember>& JsonValue::as_object() const {
  assert(is_object());
  return members_;
}

const JsonValue* JsonValue::find(std::string_view name) const {
  if (!is_object()) return nullptr;
  for (const JsonMember& m : members_) {
    if (m.name == name) return &m.value;
  }
  return nullptr;
}

bool operator==(const JsonValue& a, const JsonValue& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case JsonValue::Type::kNull:
      return true;
    case JsonValue::Type::kBool:
      return a.bool_ == b.bool_;
    case JsonValue::Type::kNumber:
      if (a.integer_.has_value() || b.integer_.has_value()) return a.integer_ == b.integer_;
      return a.text_ == b.text_;
    case JsonValue::Type::kString:
      return a.text_ == b.text_;
    case JsonValue::Type::kArray:
      return a.elements_ == b.elements_;
    case JsonValue::Type::kObject:
      // Names are unique within an object, so same size + every member of
      // `a` found equal in `b` means the same set.
      if (a.members_.size() != b.members_.size()) return false;
      for (const JsonMember& m : a.members_) {
        const JsonValue* other = b.find(m.name);
        if (other == nullptr || !(*other == m.value)) return false;
      }
      return true;
  }
  return false;
}

std::string_view JsonValue::type_name() const {
  switch (type_) {
    case Type::kNull: return "null";
    case Type::kBool: return "a boolean";
    case Type::kNumber: return "a number";
    case Type::kString: return "a string";
    case Type::kArray: return "an array";
    case Type::kObject: return "an object";
  }
  return "?";
}

// ---- Parser -----------------------------------------------------------------

namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A byte as it should appear in an error message: 'x' or byte 0xNN.
std::string describe_byte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Parsed<JsonValue> parse() {
    JsonValue value;
    skip_space();
    if (!parse_value(value, 1)) return std::move(error_);
    skip_space();
    if (pos_ < text_.size()) {
      return fail_at(pos_, "trailing characters after the JSON value (" +
                               describe_byte(text_[pos_]) + ")");
    }
    return value;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  void skip_space() {
    while (!at_end() && is_json_space(peek())) ++pos_;
  }

  // Records the first error (at byte offset `at`) and returns false.
  bool fail(std::size_t at, std::string message) {
    error_ = ParseError{0, at + 1, std::move(message)};
    return false;
  }
  ParseError fail_at(std::size_t at, std::string message) {
    fail(at, std::move(message));
    return error_;
  }
  bool fail_here(std::string what) {
    if (at_end()) return fail(pos_, what + ", got end of input");
    return fail(pos_, what + ", got " + describe_byte(peek()));
  }

  // Precondition: whitespace skipped. `depth` is the nesting level of the
  // value being parsed (1 for the top level).
  bool parse_value(JsonValue& out, int depth) {
    if (at_end()) return fail_here("expected a JSON value");
    char c = peek();
    switch (c) {
      case '{': return parse_object(out, depth);
      case '[': return parse_array(out, depth);
      case '"': {
        std::string s;
        if (!parse_string(s)) return false;
        out = JsonValue::string(std::move(s));
        return true;
      }
      case 't': return parse_literal("true", JsonValue::boolean(true), out);
      case 'f': return parse_literal("false", JsonValue::boolean(false), out);
      case 'n': return parse_literal("null", JsonValue(), out);
      default:
        if (c == '-' || is_digit(c)) return parse_number(out);
        return fail_here("expected a JSON value");
    }
  }

  bool parse_literal(std::string_view word, JsonValue value, JsonValue& out) {
    if (text_.substr(pos_, word.size()) != word) {
      return fail(pos_, "invalid literal (expected '" + std::string(word) + "')");
    }
    pos_ += word.size();
    out = std::move(value);
    return true;
  }

  bool parse_number(JsonValue& out) {
    std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (at_end() || !is_digit(peek())) return fail_here("expected a digit in number");
    if (peek() == '0') {
      ++pos_;
      if (!at_end() && is_digit(peek())) {
        return fail(pos_ - 1, "invalid number: leading zero");
      }
    } else {
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    bool integral = true;
    if (!at_end() && peek() == '.') {
      integral = false;
      ++pos_;
      if (at_end() || !is_digit(peek())) return fail_here("expected a digit after '.'");
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      integral = false;
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      if (at_end() || !is_digit(peek())) return fail_here("expected a digit in exponent");
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    std::string text(text_.substr(start, pos_ - start));
    std::optional<std::int64_t> integer;
    if (integral) {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec == std::errc() && end == text.data() + text.size()) integer = n;
      // Otherwise out of range: the number keeps only its text.
    }
    out = JsonValue::number(std::move(text), integer);
    return true;
  }

  // Reads 4 hex digits at pos_ (after "\u").
  bool parse_hex4(std::uint32_t& out) {
    out = 0;
    for (int k = 0; k < 4; ++k) {
      if (at_end()) return fail_here("expected 4 hex digits after \\u");
      int h = hex_value(peek());
      if (h < 0) return fail_here("expected 4 hex digits after \\u");
      out = out * 16 + static_cast<std::uint32_t>(h);
      ++pos_;
    }
    return true;
  }

  // Precondition: peek() == '"'.
  bool parse_string(std::string& out) {
    std::size_t start = pos_;
    ++pos_;
    while (true) {
      if (at_end()) return fail(start, "unterminated string");
      unsigned char c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        return fail(pos_, "control character " + describe_byte(peek()) +
                              " in string (must be escaped)");
      }
      if (c == '\\') {
        if (!parse_escape(out)) return false;
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      if (!copy_utf8_sequence(out)) return false;
    }
  }

  // Precondition: peek() == '\\'.
  bool parse_escape(std::string& out) {
    std::size_t start = pos_;
    ++pos_;
    if (at_end()) return fail(start, "unterminated escape sequence");
    char e = peek();
    ++pos_;
    switch (e) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default:
        return fail(start, "invalid escape sequence (\\ followed by " + describe_byte(e) + ")");
    }
    std::uint32_t cp = 0;
    if (!parse_hex4(cp)) return false;
    if (cp >= 0xdc00 && cp <= 0xdfff) {
      return fail(start, "lone low surrogate in \\u escape");
    }
    if (cp >= 0xd800 && cp <= 0xdbff) {
      if (text_.substr(pos_, 2) != "\\u") {
        return fail(start, "high surrogate in \\u escape not followed by a low surrogate");
      }
      pos_ += 2;
      std::uint32_t low = 0;
      if (!parse_hex4(low)) return false;
      if (low < 0xdc00 || low > 0xdfff) {
        return fail(start, "high surrogate in \\u escape not followed by a low surrogate");
      }
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    append_utf8(out, cp);
    return true;
  }

  // Precondition: peek() >= 0x80. Validates one UTF-8 sequence and copies it.
  bool copy_utf8_sequence(std::string& out) {
    std::size_t start = pos_;
    unsigned char lead = static_cast<unsigned char>(peek());
    int length = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2, cp = lead & 0x1f, min = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3, cp = lead & 0x0f, min = 0x800;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4, cp = lead & 0x07, min = 0x10000;
    } else {
      return fail(start, "invalid UTF-8 in string (" + describe_byte(peek()) + ")");
    }
    if (text_.size() - pos_ < static_cast<std::size_t>(length)) {
      return fail(start, "truncated UTF-8 sequence in string");
    }
    for (int k = 1; k < length; ++k) {
      unsigned char cont = static_cast<unsigned char>(text_[pos_ + k]);
      if ((cont & 0xc0) != 0x80) return fail(start, "invalid UTF-8 sequence in string");
      cp = (cp << 6) | (cont & 0x3f);
    }
    if (cp < min) return fail(start, "overlong UTF-8 sequence in string");
    if (cp >= 0xd800 && cp <= 0xdfff) return fail(start, "UTF-8 encoded surrogate in string");
    if (cp > 0x10ffff) return fail(start, "UTF-8 sequence above U+10FFFF in string");
    out.append(text_.substr(pos_, length));
    pos_ += length;
    return true;
  }

  bool check_depth(int depth) {
    if (depth > kMaxJsonDepth) {
      return fail(pos_, "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    return true;
  }

  // Precondition: peek() == '['.
  bool parse_array(JsonValue& out, int depth) {
    if (!check_depth(depth)) return false;
    ++pos_;
    std::vector<JsonValue> elements;
    skip_space();
    if (!at_end() && peek() == ']') {
      ++pos_;
      out = JsonValue::array(std::move(elements));
      return true;
    }
    while (true) {
      skip_space();
      JsonValue element;
      if (!parse_value(element, depth + 1)) return false;
      elements.push_back(std::move(element));
      skip_space();
      if (at_end()) return fail_here("expected ',' or ']' in array");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        out = JsonValue::array(std::move(elements));
        return true;
      }
      return fail_here("expected ',' or ']' in array");
    }
  }

  // Precondition: peek() == '{'.
  bool parse_object(JsonValue& out, int depth) {
    if (!check_depth(depth)) return false;
    ++pos_;
    std::vector<JsonMember> members;
    skip_space();
    if (!at_end() && peek() == '}') {
      ++pos_;
      out = JsonValue::object(std::move(members));
      return true;
    }
    while (true) {
      skip_space();
      if (at_end() || peek() != '"') return fail_here("expected a member name (a string)");
      std::size_t name_pos = pos_;
      std::string name;
      if (!parse_string(name)) return false;
      for (const JsonMember& m : members) {
        if (m.name == name) return fail(name_pos, "duplicate member name " + json_quote(name));
      }
      skip_space();
      if (at_end() || peek() != ':') return fail_here("expected ':' after member name");
      ++pos_;
      skip_space();
      JsonValue value;
      if (!parse_value(value, depth + 1)) return false;
      members.push_back(JsonMember{std::move(name), std::move(value)});
      skip_space();
      if (at_end()) return fail_here("expected ',' or '}' in object");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        out = JsonValue::object(std::move(members));
        return true;
      }
      return fail_here("expected ',' or '}' in object");
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  ParseError error_;
};

}  // namespace

Parsed<JsonValue> parse_json(std::string_view text) { return Parser(text).parse(); }

std::string json_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace sluice::conformance
