// Core reader benchmarks against the ceilings, in one binary so ratios are
// measured in the same run (see BENCHMARKS.md for how they are published).
//
//   memchr_views        ceiling: count lines with memchr, no copies
//   memchr_strings      ceiling: memchr plus one std::string per line
//   readline            StreamReader::readline (one std::string per line)
//   readuntil_*         1-byte, 2-byte and several separators
//   readexactly, read   fixed-size reads of the same stream
//
// Input: 16 MiB of lines of N bytes (the separator included), fed to the
// reader in 64 KiB chunks the way a driver would: read until a read is
// pending, then feed the next chunk.
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/stream_reader.h"

namespace {

constexpr std::size_t kTotal = 16 << 20;
constexpr std::size_t kChunk = 64 << 10;

std::string make_lines(std::size_t line_size, std::string_view sep) {
  std::string line(line_size - sep.size(), 'x');
  for (std::size_t i = 0; i < line.size(); ++i) line[i] = static_cast<char>('a' + i % 23);
  line += sep;
  std::string out;
  out.reserve(kTotal + line_size);
  while (out.size() < kTotal) out += line;
  return out;
}

void set_counters(benchmark::State& state, std::size_t bytes, std::size_t lines) {
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
  state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines) * state.iterations(),
                                                 benchmark::Counter::kIsRate);
}

void BM_memchr_views(benchmark::State& state) {
  const std::string data = make_lines(state.range(0), "\n");
  std::size_t lines = 0;
  for (auto _ : state) {
    lines = 0;
    const char* p = data.data();
    const char* end = p + data.size();
    while (const void* nl = std::memchr(p, '\n', end - p)) {
      std::string_view line(p, static_cast<const char*>(nl) + 1 - p);
      benchmark::DoNotOptimize(line);
      p = static_cast<const char*>(nl) + 1;
      ++lines;
    }
  }
  set_counters(state, data.size(), lines);
}

void BM_memchr_strings(benchmark::State& state) {
  const std::string data = make_lines(state.range(0), "\n");
  std::size_t lines = 0;
  for (auto _ : state) {
    lines = 0;
    const char* p = data.data();
    const char* end = p + data.size();
    while (const void* nl = std::memchr(p, '\n', end - p)) {
      std::string line(p, static_cast<const char*>(nl) + 1 - p);
      benchmark::DoNotOptimize(line);
      p = static_cast<const char*>(nl) + 1;
      ++lines;
    }
  }
  set_counters(state, data.size(), lines);
}

// Drives `read` (which starts one read on the reader) over the data in 64 KiB
// chunks; returns the number of completed reads.
template <typename StartRead>
std::size_t drive(const std::string& data, sluice::StreamReader& reader, StartRead read) {
  std::size_t done = 0, fed = 0;
  for (;;) {
    sluice::ReadPoll r = read(reader);
    while (!r) {
      if (fed == data.size()) {
        r = reader.feed_eof();
        if (!r) return done;
        break;
      }
      const std::size_t n = std::min(kChunk, data.size() - fed);
      r = reader.feed_data(std::string_view(data).substr(fed, n));
      fed += n;
    }
    if (!r->ok()) return done;  // EOF mid-record
    if ((*r)->empty()) return done;
    benchmark::DoNotOptimize(**r);
    ++done;
  }
}

template <typename StartRead>
void run_reader(benchmark::State& state, const std::string& data, StartRead read) {
  std::size_t done = 0;
  for (auto _ : state) {
    sluice::StreamReader reader(1 << 20);
    done = drive(data, reader, read);
  }
  set_counters(state, data.size(), done);
}

void BM_readline(benchmark::State& state) {
  run_reader(state, make_lines(state.range(0), "\n"), [](sluice::StreamReader& r) { return r.readline(); });
}

void BM_readuntil_1byte(benchmark::State& state) {
  run_reader(state, make_lines(state.range(0), "\n"),
             [](sluice::StreamReader& r) { return r.readuntil("\n"); });
}

void BM_readuntil_2byte(benchmark::State& state) {
  run_reader(state, make_lines(state.range(0), "\r\n"),
             [](sluice::StreamReader& r) { return r.readuntil("\r\n"); });
}

