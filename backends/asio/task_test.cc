// Tests of the coroutine forms of the Asio StreamReader / StreamWriter
// (reader.readline(), writer.drain(), ... in a sluice::Task) and of
// async_run, over real sockets.

#include <sys/socket.h>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "backends/asio/streams.h"
#include "backends/asio/test_support.h"
#include "core/coro/stream_exceptions.h"
#include "core/coro/task.h"
#include "gtest/gtest.h"

namespace sluice::asio_backend {
namespace {

using namespace test_support;  // NOLINT
using asio::use_awaitable;

// run_task: async_run `task` on `io` and run until it finishes; returns
// what it threw (null if it returned).
std::exception_ptr run_task(asio::io_context& io, Task<void> task) {
  bool done = false;
  std::exception_ptr error;
  async_run(io.get_executor(), std::move(task), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  EXPECT_TRUE(run_until(io, [&] { return done; }));
  return error;
}

// buffer_on: write `data` from a and run until b has buffered all of it.
void buffer_on(asio::io_context& io, Stream& a, Stream& b, const std::string& data) {
  a.writer.write(data);
  ASSERT_TRUE(run_until(io, [&] { return b.reader.buffered_size() == data.size(); }));
}

TEST(TaskFormsTest, ReadlineWaitsForTheLineThenReturnsIt) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  std::string line;
  bool done = false;
  async_run(io.get_executor(),
            [](StreamReader r, std::string& out) -> Task<void> { out = co_await r.readline(); }(
                b.reader, line),
            [&](std::exception_ptr) { done = true; });
  io.poll();
  EXPECT_TRUE(line.empty());
  a.writer.write("hello\n");
  ASSERT_TRUE(run_until(io, [&] { return done; }));
  EXPECT_EQ(line, "hello\n");
}

// The lines are buffered: every read returns without suspending, so the
// task has finished when async_run returns (its handler still waits for a
// loop turn).
TEST(TaskFormsTest, BufferedLinesAreReadWithoutSuspending) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  buffer_on(io, a, b, "one\ntwo\nthree\n");
  std::vector<std::string> lines;
  bool handler_ran = false;
  async_run(io.get_executor(),
            [](StreamReader r, std::vector<std::string>& out) -> Task<void> {
              for (int i = 0; i < 3; ++i) out.push_back(co_await r.readline());
            }(b.reader, lines),
            [&](std::exception_ptr) { handler_ran = true; });
  EXPECT_EQ(lines, (std::vector<std::string>{"one\n", "two\n", "three\n"}));
  EXPECT_FALSE(handler_ran);
  io.poll();
  EXPECT_TRUE(handler_ran);
}

TEST(TaskFormsTest, NextLineEndsAtEof) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  a.writer.write("a\nb");
  a.writer.close();
  std::vector<std::string> lines;
  EXPECT_FALSE(run_task(io, [](StreamReader r, std::vector<std::string>& out) -> Task<void> {
    while (std::optional<std::string> line = co_await r.next_line()) out.push_back(*line);
  }(b.reader, lines)));
  EXPECT_EQ(lines, (std::vector<std::string>{"a\n", "b"}));
}

TEST(TaskFormsTest, ReadexactlyAtEofThrowsIncompleteReadErrorWithThePartialBytes) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  a.writer.write("abc");
  a.writer.write_eof();
  std::optional<IncompleteReadError> caught;
  EXPECT_FALSE(
      run_task(io, [](StreamReader r, std::optional<IncompleteReadError>& out) -> Task<void> {
        try {
          (void)co_await r.readexactly(5);
        } catch (const IncompleteReadError& e) {
          out = e;
        }
      }(b.reader, caught)));
  ASSERT_TRUE(caught);
  EXPECT_EQ(caught->partial(), "abc");
  EXPECT_EQ(caught->expected(), 5u);
}

TEST(TaskFormsTest, ReaduntilPastTheLimitThrowsLimitOverrunAndKeepsTheBytes) {
  asio::io_context io(1);
  StreamOptions small;
  small.limit = 4;
  auto [a, b] = unix_pair(io, {}, small);
  buffer_on(io, a, b, "0123456789");
  std::optional<std::size_t> consumed;
  EXPECT_FALSE(run_task(io, [](StreamReader r, std::optional<std::size_t>& out) -> Task<void> {
    try {
      (void)co_await r.readuntil("|");
    } catch (const LimitOverrunError& e) {
      out = e.consumed();
    }
  }(b.reader, consumed)));
  EXPECT_TRUE(consumed);
  EXPECT_EQ(b.reader.buffered_size(), 10u);
}

