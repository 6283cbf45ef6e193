#include "core/stream_writer.h"

#include <array>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/testing/allocation_counter.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

const std::error_code kReset = std::make_error_code(std::errc::connection_reset);
const std::error_code kBrokenPipe = std::make_error_code(std::errc::broken_pipe);

Status ConnectionError(std::error_code cause) { return StreamError::connection(cause); }
// asyncio's ConnectionResetError('Connection lost') from a drain after the loss.
Status ConnectionLost() {
  return StreamError::connection(std::make_error_code(std::errc::connection_reset), "Connection lost");
}

// Everything the driver would send next, joined.
std::string Pending(const StreamWriter& w) {
  std::array<std::string_view, 64> views;
  std::size_t n = w.peek(views);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += views[i];
  return out;
}

// A writer whose buffer holds `n` bytes.
void Fill(StreamWriter& w, std::size_t n) { ASSERT_TRUE(w.write(std::string(n, 'x')).ok()); }

// Sends until the buffer holds `left` bytes; returns the last release.
WriterRelease SendDownTo(StreamWriter& w, std::size_t left) {
  return w.bytes_sent(w.get_write_buffer_size() - left);
}

// ---- write ---------------------------------------------------------------------

TEST(StreamWriterTest, StartsOpenAndIdle) {
  StreamWriter w;
  EXPECT_EQ(w.state(), WriterState::kOpen);
  EXPECT_EQ(w.action(), WriteAction::kNone);
  EXPECT_EQ(w.get_write_buffer_size(), 0u);
  EXPECT_FALSE(w.is_closing());
  EXPECT_TRUE(w.can_write_eof());
  w.check_invariants();
}

TEST(StreamWriterTest, WriteQueuesBytesForTheDriver) {
  StreamWriter w;
  ASSERT_TRUE(w.write("hello ").ok());
  ASSERT_TRUE(w.write(std::string_view("world")).ok());
  w.check_invariants();
  EXPECT_EQ(w.action(), WriteAction::kSend);
  EXPECT_EQ(w.get_write_buffer_size(), 11u);
  EXPECT_EQ(Pending(w), "hello world");
}

TEST(StreamWriterTest, WriteOfNothingDoesNothing) {
  StreamWriter w;
  ASSERT_TRUE(w.write("").ok());
  ASSERT_TRUE(w.write(std::string()).ok());
  EXPECT_EQ(w.action(), WriteAction::kNone);
  EXPECT_EQ(w.get_write_buffer_size(), 0u);
}

TEST(StreamWriterTest, WriteOfMovedStringTakesItWithoutCopy) {
  StreamWriter w;
  std::string body(64 * 1024, 'b');
  const char* storage = body.data();
  ASSERT_TRUE(w.write(std::move(body)).ok());
  std::array<std::string_view, 4> views;
  ASSERT_EQ(w.peek(views), 1u);
  EXPECT_EQ(views[0].data(), storage);
}

TEST(StreamWriterTest, ManySmallWritesBecomeFewLargeViews) {
  StreamWriter w;
  ASSERT_TRUE(w.set_write_buffer_limits(1 << 20).ok());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(w.write("0123456789").ok());
  w.check_invariants();
  // 100,000 bytes in 16 KiB blocks.
  EXPECT_EQ(w.chunk_count(), 7u);
  std::array<std::string_view, 16> views;
  ASSERT_EQ(w.peek(views), 7u);
  EXPECT_EQ(views[0].size(), OutputQueue::kBlockSize);
}

TEST(StreamWriterTest, WarmedUpWriterDoesNotAllocatePerWrite) {
  StreamWriter w;
  std::array<std::string_view, 16> views;
  // A busy stream: the driver sends all but the last message each time.
  auto cycle = [&] {
    for (int i = 0; i < 50; ++i) (void)w.write("a short message\n");
    (void)w.peek(views);
    (void)w.bytes_sent(w.get_write_buffer_size() - 16);
    (void)w.drain();
  };
  for (int i = 0; i < 100; ++i) cycle();  // warm up
  const std::uint64_t before = testing::allocation_count();
  for (int i = 0; i < 10000; ++i) cycle();
  EXPECT_EQ(testing::allocation_count() - before, 0u);
}

