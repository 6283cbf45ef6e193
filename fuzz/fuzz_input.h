// File: fuzz/fuzz_input.h
//
// FuzzInput: takes typed values off the front of a fuzzer's input, so that
// one byte string encodes a whole scenario (limits, chunkings, operations).
// Past the end it yields zeros and empty strings: every input is a valid
// scenario. (libFuzzer's FuzzedDataProvider is clang-only; the fuzz targets
// are also built by gcc as corpus-replay tests.)

#ifndef SLUICE_FUZZ_FUZZ_INPUT_H_
#define SLUICE_FUZZ_FUZZ_INPUT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : data_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return pos_ >= data_.size(); }

  std::uint8_t byte() { return empty() ? 0 : static_cast<std::uint8_t>(data_[pos_++]); }

  // A value in [lo, hi], from one or two bytes.
  std::size_t range(std::size_t lo, std::size_t hi) {
    std::size_t span = hi - lo + 1;
    std::size_t v = byte();
    if (span > 256) v = v << 8 | byte();
    return lo + v % span;
  }

  // A string of up to max_len bytes (length first).
  std::string bytes(std::size_t max_len) {
    const std::size_t wanted = range(0, max_len);  // consumes its bytes first
    const std::size_t n = std::min(wanted, data_.size() - pos_);
    std::string out(data_.substr(pos_, n));
    pos_ += n;
    return out;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace sluice::fuzz

#endif  // SLUICE_FUZZ_FUZZ_INPUT_H_
