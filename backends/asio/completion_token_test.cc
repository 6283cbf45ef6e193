// Every completion-token style on the backend's asynchronous operations:
// plain callbacks, asio::use_awaitable, asio::use_future,
// asio::experimental::deferred (and as_tuple, awaitable operators); handlers
// are never invoked inline and run on their associated executor.

#include <chrono>
#include <future>
#include <string>
#include <system_error>
#include <variant>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include "backends/asio/streams.h"
#include "backends/asio/test_support.h"
#include "gtest/gtest.h"

namespace sluice::asio_backend {
namespace {

using namespace test_support;  // NOLINT
using asio::use_awaitable;

template <typename T>
bool ready(const std::future<T>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

TEST(CompletionTokenTest, PlainCallbackIsInvokedLaterNeverInline) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  a.writer.write("line\n");
  std::string got;
  bool called = false;
  b.reader.async_readline([&](std::error_code ec, std::string s) {
    EXPECT_FALSE(ec);
    got = std::move(s);
    called = true;
  });
  EXPECT_FALSE(called);
  EXPECT_TRUE(run_until(io, [&] { return called; }));
  EXPECT_EQ(got, "line\n");
  // A read that can complete at once is still posted.
  a.writer.write("x\ny\n");
  ASSERT_TRUE(run_until(io, [&] { return b.reader.buffered_size() == 4; }));
  called = false;
  b.reader.async_readline([&](std::error_code, std::string) { called = true; });
  EXPECT_FALSE(called);
  EXPECT_TRUE(run_until(io, [&] { return called; }));
}

TEST(CompletionTokenTest, UseAwaitableReturnsTheValueAndThrowsTheError) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("abc");
    const std::string abc = co_await b.reader.async_readexactly(3, use_awaitable);
    EXPECT_EQ(abc, "abc");
    a.writer.close();
    try {
      co_await b.reader.async_readexactly(3, use_awaitable);
      ADD_FAILURE() << "no exception";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), StreamErrc::kIncompleteRead);
    }
  }(a, b));
}

TEST(CompletionTokenTest, UseFutureDeliversTheValueAndTheError) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  a.writer.write("hello\n");
  std::future<std::string> line = b.reader.async_readline(asio::use_future);
  ASSERT_TRUE(run_until(io, [&] { return ready(line); }));
  EXPECT_EQ(line.get(), "hello\n");
  std::future<void> drained = a.writer.async_drain(asio::use_future);
  ASSERT_TRUE(run_until(io, [&] { return ready(drained); }));
  EXPECT_NO_THROW(drained.get());
  a.writer.close();
  std::future<void> closed = a.writer.async_wait_closed(asio::use_future);
  ASSERT_TRUE(run_until(io, [&] { return ready(closed); }));
  EXPECT_NO_THROW(closed.get());
  std::future<std::string> incomplete = b.reader.async_readexactly(5, asio::use_future);
  ASSERT_TRUE(run_until(io, [&] { return ready(incomplete); }));
  try {
    incomplete.get();
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), StreamErrc::kIncompleteRead);
  }
}

TEST(CompletionTokenTest, DeferredOperationsStartWhenLaunched) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  auto read_line = b.reader.async_readline(asio::experimental::deferred);
  auto wait_closed = a.writer.async_wait_closed(asio::experimental::deferred);
  a.writer.write("one\ntwo\n");
  std::string first;
  std::move(read_line)([&](std::error_code ec, std::string s) { first = std::move(s); });
  EXPECT_TRUE(run_until(io, [&] { return !first.empty(); }));
  EXPECT_EQ(first, "one\n");
  run(io, [](Stream& a, Stream& b, auto wait_closed) -> asio::awaitable<void> {
    auto again = b.reader.async_readline(asio::experimental::deferred);
    const std::string second = co_await std::move(again)(use_awaitable);
    EXPECT_EQ(second, "two\n");
    a.writer.close();
    co_await std::move(wait_closed)(use_awaitable);
  }(a, b, std::move(wait_closed)));
}

