#include "core/separator_search.h"

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/testing/allocation_counter.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using Match = SeparatorSearch::Match;

// The obviously-correct answer: for every end position in order, is there a
// separator ending there? Shortest first on ties.
std::optional<Match> naive(std::string_view data, std::vector<std::string_view> seps) {
  std::stable_sort(seps.begin(), seps.end(),
                   [](std::string_view a, std::string_view b) { return a.size() < b.size(); });
  for (std::size_t end = 1; end <= data.size(); ++end) {
    for (std::string_view s : seps) {
      if (s.size() <= end && data.substr(end - s.size(), s.size()) == s) {
        return Match{end - s.size(), end};
      }
    }
  }
  return std::nullopt;
}

// Feeds `data` to a fresh search in the given chunk sizes (cycled).
std::optional<Match> chunked(std::string_view data, std::vector<std::string_view> seps,
                             const std::vector<std::size_t>& sizes) {
  SeparatorSearch s;
  s.reset(std::span<const std::string_view>(seps));
  std::size_t len = 0;
  for (std::size_t i = 0; len < data.size(); ++i) {
    len = std::min(data.size(), len + sizes[i % sizes.size()]);
    if (auto m = s.scan(data.substr(0, len))) return m;
  }
  return std::nullopt;
}

TEST(SeparatorSearch, FindsSingleByteSeparator) {
  SeparatorSearch s;
  s.reset({"\n"});
  EXPECT_EQ(s.scan("abc"), std::nullopt);
  EXPECT_EQ(s.scanned(), 3u);
  EXPECT_EQ(s.scan("abc\nd"), (Match{3, 4}));
}

TEST(SeparatorSearch, RemembersPartialSeparatorAcrossScans) {
  SeparatorSearch s;
  s.reset({"aaa"});
  EXPECT_EQ(s.scan("QWEaa"), std::nullopt);
  EXPECT_EQ(s.scan("QWEaaXYaa"), std::nullopt);
  EXPECT_EQ(s.scan("QWEaaXYaaa"), (Match{7, 10}));
}

TEST(SeparatorSearch, EarliestEndWinsOverListOrder) {
  SeparatorSearch s;
  s.reset({"DEF", "BCDE"});
  EXPECT_EQ(s.scan("ABCDEFG"), (Match{1, 5}));
}

TEST(SeparatorSearch, TieOnEndGoesToShortestSeparator) {
  SeparatorSearch s;
  s.reset({"\r\n", "\n"});
  EXPECT_EQ(s.scan("xx\r\nyy"), (Match{3, 4}));
}

TEST(SeparatorSearch, RestartAtIgnoresEarlierMatches) {
  SeparatorSearch s;
  s.reset({"\n"});
  s.restart_at(2);
  EXPECT_EQ(s.scan("\n\nab\n"), (Match{4, 5}));
}

TEST(SeparatorSearch, ResetWithSameSeparatorsStartsOver) {
  SeparatorSearch s;
  s.reset({"ab", "c"});
  EXPECT_EQ(s.scan("xxa"), std::nullopt);
  s.reset({"c", "ab"});
  EXPECT_EQ(s.scanned(), 0u);
  EXPECT_EQ(s.scan("bab"), (Match{1, 3}));
}

TEST(SeparatorSearch, MatchesNaiveSearchUnderEveryChunking) {
  std::mt19937 rng(12345);
  const std::vector<std::vector<std::string_view>> sets = {
      {"\n"}, {"\r\n"}, {"aaa"}, {"aab"}, {"abab"}, {"\r\n", "\n"}, {"a", "ab", "aab"},
      {"abc", "bca", "cab"}, {"aaaa", "aa"}, {"abaab", "ba"}};
  for (const auto& seps : sets) {
    for (int round = 0; round < 300; ++round) {
      std::string data(rng() % 120, 'a');
      for (char& c : data) c = "ab\r\ncx"[rng() % 6];
      const auto want = naive(data, seps);
      for (std::size_t step = 1; step <= 5; ++step) {
        EXPECT_EQ(chunked(data, seps, {step}), want) << data;
      }
      EXPECT_EQ(chunked(data, seps, {1 + rng() % 7, 1 + rng() % 3, 1 + rng() % 11}), want)
          << data;
      // Large and small steps mixed: scans alternate between searching a
      // long stretch and stepping through a few bytes.
      EXPECT_EQ(chunked(data, seps, {17 + rng() % 30, 1 + rng() % 3, 1 + rng() % 20}), want)
          << data;
      EXPECT_EQ(chunked(data, seps, {data.size() + 1}), want) << data;
    }
  }
}

