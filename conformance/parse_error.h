// File: conformance/parse_error.h
//
// ParseError and Parsed<T>: the outcome of parsing untrusted text (a JSON
// value, a conformance vector). A Parsed<T> holds either the parsed T or a
// ParseError that says where the text went wrong and why. Parsing never
// throws and never aborts on bad input.
//
// Positions are the ones an editor shows: `line` and `column` count from 1,
// columns in bytes. A conformance vector numbers its lines from 0 (`i`), so
// to_string() names both: "line 3 (i=2), column 14: expected ':' after an
// object member name".
//
// Example:
//   Parsed<JsonValue> v = parse_json(text);
//   if (!v.ok()) { std::cerr << v.error().to_string() << "\n"; return; }
//   use(*v);

#ifndef SLUICE_CONFORMANCE_PARSE_ERROR_H_
#define SLUICE_CONFORMANCE_PARSE_ERROR_H_

#include <cstddef>
#include <string>

#include "core/result.h"

namespace sluice::conformance {

struct ParseError {
  // 1-based line of the text, or 0 when the text is a single line (JSON).
  std::size_t line = 0;
  // 1-based byte column within the line, or 0 when the error is about the
  // line as a whole (e.g. a missing member).
  std::size_t column = 0;
  std::string message;

  // to_string: "line 3 (i=2), column 14: message", leaving out the parts
  // that are 0.
  std::string to_string() const;

  friend bool operator==(const ParseError&, const ParseError&) = default;
};

// Parsed<T>: a T or a ParseError.
template <typename T>
using Parsed = Result<T, ParseError>;

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_PARSE_ERROR_H_
