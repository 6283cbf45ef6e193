// Writer benchmarks (in memory, no sockets):
//   write_drain_64       write + drain of 64-byte messages, with a driver
//                        that sends everything queued whenever drain would
//                        wait (msgs/s; target >= 20 M/s)
//   small_writes_flush   N small writes, then the driver flushes with
//                        gather sends of up to 16 views: counts the sends
//   ping_pong            one request of a ping-pong echo server on a
//                        Connection: a 64-byte line arrives under a pending
//                        readline, is written back and sent, without and
//                        with a BufferPool (the pool's effect is the ratio
//                        of the two; "pool_allocs/req": the pool's misses)
#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "core/buffer_pool.h"
#include "core/connection.h"
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

// state.range(0): 1 = with a pool. state.range(1): how the line arrives: 0 =
// data_received (copied), else prepare_receive(that many bytes) + commit,
// as the backends receive (the pool's blocks are then that big).
void BM_ping_pong(benchmark::State& state) {
  const bool pooled = state.range(0) != 0;
  const std::size_t receive = static_cast<std::size_t>(state.range(1));
  const std::string line = std::string(63, 'p') + "\n";
  sluice::BufferPool pool(std::max<std::size_t>(receive, sluice::OutputQueue::kBlockSize), 64);
  std::optional<sluice::Connection> conn;
  conn.emplace(sluice::ConnectionOptions{.pool = pooled ? &pool : nullptr});
  std::array<std::string_view, 16> views;
  for (auto _ : state) {
    sluice::ReadPoll pending = conn->reader().readline();
    sluice::Completions c;
    if (receive == 0) {
      c = conn->data_received(line);
    } else {
      std::span<char> space = conn->prepare_receive(receive);
      std::memcpy(space.data(), line.data(), line.size());
      c = conn->commit_received(line.size());
    }
    (void)conn->writer().write(std::move(**c.read));
    const std::size_t n = conn->next_send(views);
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < n; ++i) bytes += views[i].size();
    benchmark::DoNotOptimize(views[0].data());
    sluice::Completions sent = conn->bytes_sent(bytes);
    benchmark::DoNotOptimize(pending);
    benchmark::DoNotOptimize(sent);
  }
  conn.reset();  // before the pool
  state.counters["req/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (pooled) {
    state.counters["pool_allocs/req"] =
        static_cast<double>(pool.allocations()) / static_cast<double>(state.iterations());
  }
}

BENCHMARK(BM_write_drain_64);
BENCHMARK(BM_ping_pong)->ArgNames({"pool", "receive"})->ArgsProduct({{0, 1}, {0, 65536}});
BENCHMARK(BM_small_writes_flush)->Arg(100)->Arg(1000)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
