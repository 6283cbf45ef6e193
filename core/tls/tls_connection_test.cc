// TLS through the connection seam: two Connections over MemoryPipe, the
// driver unchanged (it moves ciphertext now), the user API unchanged (it sees
// plaintext).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "core/connection.h"
#include "core/testing/memory_pipe.h"
#include "core/tls/testing/test_certs.h"
#include "core/tls/tls_session.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using testing::CompletionLog;
using testing::make_client_context;
using testing::make_server_context;
using testing::MemoryPipe;
using testing::MemoryPipeOptions;
using testing::test_pki;

constexpr int kClient = MemoryPipe::kA;
constexpr int kServer = MemoryPipe::kB;
const std::error_code kReset = std::make_error_code(std::errc::connection_reset);

TlsOptions ClientTls(TlsContext ctx, std::string host = "localhost") {
  return TlsOptions{.context = std::move(ctx), .role = TlsRole::kClient,
                    .server_hostname = std::move(host)};
}
TlsOptions ClientTls() { return ClientTls(make_client_context(test_pki())); }
TlsOptions ServerTls(TlsContext ctx) {
  return TlsOptions{.context = std::move(ctx), .role = TlsRole::kServer};
}
TlsOptions ServerTls() { return ServerTls(make_server_context(test_pki())); }

ConnectionOptions Over(TlsOptions tls, std::size_t limit = kDefaultLimit) {
  return ConnectionOptions{.limit = limit, .tls = std::move(tls)};
}

// A read issued on `side`: its result now, or after pumping until it
// completes (a test failure if the pipe goes quiet first: a hang).
ReadResult Await(MemoryPipe& pipe, int side, ReadPoll poll) {
  if (poll) return std::move(*poll);
  do {
    if (std::optional<ReadResult> r = pipe.log(side).take_read()) return std::move(*r);
  } while (pipe.pump());
  ADD_FAILURE() << "read never completed";
  return StreamError::invalid_argument("hung");
}

enum class Wait { kDrain, kClosed, kHandshake };

Status AwaitStatus(MemoryPipe& pipe, int side, StatusPoll poll, Wait what) {
  if (poll) return std::move(*poll);
  do {
    CompletionLog& log = pipe.log(side);
    std::optional<Status> s = what == Wait::kDrain    ? log.take_drain()
                              : what == Wait::kClosed ? log.take_closed()
                                                      : log.take_handshake();
    if (s) return std::move(*s);
  } while (pipe.pump());
  ADD_FAILURE() << "wait never completed";
  return StreamError::invalid_argument("hung");
}

// Two TLS Connections (client and server roles) over a pipe.
struct TlsPair {
  explicit TlsPair(ConnectionOptions c = Over(ClientTls()), ConnectionOptions s = Over(ServerTls()),
                   MemoryPipeOptions p = {})
      : client(std::move(c)), server(std::move(s)), pipe(client, server, p) {}

  Status Handshake(int side) {
    Connection& conn = side == kClient ? client : server;
    return AwaitStatus(pipe, side, conn.handshake(), Wait::kHandshake);
  }
  void HandshakeBoth() {
    ASSERT_EQ(Handshake(kClient), Status(Ok{}));
    ASSERT_EQ(Handshake(kServer), Status(Ok{}));
  }
  ReadResult Read(int side, ReadPoll poll) { return Await(pipe, side, std::move(poll)); }
  Status Closed(int side) {
    Connection& conn = side == kClient ? client : server;
    return AwaitStatus(pipe, side, conn.writer().wait_closed(), Wait::kClosed);
  }

  Connection client;
  Connection server;
  MemoryPipe pipe;
};

// ---- Handshake ------------------------------------------------------------------------

TEST(TlsConnectionTest, ClientSendsItsClientHelloFirst) {
  Connection client(Over(ClientTls()));
  EXPECT_EQ(client.write_action(), WriteAction::kSend);
  EXPECT_TRUE(client.want_read());
  EXPECT_EQ(client.handshake(), std::nullopt);  // pending
  EXPECT_TRUE(client.handshake_in_progress());
  std::array<std::string_view, 4> views;
  ASSERT_GE(client.next_send(views), 1u);
  EXPECT_EQ(views[0][0], 0x16);  // a TLS handshake record
}

TEST(TlsConnectionTest, ServerWaitsForTheClientHello) {
  Connection server(Over(ServerTls()));
  EXPECT_EQ(server.write_action(), WriteAction::kNone);
  EXPECT_TRUE(server.want_read());
  EXPECT_TRUE(server.handshake_in_progress());
}