TEST(TaskFormsTest, ReadOfSeveralSeparatorsAndReadReturnTheirChunks) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  buffer_on(io, a, b, "GET /\r\nrest");
  std::string head, rest;
  EXPECT_FALSE(run_task(io, [](StreamReader r, std::string& h, std::string& t) -> Task<void> {
    static constexpr std::string_view kEnds[] = {"\r\n", "\n"};
    h = co_await r.readuntil(kEnds);
    t = co_await r.read(100);
  }(b.reader, head, rest)));
  EXPECT_EQ(head, "GET /\r\n");
  EXPECT_EQ(rest, "rest");
}

// Above the high water mark, drain() suspends until the peer has read
// enough; below it, it returns at once.
TEST(TaskFormsTest, DrainWaitsAboveTheHighWaterMarkUntilThePeerReads) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  b.writer.set_write_buffer_limits(1024, 0);
  const std::string big(8 * 1024 * 1024, 'x');
  bool drained = false;
  bool done = false;
  async_run(io.get_executor(),
            [](StreamWriter w, const std::string& data, bool& flag) -> Task<void> {
              w.write(data);
              co_await w.drain();
              flag = true;
            }(b.writer, big, drained),
            [&](std::exception_ptr e) {
              EXPECT_FALSE(e);
              done = true;
            });
  io.poll();
  EXPECT_FALSE(drained);  // 8 MiB do not fit in the socket buffers
  run(io, [](Stream& a, std::size_t n) -> asio::awaitable<void> {
    const std::string all =
        co_await a.reader.async_readexactly(static_cast<std::int64_t>(n), use_awaitable);
    EXPECT_EQ(all.size(), n);
  }(a, big.size()));
  ASSERT_TRUE(run_until(io, [&] { return done; }));
  EXPECT_TRUE(drained);
}

TEST(TaskFormsTest, DrainAfterThePeerResetThrowsConnectionErrorWithTheCause) {
  asio::io_context io(1);
  auto [a, b] = tcp_pair(io);
  a.writer.abort();
  std::optional<ConnectionError> caught;
  EXPECT_FALSE(run_task(io, [](StreamWriter w, std::optional<ConnectionError>& out) -> Task<void> {
    // Write until the reset is seen (the first writes may still succeed).
    for (int i = 0; i < 100 && !out; ++i) {
      try {
        w.write(std::string(64 * 1024, 'x'));
        co_await w.drain();
        (void)co_await w.wait_closed();
      } catch (const ConnectionError& e) {
        out = e;
      }
    }
  }(b.writer, caught)));
  ASSERT_TRUE(caught);
  EXPECT_EQ(caught->error().code, StreamErrc::kConnectionError);
  EXPECT_TRUE(caught->code() == asio::error::connection_reset ||
              caught->code() == asio::error::broken_pipe)
      << caught->code().message();
}

TEST(TaskFormsTest, WaitClosedReturnsOnceTheConnectionIsClosed) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  bool closed = false;
  EXPECT_FALSE(run_task(io, [](StreamWriter w, bool& flag) -> Task<void> {
    w.write("bye\n");
    w.close();
    co_await w.wait_closed();
    flag = true;
  }(a.writer, closed)));
  EXPECT_TRUE(closed);
  EXPECT_EQ(a.writer.native_handle(), -1);
}

// A task destroyed while its read waits withdraws the read: the bytes that
// arrive later go to the next read.
TEST(TaskFormsTest, DestroyingAWaitingTaskWithdrawsItsReadAndLosesNoBytes) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  {
    Task<void> t = [](StreamReader r) -> Task<void> { (void)co_await r.readline(); }(b.reader);
    t.start();
    io.poll();
    EXPECT_FALSE(t.done());
  }  // destroyed while waiting
  a.writer.write("kept\n");
  run(io, [](Stream& b) -> asio::awaitable<void> {
    EXPECT_EQ(co_await b.reader.async_readline(use_awaitable), "kept\n");
  }(b));
}