void BM_readuntil_several(benchmark::State& state) {
  static constexpr std::string_view kSeps[] = {"\r\n", "\n", ";;"};
  run_reader(state, make_lines(state.range(0), "\r\n"),
             [](sluice::StreamReader& r) { return r.readuntil(kSeps); });
}

void BM_readexactly(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  run_reader(state, make_lines(state.range(0), "\n"),
             [n](sluice::StreamReader& r) { return r.readexactly(n); });
}

void BM_read(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  run_reader(state, make_lines(state.range(0), "\n"), [n](sluice::StreamReader& r) { return r.read(n); });
}

// View-returning readline (no copy): the ceiling is plain memchr.
void BM_readline_view(benchmark::State& state) {
  const std::string data = make_lines(state.range(0), "\n");
  std::size_t lines = 0;
  for (auto _ : state) {
    sluice::StreamReader reader(1 << 20);
    lines = 0;
    std::size_t fed = 0;
    for (;;) {
      std::optional<sluice::Result<std::string_view>> line = reader.readline_view();
      if (!line) {
        if (fed == data.size()) break;
        const std::size_t n = std::min(kChunk, data.size() - fed);
        (void)reader.feed_data(std::string_view(data).substr(fed, n));
        fed += n;
        continue;
      }
      benchmark::DoNotOptimize(**line);
      ++lines;
    }
  }
  set_counters(state, data.size(), lines);
}

// Linearity: one line of state.range(0) bytes (plus separator) fed one byte
// at a time to a pending read, against the same bytes fed one at a time with
// no read pending (what feeding alone costs) and the line fed at once.
enum class Trickle { kFeedOnly, kReadline, kReaduntil4, kReaduntilSeveral };

template <Trickle kind>
void BM_trickle(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  static constexpr std::string_view kSeveral[] = {"\r\n", "\n", "<END>"};
  const std::string_view sep = kind == Trickle::kReaduntil4 ? "<EN>" : "\n";
  for (auto _ : state) {
    sluice::StreamReader reader(2 * n + 16);
    sluice::ReadPoll r;
    if constexpr (kind == Trickle::kReadline) r = reader.readline();
    if constexpr (kind == Trickle::kReaduntil4) r = reader.readuntil(sep);
    if constexpr (kind == Trickle::kReaduntilSeveral) r = reader.readuntil(kSeveral);
    const char c = 'x';
    for (std::size_t i = 0; i < n; ++i) r = reader.feed_data(std::string_view(&c, 1));
    for (char s : sep) r = reader.feed_data(std::string_view(&s, 1));
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(n) * state.iterations());
}

void BM_line_at_once(benchmark::State& state) {
  const std::string line = std::string(static_cast<std::size_t>(state.range(0)), 'x') + "\n";
  for (auto _ : state) {
    sluice::StreamReader reader(line.size() + 16);
    sluice::ReadPoll r = reader.readline();
    r = reader.feed_data(line);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(line.size()) * state.iterations());
}

#define LINE_SIZES Arg(16)->Arg(80)->Arg(1024)->Arg(65536)
#define TRICKLE_SIZES Arg(1 << 20)->Arg(16 << 20)->Unit(benchmark::kMillisecond)
BENCHMARK(BM_readline_view)->LINE_SIZES;
BENCHMARK_TEMPLATE(BM_trickle, Trickle::kFeedOnly)->TRICKLE_SIZES;
BENCHMARK_TEMPLATE(BM_trickle, Trickle::kReadline)->TRICKLE_SIZES;
BENCHMARK_TEMPLATE(BM_trickle, Trickle::kReaduntil4)->TRICKLE_SIZES;
BENCHMARK_TEMPLATE(BM_trickle, Trickle::kReaduntilSeveral)->TRICKLE_SIZES;
BENCHMARK(BM_line_at_once)->TRICKLE_SIZES;
BENCHMARK(BM_memchr_views)->LINE_SIZES;
BENCHMARK(BM_memchr_strings)->LINE_SIZES;
BENCHMARK(BM_readline)->LINE_SIZES;
BENCHMARK(BM_readuntil_1byte)->LINE_SIZES;
BENCHMARK(BM_readuntil_2byte)->LINE_SIZES;
BENCHMARK(BM_readuntil_several)->LINE_SIZES;
BENCHMARK(BM_readexactly)->LINE_SIZES;
BENCHMARK(BM_read)->LINE_SIZES;

}  // namespace

BENCHMARK_MAIN();
