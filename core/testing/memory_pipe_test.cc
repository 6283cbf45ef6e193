// The connection seam, proven by driving two Connections over MemoryPipe
// with plain (non-coroutine) user code. core/coro/pipe_coro_test.cc runs the
// same scenarios as coroutines.

#include "core/testing/memory_pipe.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace sluice::testing {
namespace {

const std::error_code kReset = std::make_error_code(std::errc::connection_reset);
constexpr int kClient = MemoryPipe::kA;
constexpr int kServer = MemoryPipe::kB;

// A read issued on `side`: its result now, or after pumping the pipe until it
// completes. Fails the test (and returns an error) if the pipe goes quiet
// first: that would be a hang on a real loop.
ReadResult Await(MemoryPipe& pipe, int side, ReadPoll poll) {
  if (poll) return std::move(*poll);
  do {
    if (std::optional<ReadResult> r = pipe.log(side).take_read()) return std::move(*r);
  } while (pipe.pump());
  ADD_FAILURE() << "read never completed";
  return StreamError::invalid_argument("hung");
}

Status AwaitStatus(MemoryPipe& pipe, int side, StatusPoll poll, bool drain) {
  if (poll) return std::move(*poll);
  do {
    CompletionLog& log = pipe.log(side);
    if (std::optional<Status> s = drain ? log.take_drain() : log.take_closed())
      return std::move(*s);
  } while (pipe.pump());
  ADD_FAILURE() << (drain ? "drain" : "wait_closed") << " never completed";
  return StreamError::invalid_argument("hung");
}

Status AwaitDrain(MemoryPipe& pipe, int side, StatusPoll poll) {
  return AwaitStatus(pipe, side, std::move(poll), true);
}
Status AwaitClosed(MemoryPipe& pipe, int side, StatusPoll poll) {
  return AwaitStatus(pipe, side, std::move(poll), false);
}

// The byte at offset i of the big transfer.
char PatternAt(std::uint64_t i) { return static_cast<char>((i * 131 + (i >> 13)) & 0xff); }

std::string PatternChunk(std::uint64_t offset, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = PatternAt(offset + i);
  return s;
}

bool MatchesPattern(std::uint64_t offset, const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != PatternAt(offset + i)) return false;
  }
  return true;
}

TEST(MemoryPipeTest, EchoExchange) {
  Connection client, server;
  MemoryPipe pipe(client, server);

  ASSERT_TRUE(client.writer().write("hello\n").ok());
  ASSERT_TRUE(client.writer().write("world\n").ok());
  for (const char* expected : {"hello\n", "world\n"}) {
    ReadResult line = Await(pipe, kServer, server.reader().readline());
    ASSERT_TRUE(line.ok());
    EXPECT_EQ(*line, expected);
    ASSERT_TRUE(server.writer().write(std::move(*line)).ok());
    ASSERT_EQ(AwaitDrain(pipe, kServer, server.writer().drain()), Status(Ok{}));
  }
  EXPECT_EQ(*Await(pipe, kClient, client.reader().readexactly(12)), "hello\nworld\n");

  client.writer().close();
  EXPECT_EQ(AwaitClosed(pipe, kClient, client.writer().wait_closed()), Status(Ok{}));
  // The server sees EOF, then closes too.
  EXPECT_EQ(*Await(pipe, kServer, server.reader().read()), "");
  server.writer().close();
  EXPECT_EQ(AwaitClosed(pipe, kServer, server.writer().wait_closed()), Status(Ok{}));
  EXPECT_TRUE(client.is_lost());
  EXPECT_TRUE(server.is_lost());
}

// The echo exchange under many socket shapes: tiny pipes, one-byte
// receives, one view per send.
TEST(MemoryPipeTest, EchoSurvivesEveryChunking) {
  const MemoryPipeOptions shapes[] = {
      {.capacity = 1, .max_read = 1, .max_views = 1},
      {.capacity = 3, .max_read = 2, .max_views = 1},
      {.capacity = 7, .max_read = 7, .max_views = 2},
      {.capacity = 64, .max_read = 5, .max_views = 16},
      {.capacity = 64 * 1024, .max_read = 3, .max_views = 16},
      {.capacity = 64 * 1024, .max_read = 64 * 1024, .max_views = 1},
  };
  for (const MemoryPipeOptions& shape : shapes) {
    SCOPED_TRACE(::testing::Message() << "capacity=" << shape.capacity << " max_read="
                                      << shape.max_read << " max_views=" << shape.max_views);
    Connection client, server;
    MemoryPipe pipe(client, server, shape);
    std::string sent;
    for (int i = 0; i < 50; ++i) {
      std::string line =
          "line " + std::to_string(i) + (i % 7 == 0 ? std::string(3000, '.') : "") + "\n";
      sent += line;
      ASSERT_TRUE(client.writer().write(std::move(line)).ok());
    }
    ASSERT_TRUE(client.writer().write_eof().ok());
    std::string echoed;
    for (;;) {
      ReadResult line = Await(pipe, kServer, server.reader().readline());
      ASSERT_TRUE(line.ok());
      if (line->empty()) break;
      ASSERT_TRUE(server.writer().write(*line).ok());
    }
    server.writer().close();
    ReadResult all = Await(pipe, kClient, client.reader().read());
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, sent);
    EXPECT_TRUE(server.is_lost());
  }
}

