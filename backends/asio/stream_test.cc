// Tests of StreamReader / StreamWriter over real sockets (loopback TCP and
// UNIX socketpairs): reads over real chunks, half-close, flow control both
// ways, resets, close/abort, cancellation, coalescing, extra info.

#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <system_error>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "backends/asio/streams.h"
#include "backends/asio/test_support.h"
#include "gtest/gtest.h"

namespace sluice::asio_backend {
namespace {

using namespace test_support;  // NOLINT
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

bool is_reset(std::error_code ec) {
  return ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

TEST(StreamTest, ReadlineReturnsLinesSentInSeparateChunks) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("hel");
    co_await sleep_for(5ms);
    a.writer.write("lo\nwor");
    co_await sleep_for(5ms);
    a.writer.write("ld\n");
    const std::string first = co_await b.reader.async_readline(use_awaitable);
    const std::string second = co_await b.reader.async_readline(use_awaitable);
    EXPECT_EQ(first, "hello\n");
    EXPECT_EQ(second, "world\n");
  }(a, b));
}

TEST(StreamTest, ReaduntilWithSeveralSeparatorsReturnsTheShortestChunk) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("key;");
    co_await sleep_for(5ms);
    a.writer.write("value\r");
    co_await sleep_for(5ms);
    a.writer.write("\nrest");
    // A braced list (outside co_await: GCC 12 rejects initializer lists in
    // coroutine co_await expressions), then a span of strings.
    std::string first = "not called";
    b.reader.async_readuntil({"\r\n", ";"},
                             [&](std::error_code, std::string s) { first = std::move(s); });
    co_await sleep_for(20ms);
    const std::vector<std::string> separators = {"\r\n", ";"};
    const std::string second =
        co_await b.reader.async_readuntil(std::span<const std::string>(separators), use_awaitable);
    EXPECT_EQ(first, "key;");
    EXPECT_EQ(second, "value\r\n");
  }(a, b));
}

TEST(StreamTest, ReadexactlyAtEofFailsWithIncompleteReadAndDeliversThePartialBytes) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("ab");
    co_await sleep_for(5ms);
    a.writer.write("c");
    a.writer.close();
    auto [ec, partial] = co_await b.reader.async_readexactly(10, as_tuple_awaitable);
    EXPECT_EQ(ec, StreamErrc::kIncompleteRead);
    EXPECT_EQ(partial, "abc");
    if (b.reader.last_error()) {
      EXPECT_EQ(b.reader.last_error()->code, StreamErrc::kIncompleteRead);
      EXPECT_EQ(b.reader.last_error()->expected, 10u);
      EXPECT_EQ(b.reader.last_error()->partial, "abc");
    } else {
      ADD_FAILURE() << "no last_error()";
    }
    EXPECT_TRUE(b.reader.at_eof());
  }(a, b));
}

TEST(StreamTest, ReaduntilPastTheLimitFailsWithLimitOverrunAndKeepsTheBytes) {
  asio::io_context io;
  StreamOptions small;
  small.limit = 8;
  auto [a, b] = tcp_pair(io, {}, small);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("0123456789ABCDEFGHIJ");
    auto [ec, data] = co_await b.reader.async_readuntil("\n", as_tuple_awaitable);
    EXPECT_EQ(ec, StreamErrc::kLimitOverrun);
    EXPECT_EQ(data, "");
    if (b.reader.last_error()) {
      EXPECT_EQ(b.reader.last_error()->code, StreamErrc::kLimitOverrun);
      EXPECT_GT(b.reader.last_error()->consumed, 0u);
    } else {
      ADD_FAILURE() << "no last_error()";
    }
    // readuntil's overrun leaves the buffer untouched: nothing is lost.
    const std::string all = co_await b.reader.async_readexactly(20, use_awaitable);
    EXPECT_EQ(all, "0123456789ABCDEFGHIJ");
  }(a, b));
}

