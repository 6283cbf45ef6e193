// The pipe scenarios of core/testing/memory_pipe_test.cc, written as
// coroutines over AsyncConnection: the in-memory pipe is the driver, a
// ManualExecutor the loop. Each round runs the coroutines queued so far, then
// pumps the pipe once.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include "core/coro/async_connection.h"
#include "core/coro/stream_exceptions.h"
#include "core/coro/task.h"
#include "core/testing/manual_executor.h"
#include "core/testing/memory_pipe.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using testing::ManualExecutor;
using testing::MemoryPipe;
using testing::MemoryPipeOptions;

const std::error_code kReset = std::make_error_code(std::errc::connection_reset);

// Suspends until the next round (a consumer doing other work).
struct NextRound {
  Executor& ex;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { ex.post(h); }
  void await_resume() const noexcept {}
};

class PipeCoroTest : public ::testing::Test {
 protected:
  explicit PipeCoroTest(MemoryPipeOptions options = {})
      : pipe_(client_.connection(), server_.connection(), options) {
    pipe_.set_sink(MemoryPipe::kA, [this](Completions c) { client_.dispatch(std::move(c)); });
    pipe_.set_sink(MemoryPipe::kB, [this](Completions c) { server_.dispatch(std::move(c)); });
  }

  // Runs rounds until done() holds; false if everything went quiet first
  // (on a real loop: a hang). `probe` runs after every round.
  bool RunUntil(const std::function<bool()>& done, const std::function<void()>& probe = {}) {
    while (!done()) {
      const std::size_t ran = ex_.run_queued();
      const bool pumped = pipe_.pump();
      if (probe) probe();
      if (ran == 0 && !pumped && ex_.queued() == 0) return done();
    }
    return true;
  }

  ManualExecutor ex_;
  AsyncConnection client_{ex_};
  AsyncConnection server_{ex_};
  MemoryPipe pipe_;
};

// ---- Echo: 100,000 lines ------------------------------------------------------------

Task<int> EchoServer(AsyncConnection& c) {
  int lines = 0;
  while (std::optional<std::string> line = co_await c.reader().next_line()) {
    c.writer().write(std::move(*line));
    co_await c.writer().drain();
    ++lines;
  }
  c.writer().close();
  co_await c.writer().wait_closed();
  co_return lines;
}

std::string Line(int i) { return "line " + std::to_string(i) + "\n"; }

Task<void> SendLines(AsyncConnection& c, int n) {
  for (int i = 0; i < n; ++i) {
    c.writer().write(Line(i));
    co_await c.writer().drain();
  }
  c.writer().write_eof();
}

// Returns the number of lines received in order; stops counting at the first
// mismatch.
Task<int> ReceiveLines(AsyncConnection& c) {
  int good = 0;
  bool in_order = true;
  while (std::optional<std::string> line = co_await c.reader().next_line()) {
    in_order = in_order && *line == Line(good);
    if (in_order) ++good;
  }
  c.writer().close();
  co_await c.writer().wait_closed();
  co_return good;
}

TEST_F(PipeCoroTest, EchoServerAndClientExchange100000Lines) {
  constexpr int kLines = 100000;
  Task<int> server = EchoServer(server_);
  Task<void> sender = SendLines(client_, kLines);
  Task<int> receiver = ReceiveLines(client_);
  server.start();
  sender.start();
  receiver.start();
  ASSERT_TRUE(RunUntil([&] { return server.done() && sender.done() && receiver.done(); }));
  sender.result();
  EXPECT_EQ(server.result(), kLines);
  EXPECT_EQ(receiver.result(), kLines);
  // Coalescing: ~1.2 MB of short lines went out in a few large sends.
  EXPECT_LT(pipe_.sends(MemoryPipe::kA), 200u);
  EXPECT_LT(pipe_.sends(MemoryPipe::kB), 2000u);
}

// ---- Half-close ----------------------------------------------------------------------

TEST_F(PipeCoroTest, HalfCloseThePeerReadsToEofAndStillAnswers) {
  auto client = [](AsyncConnection& c) -> Task<std::string> {
    c.writer().write("request body");
    c.writer().write_eof();
    std::string response = co_await c.reader().read();  // to EOF
    try {
      c.writer().write("late");
      response += " (late write accepted?)";
    } catch (const StreamException& e) {
      if (e.error().code != StreamErrc::kWriteAfterEof) response += " (wrong error)";
    }
    c.writer().close();
    co_await c.writer().wait_closed();
    co_return response;
  };
  auto server = [](AsyncConnection& c) -> Task<std::string> {
    std::string request = co_await c.reader().read();  // to EOF
    c.writer().write("response to " + request);
    c.writer().close();
    co_await c.writer().wait_closed();
    co_return request;
  };
  Task<std::string> s = server(server_);
  Task<std::string> c = client(client_);
  s.start();
  c.start();
  ASSERT_TRUE(RunUntil([&] { return s.done() && c.done(); }));
  EXPECT_EQ(s.result(), "request body");
  EXPECT_EQ(c.result(), "response to request body");
}

// ---- 64 MiB with backpressure -------------------------------------------------------

char PatternAt(std::uint64_t i) { return static_cast<char>((i * 131 + (i >> 13)) & 0xff); }