TEST(MemoryPipeTest, HalfCloseThePeerReadsToEofAndStillAnswers) {
  Connection client, server;
  MemoryPipe pipe(client, server);

  ASSERT_TRUE(client.writer().write("request body").ok());
  ASSERT_TRUE(client.writer().write_eof().ok());
  pipe.run();
  EXPECT_EQ(client.writer().state(), WriterState::kEofSent);

  EXPECT_EQ(*Await(pipe, kServer, server.reader().read()), "request body");
  EXPECT_TRUE(server.reader().at_eof());
  ASSERT_TRUE(server.writer().write("response").ok());
  server.writer().close();

  EXPECT_EQ(*Await(pipe, kClient, client.reader().read()), "response");
  EXPECT_TRUE(client.reader().at_eof());
  EXPECT_EQ(client.writer().write("late").error().code, StreamErrc::kWriteAfterEof);
  EXPECT_EQ(AwaitClosed(pipe, kServer, server.writer().wait_closed()), Status(Ok{}));
  client.writer().close();
  EXPECT_EQ(AwaitClosed(pipe, kClient, client.writer().wait_closed()), Status(Ok{}));
}

// 64 MiB from client to server. The client writes 48 KiB chunks while drain()
// lets it; the server reads 16 KiB per round while the pipe delivers up to
// 64 KiB, so the reader pauses, the pipe fills, sends stop and the writer
// crosses its high water mark. Memory stays bounded on both sides and every
// byte arrives in order.
TEST(MemoryPipeTest, SixtyFourMiBWithBackpressureOnBothSides) {
  constexpr std::uint64_t kTotal = 64ull << 20;
  constexpr std::size_t kChunk = 48 * 1024;
  constexpr std::size_t kReadSize = 16 * 1024;
  Connection client, server;
  MemoryPipeOptions options;
  MemoryPipe pipe(client, server, options);

  std::uint64_t written = 0, received = 0;
  bool drain_pending = false, read_pending = false, eof_written = false;
  int drain_waits = 0, reader_pauses = 0;
  std::size_t max_writer_buffer = 0, max_reader_buffer = 0;

  auto on_read = [&](ReadResult r) {
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(MatchesPattern(received, *r)) << "at offset " << received;
    received += r->size();
  };

  while (received < kTotal) {
    while (!drain_pending && written < kTotal) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, kTotal - written));
      ASSERT_TRUE(client.writer().write(PatternChunk(written, n)).ok());
      written += n;
      max_writer_buffer = std::max(max_writer_buffer, client.writer().get_write_buffer_size());
      StatusPoll d = client.writer().drain();
      if (!d) {
        drain_pending = true;
        ++drain_waits;
      } else {
        ASSERT_TRUE(d->ok());
      }
    }
    if (written == kTotal && !eof_written) {
      ASSERT_TRUE(client.writer().write_eof().ok());
      eof_written = true;
    }
    if (!read_pending) {
      ReadPoll r = server.reader().read(kReadSize);
      if (r) {
        on_read(std::move(*r));
      } else {
        read_pending = true;
      }
    }
    const bool progress = pipe.pump();
    if (server.reader().reading_paused()) ++reader_pauses;
    max_reader_buffer = std::max(max_reader_buffer, server.reader().buffered_size());
    if (std::optional<Status> d = pipe.log(kClient).take_drain()) {
      ASSERT_TRUE(d->ok());
      drain_pending = false;
    }
    if (std::optional<ReadResult> r = pipe.log(kServer).take_read()) {
      on_read(std::move(*r));
      read_pending = false;
    }
    ASSERT_TRUE(progress || !read_pending || !drain_pending) << "stalled at " << received;
    if (HasFatalFailure()) return;
  }

  EXPECT_EQ(received, kTotal);
  EXPECT_EQ(*Await(pipe, kServer, server.reader().read(kReadSize)), "");  // EOF
  // Backpressure really happened on both sides ...
  EXPECT_GT(drain_waits, 0);
  EXPECT_GT(reader_pauses, 0);
  // ... and bounded memory: reader <= 2*limit + one receive, writer <= high
  // water + one write, pipe <= its capacity.
  EXPECT_LE(max_reader_buffer, 2 * kDefaultLimit + options.max_read);
  EXPECT_LE(max_writer_buffer, kDefaultHighWater + kChunk);
  EXPECT_LE(pipe.max_in_flight(), options.capacity);
  // Gather sends: many 48 KiB writes, far fewer sends than 16 KiB pieces.
  EXPECT_LT(pipe.sends(kClient), kTotal / kReadSize);

  client.writer().close();
  server.writer().close();
  EXPECT_EQ(AwaitClosed(pipe, kClient, client.writer().wait_closed()), Status(Ok{}));
  EXPECT_EQ(AwaitClosed(pipe, kServer, server.writer().wait_closed()), Status(Ok{}));
}