TEST(StreamWriterTest, IdleWriterHoldsNoBuffer) {
  StreamWriter w;
  EXPECT_EQ(w.buffer_capacity(), 0u);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(w.write("a short message\n").ok());
  EXPECT_GT(w.buffer_capacity(), 0u);
  (void)w.bytes_sent(w.get_write_buffer_size());
  EXPECT_EQ(w.buffer_capacity(), 0u);
}

TEST(StreamWriterTest, BytesSentConsumesFromTheFront) {
  StreamWriter w;
  ASSERT_TRUE(w.write("abcdef").ok());
  EXPECT_TRUE(w.bytes_sent(4).empty());
  EXPECT_EQ(Pending(w), "ef");
  EXPECT_TRUE(w.bytes_sent(2).empty());
  EXPECT_EQ(w.action(), WriteAction::kNone);
  w.check_invariants();
}

TEST(StreamWriterTest, WritelinesWritesEachPieceInOrder) {
  StreamWriter w;
  ASSERT_TRUE(w.writelines({"GET / HTTP/1.1\r\n", "Host: x\r\n", "\r\n"}).ok());
  EXPECT_EQ(Pending(w), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST(StreamWriterTest, CountersAddUp) {
  StreamWriter w;
  ASSERT_TRUE(w.write("12345").ok());
  (void)w.bytes_sent(2);
  ASSERT_TRUE(w.write("678").ok());
  w.abort();
  EXPECT_EQ(w.bytes_accepted(), 8u);
  EXPECT_EQ(w.bytes_sent_total(), 2u);
  EXPECT_EQ(w.bytes_dropped(), 6u);
  w.check_invariants();
}

// ---- write after write_eof / close / loss ---------------------------------------

TEST(StreamWriterTest, WriteAfterWriteEofFails) {
  StreamWriter w;
  ASSERT_TRUE(w.write_eof().ok());
  Status s = w.write("late");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kWriteAfterEof);
}

TEST(StreamWriterTest, EmptyWriteAfterWriteEofFails) {
  StreamWriter w;
  ASSERT_TRUE(w.write_eof().ok());
  EXPECT_EQ(w.write("").error().code, StreamErrc::kWriteAfterEof);
  EXPECT_EQ(w.write(std::string()).error().code, StreamErrc::kWriteAfterEof);
}

TEST(StreamWriterTest, WriteAfterWriteEofFailsEvenAfterClose) {
  StreamWriter w;
  ASSERT_TRUE(w.write_eof().ok());
  w.close();
  EXPECT_EQ(w.write("late").error().code, StreamErrc::kWriteAfterEof);
  (void)w.connection_lost();
  EXPECT_EQ(w.write("later").error().code, StreamErrc::kWriteAfterEof);
}

TEST(StreamWriterTest, WritelinesAfterWriteEofFails) {
  StreamWriter w;
  ASSERT_TRUE(w.write_eof().ok());
  EXPECT_EQ(w.writelines({"a", "b"}).error().code, StreamErrc::kWriteAfterEof);
}

TEST(StreamWriterTest, WriteAfterCloseIsDroppedAndCounted) {
  StreamWriter w;
  ASSERT_TRUE(w.write("kept").ok());
  w.close();
  ASSERT_TRUE(w.write("dropped").ok());
  ASSERT_TRUE(w.write(std::string(4096, 'd')).ok());
  EXPECT_EQ(w.writes_dropped(), 2u);
  EXPECT_EQ(Pending(w), "kept");
}

TEST(StreamWriterTest, WriteAfterConnectionLostIsDroppedAndCounted) {
  StreamWriter w;
  (void)w.connection_lost(kReset);
  ASSERT_TRUE(w.write("dropped").ok());
  EXPECT_EQ(w.writes_dropped(), 1u);
  EXPECT_EQ(w.get_write_buffer_size(), 0u);
  EXPECT_EQ(w.action(), WriteAction::kNone);
}

// ---- water marks ---------------------------------------------------------------

TEST(StreamWriterTest, DefaultWaterMarksAre64KiBAnd16KiB) {
  StreamWriter w;
  EXPECT_EQ(w.get_write_buffer_limits(), (WriteBufferLimits{16384, 65536}));
}

TEST(StreamWriterTest, SetLimitsWithOnlyHighSetsLowToAQuarter) {
  StreamWriter w;
  ASSERT_TRUE(w.set_write_buffer_limits(1000).ok());
  EXPECT_EQ(w.get_write_buffer_limits(), (WriteBufferLimits{250, 1000}));
}

TEST(StreamWriterTest, SetLimitsWithOnlyLowSetsHighToFourTimes) {
  StreamWriter w;
  ASSERT_TRUE(w.set_write_buffer_limits(std::nullopt, 100).ok());
  EXPECT_EQ(w.get_write_buffer_limits(), (WriteBufferLimits{100, 400}));
}

TEST(StreamWriterTest, SetLimitsWithNeitherRestoresTheDefaults) {
  StreamWriter w;
  ASSERT_TRUE(w.set_write_buffer_limits(10, 5).ok());
  ASSERT_TRUE(w.set_write_buffer_limits().ok());
  EXPECT_EQ(w.get_write_buffer_limits(), (WriteBufferLimits{16384, 65536}));
}

TEST(StreamWriterTest, SetLimitsWithLowAboveHighIsInvalidAndChangesNothing) {
  StreamWriter w;
  Status s = w.set_write_buffer_limits(10, 11);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kInvalidArgument);
  EXPECT_EQ(w.get_write_buffer_limits(), (WriteBufferLimits{16384, 65536}));
}

