#include "conformance/parse_error.h"

#include <string>

namespace sluice::conformance {

std::string ParseError::to_string() const {
  std::string out;
  if (line > 0) {
    out += "line " + std::to_string(line) + " (i=" + std::to_string(line - 1) + ")";
  }
  if (column > 0) {
    if (!out.empty()) out += ", ";
    out += "column " + std::to_string(column);
  }
  if (!out.empty()) out += ": ";
  out += message;
  return out;
}

}  // namespace sluice::conformance