TEST(TlsConnectionTest, HandshakeCompletesOnBothEnds) {
  TlsPair p;
  p.pipe.run();
  EXPECT_EQ(p.pipe.log(kClient).take_handshake(), Status(Ok{}));
  EXPECT_EQ(p.pipe.log(kServer).take_handshake(), Status(Ok{}));
  EXPECT_EQ(p.client.handshake(), StatusPoll(Ok{}));
  EXPECT_EQ(p.server.handshake(), StatusPoll(Ok{}));
  EXPECT_FALSE(p.client.handshake_in_progress());
  EXPECT_EQ(p.client.tls()->state(), TlsState::kEstablished);
  // Reported once per handshake.
  p.pipe.run();
  EXPECT_TRUE(p.pipe.log(kClient).handshakes.empty());
}

TEST(TlsConnectionTest, HandshakeWorksOneByteAtATime) {
  TlsPair p(Over(ClientTls()), Over(ServerTls()), MemoryPipeOptions{.max_read = 1});
  p.HandshakeBoth();
  ASSERT_TRUE(p.client.writer().write("one byte at a time\n").ok());
  EXPECT_EQ(*p.Read(kServer, p.server.reader().readline()), "one byte at a time\n");
}

TEST(TlsConnectionTest, PlainConnectionsHaveNoHandshakeToWaitFor) {
  Connection plain;
  EXPECT_EQ(plain.handshake(), StatusPoll(Ok{}));
  EXPECT_EQ(plain.tls(), nullptr);
  EXPECT_FALSE(plain.handshake_in_progress());
  EXPECT_FALSE(plain.shutdown_in_progress());
}

// ---- Data ---------------------------------------------------------------------------------

TEST(TlsConnectionTest, EchoInBothDirections) {
  TlsPair p;
  ASSERT_TRUE(p.client.writer().write("hello\n").ok());  // queued during the handshake
  ReadResult line = p.Read(kServer, p.server.reader().readline());
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(*line, "hello\n");
  ASSERT_TRUE(p.server.writer().write("echo: " + *line).ok());
  EXPECT_EQ(*p.Read(kClient, p.client.reader().readline()), "echo: hello\n");
}

TEST(TlsConnectionTest, TheServerMaySpeakFirst) {
  TlsPair p;
  ASSERT_TRUE(p.server.writer().write("220 welcome\r\n").ok());
  EXPECT_EQ(*p.Read(kClient, p.client.reader().readuntil("\r\n")), "220 welcome\r\n");
}

TEST(TlsConnectionTest, ReadApiIsUnchangedOverTls) {
  TlsPair p;
  ASSERT_TRUE(p.client.writer().write("abcdefgh|line\nrest").ok());
  EXPECT_EQ(*p.Read(kServer, p.server.reader().readexactly(3)), "abc");
  EXPECT_EQ(*p.Read(kServer, p.server.reader().readuntil("|")), "defgh|");
  std::optional<Result<std::string_view>> view = p.server.reader().readline_view();
  ASSERT_TRUE(view && view->ok());
  EXPECT_EQ(**view, "line\n");
  EXPECT_EQ(*p.Read(kServer, p.server.reader().read(2)), "re");
  p.client.writer().close();
  ReadResult tail = p.Read(kServer, p.server.reader().readexactly(10));
  ASSERT_FALSE(tail.ok());
  EXPECT_EQ(tail.error(), StreamError::incomplete_read("st", 10));
}

TEST(TlsConnectionTest, PlaintextNeverAppearsOnTheWire) {
  TlsPair p;
  std::string wire;
  p.pipe.set_tap(kClient, [&](std::string_view b) { wire += b; });
  p.pipe.set_tap(kServer, [&](std::string_view b) { wire += b; });
  ASSERT_TRUE(p.client.writer().write("top secret\n").ok());
  EXPECT_EQ(*p.Read(kServer, p.server.reader().readline()), "top secret\n");
  EXPECT_EQ(wire.find("top secret"), std::string::npos);
  EXPECT_NE(wire.find("localhost"), std::string::npos);  // SNI is in clear
}

// The byte at offset i of the big transfer.
char PatternAt(std::uint64_t i) { return static_cast<char>((i * 131 + (i >> 13)) & 0xff); }