TEST(StreamWriterTest, SetLimitsWithNegativeValuesIsInvalid) {
  StreamWriter w;
  EXPECT_EQ(w.set_write_buffer_limits(-1).error().code, StreamErrc::kInvalidArgument);
  EXPECT_EQ(w.set_write_buffer_limits(10, -1).error().code, StreamErrc::kInvalidArgument);
  EXPECT_EQ(w.set_write_buffer_limits(std::nullopt, -4).error().code, StreamErrc::kInvalidArgument);
}

TEST(StreamWriterTest, SetLimitsOfZeroIsAllowed) {
  StreamWriter w;
  ASSERT_TRUE(w.set_write_buffer_limits(0).ok());
  EXPECT_EQ(w.get_write_buffer_limits(), (WriteBufferLimits{0, 0}));
  ASSERT_TRUE(w.write("x").ok());
  EXPECT_TRUE(w.write_paused());
}

TEST(StreamWriterTest, BufferAtTheHighMarkDoesNotPause) {
  StreamWriter w;
  Fill(w, kDefaultHighWater);
  EXPECT_FALSE(w.write_paused());
}

TEST(StreamWriterTest, BufferAboveTheHighMarkPauses) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  EXPECT_TRUE(w.write_paused());
  w.check_invariants();
}

TEST(StreamWriterTest, LoweringTheHighMarkPauses) {
  StreamWriter w;
  Fill(w, 1000);
  ASSERT_FALSE(w.write_paused());
  ASSERT_TRUE(w.set_write_buffer_limits(999).ok());
  EXPECT_TRUE(w.write_paused());
}

