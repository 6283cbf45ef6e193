// Replays every checked-in conformance vector (conformance/vectors/NAME.jsonl)
// on the core and compares the result lines with the reference results in
// conformance/expected/NAME.jsonl, line by line, each compared as a JSON
// object (member order does not matter). The files come in as Bazel data
// (runfiles); finding no vector at all is a failure, so a broken glob or
// runfiles path cannot pass silently.

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "conformance/core_replay.h"
#include "conformance/json.h"
#include "conformance/vector.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

namespace fs = std::filesystem;

// conformance/ in the test's runfiles.
fs::path conformance_dir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  fs::path root = srcdir != nullptr ? fs::path(srcdir) : fs::path(".");
  return root / (workspace != nullptr ? workspace : "sluice") / "conformance";
}

// The NAMEs of every DIR/NAME.jsonl, sorted.
std::vector<std::string> jsonl_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() == ".jsonl") names.push_back(p.stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> vector_names() { return jsonl_names(conformance_dir() / "vectors"); }

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream contents;
  contents << in.rdbuf();
  return std::move(contents).str();
}

// The lines of `text`, without the blank lines at its end.
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    start = end + 1;
  }
  auto blank = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
  };
  while (!lines.empty() && blank(lines.back())) lines.pop_back();
  return lines;
}

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
  const std::string& name = GetParam();
  const fs::path vector_path = conformance_dir() / "vectors" / (name + ".jsonl");
  const fs::path expected_path = conformance_dir() / "expected" / (name + ".jsonl");
  std::optional<std::string> vector_text = read_file(vector_path);
  ASSERT_TRUE(vector_text) << "cannot read " << vector_path;
  std::optional<std::string> expected_text = read_file(expected_path);
  ASSERT_TRUE(expected_text) << "cannot read " << expected_path;

  Parsed<Vector> vector = parse_vector(*vector_text);
  ASSERT_TRUE(vector.ok()) << "vectors/" << name << ".jsonl: " << vector.error().to_string();

  const std::vector<std::string> expected = split_lines(*expected_text);
  const std::vector<std::string> actual = replay_on_core(*vector);

  const std::size_t n = std::max(expected.size(), actual.size());
  for (std::size_t k = 0; k < n; ++k) {
    const std::string* want = k < expected.size() ? &expected[k] : nullptr;
    const std::string* got = k < actual.size() ? &actual[k] : nullptr;
    std::optional<JsonValue> want_json;
    if (want != nullptr) {
      Parsed<JsonValue> parsed = parse_json(*want);
      ASSERT_TRUE(parsed.ok()) << "expected/" << name << ".jsonl line " << (k + 1)
                               << " is not JSON: " << parsed.error().to_string();
      want_json = *parsed;
    }
    std::optional<JsonValue> got_json;
    if (got != nullptr) {
      Parsed<JsonValue> parsed = parse_json(*got);
      ASSERT_TRUE(parsed.ok()) << "replay printed a line that is not JSON: " << *got;
      got_json = *parsed;
    }
    if (want_json != got_json) {
      ADD_FAILURE() << "vector " << name << ": first difference at result line " << (k + 1)
                    << " (of " << expected.size() << " expected, " << actual.size()
                    << " actual)\n  expected: " << (want ? *want : "<no more lines>")
                    << "\n  actual:   " << (got ? *got : "<no more lines>");
      return;
    }
  }
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