TEST(StreamTest, ReadOfMinusOneCollectsEverythingUntilEof) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      a.writer.write(std::string(100000, static_cast<char>('a' + i)));
      co_await sleep_for(2ms);
    }
    a.writer.close();
    const std::string all = co_await b.reader.async_read(-1, use_awaitable);
    EXPECT_EQ(all.size(), 300000u);
    EXPECT_EQ(all.substr(0, 100000), std::string(100000, 'a'));
    EXPECT_EQ(all.substr(200000), std::string(100000, 'c'));
    EXPECT_TRUE(b.reader.at_eof());
  }(a, b));
}

TEST(StreamTest, ASecondReadWhileOneWaitsFailsWithConcurrentRead) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    bool first_done = false;
    std::string first;
    b.reader.async_readline([&](std::error_code, std::string s) {
      first_done = true;
      first = std::move(s);
    });
    auto [ec, data] = co_await b.reader.async_readline(as_tuple_awaitable);
    EXPECT_EQ(ec, StreamErrc::kConcurrentRead);
    a.writer.write("line\n");
    for (int i = 0; i < 500 && !first_done; ++i) co_await sleep_for(1ms);
    EXPECT_EQ(first, "line\n");  // the first read was not disturbed
  }(a, b));
}

TEST(StreamTest, WritelinesSendsEveryPieceInOrder) {
  asio::io_context io;
  auto [a, b] = unix_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    const std::vector<std::string_view> pieces = {"GET / HTTP/1.0\r\n", "Host: x\r\n", "\r\n"};
    a.writer.writelines(pieces);
    const std::string head = co_await b.reader.async_readuntil("\r\n\r\n", use_awaitable);
    EXPECT_EQ(head, "GET / HTTP/1.0\r\nHost: x\r\n\r\n");
  }(a, b));
}

TEST(StreamTest, WriteEofHalfClosesAndThePeerStillAnswers) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    EXPECT_TRUE(a.writer.can_write_eof());
    a.writer.write("request");
    a.writer.write_eof();
    const std::string request = co_await b.reader.async_read(-1, use_awaitable);
    EXPECT_EQ(request, "request");
    EXPECT_TRUE(b.reader.at_eof());
    EXPECT_FALSE(b.writer.is_closing());  // the peer's EOF does not close
    b.writer.write("answer");
    b.writer.close();
    const std::string answer = co_await a.reader.async_read(-1, use_awaitable);
    EXPECT_EQ(answer, "answer");
    a.writer.close();
    co_await a.writer.async_wait_closed(use_awaitable);
    co_await b.writer.async_wait_closed(use_awaitable);
  }(a, b));
}

TEST(StreamTest, PeerWriteEofIsSeenWhileThisSideKeepsWritingOverUnixSockets) {
  asio::io_context io;
  auto [a, b] = unix_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    b.writer.write_eof();  // b will not write any more
    const std::string eof = co_await a.reader.async_read(100, use_awaitable);
    EXPECT_EQ(eof, "");
    EXPECT_TRUE(a.reader.at_eof());
    for (int i = 0; i < 3; ++i) {
      a.writer.write("line " + std::to_string(i) + "\n");
      co_await a.writer.async_drain(use_awaitable);
      const std::string line = co_await b.reader.async_readline(use_awaitable);
      EXPECT_EQ(line, "line " + std::to_string(i) + "\n");
    }
    a.writer.close();
    b.writer.close();
    co_await b.writer.async_wait_closed(use_awaitable);
  }(a, b));
}

