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
// PollTlsAdapter: the same, every connection over TLS from the first byte
// (ConnectionOptions::tls with tls_setup.h's contexts). As with the
// backends, a connect completes after the TLS handshake and a server serves
// a connection after it (one whose handshake fails is closed unseen). The
// loop has no timers, so no handshake or shutdown timeouts: no scenario
// waits on one.
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
  static constexpr bool kTls = false;
  static std::unique_ptr<Loop> create();
};

struct PollTlsAdapter {
  static constexpr const char* kName = "PollTls";
  static constexpr bool kTls = true;
  static std::unique_ptr<Loop> create();
};

}  // namespace sluice::scenarios

#endif  // SLUICE_CONFORMANCE_SCENARIOS_POLL_ADAPTER_H_
