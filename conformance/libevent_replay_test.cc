// Hand-written vectors replayed on the libevent backend over loopback TCP
// (LibeventReplayBackend + run_vector): the network tool's rules, the cases
// every network backend shares (testing/network_replay_cases.h).

#include "conformance/libevent_replay.h"

#include <event2/event.h>

#include <memory>

#include "conformance/loopback_replay.h"
#include "conformance/testing/network_replay_cases.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

// One event_base per test, shared by the backends it makes (each is gone,
// and the loop empty, before the base is freed).
struct LibeventHarness {
  LibeventHarness() : base(event_base_new()) {}
  ~LibeventHarness() { event_base_free(base); }
  LibeventHarness(const LibeventHarness&) = delete;
  LibeventHarness& operator=(const LibeventHarness&) = delete;
  std::unique_ptr<LoopbackReplayBackend> make() {
    return std::make_unique<LibeventReplayBackend>(base);
  }
  event_base* base;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Libevent, NetworkReplayTest, LibeventHarness);

}  // namespace
}  // namespace sluice::conformance