TEST(TlsConnectionTest, LargeTransferKeepsEveryBufferBounded) {
  constexpr std::size_t kTotal = 4 << 20;
  constexpr std::size_t kChunk = 8192;
  constexpr std::size_t kLimit = 16 * 1024;
  TlsPair p(Over(ClientTls()), Over(ServerTls(), kLimit),
            MemoryPipeOptions{.capacity = 32 * 1024, .max_read = 16 * 1024});
  p.HandshakeBoth();
  std::size_t written = 0, received = 0;
  std::size_t max_plain_out = 0, max_cipher_out = 0, max_plain_in = 0, max_cipher_in = 0;
  bool pattern_ok = true, drain_waiting = false;
  int rounds = 0;
  while (received < kTotal && ++rounds < 1'000'000) {
    // Writer: asyncio's write/drain loop.
    if (drain_waiting) drain_waiting = !p.pipe.log(kClient).take_drain();
    while (!drain_waiting && written < kTotal) {
      std::string chunk(kChunk, '\0');
      for (std::size_t i = 0; i < kChunk; ++i) chunk[i] = PatternAt(written + i);
      ASSERT_TRUE(p.client.writer().write(std::move(chunk)).ok());
      written += kChunk;
      StatusPoll d = p.client.writer().drain();
      if (!d) drain_waiting = true;
    }
    // Reader: a slow consumer, 1 KiB per round.
    if (!p.server.reader().has_pending_read()) {
      ReadPoll r = p.server.reader().read(1024);
      if (r) {
        ASSERT_TRUE(r->ok());
        for (std::size_t i = 0; i < r->value().size(); ++i) {
          pattern_ok = pattern_ok && r->value()[i] == PatternAt(received + i);
        }
        received += r->value().size();
      }
    }
    while (std::optional<ReadResult> r = p.pipe.log(kServer).take_read()) {
      ASSERT_TRUE(r->ok());
      for (std::size_t i = 0; i < r->value().size(); ++i) {
        pattern_ok = pattern_ok && r->value()[i] == PatternAt(received + i);
      }
      received += r->value().size();
    }
    p.pipe.pump();
    max_plain_out = std::max(max_plain_out, p.client.writer().get_write_buffer_size());
    max_cipher_out = std::max(max_cipher_out, p.client.tls()->output_size());
    max_plain_in = std::max(max_plain_in, p.server.reader().buffered_size());
    max_cipher_in = std::max(max_cipher_in, p.server.tls()->input_size());
  }
  EXPECT_EQ(received, kTotal);
  EXPECT_TRUE(pattern_ok);
  // Plaintext water marks as with plain bytes: the writer's queue passes
  // the high mark by at most one write; the reader's buffer passes 2*limit
  // by at most one receive's worth (decrypted at once).
  EXPECT_LE(max_plain_out, kDefaultHighWater + kChunk);
  EXPECT_LE(max_plain_in, 2 * kLimit + 16 * 1024 + kTlsMaxRecordPlaintext);
  // Ciphertext: below the outgoing bound plus one record; nothing waits
  // undecrypted.
  EXPECT_LE(max_cipher_out, kDefaultTlsOutgoingLimit + kTlsMaxRecordPlaintext + 256);
  EXPECT_EQ(max_cipher_in, 0u);
  EXPECT_LE(p.pipe.max_in_flight(), 32u * 1024);
}

TEST(TlsConnectionTest, ReadingPausesWhileTheReaderIsFull) {
  TlsPair p(Over(ClientTls()), Over(ServerTls(), /*limit=*/1024));
  p.HandshakeBoth();
  ASSERT_TRUE(p.client.writer().write(std::string(10000, 'x')).ok());
  p.pipe.run();
  EXPECT_TRUE(p.server.reader().reading_paused());
  EXPECT_FALSE(p.server.want_read());
  EXPECT_EQ(**p.server.reader().read(9000), std::string(9000, 'x'));
  EXPECT_TRUE(p.server.want_read());
}

TEST(TlsConnectionTest, NextSendEncryptsOnlyUpToTheCiphertextBound) {
  TlsPair p;
  p.HandshakeBoth();
  ASSERT_TRUE(p.client.writer().write(std::string(1 << 20, 'x')).ok());
  std::array<std::string_view, 16> views;
  ASSERT_EQ(p.client.write_action(), WriteAction::kSend);
  ASSERT_GT(p.client.next_send(views), 0u);
  const std::size_t cipher = p.client.tls()->output_size();
  EXPECT_GE(cipher, kDefaultTlsOutgoingLimit);
  EXPECT_LE(cipher, kDefaultTlsOutgoingLimit + kTlsMaxRecordPlaintext + 256);
  EXPECT_EQ(p.client.writer().get_write_buffer_size(),
            (1u << 20) - p.client.tls()->plaintext_out());
}

TEST(TlsConnectionTest, DrainsReleasedByEncryptingComeWithTheNextBytesSent) {
  TlsPair p;
  p.HandshakeBoth();
  Connection& c = p.client;
  ASSERT_TRUE(c.writer().write(std::string(kDefaultHighWater + 1, 'x')).ok());
  ASSERT_EQ(c.writer().drain(), std::nullopt);
  std::array<std::string_view, 16> views;
  const std::size_t k = c.next_send(views);  // encrypts: plaintext falls below low
  EXPECT_LE(c.writer().get_write_buffer_size(), kDefaultLowWater);
  std::size_t offered = 0;
  for (std::size_t i = 0; i < k; ++i) offered += views[i].size();
  Completions done = c.bytes_sent(offered);
  EXPECT_EQ(done.drain, Status(Ok{}));
}