TEST(StreamTest, SlowConsumerStopsReadingAndBlocksTheSenderUntilItReadsAgain) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  constexpr std::size_t kChunk = 64 * 1024;
  constexpr std::size_t kChunks = 1024;  // 64 MiB
  const std::size_t bound = 2 * b.reader.limit() + asio_backend_internal::kReceiveChunk;
  std::size_t chunks_sent = 0;
  StreamHash sent_hash;
  bool sender_done = false;
  // Named: the coroutine's captures must outlive it.
  auto sender = [&](Stream& a) -> asio::awaitable<void> {
    for (std::size_t i = 0; i < kChunks; ++i) {
      std::string chunk = pattern_chunk(i, kChunk);
      sent_hash.update(chunk);
      a.writer.write(std::move(chunk));
      co_await a.writer.async_drain(use_awaitable);
      ++chunks_sent;
    }
    a.writer.close();
    co_await a.writer.async_wait_closed(use_awaitable);
  };
  asio::co_spawn(io, sender(a), [&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    sender_done = true;
  });
  run(
      io,
      [&](Stream& b) -> asio::awaitable<void> {
        // Not reading: wait until the sender stops making progress (its
        // drain blocks) for 150 ms.
        std::size_t blocked_at = chunks_sent;
        for (int still = 0, i = 0; still < 3 && i < 200; ++i) {
          co_await sleep_for(50ms);
          still = chunks_sent == blocked_at ? still + 1 : 0;
          blocked_at = chunks_sent;
          EXPECT_LE(b.reader.buffered_size(), bound);
        }
        EXPECT_LT(blocked_at, kChunks);  // blocked, far from done
        EXPECT_LE(b.reader.buffered_size(), bound);
        StreamHash received_hash;
        std::size_t received = 0;
        std::size_t max_buffered = 0;
        for (;;) {
          const std::string data = co_await b.reader.async_read(kChunk, use_awaitable);
          if (data.empty()) break;
          received += data.size();
          received_hash.update(data);
          max_buffered = std::max(max_buffered, b.reader.buffered_size());
        }
        EXPECT_EQ(received, kChunk * kChunks);
        EXPECT_EQ(received_hash.value(), sent_hash.value());
        EXPECT_LE(max_buffered, bound);
      }(b),
      20s);
  EXPECT_TRUE(run_until(io, [&] { return sender_done; }));
}

TEST(StreamTest, ReadsFromTheSocketBeforeAnyReadIsAsked) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  a.writer.write("abc");
  a.writer.write_eof();
  // No read on b: like asyncio's transports, it reads from the start.
  EXPECT_TRUE(run_until(io, [&] { return b.reader.eof_received(); }));
  EXPECT_EQ(b.reader.buffered_size(), 3u);
  EXPECT_EQ(b.reader.bytes_received(), 3u);
  EXPECT_FALSE(b.reader.at_eof());
}

TEST(StreamTest, ReadingPausesAboveTwiceTheLimitAndAReadResumesIt) {
  asio::io_context io;
  StreamOptions options;
  options.limit = 4;
  auto [a, b] = tcp_pair(io, {}, options);
  a.writer.write("0123456789");
  EXPECT_TRUE(run_until(io, [&] { return b.reader.reading_paused(); }));
  EXPECT_EQ(b.reader.bytes_received(), 10u);
  std::string got;
  b.reader.async_read(100, [&](std::error_code, std::string data) { got = std::move(data); });
  EXPECT_TRUE(run_until(io, [&] { return !got.empty(); }));
  EXPECT_EQ(got, "0123456789");
  EXPECT_FALSE(b.reader.reading_paused());
}

TEST(StreamTest, DrainBlocksAboveTheHighWaterMarkUntilThePeerReads) {
  asio::io_context io;
  auto [a, b] = unix_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    constexpr std::size_t kSize = 8 * 1024 * 1024;
    a.writer.write(std::string(kSize, 'x'));
    bool drained = false;
    std::error_code drain_ec;
    a.writer.async_drain([&](std::error_code ec) {
      drained = true;
      drain_ec = ec;
    });
    co_await sleep_for(100ms);
    EXPECT_FALSE(drained);
    EXPECT_GT(a.writer.get_write_buffer_size(), a.writer.get_write_buffer_limits().high);
    const std::string all = co_await b.reader.async_readexactly(kSize, use_awaitable);
    EXPECT_EQ(all.size(), kSize);
    for (int i = 0; i < 100 && !drained; ++i) co_await sleep_for(1ms);
    EXPECT_TRUE(drained);
    EXPECT_FALSE(drain_ec);
    EXPECT_EQ(a.writer.get_write_buffer_size(), 0u);
  }(a, b));
}

