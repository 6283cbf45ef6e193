// Writer benchmarks (in memory, no sockets):
//   write_drain_64       write + drain of 64-byte messages, with a driver
//                        that sends everything queued whenever drain would
//                        wait (msgs/s; target >= 20 M/s)
//   small_writes_flush   N small writes, then the driver flushes with
//                        gather sends of up to 16 views: counts the sends
#include <array>
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "core/stream_writer.h"

namespace {

void BM_write_drain_64(benchmark::State& state) {
  sluice::StreamWriter writer;
  const std::string msg(64, 'm');
  std::array<std::string_view, 16> views;
  std::size_t sends = 0;
  for (auto _ : state) {
    (void)writer.write(std::string_view(msg));
    sluice::StatusPoll drained = writer.drain();
    if (!drained) {  // paused: the driver sends it all, which resumes
      while (writer.get_write_buffer_size() > 0) {
        const std::size_t n = writer.peek(views);
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < n; ++i) bytes += views[i].size();
        (void)writer.bytes_sent(bytes);
        ++sends;
      }
    }
    benchmark::DoNotOptimize(drained);
  }
  state.counters["msgs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["bytes/send"] =
      static_cast<double>(state.iterations()) * 64 / static_cast<double>(sends ? sends : 1);
}

void BM_small_writes_flush(benchmark::State& state) {
  const std::size_t writes = static_cast<std::size_t>(state.range(0));
  const std::string msg(64, 'm');
  std::array<std::string_view, 16> views;
  std::size_t sends = 0;
  for (auto _ : state) {
    sluice::StreamWriter writer;
    for (std::size_t i = 0; i < writes; ++i) (void)writer.write(std::string_view(msg));
    sends = 0;
    while (writer.get_write_buffer_size() > 0) {
      const std::size_t n = writer.peek(views);
      std::size_t bytes = 0;
      for (std::size_t i = 0; i < n; ++i) bytes += views[i].size();
      (void)writer.bytes_sent(bytes);
      ++sends;
    }
  }
  state.counters["writes"] = static_cast<double>(writes);
  state.counters["sends"] = static_cast<double>(sends);
}

BENCHMARK(BM_write_drain_64);
BENCHMARK(BM_small_writes_flush)->Arg(100)->Arg(1000)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
