// File: conformance/scenarios/poll_adapter.h
//
// PollAdapter: the scenarios' facade (backend.h) over the poll(2) loop of
// conformance/poll_driver.h, the loop written against the seam alone. The
// loop has no server and no connector of its own, so this adapter brings the
// smallest ones that do the job: a listening socket handed to
// PollLoop::listen (accepted sockets adopted, served by the coroutines of
// coro_support.h, or handed to the test), and a blocking loopback connect()
// (which completes at once: the kernel finishes the handshake before
// accept()).
//
// Example:
//   std::unique_ptr<Loop> loop = PollAdapter::create();
//
// Threading: one thread.

#ifndef SLUICE_CONFORMANCE_SCENARIOS_POLL_ADAPTER_H_
#define SLUICE_CONFORMANCE_SCENARIOS_POLL_ADAPTER_H_

#include <memory>

#include "conformance/scenarios/backend.h"

namespace sluice::scenarios {

struct PollAdapter {
  static constexpr const char* kName = "Poll";
  static std::unique_ptr<Loop> create();
};

}  // namespace sluice::scenarios

#endif  // SLUICE_CONFORMANCE_SCENARIOS_POLL_ADAPTER_H_
