// Replays every checked-in conformance vector (conformance/vectors/NAME.jsonl)
// on the core and compares the result lines with the reference results in
// conformance/expected/NAME.jsonl (testing/vector_files.h: each line compared
// as a JSON object, member order does not matter). Finding no vector at all
// is a failure, so a broken glob or runfiles path cannot pass silently.

#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include "conformance/core_replay.h"
#include "conformance/testing/vector_files.h"
#include "conformance/vector.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

namespace fs = std::filesystem;

TEST(VectorsTest, FindsVectors) {
  EXPECT_FALSE(vector_names().empty())
      << "no conformance vectors found in " << (conformance_dir() / "vectors")
      << ": expected conformance/vectors/*.jsonl in the test's data (BUILD.bazel glob)";
}

TEST(VectorsTest, EveryVectorHasExpectedResults) {
  for (const std::string& name : vector_names()) {
    EXPECT_TRUE(fs::exists(conformance_dir() / "expected" / (name + ".jsonl")))
        << "conformance/vectors/" << name << ".jsonl has no conformance/expected/" << name
        << ".jsonl";
  }
}

TEST(VectorsTest, EveryExpectedFileHasAVector) {
  for (const std::string& name : jsonl_names(conformance_dir() / "expected")) {
    EXPECT_TRUE(fs::exists(conformance_dir() / "vectors" / (name + ".jsonl")))
        << "conformance/expected/" << name << ".jsonl has no conformance/vectors/" << name
        << ".jsonl";
  }
}

class VectorReplayTest : public testing::TestWithParam<std::string> {};

TEST_P(VectorReplayTest, CoreMatchesExpected) {
  Result<VectorCase, std::string> c = load_vector_case(GetParam());
  ASSERT_TRUE(c.ok()) << c.error();
  const std::string difference = compare_results(c->name, c->expected, replay_on_core(c->vector));
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

INSTANTIATE_TEST_SUITE_P(Vectors, VectorReplayTest, testing::ValuesIn(vector_names()), test_name);
// With no vectors, VectorsTest.FindsVectors is the failure that explains it.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(VectorReplayTest);

}  // namespace
}  // namespace sluice::conformance