TEST(TlsConnectionTest, IdleConnectionHoldsNoBuffers) {
  TlsPair p;
  ASSERT_TRUE(p.client.writer().write("ping\n").ok());
  EXPECT_EQ(*p.Read(kServer, p.server.reader().readline()), "ping\n");
  p.pipe.run();
  EXPECT_EQ(p.client.tls()->buffer_capacity(), 0u);
  EXPECT_EQ(p.server.tls()->buffer_capacity(), 0u);
  EXPECT_EQ(p.server.reader().buffer_capacity(), 0u);
  EXPECT_EQ(p.client.writer().buffer_capacity(), 0u);
}

// ---- EOF and shutdown ------------------------------------------------------------------

TEST(TlsConnectionTest, WriteEofIsNotSupported) {
  TlsPair p;
  EXPECT_FALSE(p.client.writer().can_write_eof());
  Status s = p.client.writer().write_eof();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kNotSupported);
}

TEST(TlsConnectionTest, CloseSendsCloseNotifyAndThePeerSeesEof) {
  TlsPair p;
  p.HandshakeBoth();
  ASSERT_TRUE(p.client.writer().write("bye").ok());
  p.client.writer().close();
  EXPECT_EQ(*p.Read(kServer, p.server.reader().read()), "bye");
  EXPECT_TRUE(p.server.reader().at_eof());
  EXPECT_EQ(p.server.reader().exception(), std::nullopt);
  EXPECT_EQ(p.Closed(kClient), Status(Ok{}));
  EXPECT_EQ(p.Closed(kServer), Status(Ok{}));
  EXPECT_TRUE(p.client.tls()->close_notify_received());  // the server answered
  EXPECT_TRUE(p.server.tls()->close_notify_received());
  EXPECT_EQ(p.client.tls()->state(), TlsState::kClosed);
}

TEST(TlsConnectionTest, QueuedPlaintextGoesOutBeforeCloseNotify) {
  TlsPair p;
  const std::string big(300000, 'q');
  ASSERT_TRUE(p.client.writer().write(big).ok());
  p.client.writer().close();
  EXPECT_EQ(*p.Read(kServer, p.server.reader().read()), big);
  EXPECT_EQ(p.Closed(kClient), Status(Ok{}));
}

TEST(TlsConnectionTest, ThePeersCloseNotifyClosesTheConnection) {
  // asyncio's SSLProtocol: TLS has no half-close; the peer's close_notify
  // is EOF and the transport closes itself (our close_notify answers).
  TlsPair p;
  p.HandshakeBoth();
  p.client.writer().close();
  EXPECT_EQ(*p.Read(kServer, p.server.reader().read()), "");
  EXPECT_TRUE(p.server.writer().is_closing());
  EXPECT_FALSE(p.server.want_read());
  ASSERT_TRUE(p.server.writer().write("too late").ok());  // dropped, as asyncio does
  EXPECT_EQ(p.server.writer().writes_dropped(), 1u);
  EXPECT_EQ(p.Closed(kServer), Status(Ok{}));
}

TEST(TlsConnectionTest, CloseWaitsForThePeersCloseNotify) {
  TlsPair p;
  p.HandshakeBoth();
  p.client.writer().close();
  std::array<std::string_view, 4> views;
  // Send everything the client has (its close_notify) without letting the
  // server run: the client then waits, reading.
  while (p.client.write_action() == WriteAction::kSend) {
    const std::size_t k = p.client.next_send(views);
    std::size_t n = 0;
    for (std::size_t i = 0; i < k; ++i) n += views[i].size();
    (void)p.client.bytes_sent(n);
  }
  EXPECT_EQ(p.client.tls()->state(), TlsState::kShuttingDown);
  EXPECT_EQ(p.client.write_action(), WriteAction::kNone);
  EXPECT_TRUE(p.client.want_read());
  EXPECT_TRUE(p.client.shutdown_in_progress());  // a backend arms its 30 s timer
}

TEST(TlsConnectionTest, DataArrivingAfterCloseIsDropped) {
  TlsPair p;
  p.HandshakeBoth();
  ASSERT_TRUE(p.server.writer().write("unread").ok());
  p.client.writer().close();
  EXPECT_EQ(p.Closed(kClient), Status(Ok{}));
  EXPECT_EQ(p.client.reader().buffered_size(), 0u);
}

TEST(TlsConnectionTest, TcpEofWithoutCloseNotifyIsEofAsInAsyncio) {
  TlsPair p;
  ASSERT_TRUE(p.client.writer().write("truncated?").ok());
  EXPECT_EQ(*p.Read(kServer, p.server.reader().readexactly(10)), "truncated?");
  p.pipe.inject_fin(kServer);  // the client's TCP stack closes, no close_notify
  ReadResult r = p.Read(kServer, p.server.reader().read());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "");
  EXPECT_TRUE(p.server.reader().at_eof());
  EXPECT_FALSE(p.server.tls()->close_notify_received());
  EXPECT_TRUE(p.server.writer().is_closing());
  EXPECT_EQ(p.Closed(kServer), Status(Ok{}));
}

