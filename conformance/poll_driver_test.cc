#include "conformance/poll_driver.h"

#include <sys/socket.h>

#include <memory>
#include <string>

#include "core/coro/task.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

struct Pair {
  std::shared_ptr<AsyncConnection> a;
  std::shared_ptr<AsyncConnection> b;
};

Pair socketpair_on(PollLoop& loop) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  return {loop.adopt(fds[0]), loop.adopt(fds[1])};
}

Task<void> echo(AsyncConnection& c) {
  while (std::optional<std::string> line = co_await c.reader().next_line()) {
    c.writer().write(std::move(*line));
    co_await c.writer().drain();
  }
  c.writer().close();
  co_await c.writer().wait_closed();
}

Task<std::string> ask(AsyncConnection& c, int lines) {
  std::string got;
  for (int i = 0; i < lines; ++i) {
    c.writer().write("line " + std::to_string(i) + "\n");
    got += co_await c.reader().readline();
  }
  c.writer().write_eof();
  got += co_await c.reader().read(-1);  // until the server closes
  co_return got;
}

TEST(PollLoop, EchoesLinesOverASocketpair) {
  PollLoop loop;
  Pair p = socketpair_on(loop);
  Task<void> server = echo(*p.b);
  Task<std::string> client = ask(*p.a, 100);
  server.start();
  client.start();
  ASSERT_TRUE(loop.run_until([&] { return server.done() && client.done(); }));
  std::string want;
  for (int i = 0; i < 100; ++i) want += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(client.result(), want);
}

TEST(PollLoop, PeerCloseIsEofForTheReader) {
  PollLoop loop;
  Pair p = socketpair_on(loop);
  p.b->writer().write("bye");
  p.b->writer().close();
  auto read_all = [](AsyncConnection& c) -> Task<std::string> { co_return co_await c.reader().read(-1); };
  Task<std::string> t = read_all(*p.a);
  t.start();
  ASSERT_TRUE(loop.run_until([&] { return t.done(); }));
  EXPECT_EQ(t.result(), "bye");
  EXPECT_TRUE(p.a->connection().reader().at_eof());
}

TEST(PollLoop, ForgetsConnectionsOnceClosed) {
  PollLoop loop;
  std::weak_ptr<AsyncConnection> gone;
  {
    Pair p = socketpair_on(loop);
    gone = p.b;
    p.b->writer().close();
    p.a->writer().close();
  }
  ASSERT_TRUE(loop.run_until([&] { return gone.expired(); }));
  EXPECT_EQ(loop.open_connections(), 0u);
}

TEST(PollLoop, AbortResetsThePeer) {
  PollLoop loop;
  Pair p = socketpair_on(loop);
  auto read_one = [](AsyncConnection& c) -> Task<ReadResult> {
    co_return co_await c.reader().readexactly(1).as_result();
  };
  Task<ReadResult> t = read_one(*p.a);
  t.start();
  loop.run_once(std::chrono::milliseconds(0));
  p.b->writer().abort();
  ASSERT_TRUE(loop.run_until([&] { return t.done(); }));
  ReadResult r = t.result();
  ASSERT_FALSE(r.ok());
  // Over a UNIX socketpair an abort reads as EOF or as a reset.
  EXPECT_TRUE(r.error().code == StreamErrc::kConnectionError || r.error().code == StreamErrc::kIncompleteRead);
  // The aborted side is closed; the other stays open until its user closes
  // it (asyncio keeps a connection open after EOF).
  EXPECT_EQ(loop.open_connections(), 1u);
}

}  // namespace
}  // namespace sluice::conformance
