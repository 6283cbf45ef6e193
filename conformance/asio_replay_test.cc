// Hand-written vectors replayed on the Asio backend over loopback TCP
// (AsioReplayBackend + run_vector): the network tool's rules, the cases every
// network backend shares (testing/network_replay_cases.h).

#include "conformance/asio_replay.h"

#include <memory>

#include <asio/io_context.hpp>

#include "conformance/loopback_replay.h"
#include "conformance/testing/network_replay_cases.h"
#include "gtest/gtest.h"

namespace sluice::conformance {
namespace {

// One io_context per test, shared by the backends it makes.
struct AsioHarness {
  asio::io_context io;
  std::unique_ptr<LoopbackReplayBackend> make() { return std::make_unique<AsioReplayBackend>(io); }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Asio, NetworkReplayTest, AsioHarness);

}  // namespace
}  // namespace sluice::conformance