Task<void> Upload(AsyncConnection& c, std::uint64_t total, std::size_t chunk,
                  std::size_t& max_buffer) {
  for (std::uint64_t sent = 0; sent < total;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - sent));
    std::string piece(n, '\0');
    for (std::size_t i = 0; i < n; ++i) piece[i] = PatternAt(sent + i);
    c.writer().write(std::move(piece));
    sent += n;
    max_buffer = std::max(max_buffer, c.writer().get_write_buffer_size());
    co_await c.writer().drain();
  }
  c.writer().write_eof();
}

// Reads `read_size` bytes per round (a slow consumer); returns the bytes
// received, stopping at the first corrupt one.
Task<std::uint64_t> SlowDownload(AsyncConnection& c, std::size_t read_size) {
  std::uint64_t received = 0;
  for (;;) {
    std::string block = co_await c.reader().read(static_cast<std::int64_t>(read_size));
    if (block.empty()) break;  // EOF
    for (char ch : block) {
      if (ch != PatternAt(received)) co_return received;
      ++received;
    }
    co_await NextRound{c.executor()};
  }
  c.writer().close();
  co_await c.writer().wait_closed();
  co_return received;
}

TEST_F(PipeCoroTest, SixtyFourMiBWithBackpressureOnBothSides) {
  constexpr std::uint64_t kTotal = 64ull << 20;
  constexpr std::size_t kChunk = 48 * 1024;
  std::size_t max_writer_buffer = 0, max_reader_buffer = 0;
  int reader_pauses = 0, writer_pauses = 0;
  Task<void> up = Upload(client_, kTotal, kChunk, max_writer_buffer);
  Task<std::uint64_t> down = SlowDownload(server_, 16 * 1024);
  auto closer = [](AsyncConnection& c) -> Task<void> {
    co_await c.reader().read();  // the server's EOF
    c.writer().close();
    co_await c.writer().wait_closed();
  };
  Task<void> client_closer = closer(client_);
  up.start();
  down.start();
  ASSERT_TRUE(RunUntil([&] { return up.done() && down.done(); },
                       [&] {
                         const Connection& s = server_.connection();
                         max_reader_buffer =
                             std::max(max_reader_buffer, s.reader().buffered_size());
                         if (s.reader().reading_paused()) ++reader_pauses;
                         if (client_.writer().core().write_paused()) ++writer_pauses;
                       }));
  client_closer.start();
  ASSERT_TRUE(RunUntil([&] { return client_closer.done(); }));
  up.result();
  client_closer.result();
  EXPECT_EQ(down.result(), kTotal);
  EXPECT_GT(reader_pauses, 0);
  EXPECT_GT(writer_pauses, 0);
  EXPECT_LE(max_reader_buffer, 2 * kDefaultLimit + MemoryPipeOptions{}.max_read);
  EXPECT_LE(max_writer_buffer, kDefaultHighWater + kChunk);
  EXPECT_LE(pipe_.max_in_flight(), MemoryPipeOptions{}.capacity);
}

// ---- Reset in the middle --------------------------------------------------------------

// Runs `body`; returns the error code it threw as ConnectionError, or {}.
template <typename Body>
Task<std::error_code> CatchConnectionError(Body body) {
  try {
    co_await body();
  } catch (const ConnectionError& e) {
    co_return e.code();
  }
  co_return std::error_code{};
}

TEST_F(PipeCoroTest, ResetInTheMiddleFailsBothSidesAndNothingHangs) {
  AsyncConnection& client = client_;
  AsyncConnection& server = server_;
  server.writer().write(std::string(1 << 20, 's'));
  // Client: waits for 4 MiB (gets 1), and its 1 MiB upload is stuck because
  // the server does not read.
  Task<std::error_code> download =
      CatchConnectionError([&]() -> Task<void> { co_await client.reader().readexactly(4 << 20); });
  Task<std::error_code> upload = CatchConnectionError([&]() -> Task<void> {
    client.writer().write(std::string(1 << 20, 'c'));
    co_await client.writer().drain();
    co_await client.writer().drain();
  });
  Task<std::error_code> client_closed =
      CatchConnectionError([&]() -> Task<void> { co_await client.writer().wait_closed(); });
  Task<std::error_code> server_closed =
      CatchConnectionError([&]() -> Task<void> { co_await server.writer().wait_closed(); });
  for (Task<std::error_code>* t : {&download, &upload, &client_closed, &server_closed}) t->start();
  EXPECT_FALSE(RunUntil([&] { return download.done() || upload.done(); }));  // stuck, quiet

  pipe_.reset();

  ASSERT_TRUE(RunUntil([&] {
    return download.done() && upload.done() && client_closed.done() && server_closed.done();
  }));
  EXPECT_EQ(download.result(), kReset);
  EXPECT_EQ(upload.result(), kReset);
  EXPECT_EQ(client_closed.result(), kReset);
  EXPECT_EQ(server_closed.result(), kReset);
  // A late reader fails at once too.
  Task<std::error_code> late =
      CatchConnectionError([&]() -> Task<void> { co_await server.reader().readline(); });
  late.start();
  ASSERT_TRUE(late.done());
  EXPECT_EQ(late.result(), kReset);
}

}  // namespace
}  // namespace sluice
