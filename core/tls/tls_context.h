// File: core/tls/tls_context.h
//
// TlsContext: the settings shared by many TLS connections - role, the
// certificate chain and key a server (or a client, for client certificates)
// presents, the trust anchors a peer's certificate is verified against, the
// verify mode, hostname checking, ALPN protocols and protocol versions. It
// wraps OpenSSL's SSL_CTX, as Python's ssl.SSLContext does. No I/O beyond
// reading the files it is asked to load; no exceptions: failures are values
// (kTlsError carrying OpenSSL's reason, kInvalidArgument for bad arguments).
//
// Ownership: shared. Copies refer to the same SSL_CTX and settings (a
// server's context is shared by every connection it accepts); each TLS
// session keeps its context alive. Changing a setting affects connections
// created afterwards, not the ones already running.
//
// Defaults (asyncio's ssl.create_default_context(), minus loading the
// system store, which is explicit here: set_default_verify_paths()):
//   client(): verify_mode kRequired (SSL_VERIFY_PEER) and check_hostname
//             true: the server's certificate must chain to a loaded trust
//             anchor and name the server_hostname the session was given.
//             No trust anchor is loaded yet, so nothing verifies until
//             load_verify_locations() or set_default_verify_paths().
//   server(): verify_mode kNone (no client certificate asked for) and
//             check_hostname false; needs load_cert_chain().
//   both:     TLS 1.2 minimum, no renegotiation, OpenSSL's default ciphers.
// Turning verification off is an explicit call: disable_verification().
//
// Example:
//   Result<TlsContext> ctx = TlsContext::client();
//   if (!ctx.ok()) return ctx.error();
//   if (Status s = ctx->load_verify_locations("ca.pem"); !s.ok()) return s.error();
//   (void)ctx->set_alpn_protocols({"h2", "http/1.1"});
//   ConnectionOptions options{.tls = TlsOptions{*ctx, TlsRole::kClient, "example.com"}};
//
// Threading: like SSL_CTX: set everything up before sharing it between
// threads; after that, creating sessions from several threads is fine.

#ifndef SLUICE_CORE_TLS_TLS_CONTEXT_H_
#define SLUICE_CORE_TLS_TLS_CONTEXT_H_

#include <openssl/types.h>

#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sluice {

// Which end of the handshake a TLS session plays.
enum class TlsRole { kClient, kServer };
std::string_view to_string(TlsRole role);

// How the peer's certificate is verified (Python's ssl.CERT_*):
//   kNone:     not asked for (server) / not verified (client);
//   kOptional: a server asks for a client certificate and verifies it if one
//              is sent (for a client the same as kRequired, as in Python);
//   kRequired: the peer must present a certificate that verifies.
enum class TlsVerifyMode { kNone, kOptional, kRequired };

enum class TlsVersion { kTls12, kTls13 };

class TlsContext {
 public:
  // An empty context (valid() is false); sessions refuse it.
  TlsContext() = default;

  // client / server: a fresh context with the defaults above. Fails (with
  // OpenSSL's reason) only if OpenSSL cannot allocate one.
  static Result<TlsContext> client();
  static Result<TlsContext> server();

  bool valid() const { return impl_ != nullptr; }
  // Preconditions for everything below: valid().
  TlsRole role() const;

  // load_cert_chain: the certificate (PEM, leaf first, then intermediates)
  // and its private key (PEM, unencrypted) this end presents. kTlsError if a
  // file cannot be read or parsed, or the key does not match.
  Status load_cert_chain(const std::string& cert_file, const std::string& key_file);
  // load_verify_locations: trust the CA certificates in `cafile` (PEM).
  Status load_verify_locations(const std::string& cafile);
  // set_default_verify_paths: trust the system store (Debian:
  // /etc/ssl/certs), as Python's load_default_certs().
  Status set_default_verify_paths();

  // set_verify_mode: kInvalidArgument when setting kNone while
  // check_hostname() is on (Python's rule: turn hostname checking off first,
  // or call disable_verification()).
  Status set_verify_mode(TlsVerifyMode mode);
  TlsVerifyMode verify_mode() const;
  // set_check_hostname: clients only check the certificate against
  // server_hostname while this is on. Turning it on while the verify mode is
  // kNone sets kRequired (Python's rule).
  void set_check_hostname(bool check);
  bool check_hostname() const;
  // disable_verification: check_hostname off and verify mode kNone: the
  // peer's certificate is accepted whatever it is. Explicit on purpose.
  void disable_verification();

  // set_alpn_protocols: the application protocols offered (client) or
  // accepted in this order of preference (server; a client offering none of
  // them gets no ALPN answer, as in Python). Each 1..255 bytes, else
  // kInvalidArgument. An empty list turns ALPN off.
  Status set_alpn_protocols(std::span<const std::string_view> protocols);
  Status set_alpn_protocols(std::initializer_list<std::string_view> protocols) {
    return set_alpn_protocols(std::span<const std::string_view>(protocols.begin(), protocols.size()));
  }
  const std::vector<std::string>& alpn_protocols() const;

  // set_minimum_version / set_maximum_version: the protocol versions allowed
  // (default: TLS 1.2 up to TLS 1.3). kInvalidArgument if min > max would
  // result.
  Status set_minimum_version(TlsVersion version);
  Status set_maximum_version(TlsVersion version);

  // native_handle: the SSL_CTX, for settings this class does not cover
  // (ciphers, session cache, keylog callback). Owned by the context.
  SSL_CTX* native_handle() const;

 private:
  struct Impl;
  explicit TlsContext(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  static Result<TlsContext> create(TlsRole role);

  std::shared_ptr<Impl> impl_;
};

}  // namespace sluice

#endif  // SLUICE_CORE_TLS_TLS_CONTEXT_H_
