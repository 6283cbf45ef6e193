// Replays every checked-in conformance vector that is not chunk_sensitive on
// the libevent backend, over a real loopback TCP connection
// (libevent_replay.h), and compares the result lines with the reference
// results in conformance/expected/NAME.jsonl (testing/vector_files.h), as
// shared/conformance-vectors.md requires of a network backend. One
// event_base serves every vector (never freed: it outlives every test).

#include <event2/event.h>

#include <string>
#include <vector>

#include "conformance/libevent_replay.h"
#include "conformance/runner.h"
#include "conformance/testing/vector_files.h"
#include "conformance/vector.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

event_base* shared_base() {
  static event_base* base = event_base_new();
  return base;
}

TEST(LibeventVectorsTest, FindsVectorsThatAreNotChunkSensitive) {
  EXPECT_FALSE(network_vector_names().empty())
      << "no vector without chunk_sensitive in " << (conformance_dir() / "vectors");
}

class LibeventVectorReplayTest : public testing::TestWithParam<std::string> {};

TEST_P(LibeventVectorReplayTest, LibeventMatchesExpected) {
  Result<VectorCase, std::string> c = load_vector_case(GetParam());
  ASSERT_TRUE(c.ok()) << c.error();
  LibeventReplayBackend backend(shared_base());
  const std::vector<std::string> actual = run_vector(c->vector, backend);
  EXPECT_FALSE(backend.error()) << *backend.error();
  const std::string difference = compare_results(c->name, c->expected, actual);
  EXPECT_TRUE(difference.empty()) << difference;
}

INSTANTIATE_TEST_SUITE_P(Vectors, LibeventVectorReplayTest,
                         testing::ValuesIn(network_vector_names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return identifier(info.param);
                         });
// With no vectors, FindsVectorsThatAreNotChunkSensitive explains it.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(LibeventVectorReplayTest);

}  // namespace
}  // namespace sluice::conformance