// A task destroyed while its drain waits drops its waiter: the drain's end
// later resumes nothing (ASan would see a resumed, destroyed frame).
TEST(TaskFormsTest, DestroyingATaskWhoseDrainWaitsDropsItsWaiter) {
  asio::io_context io(1);
  auto [a, b] = unix_pair(io);
  b.writer.set_write_buffer_limits(1024, 0);
  const std::string big(8 * 1024 * 1024, 'x');
  {
    Task<void> t = [](StreamWriter w, const std::string& data) -> Task<void> {
      w.write(data);
      co_await w.drain();
    }(b.writer, big);
    t.start();
    io.poll();
    EXPECT_FALSE(t.done());
  }  // destroyed while draining
  run(io, [](Stream& a, Stream& b, std::size_t n) -> asio::awaitable<void> {
    const std::string all =
        co_await a.reader.async_readexactly(static_cast<std::int64_t>(n), use_awaitable);
    EXPECT_EQ(all.size(), n);
    co_await b.writer.async_drain(use_awaitable);  // the writer still works
  }(a, b, big.size()));
}

TEST(TaskFormsTest, AsyncRunRethrowsTheTasksExceptionThroughUseAwaitable) {
  asio::io_context io(1);
  std::string what;
  run(io, [](std::string& out) -> asio::awaitable<void> {
    try {
      co_await async_run(co_await asio::this_coro::executor,
                         []() -> Task<void> {
                           throw std::runtime_error("from the task");
                           co_return;
                         }(),
                         use_awaitable);
    } catch (const std::runtime_error& e) {
      out = e.what();
    }
  }(what));
  EXPECT_EQ(what, "from the task");
}

// The echo server of the asyncio docs, its handler a Task, served through
// start_server and async_run.
TEST(TaskFormsTest, ServerRunsATaskHandlerThroughAsyncRun) {
  asio::io_context io(1);
  Server server = start_server(
      io.get_executor(),
      [](StreamReader r, StreamWriter w) -> asio::awaitable<void> {
        co_await async_run(
            r.get_executor(),
            [](StreamReader r, StreamWriter w) -> Task<void> {
              while (std::optional<std::string> line = co_await r.next_line()) {
                w.write(std::move(*line));
                co_await w.drain();
              }
              w.close();
            }(r, w),
            use_awaitable);
      },
      "127.0.0.1", 0);
  const std::uint16_t port = port_of(server.sockets().front());
  run(io, [](std::uint16_t port) -> asio::awaitable<void> {
    auto [r, w] = co_await connect("127.0.0.1", port);
    w.write("one\ntwo\n");
    EXPECT_EQ(co_await r.async_readline(use_awaitable), "one\n");
    EXPECT_EQ(co_await r.async_readline(use_awaitable), "two\n");
    w.write_eof();
    EXPECT_EQ(co_await r.async_readline(use_awaitable), "");
  }(port));
  server.close();
}

// start_server takes a Task handler as it is: no co_spawn, no
// asio::awaitable around it.
TEST(TaskFormsTest, ServerServesATaskHandlerDirectly) {
  asio::io_context io(1);
  Server server = start_server(
      io.get_executor(),
      [](StreamReader r, StreamWriter w) -> Task<void> {
        while (std::optional<std::string> line = co_await r.next_line()) {
          w.write(std::move(*line));
          co_await w.drain();
        }
        w.close();
      },
      "127.0.0.1", 0);
  const std::uint16_t port = port_of(server.sockets().front());
  run(io, [](std::uint16_t port) -> asio::awaitable<void> {
    auto [r, w] = co_await connect("127.0.0.1", port);
    w.write("one\ntwo\n");
    EXPECT_EQ(co_await r.async_readline(use_awaitable), "one\n");
    EXPECT_EQ(co_await r.async_readline(use_awaitable), "two\n");
    w.write_eof();
    EXPECT_EQ(co_await r.async_read(-1, use_awaitable), "");  // closed by the handler
  }(port));
  server.close();
}

TEST(TaskFormsTest, AnExceptionEscapingATaskHandlerIsReportedAndClosesItsConnection) {
  asio::io_context io(1);
  ServerOptions options;
  std::vector<std::string> reported;
  options.on_handler_exception = record_what(reported);
  Server server = start_server(
      io.get_executor(),
      [](StreamReader r, StreamWriter) -> Task<void> {
        if (co_await r.readline() == "boom\n") throw std::runtime_error("boom");
      },
      "127.0.0.1", 0, options);
  const std::uint16_t port = port_of(server.sockets().front());
  run(io, [](std::uint16_t port) -> asio::awaitable<void> {
    auto [r, w] = co_await connect("127.0.0.1", port);
    w.write("boom\n");
    EXPECT_EQ(co_await r.async_read(-1, use_awaitable), "");  // EOF: closed
  }(port));
  EXPECT_EQ(reported, std::vector<std::string>{"boom"});
  EXPECT_TRUE(server.is_serving());
  server.close();
}

}  // namespace
}  // namespace sluice::asio_backend
