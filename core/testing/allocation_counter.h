// File: core/testing/allocation_counter.h
//
// Counts heap allocations, for "the hot path does not allocate" tests. Linking
// :allocation_counter into a test binary replaces the global operator new
// (every form) with a counting one; allocation_count() reads the total.
//
// Example:
//   const std::uint64_t before = testing::allocation_count();
//   for (...) hot_path();
//   EXPECT_EQ(testing::allocation_count() - before, 0u);
//
// Keep gtest assertions out of the measured span: they may allocate.

#ifndef SLUICE_CORE_TESTING_ALLOCATION_COUNTER_H_
#define SLUICE_CORE_TESTING_ALLOCATION_COUNTER_H_

#include <cstdint>

namespace sluice::testing {

// allocation_count: calls to operator new since the program started.
std::uint64_t allocation_count();

}  // namespace sluice::testing

#endif  // SLUICE_CORE_TESTING_ALLOCATION_COUNTER_H_
