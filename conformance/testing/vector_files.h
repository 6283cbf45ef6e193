// File: conformance/testing/vector_files.h
//
// The checked-in conformance vectors as tests see them, and the one
// comparison of a replay's output with the reference results. Every test
// that replays conformance/vectors/NAME.jsonl on some implementation (the
// core, a network backend) uses these, so they all find, load and compare
// the files the same way.
//
// The files come in as Bazel data (runfiles): conformance/vectors/*.jsonl and
// conformance/expected/*.jsonl in the test's `data`.
//
// Example:
//   for (const std::string& name : vector_names()) {
//     Result<VectorCase, std::string> c = load_vector_case(name);
//     ASSERT_TRUE(c.ok()) << c.error();
//     std::string diff = compare_results(name, c->expected, replay_on_core(c->vector));
//     EXPECT_EQ(diff, "");
//   }

#ifndef SLUICE_CONFORMANCE_TESTING_VECTOR_FILES_H_
#define SLUICE_CONFORMANCE_TESTING_VECTOR_FILES_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/vector.h"
#include "core/result.h"

namespace sluice::conformance {

// conformance_dir: conformance/ in the test's runfiles ($TEST_SRCDIR/
// $TEST_WORKSPACE/conformance; ./sluice/conformance outside Bazel).
std::filesystem::path conformance_dir();

// jsonl_names: the NAMEs of every DIR/NAME.jsonl, sorted (empty if DIR is
// missing).
std::vector<std::string> jsonl_names(const std::filesystem::path& dir);

// vector_names: jsonl_names(conformance_dir() / "vectors").
std::vector<std::string> vector_names();

// network_vector_names: the vector_names() a network backend must match:
// those that are not chunk_sensitive (unparsable ones included, so their test
// reports the problem).
std::vector<std::string> network_vector_names();

// identifier: `name` with anything but [A-Za-z0-9_] as '_' ("empty" for an
// empty name): a vector's name as a test name.
std::string identifier(std::string_view name);

// read_text: the whole file, or nullopt if it cannot be read.
std::optional<std::string> read_text(const std::filesystem::path& path);

// split_lines: the lines of `text` ("\n" or "\r\n" ends), without the blank
// lines at its end.
std::vector<std::string> split_lines(std::string_view text);

// VectorCase: one checked-in vector and its reference results.
struct VectorCase {
  std::string name;
  Vector vector;
  std::vector<std::string> expected;  // result lines
};

// load_vector_case: vectors/NAME.jsonl parsed and expected/NAME.jsonl split
// into lines, or a message saying what is missing or unparsable.
Result<VectorCase, std::string> load_vector_case(const std::string& name);

// compare_results: "" when `actual` holds the same result lines as
// `expected`, each compared as JSON (member order does not matter); else a
// message naming vector `name` and the first difference (or a line that is
// not JSON).
std::string compare_results(std::string_view name, const std::vector<std::string>& expected,
                            const std::vector<std::string>& actual);

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_TESTING_VECTOR_FILES_H_
