// File: conformance/testing/network_replay_cases.h
//
// The hand-written vectors every network replay backend (a
// LoopbackReplayBackend, loopback_replay.h) must replay alike: the network
// tool's rules (a read waits for a feed; bytes fed while the reader is paused
// stay in the socket; a reset fails the reads that follow, even with bytes
// buffered; the lines a real connection cannot carry are skipped), and no
// descriptor left behind. A type-parameterized GoogleTest suite; each
// backend's test instantiates it with its Harness:
//
//   struct AsioHarness {
//     asio::io_context io;
//     std::unique_ptr<LoopbackReplayBackend> make() {
//       return std::make_unique<AsioReplayBackend>(io);
//     }
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Asio, NetworkReplayTest, AsioHarness);
//
// A Harness is default-constructible and owns one event loop, shared by every
// backend its make() returns (as the replay tool shares one for all vectors).

#ifndef SLUICE_CONFORMANCE_TESTING_NETWORK_REPLAY_CASES_H_
#define SLUICE_CONFORMANCE_TESTING_NETWORK_REPLAY_CASES_H_


#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/loopback_replay.h"
#include "conformance/runner.h"
#include "conformance/vector.h"
#include "core/testing/fd_count.h"
#include "gtest/gtest.h"

namespace sluice::conformance {

using Lines = std::vector<std::string>;

// fd_count: open descriptors of this process.
using sluice::testing::fd_count;

template <typename Harness>
class NetworkReplayTest : public ::testing::Test {
 protected:
  // replay: the vector in `text` (JSON Lines) on a fresh backend; a backend
  // error fails the test.
  Lines replay(std::string_view text) {
    Parsed<Vector> v = parse_vector(text);
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
    if (!v.ok()) return {};
    std::unique_ptr<LoopbackReplayBackend> backend = harness_.make();
    Lines lines = run_vector(*v, *backend);
    EXPECT_FALSE(backend->error()) << *backend->error();
    return lines;
  }

 private:
  Harness harness_;
};

TYPED_TEST_SUITE_P(NetworkReplayTest);

TYPED_TEST_P(NetworkReplayTest, ReadlineWaitsAndTheFeedCompletesIt) {
  EXPECT_EQ(this->replay(R"({"op":"readline"}
{"op":"feed","hex":"68690a"}
)"),
            Lines{R"({"i":0,"hex":"68690a"})"});
}

TYPED_TEST_P(NetworkReplayTest, BytesFedWhileTheReaderIsPausedStayInTheSocketUntilAReadResumesIt) {
  // limit 2: 5 bytes pause reading, so "fgh" waits in the socket; the first
  // read drains the buffer and resumes reading.
  EXPECT_EQ(this->replay(R"({"op":"config","limit":2}
{"op":"feed","hex":"6162636465"}
{"op":"feed","hex":"666768"}
{"op":"read","n":100}
{"op":"read","n":100}
)"),
            (Lines{R"({"i":3,"hex":"6162636465"})", R"({"i":4,"hex":"666768"})"}));
}

TYPED_TEST_P(NetworkReplayTest, SetExceptionFailsTheReadsThatFollowEvenWithBytesBuffered) {
  EXPECT_EQ(this->replay(R"({"op":"feed","hex":"6162"}
{"op":"set_exception"}
{"op":"read","n":1}
)"),
            Lines{R"({"i":2,"error":"connection_error"})"});
}

TYPED_TEST_P(NetworkReplayTest, SetExceptionCompletesAWaitingRead) {
  EXPECT_EQ(this->replay(R"({"op":"readexactly","n":4}
{"op":"feed","hex":"6162"}
{"op":"set_exception"}
)"),
            Lines{R"({"i":0,"error":"connection_error"})"});
}

TYPED_TEST_P(NetworkReplayTest, FeedEofAfterSetExceptionNeverArrives) {
  // The reference says true: asyncio's feed_eof() after set_exception().
  EXPECT_EQ(this->replay(R"({"op":"set_exception"}
{"op":"feed_eof"}
{"op":"at_eof"}
)"),
            Lines{R"({"i":2,"bool":false})"});
}

TYPED_TEST_P(NetworkReplayTest, SetExceptionAfterFeedEofNeverReachesTheReader) {
  // The reference says connection_error; the reader stopped reading at EOF.
  EXPECT_EQ(this->replay(R"({"op":"feed","hex":"6162"}
{"op":"feed_eof"}
{"op":"set_exception"}
{"op":"read","n":-1}
)"),
            Lines{R"({"i":3,"hex":"6162"})"});
}

TYPED_TEST_P(NetworkReplayTest, ReadStillWaitingAtTheEndIsPrintedAsPending) {
  EXPECT_EQ(this->replay(R"({"op":"readline"}
{"op":"feed","hex":"6869"}
)"),
            Lines{R"({"i":0,"pending":true})"});
}

TYPED_TEST_P(NetworkReplayTest, ZeroLimitIsInvalidArgument) {
  EXPECT_EQ(this->replay(R"({"op":"config","limit":0}
{"op":"feed","hex":"0a"}
)"),
            Lines{R"({"i":0,"error":"invalid_argument"})"});
}

TYPED_TEST_P(NetworkReplayTest, ManyVectorsOnOneLoopLeaveNoDescriptorOpen) {
  (void)this->replay(R"({"op":"feed","hex":"0a"}
)");  // the loop's own descriptors (epoll, eventfd...) now exist
  const int before = fd_count();
  for (int k = 0; k < 50; ++k) {
    (void)this->replay(R"({"op":"config","limit":4}
{"op":"readline"}
{"op":"feed","hex":"6162636465666768696a"}
{"op":"feed_eof"}
)");
  }
  EXPECT_EQ(fd_count(), before);
}

REGISTER_TYPED_TEST_SUITE_P(NetworkReplayTest, ReadlineWaitsAndTheFeedCompletesIt,
                            BytesFedWhileTheReaderIsPausedStayInTheSocketUntilAReadResumesIt,
                            SetExceptionFailsTheReadsThatFollowEvenWithBytesBuffered,
                            SetExceptionCompletesAWaitingRead, FeedEofAfterSetExceptionNeverArrives,
                            SetExceptionAfterFeedEofNeverReachesTheReader,
                            ReadStillWaitingAtTheEndIsPrintedAsPending, ZeroLimitIsInvalidArgument,
                            ManyVectorsOnOneLoopLeaveNoDescriptorOpen);

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_TESTING_NETWORK_REPLAY_CASES_H_