TEST(SeparatorSearch, ByteOutsideEverySeparatorBreaksAPartialMatch) {
  SeparatorSearch s;
  s.reset({"abc", "bd"});
  EXPECT_EQ(s.scan("ab"), std::nullopt);
  EXPECT_EQ(s.scan("abx"), std::nullopt);
  EXPECT_EQ(s.scan("abxc"), std::nullopt);
  EXPECT_EQ(s.scan("abxcabc"), (Match{4, 7}));
}

TEST(SeparatorSearch, PartialMatchFromALongScanCompletesInAShortOne) {
  SeparatorSearch s;
  s.reset({"<END>"});
  const std::string head = std::string(100, 'x') + "<EN";
  EXPECT_EQ(s.scan(head), std::nullopt);
  EXPECT_EQ(s.scan(head + "D"), std::nullopt);
  EXPECT_EQ(s.scan(head + "D>"), (Match{100, 105}));
}

TEST(SeparatorSearch, PartialMatchFromShortScansCompletesInALongOne) {
  SeparatorSearch s;
  s.reset({"<END>"});
  EXPECT_EQ(s.scan("<"), std::nullopt);
  EXPECT_EQ(s.scan("<E"), std::nullopt);
  EXPECT_EQ(s.scan("<END>" + std::string(100, 'x')), (Match{0, 5}));
}

TEST(SeparatorSearch, OneByteSeparatorNeedsNoHeap) {
  SeparatorSearch s;
  const std::uint64_t before = testing::allocation_count();
  s.reset({"\n"});
  const std::optional<Match> m = s.scan("abc\n");
  const std::uint64_t allocations = testing::allocation_count() - before;
  EXPECT_EQ(m, (Match{3, 4}));
  EXPECT_EQ(allocations, 0u);
}

TEST(SeparatorSearch, RepeatedResetsWithTheSameSeparatorsAllocateNothing) {
  SeparatorSearch s;
  s.reset({"\r\n", "\n"});
  s.reset({"\n"});
  const std::uint64_t before = testing::allocation_count();
  for (int i = 0; i < 100; ++i) {
    s.reset({"\r\n", "\n"});
    s.reset({"\n"});
  }
  EXPECT_EQ(testing::allocation_count() - before, 0u);
}

TEST(SeparatorSearch, SwitchingBetweenOneByteAndSeveralSeparatorsStartsEachSearchFresh) {
  SeparatorSearch s;
  s.reset({"\r\n", "ab"});
  EXPECT_EQ(s.scan("xa"), std::nullopt);  // a partial "ab"
  s.reset({"\n"});
  EXPECT_EQ(s.separator_count(), 1u);
  EXPECT_EQ(s.scan("b\n"), (Match{1, 2}));
  s.reset({"ab", "\r\n"});
  EXPECT_EQ(s.separator_count(), 2u);
  EXPECT_EQ(s.max_length(), 2u);
  EXPECT_EQ(s.scan("b\r"), std::nullopt);  // no partial "ab" left over
  EXPECT_EQ(s.scan("b\r\n"), (Match{1, 3}));
}

TEST(SeparatorSearch, OneByteAtATimeOverLongInputFinishes) {
  // O(n): a 1 MiB input of near-matches fed byte by byte.
  std::string data(1 << 20, 'a');
  data += "aaab";
  SeparatorSearch s;
  s.reset({"aaab"});
  std::optional<Match> m;
  for (std::size_t len = 1; len <= data.size() && !m; ++len) m = s.scan(std::string_view(data).substr(0, len));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->end, data.size());
}

}  // namespace
}  // namespace sluice