TEST(TlsConnectionTest, TcpEofDuringTheHandshakeIsAConnectionReset) {
  Connection client(Over(ClientTls()));
  std::array<std::string_view, 4> views;
  const std::size_t k = client.next_send(views);
  ASSERT_GE(k, 1u);
  ASSERT_TRUE(client.bytes_sent(views[0].size()).empty());
  ASSERT_EQ(client.reader().readline(), std::nullopt);
  Completions c = client.eof_received();
  ASSERT_TRUE(c.handshake.has_value());
  ASSERT_FALSE(c.handshake->ok());
  EXPECT_EQ(c.handshake->error().code, StreamErrc::kConnectionError);
  EXPECT_EQ(c.handshake->error().connection_error, kReset);
  ASSERT_TRUE(c.read.has_value());
  EXPECT_EQ(c.read->error(), c.handshake->error());  // the pending read fails alike
  EXPECT_EQ(client.write_action(), WriteAction::kClose);
  ASSERT_EQ(client.writer().wait_closed(), std::nullopt);
  Completions lost = client.connection_lost();
  ASSERT_TRUE(lost.closed.has_value());
  EXPECT_EQ(lost.closed->error().connection_error, kReset);
  client.check_invariants();
}

TEST(TlsConnectionTest, LossDuringTheHandshakeFailsIt) {
  Connection client(Over(ClientTls()));
  Completions c = client.connection_lost(kReset);
  ASSERT_TRUE(c.handshake.has_value());
  EXPECT_EQ(c.handshake->error(), StreamError::connection(kReset));
  EXPECT_EQ(client.handshake(), StatusPoll(StreamError::connection(kReset)));
}

TEST(TlsConnectionTest, CloseDuringTheHandshakeStillDeliversWhatWasWritten) {
  TlsPair p;
  ASSERT_TRUE(p.client.writer().write("written before close").ok());
  p.client.writer().close();
  EXPECT_TRUE(p.client.handshake_in_progress());
  EXPECT_FALSE(p.client.shutdown_in_progress());  // the handshake timer covers it
  EXPECT_EQ(*p.Read(kServer, p.server.reader().read()), "written before close");
  EXPECT_EQ(p.Closed(kClient), Status(Ok{}));
  EXPECT_EQ(p.client.handshake(), StatusPoll(Ok{}));
}

TEST(TlsConnectionTest, AbortDuringTheHandshakeFailsIt) {
  TlsPair p;
  p.client.writer().abort();
  EXPECT_EQ(p.client.write_action(), WriteAction::kAbort);
  p.pipe.run();
  ASSERT_FALSE(p.client.handshake()->ok());
  EXPECT_EQ(p.client.handshake()->error().connection_error, kReset);
  ASSERT_FALSE(p.server.handshake()->ok());  // reset under it
  EXPECT_EQ(p.server.handshake()->error().connection_error, kReset);
}

TEST(TlsConnectionTest, AbortResetsAtOnce) {
  TlsPair p;
  p.HandshakeBoth();
  ASSERT_TRUE(p.client.writer().write(std::string(100000, 'a')).ok());
  p.client.writer().abort();
  EXPECT_EQ(p.client.write_action(), WriteAction::kAbort);
  p.pipe.run();
  EXPECT_TRUE(p.client.is_lost());
  ASSERT_TRUE(p.server.is_lost());
  EXPECT_EQ(p.server.reader().exception(), StreamError::connection(kReset));
}

// ---- Refusals -----------------------------------------------------------------------------

TEST(TlsConnectionTest, HostnameMismatchIsRefused) {
  TlsPair p(Over(ClientTls(make_client_context(test_pki()), "example.com")));
  Status hs = p.Handshake(kClient);
  ASSERT_FALSE(hs.ok());
  EXPECT_EQ(hs.error().code, StreamErrc::kTlsError);
  EXPECT_NE(hs.error().tls_reason.find("certificate verify failed"), std::string::npos);
  EXPECT_NE(hs.error().tls_reason.find("hostname mismatch"), std::string::npos)
      << hs.error().tls_reason;
  // The server learns it from the client's alert.
  Status server_hs = p.Handshake(kServer);
  ASSERT_FALSE(server_hs.ok());
  EXPECT_EQ(server_hs.error().code, StreamErrc::kTlsError);
  EXPECT_NE(server_hs.error().tls_reason.find("alert"), std::string::npos)
      << server_hs.error().tls_reason;
  // Both ends close; wait_closed reports the failure.
  EXPECT_EQ(p.Closed(kClient), Status(hs.error()));
  EXPECT_EQ(p.Closed(kServer), Status(server_hs.error()));
  EXPECT_EQ(p.client.reader().read()->error(), hs.error());
}

