// TlsSession on its own: two sessions wired back to back by hand.

#include "core/tls/tls_session.h"

#include <openssl/x509.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "core/tls/testing/test_certs.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using testing::make_client_context;
using testing::make_server_context;
using testing::test_pki;

std::unique_ptr<TlsSession> Client(TlsContext ctx, std::string host = "localhost") {
  Result<std::unique_ptr<TlsSession>> s =
      TlsSession::create({.context = std::move(ctx), .role = TlsRole::kClient,
                          .server_hostname = std::move(host)});
  EXPECT_TRUE(s.ok()) << s.error().message();
  return s.ok() ? std::move(*s) : nullptr;
}

std::unique_ptr<TlsSession> Server(TlsContext ctx) {
  Result<std::unique_ptr<TlsSession>> s =
      TlsSession::create({.context = std::move(ctx), .role = TlsRole::kServer});
  EXPECT_TRUE(s.ok()) << s.error().message();
  return s.ok() ? std::move(*s) : nullptr;
}

// Everything `from` has to send, as one string (consumed).
std::string TakeOutput(TlsSession& from) {
  std::string out;
  std::array<std::string_view, 8> views;
  while (from.output_size() > 0) {
    const std::size_t n = from.peek_output(views);
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      out += views[i];
      total += views[i].size();
    }
    from.consume_output(total);
  }
  return out;
}

void Transfer(TlsSession& from, TlsSession& to) { to.append_input(TakeOutput(from)); }

// Runs both handshakes to the end (or a failure).
void Handshake(TlsSession& client, TlsSession& server) {
  for (int round = 0; round < 10; ++round) {
    if (client.state() == TlsState::kHandshaking) client.handshake();
    Transfer(client, server);
    if (server.state() == TlsState::kHandshaking) server.handshake();
    Transfer(server, client);
  }
}

// All application data `s` can decrypt now.
std::string ReadAll(TlsSession& s) {
  std::string out;
  std::array<char, 1000> buf;
  for (;;) {
    TlsRead r = s.read(buf);
    if (r.kind != TlsRead::Kind::kData) return out;
    out.append(buf.data(), r.size);
  }
}

class TlsSessionTest : public ::testing::Test {
 protected:
  std::unique_ptr<TlsSession> client_ = Client(make_client_context(test_pki()));
  std::unique_ptr<TlsSession> server_ = Server(make_server_context(test_pki()));
};

TEST_F(TlsSessionTest, ClientsFirstHandshakeStepWritesAClientHello) {
  EXPECT_EQ(client_->handshake(), TlsState::kHandshaking);
  const std::string hello = TakeOutput(*client_);
  ASSERT_GT(hello.size(), 5u);
  EXPECT_EQ(hello[0], 0x16);  // a handshake record
  EXPECT_EQ(hello[5], 0x01);  // ClientHello
}

TEST_F(TlsSessionTest, ServerWaitsForTheClient) {
  EXPECT_EQ(server_->handshake(), TlsState::kHandshaking);
  EXPECT_EQ(server_->output_size(), 0u);
}

TEST_F(TlsSessionTest, HandshakeEstablishesBothEnds) {
  Handshake(*client_, *server_);
  EXPECT_EQ(client_->state(), TlsState::kEstablished);
  EXPECT_EQ(server_->state(), TlsState::kEstablished);
  client_->check_invariants();
  server_->check_invariants();
}

TEST_F(TlsSessionTest, HandshakeWorksOneByteAtATime) {
  client_->handshake();
  for (int steps = 0; steps < 100000 && (client_->state() == TlsState::kHandshaking ||
                                         server_->state() == TlsState::kHandshaking);
       ++steps) {
    for (auto [from, to] : {std::pair{client_.get(), server_.get()},
                            std::pair{server_.get(), client_.get()}}) {
      std::array<std::string_view, 1> view;
      if (from->peek_output(view) == 1) {
        to->append_input(view[0].substr(0, 1));
        from->consume_output(1);
        if (to->state() == TlsState::kHandshaking) to->handshake();
      }
    }
  }
  EXPECT_EQ(client_->state(), TlsState::kEstablished);
  EXPECT_EQ(server_->state(), TlsState::kEstablished);
}

TEST_F(TlsSessionTest, ApplicationDataRoundTrips) {
  Handshake(*client_, *server_);
  EXPECT_EQ(client_->write("ping"), 4u);
  Transfer(*client_, *server_);
  EXPECT_EQ(ReadAll(*server_), "ping");
  const std::string big(100000, 'b');
  EXPECT_EQ(server_->write(big), big.size());
  Transfer(*server_, *client_);
  EXPECT_EQ(ReadAll(*client_), big);
  EXPECT_EQ(server_->plaintext_out(), big.size());
  EXPECT_EQ(client_->plaintext_in(), big.size());
}

