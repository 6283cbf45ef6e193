// Hand-written vectors replayed on the core (CoreReplayBackend + run_vector).

#include "conformance/core_replay.h"

#include <string>
#include <string_view>
#include <vector>

#include "conformance/runner.h"
#include "conformance/vector.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

using Lines = std::vector<std::string>;

// Replays the vector in `text` (JSON Lines) on the core.
Lines replay(std::string_view text) {
  Parsed<Vector> v = parse_vector(text);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
  if (!v.ok()) return {};
  return replay_on_core(*v);
}

TEST(CoreReplayTest, ReadlineWaitsAndTheFeedCompletesIt) {
  EXPECT_EQ(replay(R"({"op":"readline"}
{"op":"feed","hex":"68690a"}
)"),
            Lines{R"({"i":0,"hex":"68690a"})"});
}

TEST(CoreReplayTest, ReadThatNeverCompletesIsPrintedAsPendingAtTheEnd) {
  EXPECT_EQ(replay(R"({"op":"config","limit":16}
{"op":"readline"}
{"op":"feed","hex":"6869"}
{"op":"at_eof"}
)"),
            (Lines{R"({"i":3,"bool":false})", R"({"i":1,"pending":true})"}));
}

TEST(CoreReplayTest, SecondReadThatMustWaitIsConcurrentRead) {
  EXPECT_EQ(replay(R"({"op":"readline"}
{"op":"readexactly","n":2}
{"op":"feed","hex":"0a"}
)"),
            (Lines{R"({"i":1,"error":"concurrent_read"})", R"({"i":0,"hex":"0a"})"}));
}

TEST(CoreReplayTest, SecondReadThatCanCompleteAtOnceIsPrintedBeforeThePendingOne) {
  EXPECT_EQ(replay(R"({"op":"readexactly","n":3}
{"op":"read","n":0}
{"op":"feed","hex":"616263"}
)"),
            (Lines{R"({"i":1,"hex":""})", R"({"i":0,"hex":"616263"})"}));
}

TEST(CoreReplayTest, ZeroLimitIsInvalidArgumentAndTheRestIsIgnored) {
  EXPECT_EQ(replay(R"({"op":"config","limit":0}
{"op":"feed","hex":"0a"}
{"op":"readline"}
)"),
            Lines{R"({"i":0,"error":"invalid_argument"})"});
}

TEST(CoreReplayTest, NegativeLimitIsInvalidArgument) {
  EXPECT_EQ(replay(R"({"op":"config","limit":-1}
{"op":"readline"}
)"),
            Lines{R"({"i":0,"error":"invalid_argument"})"});
}

TEST(CoreReplayTest, ReadexactlyAtEofIsIncompleteReadWithExpected) {
  EXPECT_EQ(replay(R"({"op":"feed","hex":"6869"}
{"op":"readexactly","n":4}
{"op":"feed_eof"}
)"),
            Lines{R"({"i":1,"error":"incomplete_read","partial":"6869","expected":4})"});
}

TEST(CoreReplayTest, ReaduntilAtEofIsIncompleteReadWithNullExpected) {
  EXPECT_EQ(replay(R"({"op":"feed","hex":"6869"}
{"op":"feed_eof"}
{"op":"readuntil","sep":"0d0a"}
)"),
            Lines{R"({"i":2,"error":"incomplete_read","partial":"6869","expected":null})"});
}

TEST(CoreReplayTest, ReaduntilOverTheLimitReportsConsumed) {
  // "abcde\n" with limit 4: the separator is found at 5, past the limit.
  EXPECT_EQ(replay(R"({"op":"config","limit":4}
{"op":"feed","hex":"61626364650a"}
{"op":"readuntil","sep":"0a"}
)"),
            Lines{R"({"i":2,"error":"limit_overrun","consumed":5})"});
}

TEST(CoreReplayTest, ReadlineOverTheLimitHasNoConsumed) {
  EXPECT_EQ(replay(R"({"op":"config","limit":4}
{"op":"feed","hex":"61626364650a6869"}
{"op":"readline"}
{"op":"read","n":-1}
{"op":"feed_eof"}
)"),
            (Lines{R"({"i":2,"error":"limit_overrun"})", R"({"i":3,"hex":"6869"})"}));
}

TEST(CoreReplayTest, ReaduntilWithASeparatorListTakesTheEarliestEnd) {
  EXPECT_EQ(replay(R"({"op":"feed","hex":"610d0a62"}
{"op":"readuntil","sep":["0d0a","0a"]}
{"op":"readuntil","sep":["0a","62"]}
)"),
            (Lines{R"({"i":1,"hex":"610d0a"})", R"({"i":2,"hex":"62"})"}));
}

TEST(CoreReplayTest, EmptySeparatorIsInvalidArgument) {
  EXPECT_EQ(replay(R"({"op":"readuntil","sep":""}
{"op":"readuntil","sep":[]}
{"op":"readuntil","sep":["0a",""]}
)"),
            (Lines{R"({"i":0,"error":"invalid_argument"})", R"({"i":1,"error":"invalid_argument"})",
                   R"({"i":2,"error":"invalid_argument"})"}));
}

TEST(CoreReplayTest, SetExceptionFailsThePendingRead) {
  EXPECT_EQ(replay(R"({"op":"readline"}
{"op":"set_exception"}
)"),
            Lines{R"({"i":0,"error":"connection_error"})"});
}

TEST(CoreReplayTest, ConnectionErrorWinsOverBufferedData) {
  EXPECT_EQ(replay(R"({"op":"feed","hex":"68690a"}
{"op":"set_exception"}
{"op":"readline"}
{"op":"read","n":0}
)"),
            (Lines{R"({"i":2,"error":"connection_error"})", R"({"i":3,"error":"connection_error"})"}));
}

TEST(CoreReplayTest, BadArgumentWinsOverConnectionError) {
  EXPECT_EQ(replay(R"({"op":"set_exception"}
{"op":"readexactly","n":-1}
)"),
            Lines{R"({"i":1,"error":"invalid_argument"})"});
}

TEST(CoreReplayTest, ReadAllCollectsUntilEof) {
  EXPECT_EQ(replay(R"({"op":"read","n":-1}
{"op":"feed","hex":"61"}
{"op":"feed","hex":"62"}
{"op":"feed_eof"}
{"op":"at_eof"}
)"),
            (Lines{R"({"i":0,"hex":"6162"})", R"({"i":4,"bool":true})"}));
}

TEST(CoreReplayTest, AtEofNeedsEofAndAnEmptyBuffer) {
  EXPECT_EQ(replay(R"({"op":"feed","hex":"61"}
{"op":"feed_eof"}
{"op":"at_eof"}
{"op":"read","n":1}
{"op":"at_eof"}
)"),
            (Lines{R"({"i":2,"bool":false})", R"({"i":3,"hex":"61"})", R"({"i":4,"bool":true})"}));
}

TEST(CoreReplayTest, EmptyVectorPrintsNothing) { EXPECT_EQ(replay(""), Lines{}); }

TEST(CoreReplayTest, BackendHasNoReaderBeforeOpen) {
  CoreReplayBackend backend;
  EXPECT_EQ(backend.reader(), nullptr);
  ASSERT_TRUE(backend.open(4).ok());
  ASSERT_NE(backend.reader(), nullptr);
  EXPECT_EQ(backend.reader()->limit(), 4u);
}

}  // namespace
}  // namespace sluice::conformance