TEST(TlsConnectionTest, UntrustedCertificateIsRefused) {
  Result<TlsContext> server_ctx = TlsContext::server();
  ASSERT_TRUE(server_ctx.ok());
  ASSERT_TRUE(server_ctx
                  ->load_cert_chain(test_pki().untrusted_server.cert_file,
                                    test_pki().untrusted_server.key_file)
                  .ok());
  TlsPair p(Over(ClientTls()), Over(ServerTls(*server_ctx)));
  Status hs = p.Handshake(kClient);
  ASSERT_FALSE(hs.ok());
  EXPECT_EQ(hs.error().code, StreamErrc::kTlsError);
  EXPECT_NE(hs.error().tls_reason.find("unable to get local issuer certificate"),
            std::string::npos)
      << hs.error().tls_reason;
}

TEST(TlsConnectionTest, VerificationExplicitlyOffAcceptsAnyCertificate) {
  Result<TlsContext> client_ctx = TlsContext::client();  // trusts nothing
  ASSERT_TRUE(client_ctx.ok());
  client_ctx->disable_verification();
  TlsPair p(Over(ClientTls(*client_ctx, "not-the-right-name.example")));
  p.HandshakeBoth();
  ASSERT_TRUE(p.client.writer().write("ok\n").ok());
  EXPECT_EQ(*p.Read(kServer, p.server.reader().readline()), "ok\n");
}

TEST(TlsConnectionTest, APlaintextServerIsRefused) {
  Connection client(Over(ClientTls()));
  Connection server;  // not TLS: an SMTP-ish banner
  MemoryPipe pipe(client, server);
  ASSERT_TRUE(server.writer().write("220 mail.example.com ESMTP\r\n").ok());
  Status hs = AwaitStatus(pipe, kClient, client.handshake(), Wait::kHandshake);
  ASSERT_FALSE(hs.ok());
  EXPECT_EQ(hs.error().code, StreamErrc::kTlsError);
  EXPECT_STREQ(hs.error().detail, "TLS handshake failed");
  EXPECT_FALSE(hs.error().tls_reason.empty());
  EXPECT_NE(hs.error().message().find("TLS handshake failed: error:"), std::string::npos)
      << hs.error().message();
}

TEST(TlsConnectionTest, APlaintextClientIsRefused) {
  Connection client;  // speaks HTTP in clear to a TLS port
  Connection server(Over(ServerTls()));
  MemoryPipe pipe(client, server);
  ASSERT_TRUE(client.writer().write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").ok());
  Status hs = AwaitStatus(pipe, kServer, server.handshake(), Wait::kHandshake);
  ASSERT_FALSE(hs.ok());
  EXPECT_NE(hs.error().tls_reason.find("http request"), std::string::npos)
      << hs.error().tls_reason;
}

TEST(TlsConnectionTest, ClientCertificateRequiredButMissingFailsTheConnection) {
  TlsContext server_ctx = make_server_context(test_pki());
  ASSERT_TRUE(server_ctx.load_verify_locations(test_pki().ca_file).ok());
  ASSERT_TRUE(server_ctx.set_verify_mode(TlsVerifyMode::kRequired).ok());
  TlsPair p(Over(ClientTls()), Over(ServerTls(server_ctx)));
  Status server_hs = p.Handshake(kServer);
  ASSERT_FALSE(server_hs.ok());
  EXPECT_EQ(server_hs.error().code, StreamErrc::kTlsError);
  // TLS 1.3: the client finished its side first; its next read fails with
  // the server's alert.
  ReadResult r = p.Read(kClient, p.client.reader().read());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, StreamErrc::kTlsError);
  EXPECT_NE(r.error().tls_reason.find("alert"), std::string::npos) << r.error().tls_reason;
}

TEST(TlsConnectionTest, ACorruptRecordFailsTheReadsAndAlertsThePeer) {
  TlsPair p;
  p.HandshakeBoth();
  ASSERT_EQ(p.server.reader().readline(), std::nullopt);
  p.pipe.inject(kServer, std::string("\x17\x03\x03\x00\x20", 5) + std::string(32, 'z'));
  ReadResult r = p.Read(kServer, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, StreamErrc::kTlsError);
  EXPECT_EQ(p.Closed(kServer), Status(r.error()));
  ReadResult client_side = p.Read(kClient, p.client.reader().read());
  ASSERT_FALSE(client_side.ok());
  EXPECT_EQ(client_side.error().code, StreamErrc::kTlsError);
}

TEST(TlsConnectionTest, SetupFailureStartsTheConnectionFailed) {
  TlsOptions no_name = ClientTls(make_client_context(test_pki()), "");
  Connection client(Over(no_name));
  ASSERT_TRUE(client.handshake().has_value());
  EXPECT_EQ(client.handshake()->error().message(), "check_hostname requires server_hostname");
  EXPECT_EQ(client.write_action(), WriteAction::kClose);
  EXPECT_FALSE(client.want_read());
  Completions c = client.connection_lost();
  ASSERT_TRUE(c.handshake.has_value());  // reported with the first completions
  EXPECT_EQ(c.handshake, client.handshake());
}

