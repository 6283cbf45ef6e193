#include "conformance/scenarios/tls_setup.h"

#include "core/tls/testing/test_certs.h"

namespace sluice::scenarios {

const TlsSetup& tls_setup() {
  static const TlsSetup setup = [] {
    const testing::TestPki& pki = testing::test_pki();
    return TlsSetup{testing::make_client_context(pki), testing::make_server_context(pki),
                    "localhost"};
  }();
  return setup;
}

}  // namespace sluice::scenarios