TEST(StreamTest, PeerResetFailsThePendingReadAndLaterDrainsAndWaitClosed) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    bool read_done = false;
    std::error_code read_ec;
    b.reader.async_readline([&](std::error_code ec, std::string) {
      read_done = true;
      read_ec = ec;
    });
    co_await sleep_for(10ms);
    a.writer.abort();
    for (int i = 0; i < 500 && !read_done; ++i) co_await sleep_for(1ms);
    EXPECT_TRUE(read_done);
    EXPECT_TRUE(is_reset(read_ec)) << read_ec.message();
    EXPECT_TRUE(b.reader.exception().has_value());
    auto [drain_ec] = co_await b.writer.async_drain(as_tuple_awaitable);
    EXPECT_TRUE(is_reset(drain_ec)) << drain_ec.message();
    auto [closed_ec] = co_await b.writer.async_wait_closed(as_tuple_awaitable);
    EXPECT_TRUE(is_reset(closed_ec)) << closed_ec.message();
    // Sticky: a later read fails the same way.
    auto [again_ec, again] = co_await b.reader.async_read(10, as_tuple_awaitable);
    EXPECT_TRUE(is_reset(again_ec)) << again_ec.message();
  }(a, b));
}

TEST(StreamTest, PeerResetFailsAPendingDrain) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write(std::string(32 * 1024 * 1024, 'x'));
    bool drained = false;
    std::error_code drain_ec;
    a.writer.async_drain([&](std::error_code ec) {
      drained = true;
      drain_ec = ec;
    });
    co_await sleep_for(50ms);
    EXPECT_FALSE(drained);
    b.writer.abort();  // b has unread bytes: RST
    for (int i = 0; i < 1000 && !drained; ++i) co_await sleep_for(1ms);
    EXPECT_TRUE(drained);
    EXPECT_TRUE(is_reset(drain_ec)) << drain_ec.message();
    auto [read_ec, data] = co_await a.reader.async_read(10, as_tuple_awaitable);
    EXPECT_TRUE(is_reset(read_ec)) << read_ec.message();
  }(a, b));
}

TEST(StreamTest, CloseAndWaitClosedReleaseTheDescriptors) {
  const int before = fd_count();
  {
    asio::io_context io;
    auto [a, b] = tcp_pair(io);
    run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
      a.writer.write("bye\n");
      a.writer.close();
      EXPECT_TRUE(a.writer.is_closing());
      const std::string line = co_await b.reader.async_readline(use_awaitable);
      EXPECT_EQ(line, "bye\n");
      b.writer.close();
      co_await a.writer.async_wait_closed(use_awaitable);
      co_await b.writer.async_wait_closed(use_awaitable);
      EXPECT_EQ(a.writer.native_handle(), -1);
      EXPECT_EQ(b.writer.native_handle(), -1);
    }(a, b));
  }
  EXPECT_EQ(fd_count(), before);
}

TEST(StreamTest, AbortDropsQueuedBytesAndReleasesTheDescriptorAtOnce) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  a.writer.write(std::string(1024 * 1024, 'x'));
  a.writer.abort();
  EXPECT_TRUE(a.writer.is_closing());
  EXPECT_EQ(a.writer.get_write_buffer_size(), 0u);
  EXPECT_EQ(a.writer.native_handle(), -1);
  run(io, [](Stream& a) -> asio::awaitable<void> {
    auto [ec] = co_await a.writer.async_wait_closed(as_tuple_awaitable);
    EXPECT_FALSE(ec) << ec.message();  // aborted as asked: a clean loss
  }(a));
}

