// Replays every checked-in conformance vector that is not chunk_sensitive on
// the Asio backend, over a real loopback TCP connection (asio_replay.h), and
// compares the result lines with the reference results in
// conformance/expected/NAME.jsonl (testing/vector_files.h), as
// shared/conformance-vectors.md requires of a network backend. One
// io_context serves every vector.

#include <cctype>
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

// The names of the vectors a network backend must match (unparsable ones
// included, so their test reports the problem).
std::vector<std::string> network_vector_names() {
  std::vector<std::string> names;
  for (const std::string& name : vector_names()) {
    Result<VectorCase, std::string> c = load_vector_case(name);
    if (!c.ok() || !c->vector.chunk_sensitive()) names.push_back(name);
  }
  return names;
}

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

// Test names are the vector names with anything but [A-Za-z0-9_] as '_'.
std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s.empty() ? "empty" : s;
}

INSTANTIATE_TEST_SUITE_P(Vectors, AsioVectorReplayTest, testing::ValuesIn(network_vector_names()),
                         test_name);
// With no vectors, FindsVectorsThatAreNotChunkSensitive explains it.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(AsioVectorReplayTest);

}  // namespace
}  // namespace sluice::conformance
