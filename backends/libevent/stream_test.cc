// Streams over real sockets on a libevent loop: reads across real chunks,
// half-close, flow control both ways, resets, close/abort, coalescing, extra
// info, the callback style. Every test runs under a deadline and checks that
// no descriptor leaked (test_support.h's LoopTest).

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "backends/libevent/internal/loop_context.h"
#include "backends/libevent/streams.h"
#include "backends/libevent/test_support.h"
#include "gtest/gtest.h"

namespace sluice::libevent_backend {
namespace {

using namespace std::chrono_literals;
using test_support::LoopTest;
using test_support::Payload;
using test_support::run;
using test_support::run_all;
using test_support::run_until;
using test_support::sleep_for;
using test_support::stream_pair;
using test_support::Transport;

bool is_connection_error(const std::error_code& ec) {
  return ec == std::errc::connection_reset || ec == std::errc::broken_pipe;
}

// Writes each piece, drained, with a pause in between, so the peer receives
// them as separate chunks.
Task<void> send_in_chunks(event_base* base, StreamWriter w, std::vector<std::string> pieces,
                          bool eof) {
  for (std::string& piece : pieces) {
    w.write(std::move(piece));
    co_await w.drain();
    co_await sleep_for(base, 5ms);
  }
  if (eof) w.write_eof();
}

class StreamTest : public LoopTest, public ::testing::WithParamInterface<Transport> {
 protected:
  void SetUp() override {
    if (GetParam() == Transport::kTcp6 && !test_support::ipv6_available()) {
      GTEST_SKIP() << "no IPv6 loopback";
    }
    LoopTest::SetUp();
  }
};

INSTANTIATE_TEST_SUITE_P(Transports, StreamTest,
                         ::testing::Values(Transport::kTcp4, Transport::kTcp6, Transport::kUnix),
                         test_support::transport_name);

// TCP only: an RST needs TCP (a UNIX socket's peer sees EOF).
class TcpStreamTest : public StreamTest {};

INSTANTIATE_TEST_SUITE_P(Transports, TcpStreamTest,
                         ::testing::Values(Transport::kTcp4, Transport::kTcp6),
                         test_support::transport_name);

// ---- The loop's block pool. -----------------------------------------------------------

// A ping-pong's reader and writer blocks go back to the loop's pool and are
// reused: a hundred exchanges allocate a handful of blocks, not two hundred.
TEST_P(StreamTest, PingPongReusesTheLoopsPooledBlocks) {
  auto [a, b] = stream_pair(base(), GetParam());
  std::shared_ptr<libevent_backend_internal::LoopContext> loop =
      libevent_backend_internal::LoopContext::of(base());
  const BufferPool& pool = loop->pool();
  const std::uint64_t allocations = pool.allocations();
  const std::uint64_t reuses = pool.reuses();
  auto ping_pong = [](Stream a, Stream b) -> Task<void> {
    for (int i = 0; i < 100; ++i) {
      a.writer.write("ping " + std::to_string(i) + "\n");
      std::string line = co_await b.reader.readline();
      b.writer.write(std::move(line));
      const std::string echo = co_await a.reader.readline();
      EXPECT_EQ(echo, "ping " + std::to_string(i) + "\n");
    }
  };
  run_all(base(), 5s, ping_pong(a, b));
  EXPECT_GE(pool.reuses() - reuses, 100u);
  EXPECT_LE(pool.allocations() - allocations, 8u);
}

// Connections that all reply in one loop turn each hold a block until the
// turn's sends, so the pool keeps enough free blocks for a few dozen of
// them: once warm, the second round allocates nothing.
TEST_P(StreamTest, ManyConnectionsReplyingInOneTurnReuseTheLoopsBlocks) {
  constexpr int kPairs = 24;
  std::vector<Stream> servers;
  std::vector<Stream> clients;
  for (int i = 0; i < kPairs; ++i) {
    auto [a, b] = stream_pair(base(), GetParam());
    servers.push_back(std::move(a));
    clients.push_back(std::move(b));
  }
  const BufferPool& pool = libevent_backend_internal::LoopContext::of(base())->pool();
  auto echo_twice = [](Stream s) -> Task<void> {
    for (int round = 0; round < 2; ++round) {
      std::string line = co_await s.reader.readline();
      s.writer.write(std::move(line));
    }
  };
  auto expect_echo = [](StreamReader r) -> Task<void> {
    EXPECT_EQ(co_await r.readline(), "ping\n");
  };
  std::vector<Task<void>> echoes;
  for (Stream& s : servers) echoes.push_back(echo_twice(s));
  for (Task<void>& t : echoes) t.start();
  std::uint64_t allocations = 0;
  for (int round = 0; round < 2; ++round) {
    if (round == 1) allocations = pool.allocations();
    // Written outside the loop: one turn sends them all, and the servers'
    // readlines complete together.
    for (Stream& c : clients) c.writer.write("ping\n");
    std::vector<Task<void>> replies;
    for (Stream& c : clients) replies.push_back(expect_echo(c.reader));
    for (Task<void>& t : replies) t.start();
    ASSERT_TRUE(run_until(base(), [&] {
      for (Task<void>& t : replies) {
        if (!t.done()) return false;
      }
      return true;
    }));
    for (Task<void>& t : replies) test_support::expect_no_exception(t);
  }
  EXPECT_EQ(pool.allocations() - allocations, 0u);
  for (Task<void>& t : echoes) {
    EXPECT_TRUE(t.done());
    test_support::expect_no_exception(t);
  }
  for (Stream& s : servers) s.writer.close();
  for (Stream& c : clients) c.writer.close();
}

// ---- Reads across real chunks. ------------------------------------------------------

TEST_P(StreamTest, ReadlineAcrossChunks) {
  auto [a, b] = stream_pair(base(), GetParam());
  auto reader = [](StreamReader r) -> Task<void> {
    std::string first = co_await r.readline();
    std::string second = co_await r.readline();
    std::string last = co_await r.readline();
    EXPECT_EQ(first, "hello\n");
    EXPECT_EQ(second, "world\n");
    EXPECT_EQ(last, "");  // EOF
  };
  run_all(base(), 5s, reader(b.reader),
          send_in_chunks(base(), a.writer, {"hel", "lo\nwor", "ld\n"}, true));
  EXPECT_GE(HandleAccess::state(b.reader).recv_calls(), 3u);
}

TEST_P(StreamTest, ReadexactlyAcrossChunks) {
  auto [a, b] = stream_pair(base(), GetParam());
  std::vector<std::string> pieces;
  std::string all;
  for (int i = 0; i < 5; ++i) {
    pieces.push_back(std::string(1000, static_cast<char>('a' + i)));
    all += pieces.back();
  }
  auto reader = [](StreamReader r, std::string expected) -> Task<void> {
    std::string got = co_await r.readexactly(5000);
    EXPECT_EQ(got, expected);
  };
  run_all(base(), 5s, reader(b.reader, all), send_in_chunks(base(), a.writer, pieces, false));
  a.writer.close();
}

TEST_P(StreamTest, ReaduntilWithSeveralSeparatorsAcrossChunks) {
  auto [a, b] = stream_pair(base(), GetParam());
  auto reader = [](StreamReader r) -> Task<void> {
    static constexpr std::string_view kEnds[] = {"\r\n", ";"};
    std::string first = co_await r.readuntil(kEnds);
    std::string second = co_await r.readuntil(kEnds);
    EXPECT_EQ(first, "abc\r\n");
    EXPECT_EQ(second, "xyz;");
  };
  run_all(base(), 5s, reader(b.reader),
          send_in_chunks(base(), a.writer, {"ab", "c\r", "\nxy", "z;"}, false));
  a.writer.close();
}

TEST_P(StreamTest, ReadReturnsWhatIsBufferedWithoutWaitingForN) {
  auto [a, b] = stream_pair(base(), GetParam());
  a.writer.write("abc");
  run(base(), [](StreamReader r) -> Task<void> {
    std::string got = co_await r.read(100);
    EXPECT_EQ(got, "abc");
  }(b.reader));
  a.writer.close();
}

TEST_P(StreamTest, ReadAllReadsToEof) {
  auto [a, b] = stream_pair(base(), GetParam());
  const std::string payload = Payload::piece(0, 300 * 1024);
  a.writer.write(std::string(payload));
  a.writer.write_eof();
  run(base(), [](StreamReader r, std::string expected) -> Task<void> {
    std::string got = co_await r.read();
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_TRUE(got == expected);
    EXPECT_TRUE(r.at_eof());
  }(b.reader, payload));
  a.writer.close();
}

TEST_P(StreamTest, ReadexactlyAtEofRaisesIncompleteReadWithThePartialBytes) {
  auto [a, b] = stream_pair(base(), GetParam());
  run_all(
      base(), 5s,
      [](StreamReader r) -> Task<void> {
        try {
          (void)co_await r.readexactly(10);
          ADD_FAILURE() << "no IncompleteReadError";
        } catch (const IncompleteReadError& e) {
          EXPECT_EQ(e.partial(), "12345");
          EXPECT_EQ(e.expected(), 10u);
          EXPECT_STREQ(e.what(), "5 bytes read on a total of 10 expected bytes");
        }
      }(b.reader),
      send_in_chunks(base(), a.writer, {"123", "45"}, true));
  a.writer.close();
}

TEST_P(StreamTest, ReaduntilOverTheLimitRaisesLimitOverrunAndKeepsTheData) {
  auto [a, b] = stream_pair(base(), GetParam(), {}, StreamOptions{.limit = 16});
  a.writer.write("0123456789abcdefXYZ\nnext\n");  // 19 bytes before the separator
  run(base(), [](StreamReader r) -> Task<void> {
    ReadResult first = co_await r.readuntil("\n").as_result();
    if (first.ok()) {
      ADD_FAILURE() << "no LimitOverrunError";
      co_return;
    }
    EXPECT_EQ(first.error().code, StreamErrc::kLimitOverrun);
    EXPECT_EQ(first.error().consumed, 19u);
    EXPECT_EQ(first.error().overrun, LimitOverrunKind::kSeparatorFound);
    // Nothing was consumed: the data can be read again.
    std::string rest = co_await r.readexactly(25);
    EXPECT_EQ(rest, "0123456789abcdefXYZ\nnext\n");
  }(b.reader));
  a.writer.close();
}

TEST_P(StreamTest, ReadlineOverTheLimitDiscardsTheLongLine) {
  auto [a, b] = stream_pair(base(), GetParam(), {}, StreamOptions{.limit = 16});
  a.writer.write(std::string(20, 'x') + "\nok\n");
  run(base(), [](StreamReader r) -> Task<void> {
    try {
      (void)co_await r.readline();
      ADD_FAILURE() << "no LimitOverrunError";
    } catch (const LimitOverrunError& e) {
      EXPECT_EQ(e.consumed(), 20u);
    }
    std::string next = co_await r.readline();
    EXPECT_EQ(next, "ok\n");
  }(b.reader));
  a.writer.close();
}

TEST_P(StreamTest, NextLineIteratesUntilEof) {
  auto [a, b] = stream_pair(base(), GetParam());
  a.writer.write("a\nb\nc");
  a.writer.write_eof();
  run(base(), [](StreamReader r) -> Task<void> {
    std::vector<std::string> lines;
    while (std::optional<std::string> line = co_await r.next_line()) lines.push_back(*line);
    EXPECT_EQ(lines, (std::vector<std::string>{"a\n", "b\n", "c"}));
  }(b.reader));
  a.writer.close();
}

TEST_P(StreamTest, UserCodeRunsFromTheLoopNeverInsideTheSocketCallbacks) {
  auto [a, b] = stream_pair(base(), GetParam());
  auto loop = libevent_backend_internal::LoopContext::of(base());
  bool callback_in_ready = false;
  b.reader.readexactly(3, [&](ReadResult) { callback_in_ready = loop->in_ready(); });
  run_all(
      base(), 5s,
      [](StreamReader r,
         std::shared_ptr<libevent_backend_internal::LoopContext> loop) -> Task<void> {
        std::string line = co_await r.readline();  // waits: resumed by the loop
        EXPECT_EQ(line, "ping\n");
        EXPECT_TRUE(loop->in_ready());
      }(a.reader, loop),
      [](event_base* base, StreamWriter w) -> Task<void> {
        co_await sleep_for(base, 5ms);
        w.write("ping\n");
        co_await w.drain();
      }(base(), b.writer));
  a.writer.write("abc");
  EXPECT_TRUE(run_until(base(), [&] { return callback_in_ready; }));
  a.writer.close();
  b.writer.close();
}

// ---- Half-close. ---------------------------------------------------------------------

TEST_P(StreamTest, HalfCloseBothWays) {
  auto [a, b] = stream_pair(base(), GetParam());
  auto side_a = [](Stream s) -> Task<void> {
    s.writer.write("request");
    s.writer.write_eof();                          // FIN after the request
    std::string reply = co_await s.reader.read();  // to b's EOF
    EXPECT_EQ(reply, "response");
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  auto side_b = [](Stream s) -> Task<void> {
    std::string request = co_await s.reader.read();  // to a's EOF
    EXPECT_EQ(request, "request");
    EXPECT_TRUE(s.reader.at_eof());
    EXPECT_FALSE(s.reader.is_reading());  // EOF stops reading, the stream stays open
    EXPECT_FALSE(s.writer.is_closing());
    s.writer.write("response");  // writing still works after the peer's EOF
    s.writer.write_eof();
    co_await s.writer.drain();
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  run_all(base(), 5s, side_b(std::move(b)), side_a(std::move(a)));
}

TEST_P(StreamTest, WriteAfterWriteEofFails) {
  auto [a, b] = stream_pair(base(), GetParam());
  a.writer.write_eof();
  Status s = a.writer.try_write("late");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kWriteAfterEof);
  EXPECT_THROW(a.writer.write("late"), StreamException);
  a.writer.close();
  b.writer.close();
}

// ---- Read-side flow control. ----------------------------------------------------------

constexpr std::uint64_t kBigTransfer = 64ull << 20;  // 64 MiB

// The sender: the payload in 256 KiB writes, each drained; counts progress.
Task<void> send_payload(StreamWriter w, std::uint64_t total, std::uint64_t* sent) {
  constexpr std::size_t kPiece = 256 * 1024;
  for (std::uint64_t off = 0; off < total; off += kPiece) {
    w.write(Payload::piece(off, kPiece));
    co_await w.drain();
    *sent = off + kPiece;
  }
  w.write_eof();
  co_await w.drain();
}

// The consumer: first does not read until the sender is stuck (its drain no
// longer returns), checking the buffered bytes never pass 2*limit + one
// receive chunk; then reads everything, checking every byte.
Task<void> slow_consumer(event_base* base, StreamReader r, const std::uint64_t* sent,
                         std::uint64_t total) {
  const std::size_t bound = 2 * r.limit() + libevent_backend_internal::kReceiveChunk;
  std::uint64_t last = ~0ull;
  int still = 0;
  while (still < 10) {
    co_await sleep_for(base, 10ms);
    EXPECT_LE(r.buffered_size(), bound);
    still = *sent == last ? still + 1 : 0;
    last = *sent;
  }
  EXPECT_LT(*sent, total) << "the sender was never blocked";
  EXPECT_GT(r.buffered_size(), 2 * r.limit()) << "the reader did not fill up to its pause";
  EXPECT_FALSE(r.is_reading()) << "the backend kept reading from the socket";
  Payload check;
  for (;;) {
    std::string chunk = co_await r.read(256 * 1024);
    if (chunk.empty()) break;
    EXPECT_LE(r.buffered_size(), bound);
    if (!check.check(chunk)) {
      ADD_FAILURE() << "wrong byte near offset " << check.checked();
      co_return;
    }
  }
  EXPECT_EQ(check.checked(), total);
  EXPECT_EQ(*sent, total);
}

TEST_P(StreamTest, SlowConsumerStopsReadingAtTheSocketAndBlocksTheSendersDrain) {
  auto [a, b] = stream_pair(base(), GetParam());
  std::uint64_t sent = 0;
  run_all(base(), 20s, slow_consumer(base(), b.reader, &sent, kBigTransfer),
          send_payload(a.writer, kBigTransfer, &sent));
  a.writer.close();
  b.writer.close();
}

// ---- Write-side flow control. -----------------------------------------------------------

TEST_P(StreamTest, DrainWaitsAboveTheHighWaterMarkUntilThePeerReads) {
  auto [a, b] = stream_pair(base(), GetParam());
  constexpr std::size_t kSize = 16 << 20;  // more than the kernel buffers hold
  a.writer.set_write_buffer_limits(64 * 1024);
  a.writer.write(Payload::piece(0, kSize));
  bool drained = false;
  a.writer.drain([&](Status s) {
    EXPECT_TRUE(s.ok());
    drained = true;
  });
  EXPECT_FALSE(drained);  // never inside the call
  bool slept = false;
  run(base(), [](event_base* base, bool* slept) -> Task<void> {
    co_await sleep_for(base, 50ms);
    *slept = true;
  }(base(), &slept));
  EXPECT_FALSE(drained) << "drain completed while the peer was not reading";
  EXPECT_GT(a.writer.get_write_buffer_size(), 64u * 1024);
  run(base(), [](StreamReader r) -> Task<void> {
    Payload check;
    while (check.checked() < kSize) {
      std::string chunk = co_await r.read(1 << 20);
      if (chunk.empty() || !check.check(chunk)) {
        ADD_FAILURE() << "bad data at " << check.checked();
        co_return;
      }
    }
  }(b.reader));
  EXPECT_TRUE(run_until(base(), [&] { return drained; }));
  a.writer.close();
  b.writer.close();
}

// ---- Resets. -------------------------------------------------------------------------------

TEST_P(TcpStreamTest, PeerResetDuringReadFailsReaderAndWriter) {
  auto [a, b] = stream_pair(base(), GetParam());
  auto victim = [](Stream s) -> Task<void> {
    ReadResult r = co_await s.reader.readline().as_result();
    EXPECT_FALSE(r.ok());
    if (r.ok()) co_return;
    EXPECT_EQ(r.error().code, StreamErrc::kConnectionError);
    EXPECT_EQ(r.error().connection_error, std::errc::connection_reset);
    // Sticky on the reader; the writer fails with the same error.
    try {
      (void)co_await s.reader.read(1);
      ADD_FAILURE() << "read after a reset succeeded";
    } catch (const ConnectionError& e) {
      EXPECT_EQ(e.code(), std::errc::connection_reset);
    }
    Status d = co_await s.writer.drain().as_result();
    EXPECT_FALSE(d.ok());
    if (!d.ok()) {
      EXPECT_EQ(d.error().connection_error, std::errc::connection_reset);
    }
    Status c = co_await s.writer.wait_closed().as_result();
    EXPECT_FALSE(c.ok());
    if (!c.ok()) {
      EXPECT_EQ(c.error().connection_error, std::errc::connection_reset);
    }
  };
  auto resetter = [](event_base* base, StreamWriter w) -> Task<void> {
    co_await sleep_for(base, 10ms);
    w.abort();
    co_await w.wait_closed();  // abort is a clean close for the one who asked
  };
  run_all(base(), 5s, victim(std::move(a)), resetter(base(), b.writer));
}

TEST_P(StreamTest, PeerResetDuringDrainFailsDrainAndReader) {
  auto [a, b] = stream_pair(base(), GetParam());
  auto victim = [](Stream s) -> Task<void> {
    s.writer.write(Payload::piece(0, 32 << 20));  // the peer never reads it
    Status d = co_await s.writer.drain().as_result();
    EXPECT_FALSE(d.ok());
    if (d.ok()) co_return;
    EXPECT_EQ(d.error().code, StreamErrc::kConnectionError);
    EXPECT_TRUE(is_connection_error(d.error().connection_error)) << d.error().message();
    ReadResult r = co_await s.reader.read(1).as_result();
    EXPECT_FALSE(r.ok());
    if (!r.ok()) {
      EXPECT_EQ(r.error().connection_error, d.error().connection_error);
    }
  };
  auto resetter = [](event_base* base, StreamWriter w) -> Task<void> {
    co_await sleep_for(base, 20ms);
    w.abort();  // with unread data: the peer gets a reset
  };
  run_all(base(), 5s, victim(std::move(a)), resetter(base(), b.writer));
}

// ---- close / wait_closed / abort. -------------------------------------------------------------

TEST_P(StreamTest, CloseFlushesThenThePeerSeesEof) {
  auto [a, b] = stream_pair(base(), GetParam());
  const std::string payload = Payload::piece(0, 1 << 20);
  a.writer.write(std::string(payload));
  a.writer.close();
  EXPECT_TRUE(a.writer.is_closing());
  run_all(
      base(), 5s,
      [](StreamWriter w) -> Task<void> {
        Status s = co_await w.wait_closed().as_result();
        EXPECT_TRUE(s.ok());
        EXPECT_EQ(w.native_handle(), -1);
      }(a.writer),
      [](StreamReader r, std::string expected) -> Task<void> {
        std::string got = co_await r.read();
        EXPECT_TRUE(got == expected) << got.size();
      }(b.reader, payload));
  b.writer.close();
}

TEST_P(StreamTest, DrainAfterCloseFailsWithConnectionLost) {
  auto [a, b] = stream_pair(base(), GetParam());
  a.writer.close();
  run(base(), [](StreamWriter w) -> Task<void> {
    try {
      co_await w.drain();
      ADD_FAILURE() << "drain after close succeeded";
    } catch (const ConnectionError& e) {
      EXPECT_EQ(e.code(), std::errc::connection_reset);
      EXPECT_STREQ(e.what(), "Connection lost");
    }
  }(a.writer));
  b.writer.close();
}

TEST_P(TcpStreamTest, AbortDropsQueuedDataAndResetsThePeer) {
  auto [a, b] = stream_pair(base(), GetParam());
  a.writer.write(Payload::piece(0, 16 << 20));
  run(base(), [](event_base* base) -> Task<void> { co_await sleep_for(base, 20ms); }(base()));
  a.writer.abort();
  run_all(
      base(), 5s,
      [](StreamWriter w) -> Task<void> {
        Status s = co_await w.wait_closed().as_result();
        EXPECT_TRUE(s.ok());  // clean for the side that aborted
        EXPECT_GT(w.core().bytes_dropped(), 0u);
      }(a.writer),
      [](StreamReader r) -> Task<void> {
        for (;;) {
          ReadResult chunk = co_await r.read(1 << 20).as_result();
          if (!chunk.ok()) {
            EXPECT_EQ(chunk.error().connection_error, std::errc::connection_reset);
            co_return;
          }
          if (chunk->empty()) {
            ADD_FAILURE() << "EOF instead of a reset";
            co_return;
          }
        }
      }(b.reader));
  b.writer.close();
}

TEST_P(StreamTest, DroppingTheHandlesClosesGracefully) {
  auto [a, b] = stream_pair(base(), GetParam());
  {
    Stream gone = std::move(a);
    gone.writer.write("bye\n");
  }  // no close(): asyncio's StreamWriter.__del__ closes
  run(base(), [](StreamReader r) -> Task<void> {
    std::string all = co_await r.read();
    EXPECT_EQ(all, "bye\n");
  }(b.reader));
  b.writer.close();
}

// ---- Coalescing. -------------------------------------------------------------------------------

TEST_P(StreamTest, WritesOfOneTurnLeaveInOneSend) {
  auto [a, b] = stream_pair(base(), GetParam());
  for (int i = 0; i < 1000; ++i) a.writer.write("x\n");
  EXPECT_EQ(a.writer.send_calls(), 0u);  // never inside write()
  run(base(), [](StreamReader r) -> Task<void> {
    std::string got = co_await r.readexactly(2000);
    EXPECT_EQ(got.size(), 2000u);
  }(b.reader));
  EXPECT_EQ(a.writer.send_calls(), 1u);
  a.writer.close();
  b.writer.close();
}

TEST_P(StreamTest, WritesFromACoroutineTurnLeaveInOneSend) {
  auto [a, b] = stream_pair(base(), GetParam());
  auto pipelined = [](Stream s) -> Task<void> {
    std::string line = co_await s.reader.readline();  // resumed from the loop
    for (int i = 0; i < 100; ++i) s.writer.write(line);
    co_await s.writer.drain();
  };
  b.writer.write("ping\n");
  run_all(base(), 5s, pipelined(a), [](StreamReader r) -> Task<void> {
    std::string got = co_await r.readexactly(500);
    EXPECT_EQ(got.size(), 500u);
  }(b.reader));
  EXPECT_EQ(a.writer.send_calls(), 1u);
  a.writer.close();
  b.writer.close();
}

TEST_P(StreamTest, ChunksOfOneTurnLeaveInOneGatherSend) {
  auto [a, b] = stream_pair(base(), GetParam());
  // Long enough to be adopted, not copied: three chunks, three views.
  for (char c : {'a', 'b', 'c'}) a.writer.write(std::string(4096, c));
  run(base(), [](StreamReader r) -> Task<void> {
    std::string got = co_await r.readexactly(3 * 4096);
    EXPECT_EQ(got, std::string(4096, 'a') + std::string(4096, 'b') + std::string(4096, 'c'));
  }(b.reader));
  EXPECT_EQ(a.writer.send_calls(), 1u);
  a.writer.close();
  b.writer.close();
}

// A coroutine's write is sent by the same turn's pump step, which needs no
// further turn: the loop is idle right after it (an empty extra turn would
// cost every ping-pong request a share of a poll).
TEST_P(StreamTest, AReplyIsSentInTheTurnThatWroteItAndNeedsNoOtherTurn) {
  auto [a, b] = stream_pair(base(), GetParam());
  auto loop = libevent_backend_internal::LoopContext::of(base());
  bool replied = false;
  Task<void> echo = [](Stream s, bool* replied) -> Task<void> {
    std::string line = co_await s.reader.readline();  // resumed from the loop
    s.writer.write(std::move(line));
    *replied = true;
  }(a, &replied);
  echo.start();
  b.writer.write("ping\n");
  ASSERT_TRUE(run_until(base(), [&] { return replied; }));
  EXPECT_EQ(a.writer.send_calls(), 1u);
  EXPECT_TRUE(loop->idle());
  run(base(), [](StreamReader r) -> Task<void> {
    EXPECT_EQ(co_await r.readline(), "ping\n");
  }(b.reader));
  EXPECT_TRUE(echo.done());
  a.writer.close();
  b.writer.close();
}

// ---- Extra info.
// ---------------------------------------------------------------------------------

TEST_P(StreamTest, GetExtraInfoGivesAddressesAndTheSocket) {
  auto [a, b] = stream_pair(base(), GetParam());
  const int fd = a.writer.native_handle();
  EXPECT_GE(fd, 0);
  EXPECT_EQ(a.writer.get_extra_info("socket"), std::to_string(fd));
  EXPECT_EQ(a.writer.get_extra_info("no such thing"), std::nullopt);
  ASSERT_TRUE(a.writer.peername().has_value());
  ASSERT_TRUE(b.writer.sockname().has_value());
  EXPECT_EQ(*a.writer.peername(), *b.writer.sockname());
  EXPECT_EQ(a.writer.get_extra_info("peername"), to_string(*b.writer.sockname()));
  EXPECT_EQ(a.writer.get_extra_info("sockname"), to_string(*a.writer.sockname()));
  switch (GetParam()) {
    case Transport::kTcp4:
      EXPECT_EQ(a.writer.peername()->address(), "127.0.0.1");
      EXPECT_EQ(to_string(*a.writer.peername()),
                "127.0.0.1:" + std::to_string(a.writer.peername()->port()));
      break;
    case Transport::kTcp6:
      EXPECT_EQ(to_string(*a.writer.peername()),
                "[::1]:" + std::to_string(a.writer.peername()->port()));
      break;
    case Transport::kUnix:
      EXPECT_EQ(a.writer.get_extra_info("peername"), "");  // an unnamed socket
      break;
  }
  a.writer.close();
  b.writer.close();
  EXPECT_TRUE(test_support::run_until_idle(base()));
  EXPECT_EQ(a.writer.get_extra_info("socket"), std::nullopt);  // closed
  EXPECT_TRUE(a.writer.peername().has_value());                // still known
}

TEST_F(LoopTest, TcpNodelayIsSetByDefaultAndCanBeTurnedOff) {
  auto [a, b] = stream_pair(base(), Transport::kTcp4, {}, StreamOptions{.tcp_nodelay = false});
  auto nodelay = [](int fd) {
    int on = 0;
    socklen_t len = sizeof(on);
    ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len);
    return on != 0;
  };
  EXPECT_TRUE(nodelay(a.writer.native_handle()));
  EXPECT_FALSE(nodelay(b.writer.native_handle()));
  a.writer.close();
  b.writer.close();
}

// ---- make_stream. ------------------------------------------------------------------------------

TEST_F(LoopTest, MakeStreamRejectsBadOptionsAndLeavesTheDescriptor) {
  auto [x, y] = test_support::connected_fds(Transport::kUnix);
  std::error_code ec;
  Stream s = make_stream(base(), x, StreamOptions{.limit = 0}, ec);
  EXPECT_EQ(ec, make_error_code(StreamErrc::kInvalidArgument));
  EXPECT_FALSE(s.reader);
  s = make_stream(base(), x, StreamOptions{.write_high_water = 10, .write_low_water = 20}, ec);
  EXPECT_EQ(ec, make_error_code(StreamErrc::kInvalidArgument));
  EXPECT_GE(::fcntl(x, F_GETFD), 0);  // still open: the caller's
  EXPECT_THROW((void)make_stream(base(), x, StreamOptions{.limit = 0}), std::system_error);
  ::close(x);
  ::close(y);
}

TEST_F(LoopTest, MakeStreamRejectsAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::error_code ec;
  Stream s = make_stream(base(), fds[0], {}, ec);
  EXPECT_EQ(ec, std::errc::not_a_socket);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(LoopTest, WaterMarksFromOptions) {
  auto [a, b] = stream_pair(base(), Transport::kUnix,
                            StreamOptions{.write_high_water = 1000, .write_low_water = 100});
  EXPECT_EQ(a.writer.get_write_buffer_limits(), (WriteBufferLimits{.low = 100, .high = 1000}));
  EXPECT_EQ(b.writer.get_write_buffer_limits(), WriteBufferLimits{});
  a.writer.close();
  b.writer.close();
}

// ---- The callback style.
// -------------------------------------------------------------------------

TEST_P(StreamTest, CallbackReadsAreNeverInvokedInsideTheCall) {
  auto [a, b] = stream_pair(base(), GetParam());
  a.writer.write("one\ntwo\n");
  std::vector<std::string> lines;
  // Outlives both callbacks (the second runs after the first has returned).
  bool inside = false;
  // The first read waits for data; the second one, issued from inside the
  // first callback, completes at once from the buffer - and still only runs
  // in a later turn.
  b.reader.readline([&, r = b.reader](ReadResult line) mutable {
    ASSERT_TRUE(line.ok());
    lines.push_back(*line);
    inside = true;
    r.readline([&](ReadResult next) {
      EXPECT_FALSE(inside);
      ASSERT_TRUE(next.ok());
      lines.push_back(*next);
    });
    inside = false;
  });
  EXPECT_TRUE(lines.empty());
  EXPECT_TRUE(run_until(base(), [&] { return lines.size() == 2; }));
  EXPECT_EQ(lines, (std::vector<std::string>{"one\n", "two\n"}));
  a.writer.close();
  b.writer.close();
}

TEST_P(StreamTest, CallbackStyleEchoWithoutCoroutines) {
  auto [a, b] = stream_pair(base(), GetParam());
  // b echoes lines until EOF, then closes; all with callbacks.
  struct Echo {
    Stream s;
    void next() {
      s.reader.readline([this](ReadResult line) {
        if (!line.ok() || line->empty()) {
          s.writer.close();
          return;
        }
        s.writer.write(*line);
        s.writer.drain([this](Status st) {
          if (st.ok()) next();
        });
      });
    }
  } echo{std::move(b)};
  echo.next();
  std::string received;
  std::optional<Status> closed;
  bool done = false;
  a.writer.write("alpha\nbeta\n");
  a.writer.write_eof();
  a.reader.read(-1, [&](ReadResult all) {
    ASSERT_TRUE(all.ok());
    received = *all;
    a.writer.close();
    a.writer.wait_closed([&](Status s) {
      closed = std::move(s);
      done = true;
    });
  });
  EXPECT_TRUE(run_until(base(), [&] { return done; }));
  EXPECT_EQ(received, "alpha\nbeta\n");
  ASSERT_TRUE(closed.has_value());
  EXPECT_TRUE(closed->ok());
  echo.s = Stream{};
}

TEST_P(StreamTest, CallbackReaduntilCopiesItsSeparators) {
  auto [a, b] = stream_pair(base(), GetParam());
  std::vector<std::string> got;
  {
    std::string sep = "--";
    std::vector<std::string_view> seps = {"\r\n", ";"};
    b.reader.readuntil(sep, [&](ReadResult r) { got.push_back(r.ok() ? *r : "error"); });
    sep = "xx";  // the read keeps its own copy
    // Issued while the first waits: fails with kConcurrentRead, in order.
    b.reader.readuntil(seps, [&](ReadResult r) {
      got.push_back(r.ok() ? *r : r.error().message());
    });
  }
  a.writer.write("ab--cd;");
  EXPECT_TRUE(run_until(base(), [&] { return got.size() == 2; }));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], "ab--");
  EXPECT_NE(got[0].find("already waiting"), std::string::npos) << got[0];
  b.reader.readuntil(std::vector<std::string_view>{"\r\n", ";"},
                     [&](ReadResult r) { got.push_back(r.ok() ? *r : "error"); });
  EXPECT_TRUE(run_until(base(), [&] { return got.size() == 3; }));
  EXPECT_EQ(got.back(), "cd;");
  a.writer.close();
  b.writer.close();
}

TEST_P(StreamTest, CallbackReadIsRefusedWhileAnotherReadWaits) {
  auto [a, b] = stream_pair(base(), GetParam());
  std::optional<ReadResult> first;
  std::optional<ReadResult> second;
  b.reader.readline([&](ReadResult r) { first = std::move(r); });
  b.reader.readexactly(3, [&](ReadResult r) { second = std::move(r); });
  EXPECT_TRUE(run_until(base(), [&] { return second.has_value(); }));
  ASSERT_FALSE(second->ok());
  EXPECT_EQ(second->error().code, StreamErrc::kConcurrentRead);
  EXPECT_FALSE(first.has_value());
  a.writer.write("line\n");
  EXPECT_TRUE(run_until(base(), [&] { return first.has_value(); }));
  EXPECT_EQ(**first, "line\n");
  a.writer.close();
  b.writer.close();
}

}  // namespace
}  // namespace sluice::libevent_backend