TEST(StreamWriterTest, RaisingTheLimitsDoesNotResumeUntilTheNextSend) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  ASSERT_EQ(w.drain(), std::nullopt);
  ASSERT_TRUE(w.set_write_buffer_limits(1 << 20).ok());
  EXPECT_TRUE(w.write_paused());
  WriterRelease r = w.bytes_sent(1);
  EXPECT_FALSE(w.write_paused());
  EXPECT_EQ(r.drain, Status(Ok{}));
}

// ---- drain ---------------------------------------------------------------------

TEST(StreamWriterTest, DrainCompletesAtOnceWhenNotPaused) {
  StreamWriter w;
  Fill(w, kDefaultHighWater);
  EXPECT_EQ(w.drain(), Status(Ok{}));
}

TEST(StreamWriterTest, DrainPendsWhilePaused) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  EXPECT_EQ(w.drain(), std::nullopt);
  w.check_invariants();
}

TEST(StreamWriterTest, DrainIsReleasedWhenTheBufferFallsToTheLowMark) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  ASSERT_EQ(w.drain(), std::nullopt);
  EXPECT_TRUE(SendDownTo(w, kDefaultLowWater + 1).empty());
  EXPECT_EQ(w.drain(), std::nullopt);  // still paused: the low mark decides
  WriterRelease r = SendDownTo(w, kDefaultLowWater);
  EXPECT_EQ(r.drain, Status(Ok{}));
  EXPECT_FALSE(r.closed);
  EXPECT_EQ(w.get_write_buffer_size(), kDefaultLowWater);  // not a full flush
  EXPECT_EQ(w.drain(), Status(Ok{}));
}

TEST(StreamWriterTest, SeveralPendingDrainsAreReleasedTogether) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(w.drain(), std::nullopt);
  WriterRelease r = SendDownTo(w, 0);
  EXPECT_EQ(r.drain, Status(Ok{}));  // one release for all ten
}

TEST(StreamWriterTest, ResumeWithoutPendingDrainsReleasesNothing) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  WriterRelease r = SendDownTo(w, 0);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(w.write_paused());
}

TEST(StreamWriterTest, ConnectionLostWithErrorFailsPendingDrains) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  ASSERT_EQ(w.drain(), std::nullopt);
  WriterRelease r = w.connection_lost(kBrokenPipe);
  EXPECT_EQ(r.drain, ConnectionError(kBrokenPipe));
}

TEST(StreamWriterTest, CleanConnectionLossReleasesPausedDrainsNormally) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  ASSERT_EQ(w.drain(), std::nullopt);
  WriterRelease r = w.connection_lost();
  EXPECT_EQ(r.drain, Status(Ok{}));
}

TEST(StreamWriterTest, DrainAfterCleanLossFailsWithConnectionLost) {
  StreamWriter w;
  (void)w.connection_lost();
  StatusPoll p = w.drain();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, ConnectionLost());
}

TEST(StreamWriterTest, DrainAfterLossWithErrorFailsWithThatError) {
  StreamWriter w;
  (void)w.connection_lost(kBrokenPipe);
  EXPECT_EQ(w.drain(), StatusPoll(ConnectionError(kBrokenPipe)));
  EXPECT_EQ(w.drain(), StatusPoll(ConnectionError(kBrokenPipe)));
}

TEST(StreamWriterTest, DrainAfterCloseWaitsForTheLossThenFailsWithConnectionLost) {
  StreamWriter w;
  w.close();
  ASSERT_EQ(w.drain(), std::nullopt);  // asyncio's one yield
  ASSERT_EQ(w.action(), WriteAction::kClose);
  WriterRelease r = w.connection_lost();
  EXPECT_EQ(r.drain, ConnectionLost());
}

TEST(StreamWriterTest, DrainAfterCloseWithQueuedBytesWaitsForFlushAndClose) {
  StreamWriter w;
  ASSERT_TRUE(w.write("bye").ok());
  w.close();
  ASSERT_EQ(w.drain(), std::nullopt);
  EXPECT_TRUE(w.bytes_sent(3).empty());
  ASSERT_EQ(w.action(), WriteAction::kClose);
  EXPECT_EQ(w.connection_lost().drain, ConnectionLost());
}

