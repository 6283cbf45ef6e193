#include "core/separator_search.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace sluice {

void SeparatorSearch::reset(std::span<const std::string_view> separators) {
  assert(!separators.empty());
  if (separators.size() == 1 && separators[0].size() == 1) {
    // One 1-byte separator (readline): inline, the tables (if any) are
    // kept for a later reset() that needs them.
    tables_in_use_ = false;
    byte_ = separators[0][0];
    min_length_ = max_length_ = 1;
    restart_at(0);
    return;
  }
  reset_tables(separators);
}

void SeparatorSearch::reset_tables(std::span<const std::string_view> separators) {
  if (separators.size() == 1) {
    use_tables(separators);
    return;
  }
  // Sorted by length (stable); a few separators are sorted on the stack, so
  // that a reset with the same ones allocates nothing.
  constexpr std::size_t kOnStack = 8;
  const auto shorter = [](std::string_view a, std::string_view b) { return a.size() < b.size(); };
  if (separators.size() > kOnStack) {
    std::vector<std::string_view> sorted(separators.begin(), separators.end());
    std::stable_sort(sorted.begin(), sorted.end(), shorter);
    use_tables(sorted);
    return;
  }
  std::array<std::string_view, kOnStack> few;
  const std::span<std::string_view> sorted(few.data(), separators.size());
  std::copy(separators.begin(), separators.end(), sorted.begin());
  // Insertion sort: stable, and unlike std::stable_sort it needs no
  // temporary buffer.
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    for (std::size_t j = i; j > 0 && shorter(sorted[j], sorted[j - 1]); --j) {
      std::swap(sorted[j], sorted[j - 1]);
    }
  }
  use_tables(sorted);
}

void SeparatorSearch::use_tables(std::span<const std::string_view> ordered) {
  // The same separators as last time (the common case: readuntil after
  // readuntil) keep their tables, so a new search allocates nothing.
  bool same = tables_ != nullptr && ordered.size() == tables_->seps.size();
  for (std::size_t i = 0; same && i < ordered.size(); ++i) {
    const Sep& sep = tables_->seps[i];
    same = ordered[i] == std::string_view(tables_->bytes).substr(sep.offset, sep.length);
  }
  if (!same) build_tables(ordered);
  tables_in_use_ = true;
  min_length_ = tables_->seps.front().length;
  max_length_ = tables_->seps.back().length;
  restart_at(0);
}

void SeparatorSearch::build_tables(std::span<const std::string_view> ordered) {
  if (!tables_) tables_ = std::make_unique<Tables>();
  Tables& t = *tables_;
  t.bytes.clear();
  t.failure.clear();
  t.seps.clear();
  t.byte_set = {};
  for (std::string_view s : ordered) {
    assert(!s.empty());
    const auto offset = static_cast<std::uint32_t>(t.bytes.size());
    t.bytes.append(s);
    // failure[k] = length of the longest proper border of s[0, k+1).
    t.failure.resize(t.bytes.size());
    std::uint32_t* f = t.failure.data() + offset;
    f[0] = 0;
    std::uint32_t k = 0;
    for (std::size_t i = 1; i < s.size(); ++i) {
      while (k > 0 && s[i] != s[k]) k = f[k - 1];
      if (s[i] == s[k]) ++k;
      f[i] = k;
    }
    t.seps.push_back({offset, static_cast<std::uint32_t>(s.size()), 0});
    for (char c : s) {
      const auto b = static_cast<unsigned char>(c);
      t.byte_set[b / 64] |= std::uint64_t{1} << (b % 64);
    }
  }
}

void SeparatorSearch::restart_at(std::size_t pos) {
  scanned_ = pos;
  floor_ = pos;
  if (tables_in_use_) {
    for (Sep& sep : tables_->seps) sep.state = 0;
  }
  any_partial_ = false;
}

void SeparatorSearch::skip_to(std::size_t pos) {
  assert(max_length_ == 1);
  scanned_ = pos;
}

std::optional<SeparatorSearch::Match> SeparatorSearch::scan_byte(std::string_view data) {
  // No partial matches to carry: every match starts at or after scanned_
  // (which is >= floor_).
  assert(min_length_ == 1);
  const void* hit = std::memchr(data.data() + scanned_, byte_, data.size() - scanned_);
  if (hit == nullptr) {
    scanned_ = data.size();
    return std::nullopt;
  }
  const std::size_t start = static_cast<const char*>(hit) - data.data();
  return Match{start, start + 1};
}