TEST(StreamTest, DrainAfterCloseFailsWithConnectionLost) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a) -> asio::awaitable<void> {
    a.writer.close();
    auto [ec] = co_await a.writer.async_drain(as_tuple_awaitable);
    EXPECT_EQ(ec, asio::error::connection_reset);  // "Connection lost"
  }(a));
}

TEST(StreamTest, WriteAfterWriteEofFails) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  a.writer.write_eof();
  std::error_code ec;
  a.writer.write("late", ec);
  EXPECT_EQ(ec, StreamErrc::kWriteAfterEof);
  EXPECT_THROW(a.writer.write("late"), std::system_error);
}

TEST(StreamTest, InvalidWaterMarksAreRejected) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  std::error_code ec;
  a.writer.set_write_buffer_limits(10, 20, ec);
  EXPECT_EQ(ec, StreamErrc::kInvalidArgument);
  a.writer.set_write_buffer_limits(1000);
  EXPECT_EQ(a.writer.get_write_buffer_limits().high, 1000u);
  EXPECT_EQ(a.writer.get_write_buffer_limits().low, 250u);
}

TEST(StreamTest, DroppingBothHandlesClosesTheConnectionGracefully) {
  asio::io_context io;
  auto pair = tcp_pair(io);
  Stream b = std::move(pair.second);
  {
    Stream a = std::move(pair.first);
    a.writer.write("queued");  // not flushed yet: still sent, then FIN
  }
  run(io, [](Stream& b) -> asio::awaitable<void> {
    auto [ec, data] = co_await b.reader.async_read(-1, as_tuple_awaitable);
    EXPECT_FALSE(ec) << ec.message();  // EOF, not a reset
    EXPECT_EQ(data, "queued");
  }(b));
}

TEST(StreamTest, ClosingWhileAReadIsPendingCompletesTheRead) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  bool done = false;
  std::error_code read_ec;
  std::string line = "not called";
  a.reader.async_readline([&](std::error_code ec, std::string s) {
    done = true;
    read_ec = ec;
    line = std::move(s);
  });
  a.writer.close();
  EXPECT_TRUE(run_until(io, [&] { return done; }));
  EXPECT_FALSE(read_ec);
  EXPECT_EQ(line, "");  // the close feeds EOF: readline returns ""
}

TEST(StreamTest, CancellingAPendingReadLosesNoBytes) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    asio::cancellation_signal signal;
    bool done = false;
    std::error_code read_ec;
    std::string got = "not called";
    b.reader.async_readexactly(
        10, asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, std::string s) {
          done = true;
          read_ec = ec;
          got = std::move(s);
        }));
    a.writer.write("01234");
    for (int i = 0; i < 1000 && b.reader.buffered_size() < 5; ++i) co_await sleep_for(1ms);
    EXPECT_FALSE(done);
    EXPECT_EQ(b.reader.buffered_size(), 5u);
    signal.emit(asio::cancellation_type::terminal);
    EXPECT_FALSE(done);  // never inline
    for (int i = 0; i < 100 && !done; ++i) co_await sleep_for(1ms);
    EXPECT_TRUE(done);
    EXPECT_EQ(read_ec, asio::error::operation_aborted);
    EXPECT_EQ(got, "");
    a.writer.write("56789");
    const std::string all = co_await b.reader.async_readexactly(10, use_awaitable);
    EXPECT_EQ(all, "0123456789");
  }(a, b));
}

TEST(StreamTest, AThousandWritesInOneTurnLeaveInOneSend) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    const std::uint64_t before = a.writer.send_calls();
    for (int i = 0; i < 1000; ++i) a.writer.write("0123456789");
    EXPECT_EQ(a.writer.send_calls(), before);  // nothing is sent inline
    const std::string all = co_await b.reader.async_readexactly(10000, use_awaitable);
    EXPECT_EQ(all.size(), 10000u);
    EXPECT_EQ(a.writer.send_calls() - before, 1u);
  }(a, b));
}

