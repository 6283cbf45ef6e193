// File: examples/show.h
//
// show: a received line as the examples of every backend print it in their
// logs (like Python's repr in the asyncio docs' examples): quoted,
// without its line end, non-printable bytes as \xNN, cut after 60 bytes.
//
// Example:
//   show("hello\r\n")  // "\"hello\""

#ifndef SLUICE_EXAMPLES_SHOW_H_
#define SLUICE_EXAMPLES_SHOW_H_

#include <cstdio>
#include <string>
#include <string_view>

namespace sluice::examples {

inline std::string show(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  constexpr std::size_t kMax = 60;
  std::string out = "\"";
  for (std::size_t k = 0; k < line.size() && k < kMax; ++k) {
    const unsigned char c = static_cast<unsigned char>(line[k]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  out += '"';
  if (line.size() > kMax) out += "... (" + std::to_string(line.size()) + " bytes)";
  return out;
}

}  // namespace sluice::examples

#endif  // SLUICE_EXAMPLES_SHOW_H_