std::uint32_t SeparatorSearch::step(const Sep& sep, std::uint32_t state, char c) const {
  const char* p = tables_->bytes.data() + sep.offset;
  const std::uint32_t* f = tables_->failure.data() + sep.offset;
  while (state > 0 && c != p[state]) state = f[state - 1];
  if (c == p[state]) ++state;
  return state;
}

std::optional<std::size_t> SeparatorSearch::scan_one(Sep& sep, std::string_view data) const {
  const char* p = tables_->bytes.data() + sep.offset;
  const std::size_t len = sep.length;
  std::size_t pos = scanned_;
  const std::size_t size = data.size();
  // Continue a partial match byte by byte until it completes or falls apart.
  while (sep.state > 0 && pos < size) {
    sep.state = step(sep, sep.state, data[pos++]);
    if (sep.state == len) return pos;
  }
  if (pos >= size) return std::nullopt;
  // No partial match at pos: any match starts at or after it.
  const char* base = data.data();
  if (len == 1) {
    const void* hit = std::memchr(base + pos, p[0], size - pos);
    if (hit != nullptr) return static_cast<const char*>(hit) - base + 1;
    return std::nullopt;
  }
  // Candidates by memchr on the first byte (fast when it is rare, as '\r' in
  // "\r\n" is); if candidates keep failing, the rest goes to memmem.
  std::size_t i = pos;
  for (std::size_t misses = 0; i + len <= size;) {
    if (misses > 8 + (i - pos) / 16) {
      const void* hit = ::memmem(base + i, size - i, p, len);
      if (hit != nullptr) return static_cast<const char*>(hit) - base + len;
      break;
    }
    const void* hit = std::memchr(base + i, p[0], size - len + 1 - i);
    if (hit == nullptr) break;
    const std::size_t j = static_cast<const char*>(hit) - base;
    if (std::memcmp(base + j + 1, p + 1, len - 1) == 0) return j + len;
    i = j + 1;
    ++misses;
  }
  // Remember the partial match at the end: it lies in the last len-1 bytes.
  std::size_t from = std::max(pos, size - std::min(size, len - 1));
  std::uint32_t state = 0;
  for (std::size_t i = from; i < size; ++i) state = step(sep, state, data[i]);
  sep.state = state;
  return std::nullopt;
}

std::optional<SeparatorSearch::Match> SeparatorSearch::step_through(std::string_view data) {
  assert(tables_in_use_ && !tables_->seps.empty());
  const std::size_t size = data.size();
  for (std::size_t pos = scanned_; pos < size; ++pos) {
    const char c = data[pos];
    if (!in_separators(c)) {
      // No separator contains c: every partial match falls apart here.
      if (any_partial_) {
        for (Sep& sep : tables_->seps) sep.state = 0;
        any_partial_ = false;
      }
      continue;
    }
    bool partial = false;
    for (Sep& sep : tables_->seps) {
      sep.state = step(sep, sep.state, c);
      // Shortest separators come first: the first to complete at the
      // earliest end wins. The search is then over (the remaining states
      // are never used), as in scan().
      if (sep.state == sep.length) return Match{pos + 1 - sep.length, pos + 1};
      partial |= sep.state != 0;
    }
    any_partial_ = partial;
  }
  scanned_ = size;
  return std::nullopt;
}

std::optional<SeparatorSearch::Match> SeparatorSearch::scan_bulk(std::string_view data) {
  assert(tables_in_use_ && !tables_->seps.empty());
  std::optional<Match> best;
  for (Sep& sep : tables_->seps) {
    // Once a match ends at E, a later separator can only win by ending
    // before E: search no further (else every call would run the rarest
    // separator to the end of the buffer). A found match completes the
    // search, so the states left at the shorter bound are never used.
    std::string_view region = best ? data.substr(0, best->end - 1) : data;
    if (region.size() <= scanned_) continue;
    std::optional<std::size_t> end = scan_one(sep, region);
    // Shortest separators come first, so strict < keeps the shortest on ties.
    if (end && (!best || *end < best->end)) best = Match{*end - sep.length, *end};
  }
  if (!best) {
    scanned_ = data.size();
    any_partial_ = false;
    for (const Sep& sep : tables_->seps) any_partial_ |= sep.state != 0;
  }
  return best;
}

}  // namespace sluice
