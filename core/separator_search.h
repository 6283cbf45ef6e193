// File: core/separator_search.h
//
// SeparatorSearch: incremental search of a growing byte sequence for the
// earliest end of any of a set of separators (asyncio 3.13's readuntil rule:
// the shortest chunk that ends with any separator; on equal ends, the shortest
// separator wins).
//
// The sequence is given anew to each scan() call as a view whose first
// scanned() bytes are the ones seen before (the caller only appends). Bytes
// already scanned are not examined again: each separator keeps where its
// search stopped and how much of it was matched there (its KMP state), so a
// sequence fed one byte at a time costs O(total bytes x separators), like one
// scan of the whole. Long stretches are searched with memchr/memmem; a few
// new bytes (a peer trickling its data) step the KMP states by those bytes
// only: a byte that occurs in no separator resets every state in O(1),
// whatever the number of separators, so a pending search costs a small
// constant per new byte.
//
// Example:
//   SeparatorSearch s;
//   s.reset({"\r\n", "\n"});
//   s.scan("ab\r");           // nullopt; remembers the partial "\r"
//   s.scan("ab\r\nc");        // Match{.start = 2, .end = 4}
//
// Memory: the separators and their failure tables are owned; reset() with the
// same separators as before reuses them, so repeated readuntil calls with one
// separator set allocate nothing.

#ifndef SLUICE_CORE_SEPARATOR_SEARCH_H_
#define SLUICE_CORE_SEPARATOR_SEARCH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class SeparatorSearch {
 public:
  struct Match {
    std::size_t start;  // where the winning separator starts
    std::size_t end;    // one past its last byte
    friend bool operator==(const Match&, const Match&) = default;
  };

  // reset: search for these separators from position 0. Preconditions: at
  // least one separator, none empty (readuntil validates before calling).
  void reset(std::span<const std::string_view> separators);
  void reset(std::initializer_list<std::string_view> separators) {
    reset(std::span<const std::string_view>(separators.begin(), separators.size()));
  }

  // restart_at: forget what was scanned; the next scan() considers only
  // matches that start at or after `pos` (which becomes floor()).
  void restart_at(std::size_t pos);
  // skip_to: the caller knows no match starts before `pos` (and no separator
  // is longer than 1 byte): continue from there. floor() is unchanged.
  void skip_to(std::size_t pos);
  // floor: matches starting before it are not considered (see restart_at).
  std::size_t floor() const { return floor_; }

  // scan: look at the bytes of `data` past scanned() (precondition: `data`
  // extends what earlier scans saw). Returns the earliest-ending match, or
  // nullopt after remembering the state at data.size().
  std::optional<Match> scan(std::string_view data) {
    if (data.size() <= scanned_) return std::nullopt;
    // A few new bytes (a peer trickling its data): stepping every state
    // through them costs less than a memchr per separator.
    if (data.size() - scanned_ <= kStepBytes) return step_through(data);
    return scan_bulk(data);
  }

  // How far the sequence has been scanned.
  std::size_t scanned() const { return scanned_; }
  std::size_t min_length() const { return min_length_; }
  std::size_t max_length() const { return max_length_; }
  std::size_t separator_count() const { return seps_.size(); }

 private:
  struct Sep {
    std::uint32_t offset;  // into bytes_ (and into failure_ for its table)
    std::uint32_t length;
    std::uint32_t state;   // KMP: separator bytes matched at scanned_
  };

  // Earliest end of `sep` in data[scanned_, size), updating its state.
  std::optional<std::size_t> scan_one(Sep& sep, std::string_view data) const;
  static constexpr std::size_t kStepBytes = 16;

  // scan() of a few new bytes: every separator steps through them together.
  std::optional<Match> step_through(std::string_view data);
  // scan() of more: each separator searches with memchr/memmem.
  std::optional<Match> scan_bulk(std::string_view data);
  std::uint32_t step(const Sep& sep, std::uint32_t state, char c) const;
  bool in_separators(char c) const {
    const auto b = static_cast<unsigned char>(c);
    return (byte_set_[b / 64] >> (b % 64)) & 1;
  }

  std::string bytes_;                    // the separators, concatenated
  std::vector<std::uint32_t> failure_;   // KMP failure tables, concatenated
  std::vector<Sep> seps_;                // sorted by length (stable)
  // The bytes that occur in some separator (a 256-bit set).
  std::array<std::uint64_t, 4> byte_set_{};
  // Some separator's state is not 0 (so a byte outside byte_set_ has states
  // to reset).
  bool any_partial_ = false;
  std::size_t scanned_ = 0;
  std::size_t floor_ = 0;
  std::size_t min_length_ = 0;
  std::size_t max_length_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_CORE_SEPARATOR_SEARCH_H_