// A pipelined echo handler (write + drain + readline per line, the next line
// served from the buffer) flushes when it can go no further in the turn, not
// once per line: 1000 echoed lines leave in a handful of sends.
TEST(StreamTest, PipelinedEchoOfAThousandLinesLeavesInAFewSends) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    std::string request;
    for (int i = 0; i < 1000; ++i) request += "line " + std::to_string(i) + "\n";
    a.writer.write(request);
    // Wait until the whole chunk is buffered on b, so every readline but the
    // first is served from the buffer.
    std::string first = co_await b.reader.async_readline(use_awaitable);
    for (int i = 0; i < 1000 && b.reader.buffered_size() + first.size() < request.size(); ++i) {
      co_await sleep_for(1ms);
    }
    const std::uint64_t before = b.writer.send_calls();
    std::string line = std::move(first);
    for (int i = 0; i < 1000; ++i) {
      if (i > 0) line = co_await b.reader.async_readline(use_awaitable);
      b.writer.write(line);
      co_await b.writer.async_drain(use_awaitable);
    }
    const std::string echoed = co_await a.reader.async_readexactly(
        static_cast<std::int64_t>(request.size()), use_awaitable);
    EXPECT_EQ(echoed, request);
    EXPECT_LE(b.writer.send_calls() - before, 5u);
  }(a, b));
}

// The bytes arrive while a read waits: the readiness callback that reads
// them runs the read's handler itself (as the reactor runs an Asio read's
// handler), not a posted function one turn later; a reply the handler
// writes leaves when it returns, still in that one callback.
TEST(StreamTest, AReadCompletedByArrivingBytesRunsAndIsAnsweredInOneHandler) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  std::string line;
  b.reader.async_readline([&](std::error_code ec, std::string l) {
    EXPECT_FALSE(ec);
    line = std::move(l);
    b.writer.write("pong\n");
  });
  io.poll();  // b now waits for bytes
  ASSERT_TRUE(line.empty());
  const std::uint64_t sends = b.writer.send_calls();
  // Sent around a's StreamState, so that the only ready handler is b's wait.
  ASSERT_EQ(::send(a.writer.native_handle(), "ping\n", 5, 0), 5);
  EXPECT_EQ(io.run_one(), 1u);
  EXPECT_EQ(line, "ping\n");
  EXPECT_EQ(b.writer.send_calls() - sends, 1u);
  run(io, [](Stream& a, Stream&) -> asio::awaitable<void> {
    EXPECT_EQ(co_await a.reader.async_readline(use_awaitable), "pong\n");
  }(a, b));
}

// The other rule stays: a read that completes at once (the line is already
// buffered) never runs inside the call that starts it.
TEST(StreamTest, AReadServedFromTheBufferIsNeverInvokedInsideTheCall) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("one\ntwo\n");
    EXPECT_EQ(co_await b.reader.async_readline(use_awaitable), "one\n");
  }(a, b));
  bool done = false;
  b.reader.async_readline([&](std::error_code, std::string l) {
    EXPECT_EQ(l, "two\n");
    done = true;
  });
  EXPECT_FALSE(done);
  io.poll();
  EXPECT_TRUE(done);
}

TEST(StreamTest, AnIdleConnectionHoldsNoReceiveBuffer) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("hello\n");
    const std::string line = co_await b.reader.async_readline(use_awaitable);
    EXPECT_EQ(line, "hello\n");
    EXPECT_EQ(b.reader.buffer_capacity(), 0u);
    // Also while a read waits on an idle connection.
    bool done = false;
    b.reader.async_readline([&](std::error_code, std::string) { done = true; });
    co_await sleep_for(10ms);
    EXPECT_FALSE(done);
    EXPECT_EQ(b.reader.buffer_capacity(), 0u);
    a.writer.close();
    for (int i = 0; i < 100 && !done; ++i) co_await sleep_for(1ms);
    EXPECT_TRUE(done);
  }(a, b));
}

