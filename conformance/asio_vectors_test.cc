// Replays every checked-in conformance vector that is not chunk_sensitive on
// the Asio backend, over a real loopback TCP connection (asio_replay.h), and
// compares the result lines with the reference results in
// conformance/expected/NAME.jsonl (testing/vector_files.h), as
// shared/conformance-vectors.md requires of a network backend. One
// io_context serves every vector.

#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "conformance/asio_replay.h"
#include "conformance/runner.h"
#include "conformance/testing/vector_files.h"
#include "conformance/vector.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

asio::io_context& shared_io() {
  static asio::io_context io;
  return io;
}

TEST(AsioVectorsTest, FindsVectorsThatAreNotChunkSensitive) {
  EXPECT_FALSE(network_vector_names().empty())
      << "no vector without chunk_sensitive in " << (conformance_dir() / "vectors");
}

class AsioVectorReplayTest : public testing::TestWithParam<std::string> {};

TEST_P(AsioVectorReplayTest, AsioMatchesExpected) {
  Result<VectorCase, std::string> c = load_vector_case(GetParam());
  ASSERT_TRUE(c.ok()) << c.error();
  AsioReplayBackend backend(shared_io());
  const std::vector<std::string> actual = run_vector(c->vector, backend);
  EXPECT_FALSE(backend.error()) << *backend.error();
  const std::string difference = compare_results(c->name, c->expected, actual);
  EXPECT_TRUE(difference.empty()) << difference;
}

INSTANTIATE_TEST_SUITE_P(Vectors, AsioVectorReplayTest, testing::ValuesIn(network_vector_names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return identifier(info.param);
                         });
// With no vectors, FindsVectorsThatAreNotChunkSensitive explains it.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(AsioVectorReplayTest);

}  // namespace
}  // namespace sluice::conformance
