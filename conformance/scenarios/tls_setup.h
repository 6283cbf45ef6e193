// File: conformance/scenarios/tls_setup.h
//
// What the TLS variants of the loops (AsioTlsAdapter, LibeventTlsAdapter,
// PollTlsAdapter) and their raw peers share: contexts over the test PKI of
// //core/tls/testing:test_certs (generated at test time, nothing checked
// in), made once per process.
//
// Example:
//   const TlsSetup& tls = tls_setup();
//   options.ssl = tls.client;
//   options.server_hostname = tls.server_hostname;

#ifndef SLUICE_CONFORMANCE_SCENARIOS_TLS_SETUP_H_
#define SLUICE_CONFORMANCE_SCENARIOS_TLS_SETUP_H_

#include <string>

#include "core/tls/tls_context.h"

namespace sluice::scenarios {

struct TlsSetup {
  // Trusts the test CA; checks certificates and names (the defaults).
  TlsContext client;
  // Presents the test CA's "localhost" certificate.
  TlsContext server;
  // The name clients send and check: "localhost" (also over UNIX sockets,
  // which have no host to default it to).
  std::string server_hostname;
};

// tls_setup: the process's TlsSetup, made on first use.
const TlsSetup& tls_setup();

}  // namespace sluice::scenarios

#endif  // SLUICE_CONFORMANCE_SCENARIOS_TLS_SETUP_H_
