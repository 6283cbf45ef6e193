#include "conformance/vector.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "conformance/json.h"

namespace sluice::conformance {

namespace {

struct OpName {
  std::string_view name;
  OpKind kind;
};

constexpr OpName kOpNames[] = {
    {"config", OpKind::kConfig},           {"feed", OpKind::kFeed},
    {"feed_eof", OpKind::kFeedEof},        {"set_exception", OpKind::kSetException},
    {"read", OpKind::kRead},               {"readline", OpKind::kReadline},
    {"readexactly", OpKind::kReadexactly}, {"readuntil", OpKind::kReaduntil},
    {"at_eof", OpKind::kAtEof},
};

std::optional<OpKind> find_op(std::string_view name) {
  for (const OpName& op : kOpNames) {
    if (op.name == name) return op.kind;
  }
  return std::nullopt;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_blank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Parses one line (already known to be non-blank) into an Op. Errors carry
// line 0; the caller fills in the line number.
class LineParser {
 public:
  LineParser(const JsonValue& object, std::string_view op) : object_(object), op_(op) {}

  ParseError error(std::string message) const {
    return ParseError{0, 0, "op \"" + std::string(op_) + "\": " + std::move(message)};
  }

  // A required member, or nullptr with `err` set.
  const JsonValue* required(std::string_view name, std::optional<ParseError>& err) const {
    const JsonValue* v = object_.find(name);
    if (v == nullptr) err = error("missing member \"" + std::string(name) + "\"");
    return v;
  }

  std::optional<ParseError> integer(std::string_view name, const JsonValue& v,
                                    std::int64_t& out) const {
    if (!v.is_number()) {
      return error("member \"" + std::string(name) + "\" must be an integer, got " +
                   std::string(v.type_name()));
    }
    if (std::optional<std::int64_t> n = v.as_int64()) {
      out = *n;
      return std::nullopt;
    }
    const std::string& text = v.number_text();
    if (text.find_first_of(".eE") != std::string::npos) {
      return error("member \"" + std::string(name) + "\" must be an integer, got " + text);
    }
    return error("member \"" + std::string(name) + "\" is out of range (int64): " + text);
  }

  std::optional<ParseError> hex(std::string_view name, const JsonValue& v,
                                std::string& out) const {
    if (!v.is_string()) {
      return error("member \"" + std::string(name) + "\" must be a hex string, got " +
                   std::string(v.type_name()));
    }
    Parsed<std::string> bytes = decode_hex(v.as_string());
    if (!bytes.ok()) {
      return error("member \"" + std::string(name) + "\": " + bytes.error().message);
    }
    out = std::move(*bytes);
    return std::nullopt;
  }

 private:
  const JsonValue& object_;
  std::string_view op_;
};

Parsed<Op> parse_op(const JsonValue& line, bool first) {
  if (!line.is_object()) {
    return ParseError{0, 0, "expected a JSON object, got " + std::string(line.type_name())};
  }
  const JsonValue* op_member = line.find("op");
  if (op_member == nullptr) return ParseError{0, 0, "missing member \"op\""};
  if (!op_member->is_string()) {
    return ParseError{0, 0, "member \"op\" must be a string, got " +
                                std::string(op_member->type_name())};
  }
  const std::string& name = op_member->as_string();
  std::optional<OpKind> kind = find_op(name);
  if (!kind) return ParseError{0, 0, "unknown op " + json_quote(name)};

  LineParser p(line, name);
  Op op;
  op.kind = *kind;
  std::optional<ParseError> err;
  switch (op.kind) {
    case OpKind::kConfig: {
      if (!first) return p.error("config is only valid on the first line");
      op.n = kDefaultVectorLimit;
      if (const JsonValue* limit = line.find("limit")) {
        err = p.integer("limit", *limit, op.n);
      }
      if (const JsonValue* cs = line.find("chunk_sensitive"); cs != nullptr && !err) {
        if (!cs->is_bool()) {
          err = p.error("member \"chunk_sensitive\" must be a boolean, got " +
                        std::string(cs->type_name()));
        } else {
          op.chunk_sensitive = cs->as_bool();
        }
      }
      break;
    }
    case OpKind::kFeed:
      if (const JsonValue* hex = p.required("hex", err)) err = p.hex("hex", *hex, op.data);
      break;
    case OpKind::kRead:
    case OpKind::kReadexactly:
      if (const JsonValue* n = p.required("n", err)) err = p.integer("n", *n, op.n);
      break;
    case OpKind::kReaduntil: {
      const JsonValue* sep = p.required("sep", err);
      if (sep == nullptr) break;
      if (sep->is_string()) {
        op.separators.emplace_back();
        err = p.hex("sep", *sep, op.separators.back());
      } else if (sep->is_array()) {
        op.separator_list = true;
        for (const JsonValue& element : sep->as_array()) {
          op.separators.emplace_back();
          if (!element.is_string()) {
            err = p.error("member \"sep\" must hold hex strings, got " +
                          std::string(element.type_name()));
          } else {
            err = p.hex("sep", element, op.separators.back());
          }
          if (err) break;
        }
      } else {
        err = p.error("member \"sep\" must be a hex string or an array of them, got " +
                      std::string(sep->type_name()));
      }
      break;
    }
    case OpKind::kFeedEof:
    case OpKind::kSetException:
    case OpKind::kReadline:
    case OpKind::kAtEof:
      break;
  }
  if (err) return *std::move(err);
  return op;
}

}  // namespace

std::string_view op_name(OpKind kind) {
  for (const OpName& op : kOpNames) {
    if (op.kind == kind) return op.name;
  }
  return "?";
}

bool is_read(OpKind kind) {
  return kind == OpKind::kRead || kind == OpKind::kReadline || kind == OpKind::kReadexactly ||
         kind == OpKind::kReaduntil;
}

std::int64_t Vector::limit() const {
  if (!ops.empty() && ops[0].kind == OpKind::kConfig) return ops[0].n;
  return kDefaultVectorLimit;
}

bool Vector::chunk_sensitive() const {
  return !ops.empty() && ops[0].kind == OpKind::kConfig && ops[0].chunk_sensitive;
}

Parsed<Vector> parse_vector(std::string_view text) {
  // Split into lines; a text ending in "\n" has no extra empty line.
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  // Blank lines at the end are ignored.
  while (!lines.empty() && is_blank(lines.back())) lines.pop_back();

  Vector vector;
  vector.ops.reserve(lines.size());
  bool eof_fed = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::size_t line_number = i + 1;
    if (is_blank(lines[i])) {
      return ParseError{line_number, 0,
                        "blank line inside the vector (only allowed at the end)"};
    }
    Parsed<JsonValue> json = parse_json(lines[i]);
    if (!json.ok()) {
      ParseError e = json.error();
      e.line = line_number;
      return e;
    }
    Parsed<Op> op = parse_op(*json, i == 0);
    if (!op.ok()) {
      ParseError e = op.error();
      e.line = line_number;
      return e;
    }
    if (op->kind == OpKind::kFeed && eof_fed) {
      // asyncio asserts against it (and a network peer cannot write after
      // shutting down), so no implementation has a result for it.
      return ParseError{line_number, 0,
                        "op \"feed\": feed after feed_eof (asyncio asserts against it)"};
    }
    if (op->kind == OpKind::kFeedEof) eof_fed = true;
    vector.ops.push_back(std::move(*op));
  }
  return vector;
}

Parsed<std::string> decode_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return ParseError{0, 0, "odd number of hex digits (" + std::to_string(hex.size()) + ")"};
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t k = 0; k < hex.size(); k += 2) {
    int hi = hex_value(hex[k]);
    int lo = hex_value(hex[k + 1]);
    if (hi < 0 || lo < 0) {
      std::size_t bad = hi < 0 ? k : k + 1;
      unsigned char c = static_cast<unsigned char>(hex[bad]);
      static constexpr char kHex[] = "0123456789abcdef";
      std::string what = c >= 0x20 && c < 0x7f
                             ? json_quote(hex.substr(bad, 1))
                             : std::string("byte 0x") + kHex[c >> 4] + kHex[c & 0xf];
      return ParseError{0, 0, "not a hex digit at offset " + std::to_string(bad) + ": " + what};
    }
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string encode_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    unsigned char u = static_cast<unsigned char>(c);
    out += kHex[u >> 4];
    out += kHex[u & 0xf];
  }
  return out;
}

}  // namespace sluice::conformance