TEST(MemoryPipeTest, ResetInTheMiddleFailsBothSidesAndNothingHangs) {
  Connection client, server;
  MemoryPipe pipe(client, server);

  // Mid-transfer: the client waits for 4 MiB of which the server sent 1 MiB,
  // and the client's 1 MiB upload is stuck behind a server that does not read.
  ASSERT_TRUE(server.writer().write(std::string(1 << 20, 's')).ok());
  ASSERT_EQ(client.reader().readexactly(4 << 20), std::nullopt);
  ASSERT_TRUE(client.writer().write(std::string(1 << 20, 'c')).ok());
  ASSERT_EQ(client.writer().drain(), std::nullopt);
  ASSERT_EQ(client.writer().wait_closed(), std::nullopt);
  ASSERT_EQ(server.writer().wait_closed(), std::nullopt);
  pipe.run();
  ASSERT_TRUE(pipe.log(kClient).reads.empty());
  ASSERT_TRUE(pipe.log(kClient).drains.empty());
  ASSERT_TRUE(server.reader().reading_paused());

  pipe.reset();

  const StreamError reset = StreamError::connection(kReset);
  EXPECT_EQ(Await(pipe, kClient, std::nullopt).error(), reset);
  EXPECT_EQ(pipe.log(kClient).take_drain(), Status(reset));
  EXPECT_EQ(pipe.log(kClient).take_closed(), Status(reset));
  EXPECT_EQ(pipe.log(kServer).take_closed(), Status(reset));
  // Later calls fail at once (buffered bytes included), writes are dropped,
  // and the pipe is quiet.
  EXPECT_EQ(server.reader().read(1)->error(), reset);
  EXPECT_EQ(server.writer().drain(), StatusPoll(reset));
  EXPECT_EQ(client.reader().readline()->error(), reset);
  EXPECT_TRUE(client.writer().write("dropped").ok());
  EXPECT_EQ(client.writer().writes_dropped(), 1u);
  EXPECT_FALSE(pipe.pump());
}

TEST(MemoryPipeTest, AbortResetsThePeer) {
  Connection client, server;
  MemoryPipe pipe(client, server);
  ASSERT_TRUE(client.writer().write("unsent").ok());
  ASSERT_EQ(server.reader().readline(), std::nullopt);
  client.writer().abort();
  EXPECT_EQ(AwaitClosed(pipe, kClient, client.writer().wait_closed()), Status(Ok{}));
  EXPECT_EQ(Await(pipe, kServer, std::nullopt).error(), StreamError::connection(kReset));
  EXPECT_EQ(client.writer().bytes_dropped(), 6u);
}

TEST(MemoryPipeTest, WritingToAClosedPeerFailsWithReset) {
  Connection client, server;
  MemoryPipe pipe(client, server);
  server.writer().close();
  pipe.run();
  ASSERT_TRUE(server.is_lost());
  EXPECT_EQ(*Await(pipe, kClient, client.reader().read()), "");  // FIN
  ASSERT_TRUE(client.writer().write("into the void").ok());
  EXPECT_EQ(AwaitClosed(pipe, kClient, client.writer().wait_closed()),
            Status(StreamError::connection(kReset)));
}

TEST(MemoryPipeTest, CloseThenDrainFailsWithConnectionLost) {
  // asyncio test_async_writer_api_exception_after_close.
  Connection client, server;
  MemoryPipe pipe(client, server);
  client.writer().close();
  ASSERT_TRUE(client.writer().write("dropped").ok());
  EXPECT_EQ(AwaitDrain(pipe, kClient, client.writer().drain()),
            Status(StreamError::connection(kReset, "Connection lost")));
}


TEST(MemoryPipeTest, InjectedBytesAndFinArriveAfterWhatIsInFlight) {
  Connection client, server;
  MemoryPipe pipe(client, server);
  ASSERT_TRUE(client.writer().write("from the client ").ok());
  pipe.pump();  // in flight now
  pipe.inject(kServer, "from a third party");
  pipe.inject_fin(kServer);
  EXPECT_EQ(*Await(pipe, kServer, server.reader().read()), "from the client from a third party");
  EXPECT_TRUE(server.reader().at_eof());
}

TEST(MemoryPipeTest, TapSeesEveryByteSent) {
  Connection client, server;
  MemoryPipe pipe(client, server);
  std::string seen;
  pipe.set_tap(kClient, [&](std::string_view b) { seen += b; });
  ASSERT_TRUE(client.writer().write("abc").ok());
  ASSERT_TRUE(client.writer().write(std::string(100000, 'd')).ok());
  pipe.run();
  EXPECT_EQ(seen, "abc" + std::string(100000, 'd'));
}

}  // namespace
}  // namespace sluice::testing
