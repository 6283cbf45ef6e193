#include "core/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cassert>
#include <utility>

#include "core/tls/openssl_error.h"

namespace sluice {

using tls_internal::openssl_failure;

std::string_view to_string(TlsRole role) {
  switch (role) {
    case TlsRole::kClient:
      return "kClient";
    case TlsRole::kServer:
      return "kServer";
  }
  return "?";
}

struct TlsContext::Impl {
  struct CtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
  };

  std::unique_ptr<SSL_CTX, CtxFree> ctx;
  TlsRole role = TlsRole::kClient;
  TlsVerifyMode verify_mode = TlsVerifyMode::kNone;
  bool check_hostname = false;
  std::vector<std::string> alpn;
  // alpn in ALPN's wire format (length-prefixed), as both OpenSSL calls want.
  std::string alpn_wire;
};

namespace {

// Server side of ALPN: the first of our protocols the client offers (our
// preference, as Python's server does); none in common: no ALPN answer.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  const std::string& ours = *static_cast<const std::string*>(arg);
  if (ours.empty()) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, reinterpret_cast<const unsigned char*>(ours.data()),
                            static_cast<unsigned int>(ours.size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

int openssl_version(TlsVersion v) {
  return v == TlsVersion::kTls12 ? TLS1_2_VERSION : TLS1_3_VERSION;
}

}  // namespace

Result<TlsContext> TlsContext::client() { return create(TlsRole::kClient); }
Result<TlsContext> TlsContext::server() { return create(TlsRole::kServer); }

Result<TlsContext> TlsContext::create(TlsRole role) {
  ERR_clear_error();
  auto impl = std::make_shared<Impl>();
  impl->role = role;
  impl->ctx.reset(SSL_CTX_new(role == TlsRole::kClient ? TLS_client_method() : TLS_server_method()));
  if (!impl->ctx) return openssl_failure("cannot create a TLS context");
  SSL_CTX* ctx = impl->ctx.get();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return openssl_failure("cannot create a TLS context");
  }
  // Renegotiation needs no support here and is a known attack surface.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  TlsContext context(std::move(impl));
  if (role == TlsRole::kClient) {
    context.impl_->check_hostname = true;
    (void)context.set_verify_mode(TlsVerifyMode::kRequired);
  } else {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Needed for session resumption with client certificates (Python does
    // the same).
    static constexpr unsigned char kSessionIdContext[] = "sluice";
    SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
    (void)context.set_verify_mode(TlsVerifyMode::kNone);
  }
  // select_alpn reads impl->alpn_wire: the Impl owns the SSL_CTX and every
  // session keeps its TlsContext (so the Impl) alive.
  if (role == TlsRole::kServer) {
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &context.impl_->alpn_wire);
  }
  return context;
}

TlsRole TlsContext::role() const { return impl_->role; }

SSL_CTX* TlsContext::native_handle() const { return impl_->ctx.get(); }

Status TlsContext::load_cert_chain(const std::string& cert_file, const std::string& key_file) {
  ERR_clear_error();
  SSL_CTX* ctx = impl_->ctx.get();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return openssl_failure("cannot load the certificate chain");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return openssl_failure("cannot load the private key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return openssl_failure("the private key does not match the certificate");
  }
  return Ok{};
}

Status TlsContext::load_verify_locations(const std::string& cafile) {
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(impl_->ctx.get(), cafile.c_str(), nullptr) != 1) {
    return openssl_failure("cannot load the verify locations",
                           "no CA certificate found in the file");
  }
  return Ok{};
}

Status TlsContext::set_default_verify_paths() {
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(impl_->ctx.get()) != 1) {
    return openssl_failure("cannot load the system trust store");
  }
  return Ok{};
}

Status TlsContext::set_verify_mode(TlsVerifyMode mode) {
  if (mode == TlsVerifyMode::kNone && impl_->check_hostname) {
    return StreamError::invalid_argument(
        "Cannot set verify_mode to kNone when check_hostname is enabled.");
  }
  int flags = SSL_VERIFY_NONE;
  switch (mode) {
    case TlsVerifyMode::kNone:
      break;
    case TlsVerifyMode::kOptional:
      // A client always fails on an unverified server certificate (Python's
      // CERT_OPTIONAL is CERT_REQUIRED on the client side).
      flags = SSL_VERIFY_PEER;
      break;
    case TlsVerifyMode::kRequired:
      flags = SSL_VERIFY_PEER;
      if (impl_->role == TlsRole::kServer) flags |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
  }
  SSL_CTX_set_verify(impl_->ctx.get(), flags, nullptr);
  impl_->verify_mode = mode;
  return Ok{};
}

TlsVerifyMode TlsContext::verify_mode() const { return impl_->verify_mode; }

void TlsContext::set_check_hostname(bool check) {
  impl_->check_hostname = check;
  if (check && impl_->verify_mode == TlsVerifyMode::kNone) {
    Status s = set_verify_mode(TlsVerifyMode::kRequired);
    assert(s.ok());
    (void)s;
  }
}

bool TlsContext::check_hostname() const { return impl_->check_hostname; }

void TlsContext::disable_verification() {
  impl_->check_hostname = false;
  Status s = set_verify_mode(TlsVerifyMode::kNone);
  assert(s.ok());
  (void)s;
}

Status TlsContext::set_alpn_protocols(std::span<const std::string_view> protocols) {
  std::string wire;
  for (std::string_view p : protocols) {
    if (p.empty() || p.size() > 255) {
      return StreamError::invalid_argument("ALPN protocols must be 1 to 255 bytes long");
    }
    wire += static_cast<char>(p.size());
    wire += p;
  }
  if (impl_->role == TlsRole::kClient) {
    ERR_clear_error();
    // Returns 0 on success (sic).
    if (SSL_CTX_set_alpn_protos(impl_->ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned int>(wire.size())) != 0) {
      return openssl_failure("cannot set the ALPN protocols");
    }
  }
  impl_->alpn.assign(protocols.begin(), protocols.end());
  impl_->alpn_wire = std::move(wire);
  return Ok{};
}

const std::vector<std::string>& TlsContext::alpn_protocols() const { return impl_->alpn; }

Status TlsContext::set_minimum_version(TlsVersion version) {
  SSL_CTX* ctx = impl_->ctx.get();
  const long max = SSL_CTX_get_max_proto_version(ctx);
  if (max != 0 && openssl_version(version) > max) {
    return StreamError::invalid_argument("minimum TLS version above the maximum");
  }
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, openssl_version(version)) != 1) {
    return openssl_failure("cannot set the minimum TLS version");
  }
  return Ok{};
}

Status TlsContext::set_maximum_version(TlsVersion version) {
  SSL_CTX* ctx = impl_->ctx.get();
  if (openssl_version(version) < SSL_CTX_get_min_proto_version(ctx)) {
    return StreamError::invalid_argument("maximum TLS version below the minimum");
  }
  ERR_clear_error();
  if (SSL_CTX_set_max_proto_version(ctx, openssl_version(version)) != 1) {
    return openssl_failure("cannot set the maximum TLS version");
  }
  return Ok{};
}

}  // namespace sluice
