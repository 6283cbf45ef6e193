// Invariant: any text given to the replay tool's parsers (malformed JSON, bad
// hex, huge numbers, deep nesting, invalid UTF-8) yields either a vector or a
// ParseError with a message - never a crash, hang or UB - and every vector it
// accepts replays on the core without tripping an assertion, producing one
// well-formed result line per answered read.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conformance/core_replay.h"
#include "conformance/json.h"
#include "conformance/vector.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = sluice::conformance::parse_json(text);
  if (!json.ok() && json.error().message.empty()) std::abort();

  auto vector = sluice::conformance::parse_vector(text);
  if (!vector.ok()) {
    if (vector.error().message.empty()) std::abort();
    return 0;
  }
  for (const std::string& line : sluice::conformance::replay_on_core(*vector)) {
    // Every result line is itself valid JSON.
    if (!sluice::conformance::parse_json(line).ok()) {
      std::fprintf(stderr, "bad result line: %s\n", line.c_str());
      std::abort();
    }
  }
  return 0;
}
