#include "conformance/testing/vector_files.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "conformance/json.h"

namespace sluice::conformance {

namespace fs = std::filesystem;

fs::path conformance_dir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  fs::path root = srcdir != nullptr ? fs::path(srcdir) : fs::path(".");
  return root / (workspace != nullptr ? workspace : "sluice") / "conformance";
}

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

std::vector<std::string> network_vector_names() {
  std::vector<std::string> names;
  for (const std::string& name : vector_names()) {
    Result<VectorCase, std::string> c = load_vector_case(name);
    if (!c.ok() || !c->vector.chunk_sensitive()) names.push_back(name);
  }
  return names;
}

std::string identifier(std::string_view name) {
  std::string s(name);
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s.empty() ? "empty" : s;
}

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream contents;
  contents << in.rdbuf();
  return std::move(contents).str();
}

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

Result<VectorCase, std::string> load_vector_case(const std::string& name) {
  const fs::path vector_path = conformance_dir() / "vectors" / (name + ".jsonl");
  const fs::path expected_path = conformance_dir() / "expected" / (name + ".jsonl");
  std::optional<std::string> vector_text = read_text(vector_path);
  if (!vector_text) return "cannot read " + vector_path.string();
  std::optional<std::string> expected_text = read_text(expected_path);
  if (!expected_text) return "cannot read " + expected_path.string();
  Parsed<Vector> vector = parse_vector(*vector_text);
  if (!vector.ok()) return "vectors/" + name + ".jsonl: " + vector.error().to_string();
  return VectorCase{name, std::move(*vector), split_lines(*expected_text)};
}

std::string compare_results(std::string_view name, const std::vector<std::string>& expected,
                            const std::vector<std::string>& actual) {
  const std::string vector(name);
  const std::size_t n = std::max(expected.size(), actual.size());
  for (std::size_t k = 0; k < n; ++k) {
    const std::string* want = k < expected.size() ? &expected[k] : nullptr;
    const std::string* got = k < actual.size() ? &actual[k] : nullptr;
    std::optional<JsonValue> want_json;
    if (want != nullptr) {
      Parsed<JsonValue> parsed = parse_json(*want);
      if (!parsed.ok()) {
        return "expected/" + vector + ".jsonl line " + std::to_string(k + 1) +
               " is not JSON: " + parsed.error().to_string();
      }
      want_json = *parsed;
    }
    std::optional<JsonValue> got_json;
    if (got != nullptr) {
      Parsed<JsonValue> parsed = parse_json(*got);
      if (!parsed.ok())
        return "vector " + vector + ": the replay printed a line that is not JSON: " + *got;
      got_json = *parsed;
    }
    if (want_json != got_json) {
      return "vector " + vector + ": first difference at result line " + std::to_string(k + 1) +
             " (of " + std::to_string(expected.size()) + " expected, " +
             std::to_string(actual.size()) +
             " actual)\n  expected: " + (want ? *want : "<no more lines>") +
             "\n  actual:   " + (got ? *got : "<no more lines>");
    }
  }
  return "";
}

}  // namespace sluice::conformance
