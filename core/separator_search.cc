#include "core/separator_search.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace sluice {

void SeparatorSearch::reset(std::span<const std::string_view> separators) {
  assert(!separators.empty());
  std::vector<std::string_view> sorted;
  std::span<const std::string_view> ordered = separators;
  if (separators.size() > 1) {
    sorted.assign(separators.begin(), separators.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](std::string_view a, std::string_view b) { return a.size() < b.size(); });
    ordered = sorted;
  }
  // The same separators as last time (the common case: readline after
  // readline) keep their tables, so a new search allocates nothing.
  bool same = ordered.size() == seps_.size();
  for (std::size_t i = 0; same && i < ordered.size(); ++i) {
    same = ordered[i] == std::string_view(bytes_).substr(seps_[i].offset, seps_[i].length);
  }
  if (same) {
    restart_at(0);
    return;
  }
  floor_ = 0;
  bytes_.clear();
  failure_.clear();
  seps_.clear();
  byte_set_ = {};
  any_partial_ = false;
  for (std::string_view s : ordered) {
    assert(!s.empty());
    const auto offset = static_cast<std::uint32_t>(bytes_.size());
    bytes_.append(s);
    // failure[k] = length of the longest proper border of s[0, k+1).
    failure_.resize(bytes_.size());
    std::uint32_t* f = failure_.data() + offset;
    f[0] = 0;
    std::uint32_t k = 0;
    for (std::size_t i = 1; i < s.size(); ++i) {
      while (k > 0 && s[i] != s[k]) k = f[k - 1];
      if (s[i] == s[k]) ++k;
      f[i] = k;
    }
    seps_.push_back({offset, static_cast<std::uint32_t>(s.size()), 0});
    for (char c : s) {
      const auto b = static_cast<unsigned char>(c);
      byte_set_[b / 64] |= std::uint64_t{1} << (b % 64);
    }
  }
  min_length_ = seps_.front().length;
  max_length_ = seps_.back().length;
  scanned_ = 0;
}

void SeparatorSearch::restart_at(std::size_t pos) {
  scanned_ = pos;
  floor_ = pos;
  for (Sep& sep : seps_) sep.state = 0;
  any_partial_ = false;
}

void SeparatorSearch::skip_to(std::size_t pos) {
  assert(max_length_ == 1);
  scanned_ = pos;
}

std::uint32_t SeparatorSearch::step(const Sep& sep, std::uint32_t state, char c) const {
  const char* p = bytes_.data() + sep.offset;
  const std::uint32_t* f = failure_.data() + sep.offset;
  while (state > 0 && c != p[state]) state = f[state - 1];
  if (c == p[state]) ++state;
  return state;
}

std::optional<std::size_t> SeparatorSearch::scan_one(Sep& sep, std::string_view data) const {
  const char* p = bytes_.data() + sep.offset;
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
  assert(!seps_.empty());
  const std::size_t size = data.size();
  for (std::size_t pos = scanned_; pos < size; ++pos) {
    const char c = data[pos];
    if (!in_separators(c)) {
      // No separator contains c: every partial match falls apart here.
      if (any_partial_) {
        for (Sep& sep : seps_) sep.state = 0;
        any_partial_ = false;
      }
      continue;
    }
    bool partial = false;
    for (Sep& sep : seps_) {
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
  assert(!seps_.empty());
  std::optional<Match> best;
  for (Sep& sep : seps_) {
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
    for (const Sep& sep : seps_) any_partial_ |= sep.state != 0;
  }
  return best;
}

}  // namespace sluice
