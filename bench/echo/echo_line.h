// File: bench/echo/echo_line.h
//
// The lines the load generator sends, and the check of what comes back.
//
// Every line is unique on its connection: it starts with 16 hex digits of
// (connection id << 40) ^ sequence number, its filler depends on the
// sequence number, and it ends with '\n'. A server that drops, repeats,
// reorders, truncates or mixes up lines (or sends garbage) fails the check,
// so a broken server cannot look fast.
//
//   LineChecker check(conn_id, size);
//   if (!check.consume(data, n)) fail();   // bytes as they arrive
//   check.lines()                           // complete, verified lines

#ifndef SLUICE_BENCH_ECHO_ECHO_LINE_H_
#define SLUICE_BENCH_ECHO_ECHO_LINE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace sluice::bench {

// kMinLineSize: the 16 hex digits and the '\n'.
inline constexpr std::size_t kMinLineSize = 17;

// fill_line: writes line `seq` of connection `conn` (`size` bytes, '\n'
// included) to `dst`.
inline void fill_line(char* dst, std::size_t size, std::uint32_t conn, std::uint64_t seq) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t tag = (static_cast<std::uint64_t>(conn) << 40) ^ seq;
  for (int i = 15; i >= 0; --i, tag >>= 4) dst[i] = kHex[tag & 15];
  for (std::size_t i = 16; i + 1 < size; ++i) dst[i] = static_cast<char>('a' + (i + seq) % 26);
  dst[size - 1] = '\n';
}

// LineChecker: checks the bytes echoed on one connection against the lines
// sent on it, in order.
class LineChecker {
 public:
  LineChecker(std::uint32_t conn, std::size_t size) : conn_(conn), expected_(size, '\0') {
    fill_line(expected_.data(), size, conn_, 0);
  }

  // consume: checks `n` more echoed bytes; false on the first wrong byte.
  bool consume(const char* data, std::size_t n) {
    while (n > 0) {
      const std::size_t take = std::min(n, expected_.size() - pos_);
      if (std::memcmp(data, expected_.data() + pos_, take) != 0) return false;
      data += take;
      n -= take;
      pos_ += take;
      if (pos_ == expected_.size()) {
        pos_ = 0;
        fill_line(expected_.data(), expected_.size(), conn_, ++lines_);
      }
    }
    return true;
  }

  // lines: the complete lines verified so far.
  std::uint64_t lines() const { return lines_; }
  // in_line: a line is partly received.
  bool in_line() const { return pos_ != 0; }

 private:
  std::uint32_t conn_;
  std::string expected_;
  std::size_t pos_ = 0;
  std::uint64_t lines_ = 0;
};

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_ECHO_ECHO_LINE_H_