TEST_F(TlsSessionTest, CiphertextIsNotThePlaintext) {
  Handshake(*client_, *server_);
  client_->write("the secret");
  const std::string wire = TakeOutput(*client_);
  EXPECT_EQ(wire.find("secret"), std::string::npos);
  EXPECT_EQ(wire[0], 0x17);  // application_data record
}

TEST_F(TlsSessionTest, IdleSessionHoldsNoCiphertextBuffers) {
  Handshake(*client_, *server_);
  client_->write("x");
  Transfer(*client_, *server_);
  EXPECT_EQ(ReadAll(*server_), "x");
  EXPECT_EQ(ReadAll(*client_), "");  // TLS 1.3 session tickets, taken and dropped
  EXPECT_EQ(client_->buffer_capacity(), 0u);
  EXPECT_EQ(server_->buffer_capacity(), 0u);
}

TEST_F(TlsSessionTest, PeerInformationAfterTheHandshake) {
  EXPECT_EQ(client_->protocol_version(), "");
  Handshake(*client_, *server_);
  EXPECT_EQ(client_->protocol_version(), "TLSv1.3");
  EXPECT_FALSE(client_->cipher().empty());
  EXPECT_EQ(client_->cipher(), server_->cipher());
  EXPECT_NE(client_->peer_certificate_subject().find("CN=localhost"), std::string::npos)
      << client_->peer_certificate_subject();
  const std::string der = client_->peer_certificate_der();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  EXPECT_NE(cert, nullptr);
  X509_free(cert);
  EXPECT_EQ(server_->peer_certificate_der(), "");  // no client certificate asked for
  EXPECT_EQ(server_->server_name(), "localhost");  // SNI
  EXPECT_EQ(client_->server_name(), "localhost");
  EXPECT_EQ(client_->alpn_protocol(), "");
}

TEST(TlsSessionIpTest, AnIpAddressIsCheckedAsAnIpAndSentWithoutSni) {
  std::unique_ptr<TlsSession> client = Client(make_client_context(test_pki()), "127.0.0.1");
  std::unique_ptr<TlsSession> server = Server(make_server_context(test_pki()));
  Handshake(*client, *server);
  EXPECT_EQ(client->state(), TlsState::kEstablished);
  EXPECT_EQ(server->server_name(), "");
}

TEST(TlsSessionIpTest, AnIpAddressNotInTheCertificateIsRefused) {
  std::unique_ptr<TlsSession> client = Client(make_client_context(test_pki()), "10.1.2.3");
  std::unique_ptr<TlsSession> server = Server(make_server_context(test_pki()));
  Handshake(*client, *server);
  ASSERT_EQ(client->state(), TlsState::kFailed);
  EXPECT_NE(client->error()->tls_reason.find("IP address mismatch"), std::string::npos)
      << client->error()->tls_reason;
}

TEST_F(TlsSessionTest, CloseNotifyTravelsBothWays) {
  Handshake(*client_, *server_);
  EXPECT_EQ(client_->shutdown(), TlsState::kShuttingDown);
  Transfer(*client_, *server_);
  std::array<char, 16> buf;
  EXPECT_EQ(server_->read(buf).kind, TlsRead::Kind::kCloseNotify);
  EXPECT_TRUE(server_->close_notify_received());
  EXPECT_EQ(server_->state(), TlsState::kEstablished);  // may still send
  EXPECT_EQ(server_->write("last words"), 10u);
  EXPECT_EQ(server_->shutdown(), TlsState::kClosed);
  Transfer(*server_, *client_);
  EXPECT_EQ(ReadAll(*client_), "last words");  // still decrypted while shutting down
  EXPECT_EQ(client_->read(buf).kind, TlsRead::Kind::kCloseNotify);
  EXPECT_TRUE(client_->close_notify_received());
  EXPECT_EQ(client_->state(), TlsState::kClosed);
}

TEST_F(TlsSessionTest, InputEofWhileShuttingDownCompletesTheShutdown) {
  Handshake(*client_, *server_);
  ASSERT_EQ(client_->shutdown(), TlsState::kShuttingDown);
  client_->input_eof();
  EXPECT_EQ(client_->state(), TlsState::kClosed);
}

TEST_F(TlsSessionTest, InputEofDuringTheHandshakeIsAConnectionReset) {
  client_->handshake();
  client_->input_eof();
  ASSERT_EQ(client_->state(), TlsState::kFailed);
  EXPECT_EQ(client_->error()->code, StreamErrc::kConnectionError);
  EXPECT_EQ(client_->error()->connection_error, std::errc::connection_reset);
}

