// Invariant: SeparatorSearch, fed a byte sequence in any chunking, finds the
// same match as a naive search (earliest end over all separators; on a tie the
// shortest separator), for separator sets that include prefixes, overlaps and
// duplicates of each other; and restart_at(p) ignores matches starting before p.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/separator_search.h"
#include "fuzz/fuzz_input.h"

namespace {

using Match = sluice::SeparatorSearch::Match;

std::optional<Match> naive(std::string_view data, std::vector<std::string> seps, std::size_t from) {
  std::stable_sort(seps.begin(), seps.end(),
                   [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  for (std::size_t end = from + 1; end <= data.size(); ++end) {
    for (const std::string& s : seps) {
      if (s.size() <= end - from && data.substr(end - s.size(), s.size()) == s) {
        return Match{end - s.size(), end};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  sluice::fuzz::FuzzInput in(bytes, size);
  const bool small_alphabet = in.byte() & 1;
  std::vector<std::string> seps(in.range(1, 4));
  for (std::string& s : seps) {
    s = in.bytes(12);
    if (s.empty()) s = "\n";
    if (small_alphabet) for (char& c : s) c = "ab"[static_cast<unsigned char>(c) & 1];
  }
  std::string data = in.bytes(2048);
  if (small_alphabet) for (char& c : data) c = "ab"[static_cast<unsigned char>(c) & 1];
  const std::size_t from = in.range(0, 8);

  std::vector<std::string_view> views(seps.begin(), seps.end());
  sluice::SeparatorSearch search;
  search.reset(std::span<const std::string_view>(views));
  search.restart_at(from);
  const std::optional<Match> want = naive(data, seps, std::min(from, data.size()));

  std::optional<Match> got;
  std::size_t len = std::min(from, data.size());
  while (len < data.size() && !got) {
    len = std::min(data.size(), len + std::max<std::size_t>(1, in.range(0, 64)));
    got = search.scan(std::string_view(data).substr(0, len));
  }
  if (got != want) {
    std::fprintf(stderr, "mismatch: got %s, want %s\n", got ? "match" : "none", want ? "match" : "none");
    std::abort();
  }
  return 0;
}