TEST(CompletionTokenTest, AsTupleDeliversTheErrorAndThePartialBytes) {
  asio::io_context io;
  auto [a, b] = unix_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("partial");
    a.writer.close();
    auto [ec, data] =
        co_await b.reader.async_readuntil("\r\n", asio::experimental::as_tuple(use_awaitable));
    EXPECT_EQ(ec, StreamErrc::kIncompleteRead);
    EXPECT_EQ(data, "partial");
    EXPECT_EQ(b.reader.last_error()->expected, std::nullopt);  // readuntil: None
  }(a, b));
}

TEST(CompletionTokenTest, HandlerRunsOnItsAssociatedExecutor) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  auto strand = asio::make_strand(io);
  bool on_strand = false;
  bool called = false;
  a.writer.write("x\n");
  b.reader.async_readline(asio::bind_executor(strand, [&](std::error_code, std::string) {
    on_strand = strand.running_in_this_thread();
    called = true;
  }));
  EXPECT_TRUE(run_until(io, [&] { return called; }));
  EXPECT_TRUE(on_strand);
}

TEST(CompletionTokenTest, OpenConnectionWorksWithEveryToken) {
  asio::io_context io;
  Server server = start_server(
      io.get_executor(),
      [](StreamReader, StreamWriter writer) -> asio::awaitable<void> {
        writer.write("hi\n");
        writer.close();
        co_return;
      },
      "127.0.0.1", 0);
  const std::uint16_t port = std::get<asio::ip::tcp::endpoint>(server.sockets().front()).port();
  auto ex = io.get_executor();

  bool called = false;
  async_open_connection(ex, "127.0.0.1", port, [&](std::error_code ec, Stream s) {
    EXPECT_FALSE(ec);
    EXPECT_TRUE(s.reader);
    called = true;
  });
  EXPECT_FALSE(called);
  EXPECT_TRUE(run_until(io, [&] { return called; }));

  std::future<Stream> future = async_open_connection(ex, "127.0.0.1", port, asio::use_future);
  ASSERT_TRUE(run_until(io, [&] { return ready(future); }));
  Stream from_future = future.get();
  EXPECT_TRUE(from_future.writer);

  auto deferred = async_open_connection(ex, "127.0.0.1", port, asio::experimental::deferred);
  run(io, [](auto deferred) -> asio::awaitable<void> {
    auto [reader, writer] = co_await std::move(deferred)(use_awaitable);
    const std::string hi = co_await reader.async_readline(use_awaitable);
    EXPECT_EQ(hi, "hi\n");
  }(std::move(deferred)));
}

TEST(CompletionTokenTest, CancellingOpenConnectionCompletesWithOperationAborted) {
  asio::io_context io;
  asio::cancellation_signal signal;
  std::error_code result;
  bool called = false;
  async_open_connection(
      io.get_executor(), "127.0.0.1", 9,
      asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec, Stream) {
        result = ec;
        called = true;
      }));
  signal.emit(asio::cancellation_type::terminal);
  EXPECT_TRUE(run_until(io, [&] { return called; }));
  EXPECT_EQ(result, asio::error::operation_aborted);
}

TEST(CompletionTokenTest, AwaitableOperatorTimeoutCancelsAReadWithoutLosingBytes) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("no newline yet");
    auto first = co_await (b.reader.async_readline(use_awaitable) || sleep_for(30ms));
    EXPECT_EQ(first.index(), 1u);  // the timer won; the read was cancelled
    a.writer.write(", now\n");
    const std::string line = co_await b.reader.async_readline(use_awaitable);
    EXPECT_EQ(line, "no newline yet, now\n");
  }(a, b));
}

TEST(CompletionTokenTest, ServerOperationsWorkWithFuturesAndCallbacks) {
  asio::io_context io;
  Server server = start_server(
      io.get_executor(), [](StreamReader, StreamWriter) -> asio::awaitable<void> { co_return; },
      "127.0.0.1", 0);
  std::future<void> served = server.async_serve_forever(asio::use_future);
  bool closed = false;
  server.async_wait_closed([&](std::error_code ec) {
    EXPECT_FALSE(ec);
    closed = true;
  });
  EXPECT_FALSE(run_until(
      io, [&] { return ready(served); }, 10ms));
  server.close();
  ASSERT_TRUE(run_until(io, [&] { return ready(served) && closed; }));
  EXPECT_NO_THROW(served.get());
}

}  // namespace
}  // namespace sluice::asio_backend