TEST(StreamWriterTest, DrainWhileClosingAndPausedIsReleasedByTheResume) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  w.close();
  ASSERT_EQ(w.drain(), std::nullopt);
  WriterRelease r = SendDownTo(w, kDefaultLowWater);
  EXPECT_EQ(r.drain, Status(Ok{}));  // asyncio: returns although closed
}

TEST(StreamWriterTest, DrainPendingWhileClosingFailsWithTheLossError) {
  StreamWriter w;
  w.close();
  ASSERT_EQ(w.drain(), std::nullopt);
  EXPECT_EQ(w.connection_lost(kBrokenPipe).drain, ConnectionError(kBrokenPipe));
}

// ---- write_eof -----------------------------------------------------------------

TEST(StreamWriterTest, WriteEofIsSentAfterEverythingQueued) {
  StreamWriter w;
  ASSERT_TRUE(w.write("last words").ok());
  ASSERT_TRUE(w.write_eof().ok());
  EXPECT_EQ(w.state(), WriterState::kEofQueued);
  EXPECT_EQ(w.action(), WriteAction::kSend);
  (void)w.bytes_sent(5);
  EXPECT_EQ(w.action(), WriteAction::kSend);
  (void)w.bytes_sent(5);
  EXPECT_EQ(w.action(), WriteAction::kShutdownWrite);
  w.eof_sent();
  EXPECT_EQ(w.state(), WriterState::kEofSent);
  EXPECT_EQ(w.action(), WriteAction::kNone);
  EXPECT_FALSE(w.is_closing());
  w.check_invariants();
}

TEST(StreamWriterTest, WriteEofTwiceIsANoOp) {
  StreamWriter w;
  ASSERT_TRUE(w.write_eof().ok());
  w.eof_sent();
  ASSERT_TRUE(w.write_eof().ok());
  EXPECT_EQ(w.state(), WriterState::kEofSent);
  EXPECT_EQ(w.action(), WriteAction::kNone);
}

TEST(StreamWriterTest, WriteEofWhenClosingIsANoOpAndLaterWritesAreDropped) {
  StreamWriter w;
  w.close();
  ASSERT_TRUE(w.write_eof().ok());
  EXPECT_EQ(w.state(), WriterState::kClosing);
  EXPECT_TRUE(w.write("x").ok());  // dropped, not kWriteAfterEof
  EXPECT_EQ(w.writes_dropped(), 1u);
}

TEST(StreamWriterTest, WriteEofFailsWhenTheTransportCannotHalfClose) {
  StreamWriter w(StreamWriterOptions{.can_write_eof = false});
  EXPECT_FALSE(w.can_write_eof());
  Status s = w.write_eof();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kNotSupported);
  EXPECT_EQ(w.state(), WriterState::kOpen);
  EXPECT_TRUE(w.write("still writable").ok());
}

TEST(StreamWriterTest, CloseAfterWriteEofClosesInsteadOfShuttingDown) {
  StreamWriter w;
  ASSERT_TRUE(w.write("x").ok());
  ASSERT_TRUE(w.write_eof().ok());
  w.close();
  (void)w.bytes_sent(1);
  EXPECT_EQ(w.action(), WriteAction::kClose);
}

// ---- close, abort, wait_closed ---------------------------------------------------

TEST(StreamWriterTest, CloseFlushesThenAsksToClose) {
  StreamWriter w;
  ASSERT_TRUE(w.write("flush me").ok());
  w.close();
  EXPECT_TRUE(w.is_closing());
  EXPECT_EQ(w.state(), WriterState::kClosing);
  EXPECT_EQ(w.action(), WriteAction::kSend);
  (void)w.bytes_sent(8);
  EXPECT_EQ(w.action(), WriteAction::kClose);
  (void)w.connection_lost();
  EXPECT_EQ(w.state(), WriterState::kClosed);
  EXPECT_EQ(w.action(), WriteAction::kNone);
  w.check_invariants();
}