TEST_F(TlsSessionTest, InputEofAfterTheHandshakeIsLeftToTheCaller) {
  Handshake(*client_, *server_);
  client_->input_eof();
  EXPECT_EQ(client_->state(), TlsState::kEstablished);
  EXPECT_TRUE(client_->input_ended());
}

TEST_F(TlsSessionTest, AnHttpRequestIsNotAClientHello) {
  server_->append_input("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(server_->handshake(), TlsState::kFailed);
  const StreamError& e = *server_->error();
  EXPECT_EQ(e.code, StreamErrc::kTlsError);
  EXPECT_STREQ(e.detail, "TLS handshake failed");
  EXPECT_NE(e.tls_reason.find("http request"), std::string::npos) << e.tls_reason;
  EXPECT_EQ(server_->input_size(), 0u);
}

TEST_F(TlsSessionTest, APlaintextServerIsNotTls) {
  client_->handshake();
  (void)TakeOutput(*client_);
  client_->append_input("220 smtp.example.com ESMTP ready\r\n");
  ASSERT_EQ(client_->handshake(), TlsState::kFailed);
  EXPECT_EQ(client_->error()->code, StreamErrc::kTlsError);
  EXPECT_FALSE(client_->error()->tls_reason.empty());
}

TEST_F(TlsSessionTest, ACorruptRecordFailsTheSessionAndQueuesAnAlert) {
  Handshake(*client_, *server_);
  client_->write("payload");
  std::string wire = TakeOutput(*client_);
  wire[wire.size() - 3] ^= 0x40;
  server_->append_input(wire);
  std::array<char, 64> buf;
  EXPECT_EQ(server_->read(buf).kind, TlsRead::Kind::kFailed);
  ASSERT_EQ(server_->state(), TlsState::kFailed);
  EXPECT_EQ(server_->error()->code, StreamErrc::kTlsError);
  EXPECT_GT(server_->output_size(), 0u);  // the alert
  // ... which the client reports as the server's alert.
  Transfer(*server_, *client_);
  EXPECT_EQ(client_->read(buf).kind, TlsRead::Kind::kFailed);
  EXPECT_NE(client_->error()->tls_reason.find("alert"), std::string::npos)
      << client_->error()->tls_reason;
}

TEST_F(TlsSessionTest, UntrustedCertificateNamesTheVerifyError) {
  Result<TlsContext> bare = TlsContext::client();  // trusts nothing
  ASSERT_TRUE(bare.ok());
  std::unique_ptr<TlsSession> client = Client(*bare);
  Handshake(*client, *server_);
  ASSERT_EQ(client->state(), TlsState::kFailed);
  EXPECT_NE(client->error()->tls_reason.find("certificate verify failed"), std::string::npos)
      << client->error()->tls_reason;
  EXPECT_NE(client->error()->tls_reason.find("unable to get local issuer certificate"),
            std::string::npos)
      << client->error()->tls_reason;
}

TEST(TlsSessionCreateTest, RefusesAnEmptyContext) {
  Result<std::unique_ptr<TlsSession>> s = TlsSession::create({});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kInvalidArgument);
}

TEST(TlsSessionCreateTest, RefusesAContextOfTheOtherRole) {
  Result<std::unique_ptr<TlsSession>> s =
      TlsSession::create({.context = make_client_context(test_pki()), .role = TlsRole::kServer});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kInvalidArgument);
}

TEST(TlsSessionCreateTest, HostnameCheckingNeedsAServerHostname) {
  Result<std::unique_ptr<TlsSession>> s =
      TlsSession::create({.context = make_client_context(test_pki()), .role = TlsRole::kClient});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "check_hostname requires server_hostname");
}

TEST(TlsSessionCreateTest, NoServerHostnameIsFineWithoutHostnameChecking) {
  TlsContext ctx = make_client_context(test_pki());
  ctx.set_check_hostname(false);
  std::unique_ptr<TlsSession> client = Client(ctx, "");
  std::unique_ptr<TlsSession> server = Server(make_server_context(test_pki()));
  Handshake(*client, *server);
  EXPECT_EQ(client->state(), TlsState::kEstablished);  // chain verified, no name checked
  EXPECT_EQ(server->server_name(), "");                 // and no SNI sent
}

TEST(TlsSessionCreateTest, FailedSessionHoldsItsError) {
  std::unique_ptr<TlsSession> s = TlsSession::failed(StreamError::tls("setup", "because"));
  EXPECT_EQ(s->state(), TlsState::kFailed);
  EXPECT_EQ(s->error()->tls_reason, "because");
  EXPECT_EQ(s->native_handle(), nullptr);
  EXPECT_EQ(s->protocol_version(), "");
  s->check_invariants();
}

}  // namespace
}  // namespace sluice
