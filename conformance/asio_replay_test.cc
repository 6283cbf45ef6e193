// Hand-written vectors replayed on the Asio backend over loopback TCP
// (AsioReplayBackend + run_vector): the network tool's rules.

#include "conformance/asio_replay.h"

#include <dirent.h>

#include <string>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>

#include "conformance/runner.h"
#include "conformance/vector.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

using Lines = std::vector<std::string>;

// Replays the vector in `text` (JSON Lines) on the Asio backend; a backend
// error fails the test.
Lines replay(asio::io_context& io, std::string_view text) {
  Parsed<Vector> v = parse_vector(text);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
  if (!v.ok()) return {};
  AsioReplayBackend backend(io);
  Lines lines = run_vector(*v, backend);
  EXPECT_FALSE(backend.error()) << *backend.error();
  return lines;
}

int fd_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

TEST(AsioReplayTest, ReadlineWaitsAndTheFeedCompletesIt) {
  asio::io_context io;
  EXPECT_EQ(replay(io, R"({"op":"readline"}
{"op":"feed","hex":"68690a"}
)"),
            Lines{R"({"i":0,"hex":"68690a"})"});
}

TEST(AsioReplayTest, BytesFedWhileTheReaderIsPausedStayInTheSocketUntilAReadResumesIt) {
  asio::io_context io;
  // limit 2: 5 bytes pause reading, so "fgh" waits in the socket; the first
  // read drains the buffer and resumes reading.
  EXPECT_EQ(replay(io, R"({"op":"config","limit":2}
{"op":"feed","hex":"6162636465"}
{"op":"feed","hex":"666768"}
{"op":"read","n":100}
{"op":"read","n":100}
)"),
            (Lines{R"({"i":3,"hex":"6162636465"})", R"({"i":4,"hex":"666768"})"}));
}

TEST(AsioReplayTest, SetExceptionFailsTheReadsThatFollowEvenWithBytesBuffered) {
  asio::io_context io;
  EXPECT_EQ(replay(io, R"({"op":"feed","hex":"6162"}
{"op":"set_exception"}
{"op":"read","n":1}
)"),
            Lines{R"({"i":2,"error":"connection_error"})"});
}

TEST(AsioReplayTest, SetExceptionCompletesAWaitingRead) {
  asio::io_context io;
  EXPECT_EQ(replay(io, R"({"op":"readexactly","n":4}
{"op":"feed","hex":"6162"}
{"op":"set_exception"}
)"),
            Lines{R"({"i":0,"error":"connection_error"})"});
}

TEST(AsioReplayTest, FeedEofAfterSetExceptionNeverArrives) {
  asio::io_context io;
  // The reference says true: asyncio's feed_eof() after set_exception().
  EXPECT_EQ(replay(io, R"({"op":"set_exception"}
{"op":"feed_eof"}
{"op":"at_eof"}
)"),
            Lines{R"({"i":2,"bool":false})"});
}

TEST(AsioReplayTest, SetExceptionAfterFeedEofNeverReachesTheReader) {
  asio::io_context io;
  // The reference says connection_error; the reader stopped reading at EOF.
  EXPECT_EQ(replay(io, R"({"op":"feed","hex":"6162"}
{"op":"feed_eof"}
{"op":"set_exception"}
{"op":"read","n":-1}
)"),
            Lines{R"({"i":3,"hex":"6162"})"});
}

TEST(AsioReplayTest, ReadStillWaitingAtTheEndIsPrintedAsPending) {
  asio::io_context io;
  EXPECT_EQ(replay(io, R"({"op":"readline"}
{"op":"feed","hex":"6869"}
)"),
            Lines{R"({"i":0,"pending":true})"});
}

TEST(AsioReplayTest, ZeroLimitIsInvalidArgument) {
  asio::io_context io;
  EXPECT_EQ(replay(io, R"({"op":"config","limit":0}
{"op":"feed","hex":"0a"}
)"),
            Lines{R"({"i":0,"error":"invalid_argument"})"});
}

TEST(AsioReplayTest, ManyVectorsOnOneContextLeaveNoDescriptorOpen) {
  asio::io_context io;
  (void)replay(io, R"({"op":"feed","hex":"0a"}
)");  // the context's own descriptors (epoll, eventfd) now exist
  const int before = fd_count();
  for (int k = 0; k < 50; ++k) {
    (void)replay(io, R"({"op":"config","limit":4}
{"op":"readline"}
{"op":"feed","hex":"6162636465666768696a"}
{"op":"feed_eof"}
)");
  }
  EXPECT_EQ(fd_count(), before);
}

}  // namespace
}  // namespace sluice::conformance