TEST(StreamWriterTest, CloseIsIdempotent) {
  StreamWriter w;
  w.close();
  w.close();
  EXPECT_EQ(w.state(), WriterState::kClosing);
  (void)w.connection_lost();
  w.close();
  EXPECT_EQ(w.state(), WriterState::kClosed);
}

TEST(StreamWriterTest, IsClosingAfterCloseAbortOrLoss) {
  StreamWriter a, b, c;
  a.close();
  b.abort();
  (void)c.connection_lost();
  EXPECT_TRUE(a.is_closing());
  EXPECT_TRUE(b.is_closing());
  EXPECT_TRUE(c.is_closing());
}

TEST(StreamWriterTest, AbortDropsQueuedBytesAndAsksToAbort) {
  StreamWriter w;
  ASSERT_TRUE(w.write("never sent").ok());
  w.abort();
  EXPECT_EQ(w.state(), WriterState::kAborting);
  EXPECT_EQ(w.action(), WriteAction::kAbort);
  EXPECT_EQ(w.get_write_buffer_size(), 0u);
  EXPECT_EQ(w.bytes_dropped(), 10u);
  w.check_invariants();
}

TEST(StreamWriterTest, AbortAfterCloseStillAborts) {
  StreamWriter w;
  ASSERT_TRUE(w.write("pending").ok());
  w.close();
  w.abort();
  EXPECT_EQ(w.action(), WriteAction::kAbort);
  EXPECT_EQ(w.get_write_buffer_size(), 0u);
}

TEST(StreamWriterTest, AbortLeavesPausedDrainsPendingUntilTheLoss) {
  StreamWriter w;
  Fill(w, kDefaultHighWater + 1);
  ASSERT_EQ(w.drain(), std::nullopt);
  w.abort();
  EXPECT_TRUE(w.write_paused());
  EXPECT_EQ(w.drain(), std::nullopt);
  EXPECT_EQ(w.connection_lost().drain, Status(Ok{}));
}

TEST(StreamWriterTest, WaitClosedPendsUntilTheConnectionIsLost) {
  StreamWriter w;
  EXPECT_EQ(w.wait_closed(), std::nullopt);
  w.close();
  EXPECT_EQ(w.wait_closed(), std::nullopt);
  WriterRelease r = w.connection_lost();
  EXPECT_EQ(r.closed, Status(Ok{}));
  EXPECT_FALSE(r.drain);
}

TEST(StreamWriterTest, WaitClosedFailsWithTheLossError) {
  StreamWriter w;
  ASSERT_EQ(w.wait_closed(), std::nullopt);
  EXPECT_EQ(w.connection_lost(kReset).closed, ConnectionError(kReset));
  EXPECT_EQ(w.wait_closed(), StatusPoll(ConnectionError(kReset)));
}

TEST(StreamWriterTest, WaitClosedAfterACleanLossCompletesAtOnceEveryTime) {
  StreamWriter w;
  w.close();
  (void)w.connection_lost();
  const StatusPoll ok(std::in_place, Ok{});
  EXPECT_EQ(w.wait_closed(), ok);
  EXPECT_EQ(w.wait_closed(), ok);
}

TEST(StreamWriterTest, LossWithNobodyWaitingReleasesNothing) {
  StreamWriter w;
  EXPECT_TRUE(w.connection_lost().empty());
}

TEST(StreamWriterTest, ConnectionLostDropsQueuedBytes) {
  StreamWriter w;
  ASSERT_TRUE(w.write("unsent").ok());
  (void)w.connection_lost(kReset);
  EXPECT_EQ(w.get_write_buffer_size(), 0u);
  EXPECT_EQ(w.bytes_dropped(), 6u);
  EXPECT_EQ(w.lost_error(), kReset);
  w.check_invariants();
}

