#include "core/tls/testing/test_certs.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

namespace sluice::testing {

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "test_certs: %s failed\n", what);
  std::abort();
}

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key make_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) die("EVP_EC_gen");
  return key;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) die("X509_add_ext");
  X509_EXTENSION_free(ext);
}

enum class Kind { kCa, kServer, kClient };

// A certificate for `key` named `cn`, signed by (issuer, issuer_key), or
// self-signed when issuer is null.
Cert make_cert(Kind kind, const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
               long serial) {
  Cert cert(X509_new());
  if (!cert) die("X509_new");
  X509* x = cert.get();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("sluice tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
  add_extension(x, &ctx, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_extension(x, &ctx, NID_authority_key_identifier, "keyid:always");
  switch (kind) {
    case Kind::kCa:
      add_extension(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
      add_extension(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case Kind::kServer:
      add_extension(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(x, &ctx, NID_key_usage, "critical,digitalSignature");
      add_extension(x, &ctx, NID_ext_key_usage, "serverAuth");
      add_extension(x, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
      break;
    case Kind::kClient:
      add_extension(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(x, &ctx, NID_key_usage, "critical,digitalSignature");
      add_extension(x, &ctx, NID_ext_key_usage, "clientAuth");
      break;
  }
  if (X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) <= 0) die("X509_sign");
  return cert;
}

std::string to_pem(X509* cert) {
  BIO* mem = BIO_new(BIO_s_mem());
  if (mem == nullptr || PEM_write_bio_X509(mem, cert) != 1) die("PEM_write_bio_X509");
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(mem);
  return pem;
}

std::string to_pem(EVP_PKEY* key) {
  BIO* mem = BIO_new(BIO_s_mem());
  if (mem == nullptr ||
      PEM_write_bio_PrivateKey(mem, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    die("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(mem);
  return pem;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) die("writing a PEM file");
}

std::string make_dir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                        "/sluice_test_pki_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) die("mkdtemp");
  return pattern;
}

TestIdentity identity(const std::string& dir, const char* stem, X509* cert, EVP_PKEY* key) {
  TestIdentity id;
  id.cert_pem = to_pem(cert);
  id.key_pem = to_pem(key);
  id.cert_file = dir + "/" + stem + ".crt";
  id.key_file = dir + "/" + stem + ".key";
  write_file(id.cert_file, id.cert_pem);
  write_file(id.key_file, id.key_pem);
  return id;
}

TestPki make_pki() {
  TestPki pki;
  pki.dir = make_dir();

  Key ca_key = make_key();
  Cert ca = make_cert(Kind::kCa, "sluice test CA", ca_key.get(), nullptr, nullptr, 1);
  pki.ca_file = pki.dir + "/ca.crt";
  write_file(pki.ca_file, to_pem(ca.get()));

  Key server_key = make_key();
  Cert server = make_cert(Kind::kServer, "localhost", server_key.get(), ca.get(), ca_key.get(), 2);
  pki.server = identity(pki.dir, "server", server.get(), server_key.get());

  Key client_key = make_key();
  Cert client =
      make_cert(Kind::kClient, "sluice test client", client_key.get(), ca.get(), ca_key.get(), 3);
  pki.client = identity(pki.dir, "client", client.get(), client_key.get());

  Key other_key = make_key();
  Cert other = make_cert(Kind::kCa, "some other CA", other_key.get(), nullptr, nullptr, 4);
  pki.other_ca_file = pki.dir + "/other_ca.crt";
  write_file(pki.other_ca_file, to_pem(other.get()));

  Key stray_key = make_key();
  Cert stray =
      make_cert(Kind::kServer, "localhost", stray_key.get(), other.get(), other_key.get(), 5);
  pki.untrusted_server = identity(pki.dir, "untrusted_server", stray.get(), stray_key.get());
  return pki;
}

}  // namespace

const TestPki& test_pki() {
  static const TestPki pki = make_pki();
  return pki;
}

TlsContext make_server_context(const TestPki& pki) {
  Result<TlsContext> ctx = TlsContext::server();
  if (!ctx.ok()) die("TlsContext::server");
  if (!ctx->load_cert_chain(pki.server.cert_file, pki.server.key_file).ok()) {
    die("load_cert_chain");
  }
  return *ctx;
}

TlsContext make_client_context(const TestPki& pki) {
  Result<TlsContext> ctx = TlsContext::client();
  if (!ctx.ok()) die("TlsContext::client");
  if (!ctx->load_verify_locations(pki.ca_file).ok()) die("load_verify_locations");
  return *ctx;
}

}  // namespace sluice::testing
