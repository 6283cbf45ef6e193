#include "core/tls/tls_context.h"

#include <string>

#include "core/tls/testing/test_certs.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using testing::test_pki;

TEST(TlsContextTest, ClientsVerifyCertificatesAndHostnamesByDefault) {
  Result<TlsContext> ctx = TlsContext::client();
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->role(), TlsRole::kClient);
  EXPECT_EQ(ctx->verify_mode(), TlsVerifyMode::kRequired);
  EXPECT_TRUE(ctx->check_hostname());
}

TEST(TlsContextTest, ServersAskForNoClientCertificateByDefault) {
  Result<TlsContext> ctx = TlsContext::server();
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->role(), TlsRole::kServer);
  EXPECT_EQ(ctx->verify_mode(), TlsVerifyMode::kNone);
  EXPECT_FALSE(ctx->check_hostname());
}

TEST(TlsContextTest, DefaultContextIsEmpty) { EXPECT_FALSE(TlsContext().valid()); }

TEST(TlsContextTest, LoadsACertificateChainAndKey) {
  Result<TlsContext> ctx = TlsContext::server();
  ASSERT_TRUE(ctx.ok());
  EXPECT_TRUE(ctx->load_cert_chain(test_pki().server.cert_file, test_pki().server.key_file).ok());
}

TEST(TlsContextTest, MissingCertificateFileIsATlsErrorWithOpenSslsReason) {
  Result<TlsContext> ctx = TlsContext::server();
  ASSERT_TRUE(ctx.ok());
  Status s = ctx->load_cert_chain("/nonexistent/cert.pem", "/nonexistent/key.pem");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kTlsError);
  EXPECT_STREQ(s.error().detail, "cannot load the certificate chain");
  EXPECT_NE(s.error().tls_reason.find("No such file"), std::string::npos) << s.error().tls_reason;
}

TEST(TlsContextTest, KeyThatDoesNotMatchTheCertificateIsRefused) {
  Result<TlsContext> ctx = TlsContext::server();
  ASSERT_TRUE(ctx.ok());
  Status s = ctx->load_cert_chain(test_pki().server.cert_file, test_pki().client.key_file);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kTlsError);
  EXPECT_FALSE(s.error().tls_reason.empty());
}

TEST(TlsContextTest, LoadsVerifyLocations) {
  Result<TlsContext> ctx = TlsContext::client();
  ASSERT_TRUE(ctx.ok());
  EXPECT_TRUE(ctx->load_verify_locations(test_pki().ca_file).ok());
  Status missing = ctx->load_verify_locations("/nonexistent/ca.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, StreamErrc::kTlsError);
}

TEST(TlsContextTest, LoadsTheSystemTrustStore) {
  Result<TlsContext> ctx = TlsContext::client();
  ASSERT_TRUE(ctx.ok());
  EXPECT_TRUE(ctx->set_default_verify_paths().ok());
}

TEST(TlsContextTest, VerifyModeNoneNeedsHostnameCheckingOff) {
  Result<TlsContext> ctx = TlsContext::client();
  ASSERT_TRUE(ctx.ok());
  Status s = ctx->set_verify_mode(TlsVerifyMode::kNone);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kInvalidArgument);
  ctx->set_check_hostname(false);
  EXPECT_TRUE(ctx->set_verify_mode(TlsVerifyMode::kNone).ok());
}

TEST(TlsContextTest, CheckingHostnamesTurnsVerificationOn) {
  Result<TlsContext> ctx = TlsContext::client();
  ASSERT_TRUE(ctx.ok());
  ctx->disable_verification();
  EXPECT_EQ(ctx->verify_mode(), TlsVerifyMode::kNone);
  ctx->set_check_hostname(true);
  EXPECT_EQ(ctx->verify_mode(), TlsVerifyMode::kRequired);
}

TEST(TlsContextTest, DisableVerificationTurnsBothChecksOff) {
  Result<TlsContext> ctx = TlsContext::client();
  ASSERT_TRUE(ctx.ok());
  ctx->disable_verification();
  EXPECT_EQ(ctx->verify_mode(), TlsVerifyMode::kNone);
  EXPECT_FALSE(ctx->check_hostname());
}

TEST(TlsContextTest, AlpnProtocolsMustBe1To255Bytes) {
  Result<TlsContext> ctx = TlsContext::client();
  ASSERT_TRUE(ctx.ok());
  EXPECT_TRUE(ctx->set_alpn_protocols({"h2", "http/1.1"}).ok());
  EXPECT_EQ(ctx->alpn_protocols(), (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(ctx->set_alpn_protocols({""}).error().code, StreamErrc::kInvalidArgument);
  EXPECT_EQ(ctx->set_alpn_protocols({std::string(256, 'x')}).error().code,
            StreamErrc::kInvalidArgument);
  EXPECT_EQ(ctx->alpn_protocols().size(), 2u);  // unchanged by the failures
}

TEST(TlsContextTest, VersionRangeMustNotBeEmpty) {
  Result<TlsContext> ctx = TlsContext::client();
  ASSERT_TRUE(ctx.ok());
  ASSERT_TRUE(ctx->set_maximum_version(TlsVersion::kTls12).ok());
  EXPECT_EQ(ctx->set_minimum_version(TlsVersion::kTls13).error().code,
            StreamErrc::kInvalidArgument);
  ASSERT_TRUE(ctx->set_maximum_version(TlsVersion::kTls13).ok());
  ASSERT_TRUE(ctx->set_minimum_version(TlsVersion::kTls13).ok());
  EXPECT_EQ(ctx->set_maximum_version(TlsVersion::kTls12).error().code,
            StreamErrc::kInvalidArgument);
}

TEST(TlsContextTest, CopiesShareOneContext) {
  Result<TlsContext> ctx = TlsContext::client();
  ASSERT_TRUE(ctx.ok());
  TlsContext copy = *ctx;
  copy.disable_verification();
  EXPECT_EQ(ctx->native_handle(), copy.native_handle());
  EXPECT_FALSE(ctx->check_hostname());
}

}  // namespace
}  // namespace sluice
