// File: conformance/scenarios/libevent_adapter.h
//
// LibeventAdapter: the scenarios' facade (backend.h) over the libevent
// backend (backends/libevent/streams.h): open_connection, start_server and
// its Server, the streams' coroutine reads (a coroutine per operation, so a
// pending read can be cancelled by destroying it, as in the coroutine
// layer), callbacks for the server's waits. One event_base per Loop, run with
// EVLOOP_ONCE and a 10 ms tick so that run_until's condition is checked even
// when nothing happens.
//
// LibeventTlsAdapter: the same, every connection over TLS from the first
// byte (StreamOptions::ssl with tls_setup.h's contexts: a client connect
// completes after the handshake, a server runs a behaviour after it).
//
// Example:
//   std::unique_ptr<Loop> loop = LibeventAdapter::create();
//
// Threading: one thread.

#ifndef SLUICE_CONFORMANCE_SCENARIOS_LIBEVENT_ADAPTER_H_
#define SLUICE_CONFORMANCE_SCENARIOS_LIBEVENT_ADAPTER_H_

#include <memory>

#include "conformance/scenarios/backend.h"

namespace sluice::scenarios {

struct LibeventAdapter {
  static constexpr const char* kName = "Libevent";
  static constexpr bool kTls = false;
  static std::unique_ptr<Loop> create();
};

struct LibeventTlsAdapter {
  static constexpr const char* kName = "LibeventTls";
  static constexpr bool kTls = true;
  static std::unique_ptr<Loop> create();
};

}  // namespace sluice::scenarios

#endif  // SLUICE_CONFORMANCE_SCENARIOS_LIBEVENT_ADAPTER_H_
