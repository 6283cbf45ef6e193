#include "core/connection.h"

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include "core/testing/allocation_counter.h"
#include "gtest/gtest.h"

namespace sluice {

namespace {

const std::error_code kReset = std::make_error_code(std::errc::connection_reset);

StreamError ConnError(std::error_code cause) { return StreamError::connection(cause); }

TEST(ConnectionTest, DataReceivedCompletesThePendingRead) {
  Connection conn;
  ASSERT_EQ(conn.reader().readline(), std::nullopt);
  Completions c = conn.data_received("hello\nrest");
  ASSERT_TRUE(c.read.has_value());
  EXPECT_EQ(**c.read, "hello\n");
  EXPECT_FALSE(c.drain);
  EXPECT_FALSE(c.closed);
  EXPECT_EQ(conn.reader().buffered(), "rest");
  conn.check_invariants();
}

TEST(ConnectionTest, DataWithNobodyReadingCompletesNothing) {
  Connection conn;
  EXPECT_TRUE(conn.data_received("buffered").empty());
  EXPECT_EQ(**conn.reader().read(100), "buffered");
}

TEST(ConnectionTest, ZeroCopyReceiveCompletesThePendingRead) {
  Connection conn;
  ASSERT_EQ(conn.reader().readexactly(5), std::nullopt);
  std::span<char> space = conn.prepare_receive(16);
  ASSERT_GE(space.size(), 16u);
  std::memcpy(space.data(), "abcdefg", 7);
  Completions c = conn.commit_received(7);
  ASSERT_TRUE(c.read.has_value());
  EXPECT_EQ(**c.read, "abcde");
  EXPECT_EQ(conn.reader().buffered(), "fg");
}

TEST(ConnectionTest, EofReceivedCompletesThePendingRead) {
  Connection conn;
  ASSERT_TRUE(conn.data_received("partial").empty());
  ASSERT_EQ(conn.reader().readexactly(10), std::nullopt);
  Completions c = conn.eof_received();
  ASSERT_TRUE(c.read.has_value());
  ASSERT_FALSE(c.read->ok());
  EXPECT_EQ(c.read->error(), StreamError::incomplete_read("partial", 10));
}

TEST(ConnectionTest, EofReceivedKeepsTheWriteSideOpen) {
  Connection conn;
  (void)conn.eof_received();
  EXPECT_FALSE(conn.want_read());
  EXPECT_FALSE(conn.writer().is_closing());
  ASSERT_TRUE(conn.writer().write("still answering").ok());
  EXPECT_EQ(conn.write_action(), WriteAction::kSend);
}

TEST(ConnectionTest, WantsToReadWhenOpen) {
  Connection conn;
  EXPECT_TRUE(conn.want_read());
}

TEST(ConnectionTest, DoesNotWantToReadWhileTheReaderIsPaused) {
  Connection conn(ConnectionOptions{.limit = 4});
  (void)conn.data_received("123456789");  // > 2*limit
  EXPECT_FALSE(conn.want_read());
  EXPECT_EQ(**conn.reader().read(5), "12345");  // down to limit: resumes
  EXPECT_TRUE(conn.want_read());
}

TEST(ConnectionTest, DoesNotWantToReadOnceClosing) {
  Connection conn;
  conn.writer().close();
  EXPECT_FALSE(conn.want_read());
  Connection aborted;
  aborted.writer().abort();
  EXPECT_FALSE(aborted.want_read());
}

TEST(ConnectionTest, DoesNotWantToReadAfterTheLoss) {
  Connection conn;
  (void)conn.connection_lost();
  EXPECT_FALSE(conn.want_read());
  EXPECT_TRUE(conn.is_lost());
}

TEST(ConnectionTest, WriteActionAndNextSendFollowTheWriter) {
  Connection conn;
  EXPECT_EQ(conn.write_action(), WriteAction::kNone);
  ASSERT_TRUE(conn.writer().write("ping").ok());
  EXPECT_EQ(conn.write_action(), WriteAction::kSend);
  std::array<std::string_view, 4> views;
  ASSERT_EQ(conn.next_send(views), 1u);
  EXPECT_EQ(views[0], "ping");
  EXPECT_TRUE(conn.bytes_sent(4).empty());
  EXPECT_EQ(conn.write_action(), WriteAction::kNone);
}

TEST(ConnectionTest, BytesSentReleasesPendingDrains) {
  Connection conn;
  ASSERT_TRUE(conn.writer().write(std::string(kDefaultHighWater + 1, 'x')).ok());
  ASSERT_EQ(conn.writer().drain(), std::nullopt);
  Completions c = conn.bytes_sent(kDefaultHighWater + 1);
  EXPECT_EQ(c.drain, Status(Ok{}));
  EXPECT_FALSE(c.read);
}

TEST(ConnectionTest, WriteEofAsksForAShutdownOnceFlushed) {
  Connection conn;
  ASSERT_TRUE(conn.writer().write("bye").ok());
  ASSERT_TRUE(conn.writer().write_eof().ok());
  (void)conn.bytes_sent(3);
  ASSERT_EQ(conn.write_action(), WriteAction::kShutdownWrite);
  conn.write_eof_sent();
  EXPECT_EQ(conn.write_action(), WriteAction::kNone);
  EXPECT_TRUE(conn.want_read());  // half-closed: still reading
}

TEST(ConnectionTest, CleanLossFeedsEofAndCompletesWaitClosed) {
  Connection conn;
  ASSERT_TRUE(conn.data_received("tail").empty());
  conn.writer().close();
  ASSERT_EQ(conn.writer().wait_closed(), std::nullopt);
  ASSERT_EQ(conn.write_action(), WriteAction::kClose);
  Completions c = conn.connection_lost();
  EXPECT_EQ(c.closed, Status(Ok{}));
  // asyncio test_eof_feed_when_closing_writer: the reader is at EOF after.
  EXPECT_EQ(**conn.reader().read(), "tail");
  EXPECT_TRUE(conn.reader().at_eof());
  EXPECT_EQ(**conn.reader().read(), "");
  conn.check_invariants();
}

TEST(ConnectionTest, LossWithErrorFailsReadDrainAndWaitClosedWithTheSameError) {
  Connection conn;
  ASSERT_TRUE(conn.writer().write(std::string(kDefaultHighWater + 1, 'x')).ok());
  ASSERT_EQ(conn.reader().readline(), std::nullopt);
  ASSERT_EQ(conn.writer().drain(), std::nullopt);
  ASSERT_EQ(conn.writer().wait_closed(), std::nullopt);
  Completions c = conn.connection_lost(kReset);
  ASSERT_TRUE(c.read.has_value());
  EXPECT_EQ(c.read->error(), ConnError(kReset));
  EXPECT_EQ(c.drain, Status(ConnError(kReset)));
  EXPECT_EQ(c.closed, Status(ConnError(kReset)));
  // ... and every later operation fails the same way.
  EXPECT_EQ(conn.reader().read(0)->error(), ConnError(kReset));
  EXPECT_EQ(conn.writer().drain(), StatusPoll(ConnError(kReset)));
  EXPECT_EQ(conn.writer().wait_closed(), StatusPoll(ConnError(kReset)));
  conn.check_invariants();
}

TEST(ConnectionTest, LossWithErrorHidesBufferedBytes) {
  Connection conn;
  ASSERT_TRUE(conn.data_received("unread\n").empty());
  (void)conn.connection_lost(kReset);
  EXPECT_EQ(conn.reader().readline()->error(), ConnError(kReset));
}

TEST(ConnectionTest, LossWithNothingPendingCompletesNothing) {
  Connection conn;
  EXPECT_TRUE(conn.connection_lost().empty());
}


TEST(ConnectionTest, PlainConnectionsHaveNoHandshake) {
  Connection conn;
  EXPECT_EQ(conn.handshake(), StatusPoll(Ok{}));
  EXPECT_EQ(conn.tls(), nullptr);
  EXPECT_FALSE(conn.handshake_in_progress());
  EXPECT_FALSE(conn.shutdown_in_progress());
}


// ---- With a BufferPool ------------------------------------------------------

// One request of a ping-pong echo: a line arrives under a pending readline,
// is written back and sent.
void Echo(Connection& conn, std::string_view line) {
  ASSERT_EQ(conn.reader().readline(), std::nullopt);
  std::span<char> room = conn.prepare_receive(4096);
  std::memcpy(room.data(), line.data(), line.size());
  Completions c = conn.commit_received(line.size());
  ASSERT_TRUE(c.read.has_value());
  ASSERT_TRUE(c.read->ok());
  ASSERT_TRUE(conn.writer().write(std::move(**c.read)).ok());
  ASSERT_EQ(conn.write_action(), WriteAction::kSend);
  std::array<std::string_view, 4> views;
  ASSERT_EQ(conn.next_send(views), 1u);
  ASSERT_EQ(views[0], line);
  EXPECT_TRUE(conn.bytes_sent(views[0].size()).empty());
}

TEST(ConnectionTest, PooledConnectionTakesItsReaderAndWriterBlocksFromThePool) {
  BufferPool pool(16384, 8);
  Connection conn(ConnectionOptions{.pool = &pool});
  ASSERT_TRUE(conn.data_received("in").empty());
  ASSERT_TRUE(conn.writer().write("out").ok());
  EXPECT_EQ(pool.in_use(), 2u);
  EXPECT_EQ(conn.reader().buffer_capacity(), 16384u);
  EXPECT_EQ(conn.writer().buffer_capacity(), 16384u);
}

TEST(ConnectionTest, PooledConnectionIdleAfterARequestHoldsNoBlock) {
  BufferPool pool(16384, 8);
  Connection conn(ConnectionOptions{.pool = &pool});
  Echo(conn, "ping\n");
  EXPECT_EQ(conn.reader().buffer_capacity(), 0u);
  EXPECT_EQ(conn.writer().buffer_capacity(), 0u);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);  // see below
}

TEST(ConnectionTest, PooledPingPongAllocatesNoBlockAfterTheFirstRequest) {
  BufferPool pool(16384, 8);
  Connection conn(ConnectionOptions{.pool = &pool});
  for (int i = 0; i < 100; ++i) Echo(conn, "ping " + std::to_string(i) + "\n");
  // One block in all: the reader gives it back when the line is read, and
  // the writer takes it for the reply.
  EXPECT_EQ(pool.allocations(), 1u);
  EXPECT_EQ(pool.reuses(), 199u);
}

TEST(ConnectionTest, PooledPingPongAllocatesOnlyTheLineItReads) {
  BufferPool pool(16384, 8);
  Connection conn(ConnectionOptions{.pool = &pool});
  const std::string line = std::string(63, 'p') + "\n";  // too long for SSO
  // Echo() without gtest assertions (they may allocate); counts the
  // requests that went as they should.
  auto echo = [&] {
    if (conn.reader().readline()) return 0;
    std::span<char> room = conn.prepare_receive(4096);
    std::memcpy(room.data(), line.data(), line.size());
    Completions c = conn.commit_received(line.size());
    if (!c.read || !c.read->ok() || !conn.writer().write(std::move(**c.read)).ok()) return 0;
    std::array<std::string_view, 4> views;
    if (conn.next_send(views) != 1 || views[0] != line) return 0;
    return conn.bytes_sent(views[0].size()).empty() ? 1 : 0;
  };
  for (int i = 0; i < 10; ++i) echo();  // warm up
  int good = 0;
  const std::uint64_t before = testing::allocation_count();
  for (int i = 0; i < 1000; ++i) good += echo();
  const std::uint64_t allocations = testing::allocation_count() - before;
  EXPECT_EQ(good, 1000);
  // At most the read's std::string per request, and nothing else: no ring,
  // no scanner, no block, no error box.
  EXPECT_LE(allocations, 1000u);
}

TEST(ConnectionTest, PlainConnectionIsSmall) {
  // Issue 8 counts bytes per idle connection: the error, the TLS state and
  // the multi-separator scanner are boxed; the writer's first chunk slot is
  // inline.
  EXPECT_LE(sizeof(StreamReader), 160u);
  EXPECT_LE(sizeof(StreamWriter), 160u);
  EXPECT_LE(sizeof(Connection), 320u);
  EXPECT_LE(sizeof(Completions), 96u);
}

TEST(ConnectionTest, PooledConnectionsOfOneLoopShareTheFreeBlocks) {
  BufferPool pool(16384, 8);
  Connection a(ConnectionOptions{.pool = &pool});
  Connection b(ConnectionOptions{.pool = &pool});
  Echo(a, "one\n");
  Echo(b, "two\n");
  EXPECT_EQ(pool.allocations(), 1u);
  EXPECT_EQ(pool.reuses(), 3u);
}

TEST(ConnectionTest, PooledConnectionLostGivesItsBlocksBack) {
  BufferPool pool(16384, 8);
  Connection conn(ConnectionOptions{.pool = &pool});
  ASSERT_TRUE(conn.data_received("unread").empty());
  ASSERT_TRUE(conn.writer().write("unsent").ok());
  (void)conn.connection_lost(kReset);
  EXPECT_EQ(conn.writer().buffer_capacity(), 0u);
  // The reader keeps its (unreadable) bytes until the connection goes away.
  EXPECT_EQ(pool.in_use(), 1u);
}

TEST(ConnectionTest, DestroyedPooledConnectionGivesItsBlocksBack) {
  BufferPool pool(16384, 8);
  {
    Connection conn(ConnectionOptions{.pool = &pool});
    ASSERT_TRUE(conn.data_received("unread").empty());
    ASSERT_TRUE(conn.writer().write("unsent").ok());
  }
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 2u);
}

TEST(ConnectionTest, PooledConnectionReceivingMoreThanABlockAllocatesOnItsOwn) {
  BufferPool pool(4096, 8);
  Connection conn(ConnectionOptions{.pool = &pool});
  EXPECT_GE(conn.prepare_receive(65536).size(), 65536u);
  EXPECT_EQ(pool.in_use(), 0u);
  (void)conn.commit_received(0);
}

}  // namespace
}  // namespace sluice