TEST(StreamTest, ExtraInfoGivesPeerAndSocketNamesAndTheDescriptor) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  ASSERT_TRUE(a.writer.peername().has_value());
  ASSERT_TRUE(b.writer.sockname().has_value());
  EXPECT_EQ(*a.writer.peername(), *b.writer.sockname());
  EXPECT_EQ(*a.writer.sockname(), *b.writer.peername());
  const Endpoint peer = *a.writer.peername();
  const auto* tcp = std::get_if<asio::ip::tcp::endpoint>(&peer);
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(a.writer.get_extra_info("peername"), "127.0.0.1:" + std::to_string(tcp->port()));
  EXPECT_EQ(a.writer.get_extra_info("socket"), std::to_string(a.writer.native_handle()));
  EXPECT_EQ(a.writer.get_extra_info("no such thing"), std::nullopt);
  a.writer.abort();
  EXPECT_TRUE(a.writer.peername().has_value());  // still known after the close
  EXPECT_EQ(a.writer.get_extra_info("socket"), std::nullopt);
}

TEST(StreamTest, WrapsAConnectedSocketpair) {
  asio::io_context io;
  auto [a, b] = unix_pair(io);
  ASSERT_TRUE(a.writer.peername().has_value());
  EXPECT_TRUE(std::holds_alternative<asio::local::stream_protocol::endpoint>(*a.writer.peername()));
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("ping\n");
    const std::string ping = co_await b.reader.async_readline(use_awaitable);
    EXPECT_EQ(ping, "ping\n");
    b.writer.write("pong\n");
    const std::string pong = co_await a.reader.async_readline(use_awaitable);
    EXPECT_EQ(pong, "pong\n");
  }(a, b));
}

TEST(StreamTest, MakeStreamRejectsAClosedSocketAndBadOptions) {
  asio::io_context io;
  std::error_code ec;
  Stream s = make_stream(asio::ip::tcp::socket(io), {}, ec);
  EXPECT_EQ(ec, asio::error::bad_descriptor);
  EXPECT_FALSE(s.reader);
  asio::local::stream_protocol::socket x(io), y(io);
  asio::local::connect_pair(x, y);
  StreamOptions bad;
  bad.limit = 0;
  EXPECT_THROW((void)make_stream(std::move(x), bad), std::system_error);
}

}  // namespace
}  // namespace sluice::asio_backend

namespace sluice::asio_backend {
namespace {

using namespace test_support;  // NOLINT

// A one-thread io_context (asio::io_context io(1)) gets a block pool: a
// ping-pong's reader and writer blocks come back to it and are reused, so a
// hundred exchanges allocate a handful of blocks, not two hundred.
TEST(StreamPoolTest, OneThreadContextReusesPooledBlocksAcrossRequests) {
  asio::io_context io(1);
  auto [a, b] = tcp_pair(io);
  std::shared_ptr<BufferPool> pool =
      asio_backend_internal::ContextRegistry::of(io.get_executor()).pool(io.get_executor());
  ASSERT_NE(pool, nullptr);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    for (int i = 0; i < 100; ++i) {
      a.writer.write("ping " + std::to_string(i) + "\n");
      std::string line = co_await b.reader.async_readline(asio::use_awaitable);
      b.writer.write(std::move(line));
      const std::string echo = co_await a.reader.async_readline(asio::use_awaitable);
      EXPECT_EQ(echo, "ping " + std::to_string(i) + "\n");
    }
  }(a, b));
  EXPECT_GE(pool->reuses(), 100u);
  EXPECT_LE(pool->allocations(), 8u);
}

TEST(StreamPoolTest, AContextThatMayRunOnSeveralThreadsHasNoPool) {
  asio::io_context io;
  EXPECT_EQ(asio_backend_internal::ContextRegistry::of(io.get_executor()).pool(io.get_executor()),
            nullptr);
}

}  // namespace
}  // namespace sluice::asio_backend