// ---- Peer information ------------------------------------------------------------------

TEST(TlsConnectionTest, PeerInformationIsAvailableAfterTheHandshake) {
  TlsPair p;
  p.HandshakeBoth();
  const TlsSession& tls = *p.client.tls();
  EXPECT_EQ(tls.protocol_version(), "TLSv1.3");
  EXPECT_FALSE(tls.cipher().empty());
  EXPECT_NE(tls.peer_certificate_subject().find("CN=localhost"), std::string::npos);
  EXPECT_FALSE(tls.peer_certificate_der().empty());
  EXPECT_EQ(p.server.tls()->server_name(), "localhost");
}

TEST(TlsConnectionTest, Tls12IsNegotiatedWhenTheServerCapsIt) {
  TlsContext server_ctx = make_server_context(test_pki());
  ASSERT_TRUE(server_ctx.set_maximum_version(TlsVersion::kTls12).ok());
  TlsPair p(Over(ClientTls()), Over(ServerTls(server_ctx)));
  p.HandshakeBoth();
  EXPECT_EQ(p.client.tls()->protocol_version(), "TLSv1.2");
  ASSERT_TRUE(p.client.writer().write("over 1.2\n").ok());
  EXPECT_EQ(*p.Read(kServer, p.server.reader().readline()), "over 1.2\n");
  p.client.writer().close();
  EXPECT_EQ(*p.Read(kServer, p.server.reader().read()), "");
  EXPECT_EQ(p.Closed(kClient), Status(Ok{}));
}

TEST(TlsConnectionTest, ServerSeesTheClientCertificate) {
  TlsContext server_ctx = make_server_context(test_pki());
  ASSERT_TRUE(server_ctx.load_verify_locations(test_pki().ca_file).ok());
  ASSERT_TRUE(server_ctx.set_verify_mode(TlsVerifyMode::kRequired).ok());
  TlsContext client_ctx = make_client_context(test_pki());
  ASSERT_TRUE(
      client_ctx.load_cert_chain(test_pki().client.cert_file, test_pki().client.key_file).ok());
  TlsPair p(Over(ClientTls(client_ctx)), Over(ServerTls(server_ctx)));
  p.HandshakeBoth();
  EXPECT_NE(p.server.tls()->peer_certificate_subject().find("CN=sluice test client"),
            std::string::npos)
      << p.server.tls()->peer_certificate_subject();
}

TEST(TlsConnectionTest, AlpnIsNegotiatedByTheServersPreference) {
  TlsContext client_ctx = make_client_context(test_pki());
  ASSERT_TRUE(client_ctx.set_alpn_protocols({"h2", "http/1.1"}).ok());
  TlsContext server_ctx = make_server_context(test_pki());
  ASSERT_TRUE(server_ctx.set_alpn_protocols({"http/1.1", "h2"}).ok());
  TlsPair p(Over(ClientTls(client_ctx)), Over(ServerTls(server_ctx)));
  p.HandshakeBoth();
  EXPECT_EQ(p.client.tls()->alpn_protocol(), "http/1.1");
  EXPECT_EQ(p.server.tls()->alpn_protocol(), "http/1.1");
}

TEST(TlsConnectionTest, NoCommonAlpnProtocolMeansNone) {
  TlsContext client_ctx = make_client_context(test_pki());
  ASSERT_TRUE(client_ctx.set_alpn_protocols({"h2"}).ok());
  TlsContext server_ctx = make_server_context(test_pki());
  ASSERT_TRUE(server_ctx.set_alpn_protocols({"http/1.1"}).ok());
  TlsPair p(Over(ClientTls(client_ctx)), Over(ServerTls(server_ctx)));
  p.HandshakeBoth();
  EXPECT_EQ(p.client.tls()->alpn_protocol(), "");
}

// ---- STARTTLS -----------------------------------------------------------------------------

// A plain pair, the STARTTLS command, and a client that pipelines its
// ClientHello right behind it.
struct StartTlsPair {
  Connection client;
  Connection server;
  MemoryPipe pipe{client, server};

  void ClientPipelinesStartTls() {
    ASSERT_TRUE(client.writer().write("STARTTLS\r\n").ok());
    ASSERT_TRUE(client.start_tls(ClientTls()).ok());  // ClientHello queued after the command
    pipe.run();                                       // both are at the server now
  }
};

