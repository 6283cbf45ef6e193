// File: core/tls/testing/test_certs.h
//
// A throwaway PKI for TLS tests, generated with OpenSSL's APIs the first time
// a test asks for it (no key is ever checked in): a self-signed CA, a server
// certificate it signed for "localhost" / 127.0.0.1 / ::1, a client
// certificate it signed, and a second, unrelated CA with a server
// certificate of its own (the "untrusted" case). EC P-256 keys (fast to
// make). Written as PEM files to a fresh directory under $TEST_TMPDIR (Bazel
// sets it), else /tmp. Test-only: failures abort.
//
// Example:
//   const TestPki& pki = test_pki();
//   TlsContext server = make_server_context(pki);      // serves pki.server
//   TlsContext client = make_client_context(pki);      // trusts pki.ca_file
//   ConnectionOptions c{.tls = TlsOptions{client, TlsRole::kClient, "localhost"}};

#ifndef SLUICE_CORE_TLS_TESTING_TEST_CERTS_H_
#define SLUICE_CORE_TLS_TESTING_TEST_CERTS_H_

#include <string>

#include "core/tls/tls_context.h"

namespace sluice::testing {

struct TestIdentity {
  std::string cert_file;  // PEM certificate
  std::string key_file;   // PEM private key (unencrypted)
  std::string cert_pem;
  std::string key_pem;
};

struct TestPki {
  std::string dir;
  // The test CA's certificate: the trust anchor clients load.
  std::string ca_file;
  // Signed by the CA: CN=localhost, subjectAltName DNS:localhost,
  // IP:127.0.0.1, IP:::1; serverAuth.
  TestIdentity server;
  // Signed by the CA: CN=sluice test client; clientAuth.
  TestIdentity client;
  // An unrelated CA, and a localhost server certificate it signed (names
  // right, trust wrong).
  std::string other_ca_file;
  TestIdentity untrusted_server;
};

// test_pki: the process's PKI, made on first use.
const TestPki& test_pki();

// make_server_context: a server context presenting pki.server.
TlsContext make_server_context(const TestPki& pki);
// make_client_context: a client context trusting pki.ca_file (verification
// and hostname checks on, as by default).
TlsContext make_client_context(const TestPki& pki);

}  // namespace sluice::testing

#endif  // SLUICE_CORE_TLS_TESTING_TEST_CERTS_H_
