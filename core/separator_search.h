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
// Memory: one 1-byte separator (readline's "\n", the common case) is kept
// inline: a search costs 40 bytes and no heap. Anything else (several
// separators, or a longer one) lives in tables on the heap - the separators
// and their failure tables - made on first need and kept for reuse; reset()
// with the same separators as before reuses them, so repeated readuntil
// calls with one set of up to 8 separators allocate nothing.

#ifndef SLUICE_CORE_SEPARATOR_SEARCH_H_
#define SLUICE_CORE_SEPARATOR_SEARCH_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
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
    if (!tables_in_use_) {
      // One 1-byte separator: a few new bytes are looked at in place (a
      // memchr call costs more than that), more with memchr.
      if (data.size() - scanned_ > kStepBytes) return scan_byte(data);
      for (std::size_t i = scanned_; i < data.size(); ++i) {
        if (data[i] == byte_) return Match{i, i + 1};
      }
      scanned_ = data.size();
      return std::nullopt;
    }
    // A few new bytes (a peer trickling its data): stepping every state
    // through them costs less than a memchr per separator.
    if (data.size() - scanned_ <= kStepBytes) return step_through(data);
    return scan_bulk(data);
  }

  // How far the sequence has been scanned.
  std::size_t scanned() const { return scanned_; }
  std::size_t min_length() const { return min_length_; }
  std::size_t max_length() const { return max_length_; }
  std::size_t separator_count() const {
    if (tables_in_use_) return tables_->seps.size();
    return min_length_ == 0 ? 0 : 1;
  }

 private:
  struct Sep {
    std::uint32_t offset;  // into bytes (and into failure for its table)
    std::uint32_t length;
    std::uint32_t state;   // KMP: separator bytes matched at scanned_
  };
  // The separators when they are not one single byte.
  struct Tables {
    std::string bytes;                   // the separators, concatenated
    std::vector<std::uint32_t> failure;  // KMP failure tables, concatenated
    std::vector<Sep> seps;               // sorted by length (stable)
    // The bytes that occur in some separator (a 256-bit set).
    std::array<std::uint64_t, 4> byte_set{};
  };

  // reset() of anything but one 1-byte separator: sorts them, then
  // use_tables() of them sorted by length.
  void reset_tables(std::span<const std::string_view> separators);
  void use_tables(std::span<const std::string_view> ordered);
  // Fills the tables (made if missing) with `ordered` (sorted by length).
  void build_tables(std::span<const std::string_view> ordered);
  // scan() of the one 1-byte separator.
  std::optional<Match> scan_byte(std::string_view data);
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
    return (tables_->byte_set[b / 64] >> (b % 64)) & 1;
  }

  // Null until some reset() needed it; then kept (tables_in_use_ says
  // whether the current separators are in it).
  std::unique_ptr<Tables> tables_;
  std::size_t scanned_ = 0;
  std::size_t floor_ = 0;
  std::uint32_t min_length_ = 0;
  std::uint32_t max_length_ = 0;
  // The separator while !tables_in_use_ (and min_length_ == 1).
  char byte_ = 0;
  bool tables_in_use_ = false;
  // Some separator's state is not 0 (so a byte outside byte_set has states
  // to reset). Tables only.
  bool any_partial_ = false;
};

}  // namespace sluice

#endif  // SLUICE_CORE_SEPARATOR_SEARCH_H_