TEST(TlsStartTlsTest, BufferedBytesAreHandedToTls) {
  StartTlsPair p;
  p.ClientPipelinesStartTls();
  EXPECT_EQ(**p.server.reader().readline(), "STARTTLS\r\n");
  EXPECT_GT(p.server.reader().buffered_size(), 0u);  // the ClientHello
  ASSERT_TRUE(p.server.start_tls(ServerTls()).ok());
  EXPECT_EQ(p.server.reader().buffered_size(), 0u);
  EXPECT_EQ(AwaitStatus(p.pipe, kServer, p.server.handshake(), Wait::kHandshake), Status(Ok{}));
  EXPECT_EQ(AwaitStatus(p.pipe, kClient, p.client.handshake(), Wait::kHandshake), Status(Ok{}));
  ASSERT_TRUE(p.client.writer().write("MAIL FROM:<a@b>\r\n").ok());
  EXPECT_EQ(*Await(p.pipe, kServer, p.server.reader().readline()), "MAIL FROM:<a@b>\r\n");
  EXPECT_FALSE(p.server.writer().can_write_eof());
}

TEST(TlsStartTlsTest, DiscardDropsBufferedBytes) {
  StartTlsPair p;
  ASSERT_TRUE(p.client.writer().write("STARTTLS\r\nRCPT TO:<injected>\r\n").ok());
  p.pipe.run();
  EXPECT_EQ(**p.server.reader().readline(), "STARTTLS\r\n");
  ASSERT_TRUE(p.server.start_tls(ServerTls(), StartTlsBuffered::kDiscard).ok());
  EXPECT_EQ(p.server.reader().bytes_discarded(), std::string("RCPT TO:<injected>\r\n").size());
  ASSERT_TRUE(p.client.start_tls(ClientTls()).ok());
  EXPECT_EQ(AwaitStatus(p.pipe, kServer, p.server.handshake(), Wait::kHandshake), Status(Ok{}));
  ASSERT_TRUE(p.client.writer().write("QUIT\r\n").ok());
  EXPECT_EQ(*Await(p.pipe, kServer, p.server.reader().readline()), "QUIT\r\n");
}

TEST(TlsStartTlsTest, RefuseFailsWhenBytesAreBufferedAndStaysPlain) {
  StartTlsPair p;
  ASSERT_TRUE(p.client.writer().write("STARTTLS\r\nRCPT TO:<injected>\r\n").ok());
  p.pipe.run();
  EXPECT_EQ(**p.server.reader().readline(), "STARTTLS\r\n");
  Status s = p.server.start_tls(ServerTls(), StartTlsBuffered::kRefuse);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, StreamErrc::kTlsError);
  EXPECT_EQ(p.server.tls(), nullptr);
  EXPECT_EQ(**p.server.reader().readline(), "RCPT TO:<injected>\r\n");
}

TEST(TlsStartTlsTest, RefuseAcceptsAnEmptyBuffer) {
  StartTlsPair p;
  ASSERT_TRUE(p.client.writer().write("STARTTLS\r\n").ok());
  p.pipe.run();
  EXPECT_EQ(**p.server.reader().readline(), "STARTTLS\r\n");
  EXPECT_TRUE(p.server.start_tls(ServerTls(), StartTlsBuffered::kRefuse).ok());
}

TEST(TlsStartTlsTest, PlaintextQueuedBeforeIsSentFirstInClear) {
  StartTlsPair p;
  // The server answers and switches at once; the client reads the answer
  // in clear, then switches too.
  ASSERT_TRUE(p.server.writer().write("220 go ahead\r\n").ok());
  ASSERT_TRUE(p.server.start_tls(ServerTls()).ok());
  EXPECT_EQ(p.server.write_action(), WriteAction::kSend);
  EXPECT_EQ(*Await(p.pipe, kClient, p.client.reader().readline()), "220 go ahead\r\n");
  ASSERT_TRUE(p.client.start_tls(ClientTls()).ok());
  EXPECT_EQ(AwaitStatus(p.pipe, kClient, p.client.handshake(), Wait::kHandshake), Status(Ok{}));
  ASSERT_TRUE(p.server.writer().write("secured\r\n").ok());
  EXPECT_EQ(*Await(p.pipe, kClient, p.client.reader().readline()), "secured\r\n");
}

TEST(TlsStartTlsTest, RefusedWhenItCannotStart) {
  TlsPair tls;
  EXPECT_EQ(tls.client.start_tls(ClientTls()).error().code, StreamErrc::kInvalidArgument);
  Connection closing;
  closing.writer().close();
  EXPECT_EQ(closing.start_tls(ClientTls()).error().code, StreamErrc::kInvalidArgument);
  Connection reading;
  ASSERT_EQ(reading.reader().readline(), std::nullopt);
  EXPECT_EQ(reading.start_tls(ClientTls()).error().code, StreamErrc::kInvalidArgument);
  Connection eof;
  (void)eof.eof_received();
  EXPECT_EQ(eof.start_tls(ClientTls()).error().code, StreamErrc::kInvalidArgument);
  Connection bad_options;
  EXPECT_EQ(bad_options.start_tls(ServerTls(make_client_context(test_pki()))).error().code,
            StreamErrc::kInvalidArgument);
  EXPECT_EQ(bad_options.tls(), nullptr);
  EXPECT_TRUE(bad_options.writer().can_write_eof());
}

}  // namespace
}  // namespace sluice