TEST(StreamWriterTest, StatesAndActionsHaveNames) {
  EXPECT_EQ(to_string(WriterState::kEofQueued), "kEofQueued");
  EXPECT_EQ(to_string(WriterState::kClosed), "kClosed");
  EXPECT_EQ(to_string(WriteAction::kShutdownWrite), "kShutdownWrite");
}


TEST(StreamWriterTest, LossWithAStreamErrorFailsWaitersWithIt) {
  StreamWriter w;
  ASSERT_TRUE(w.write(std::string(kDefaultHighWater + 1, 'x')).ok());
  ASSERT_EQ(w.drain(), std::nullopt);
  ASSERT_EQ(w.wait_closed(), std::nullopt);
  const StreamError tls = StreamError::tls("TLS error", "decryption failed");
  WriterRelease r = w.connection_lost(tls);
  EXPECT_EQ(r.drain, Status(tls));
  EXPECT_EQ(r.closed, Status(tls));
  EXPECT_EQ(w.drain(), StatusPoll(tls));
  EXPECT_EQ(w.wait_closed(), StatusPoll(tls));
  EXPECT_EQ(w.lost_error(), make_error_code(StreamErrc::kTlsError));
  w.check_invariants();
}

TEST(StreamWriterTest, CanWriteEofCanBeTurnedOff) {
  StreamWriter w;
  w.set_can_write_eof(false);
  EXPECT_FALSE(w.can_write_eof());
  EXPECT_EQ(w.write_eof().error().code, StreamErrc::kNotSupported);
}


TEST(StreamWriterTest, PooledWriterQueuesIntoAPoolBlock) {
  BufferPool pool(8192, 4);
  StreamWriter w(StreamWriterOptions{.pool = &pool});
  ASSERT_TRUE(w.write("reply\n").ok());
  EXPECT_EQ(w.buffer_capacity(), 8192u);
  EXPECT_EQ(pool.in_use(), 1u);
}

TEST(StreamWriterTest, PooledWriterGivesTheBlockBackWhenDrained) {
  BufferPool pool(8192, 4);
  StreamWriter w(StreamWriterOptions{.pool = &pool});
  ASSERT_TRUE(w.write("reply\n").ok());
  EXPECT_TRUE(w.bytes_sent(6).empty());
  EXPECT_EQ(w.buffer_capacity(), 0u);
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(StreamWriterTest, PooledWriterGivesTheBlockBackOnAbort) {
  BufferPool pool(8192, 4);
  StreamWriter w(StreamWriterOptions{.pool = &pool});
  ASSERT_TRUE(w.write("never sent").ok());
  w.abort();
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(StreamWriterTest, PooledWriterAllocatesNothingPerRequest) {
  BufferPool pool(8192, 4);
  StreamWriter w(StreamWriterOptions{.pool = &pool});
  auto request = [&] {
    const bool ok = w.write("reply\n").ok();
    return ok && w.bytes_sent(6).empty();
  };
  (void)request();  // the pool's block
  int good = 0;
  const std::uint64_t before = testing::allocation_count();
  for (int i = 0; i < 1000; ++i) good += request() ? 1 : 0;
  const std::uint64_t allocations = testing::allocation_count() - before;
  EXPECT_EQ(good, 1000);
  EXPECT_EQ(allocations, 0u);  // neither a block nor a chunk ring
}

TEST(StreamWriterTest, PooledWriterAllocatesNoBlockPerRequest) {
  BufferPool pool(8192, 4);
  StreamWriter w(StreamWriterOptions{.pool = &pool});
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(w.write("reply\n").ok());
    EXPECT_TRUE(w.bytes_sent(6).empty());
  }
  EXPECT_EQ(pool.allocations(), 1u);
  EXPECT_EQ(pool.reuses(), 99u);
}

}  // namespace
}  // namespace sluice
