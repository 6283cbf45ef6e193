// File: conformance/scenarios/asio_adapter.h
//
// AsioAdapter: the scenarios' facade (backend.h) over the Asio backend
// (backends/asio/streams.h): async_open_connection, start_server and its
// Server, and the streams' asynchronous operations with plain completion
// handlers (a pending read is cancelled through its handler's cancellation
// slot). Server behaviours are asio::awaitable coroutines. One io_context per
// Loop, kept busy by a work guard and run in slices of at most 10 ms so that
// run_until's condition is checked even when nothing happens.
//
// AsioTlsAdapter: the same, every connection over TLS from the first byte
// (StreamOptions::ssl with tls_setup.h's contexts: a client connect
// completes after the handshake, a server runs a behaviour after it).
//
// This is the only file of the suite that includes Asio (asio_adapter.cc):
// the header does not, so the scenarios compile without it.
//
// Example:
//   std::unique_ptr<Loop> loop = AsioAdapter::create();
//
// Threading: one thread.

#ifndef SLUICE_CONFORMANCE_SCENARIOS_ASIO_ADAPTER_H_
#define SLUICE_CONFORMANCE_SCENARIOS_ASIO_ADAPTER_H_

#include <memory>

#include "conformance/scenarios/backend.h"

namespace sluice::scenarios {

struct AsioAdapter {
  static constexpr const char* kName = "Asio";
  static constexpr bool kTls = false;
  static std::unique_ptr<Loop> create();
};

struct AsioTlsAdapter {
  static constexpr const char* kName = "AsioTls";
  static constexpr bool kTls = true;
  static std::unique_ptr<Loop> create();
};

}  // namespace sluice::scenarios

#endif  // SLUICE_CONFORMANCE_SCENARIOS_ASIO_ADAPTER_H_
