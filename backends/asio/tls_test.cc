// TLS on the Asio backend (StreamOptions::ssl, servers, async_start_tls,
// the handshake and shutdown timers, get_extra_info / ssl_object), over real
// sockets, with the throwaway PKI of //core/tls/testing:test_certs.

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <system_error>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include "backends/asio/streams.h"
#include "backends/asio/test_support.h"
#include "core/tls/testing/test_certs.h"
#include "core/tls/tls_context.h"
#include "core/tls/tls_session.h"
#include "gtest/gtest.h"

namespace sluice::asio_backend {
namespace {

using namespace test_support;  // NOLINT
using asio::use_awaitable;
using sluice::testing::make_client_context;
using sluice::testing::make_server_context;
using sluice::testing::test_pki;
using Clock = std::chrono::steady_clock;
// The test server certificate's subject, as RFC 2253 prints it.
constexpr const char* kServerSubject = "CN=localhost,O=sluice tests";
constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// ---- Helpers. -------------------------------------------------------------------------------

StreamOptions client_tls(std::optional<std::string> server_hostname = std::nullopt) {
  StreamOptions o;
  o.ssl = make_client_context(test_pki());
  o.server_hostname = std::move(server_hostname);
  return o;
}

ServerOptions server_tls() {
  ServerOptions o;
  o.stream.ssl = make_server_context(test_pki());
  return o;
}

std::uint16_t port_of(const Server& server) {
  return std::get<asio::ip::tcp::endpoint>(server.sockets().front()).port();
}

// echo: each line back, drained, until EOF; counts the connections served.
struct Echo {
  int* served;
  asio::awaitable<void> operator()(StreamReader reader, StreamWriter writer) const {
    ++*served;
    for (;;) {
      std::string line = co_await reader.async_readline(use_awaitable);
      if (line.empty()) break;
      writer.write(std::move(line));
      co_await writer.async_drain(use_awaitable);
    }
    writer.close();
  }
};

// open: async_open_connection as (error, stream), never throwing.
asio::awaitable<std::tuple<std::error_code, Stream>> open(std::string host, std::uint16_t port,
                                                          StreamOptions options) {
  auto ex = co_await asio::this_coro::executor;
  co_return co_await async_open_connection(ex, host, port, options, as_tuple_awaitable);
}

// der_of: a PEM certificate's DER bytes.
std::string der_of(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return {};
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  std::string out = n > 0 ? std::string(reinterpret_cast<char*>(der), n) : std::string();
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

// SilentListener: accepts TCP connections on the loopback and never sends a
// byte (a peer that never answers a ClientHello). Keeps what it accepted.
struct SilentListener {
  explicit SilentListener(asio::io_context& io)
      : acceptor(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)), peer(io) {
    acceptor.async_accept(peer, [this](std::error_code ec) { accepted = !ec; });
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  asio::ip::tcp::acceptor acceptor;
  asio::ip::tcp::socket peer;
  bool accepted = false;
};

// end_of: how `socket`'s stream ends (EOF, a reset...), read to the end on
// `io`; operation_aborted if it does not end within `timeout`.
std::error_code end_of(asio::io_context& io, asio::ip::tcp::socket& socket,
                       std::chrono::milliseconds timeout = 2000ms) {
  std::string sink(4096, '\0');
  std::optional<std::error_code> end;
  std::function<void()> read_more = [&] {
    socket.async_read_some(asio::buffer(sink), [&](std::error_code ec, std::size_t) {
      if (ec) {
        end = ec;
      } else {
        read_more();
      }
    });
  };
  read_more();
  if (run_until(io, [&] { return end.has_value(); }, timeout)) return *end;
  std::error_code ignored;
  socket.close(ignored);  // cancels the read
  run_until(io, [&] { return end.has_value(); });
  return asio::error::operation_aborted;
}

// ---- Echo and peer information. -----------------------------------------------------------

TEST(AsioTlsTest, EchoOverTlsBetweenOpenConnectionAndStartServerOverTcp) {
  asio::io_context io;
  int served = 0;
  Server server = start_server(io.get_executor(), Echo{&served}, "127.0.0.1", 0, server_tls());
  run(io, [](Server& server) -> asio::awaitable<void> {
    // The default server_hostname is the host: an IP literal, which the test
    // certificate names (IP:127.0.0.1).
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), client_tls());
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    // Several TLS records, just under the server's 64 KiB limit.
    const std::string big = std::string(60000, 'z') + "\n";
    for (const std::string& line : {std::string("hello\n"), big}) {
      s.writer.write(line);
      const std::string back = co_await s.reader.async_readline(use_awaitable);
      EXPECT_TRUE(back == line) << back.size() << " bytes back for " << line.size();
    }
    s.writer.close();
    auto [closed] = co_await s.writer.async_wait_closed(as_tuple_awaitable);
    EXPECT_FALSE(closed) << closed.message();  // close_notify both ways: clean
  }(server));
  EXPECT_EQ(served, 1);
}

TEST(AsioTlsTest, EchoOverTlsBetweenOpenUnixConnectionAndStartUnixServer) {
  asio::io_context io;
  const std::string path = unix_socket_path("tls_echo");
  int served = 0;
  Server server = start_unix_server(io.get_executor(), Echo{&served}, path, server_tls());
  run(io, [](const std::string& path) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    // No host over a UNIX socket: the name to check is explicit.
    auto [reader, writer] =
        co_await async_open_unix_connection(ex, path, client_tls("localhost"), use_awaitable);
    EXPECT_NE(writer.ssl_object(), nullptr);
    writer.write("over a unix socket\n");
    const std::string back = co_await reader.async_readline(use_awaitable);
    EXPECT_EQ(back, "over a unix socket\n");
    writer.close();
    co_await writer.async_wait_closed(use_awaitable);
  }(path));
  EXPECT_EQ(served, 1);
}

TEST(AsioTlsTest, ExtraInfoDescribesTheSessionOnBothEnds) {
  asio::io_context io;
  std::optional<StreamWriter> server_end;
  Server server = start_server(
      io.get_executor(),
      [&server_end](StreamReader reader, StreamWriter writer) -> asio::awaitable<void> {
        server_end = writer;
        co_await writer.async_wait_closed(asio::experimental::as_tuple(use_awaitable));
      },
      "127.0.0.1", 0, server_tls());
  run(io, [](Server& server, std::optional<StreamWriter>& server_end) -> asio::awaitable<void> {
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), client_tls("localhost"));
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    // open_connection completed after the handshake: everything is there.
    const StreamWriter& c = s.writer;
    EXPECT_EQ(c.get_extra_info("peercert"), kServerSubject);
    EXPECT_EQ(c.get_extra_info("peercert_der"), der_of(test_pki().server.cert_pem));
    EXPECT_EQ(c.get_extra_info("tls_version"), "TLSv1.3");
    EXPECT_TRUE(c.get_extra_info("cipher").has_value());
    EXPECT_EQ(c.get_extra_info("alpn_protocol"), std::nullopt);  // none offered
    EXPECT_EQ(c.get_extra_info("server_hostname"), "localhost");
    EXPECT_NE(c.ssl_object(), nullptr);
    if (c.ssl_object() == nullptr) co_return;
    EXPECT_EQ(c.ssl_object()->state(), TlsState::kEstablished);
    EXPECT_EQ(c.get_extra_info("cipher"), std::string(c.ssl_object()->cipher()));
    for (int i = 0; i < 1000 && !server_end; ++i) co_await sleep_for(1ms);
    EXPECT_TRUE(server_end.has_value());
    if (!server_end) co_return;
    const StreamWriter& srv = *server_end;
    EXPECT_EQ(srv.get_extra_info("peercert"), std::nullopt);  // no client certificate
    EXPECT_EQ(srv.get_extra_info("peercert_der"), std::nullopt);
    EXPECT_EQ(srv.get_extra_info("server_hostname"), "localhost");  // the SNI received
    EXPECT_EQ(srv.get_extra_info("cipher"), c.get_extra_info("cipher"));
    EXPECT_EQ(srv.get_extra_info("tls_version"), "TLSv1.3");
    EXPECT_NE(srv.ssl_object(), nullptr);
    s.writer.close();
    co_await s.writer.async_wait_closed(use_awaitable);
    // Still readable after the close, like peername.
    EXPECT_EQ(c.get_extra_info("peercert"), kServerSubject);
  }(server, server_end));
}

TEST(AsioTlsTest, PlainStreamHasNoSslObjectAndNoTlsExtraInfo) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  EXPECT_EQ(a.writer.ssl_object(), nullptr);
  for (const char* name :
       {"peercert", "peercert_der", "cipher", "tls_version", "alpn_protocol", "server_hostname"}) {
    EXPECT_EQ(a.writer.get_extra_info(name), std::nullopt) << name;
  }
  EXPECT_TRUE(a.writer.can_write_eof());
}

TEST(AsioTlsTest, AlpnProtocolIsNegotiated) {
  asio::io_context io;
  ServerOptions so = server_tls();
  ASSERT_TRUE(so.stream.ssl->set_alpn_protocols({"h2", "http/1.1"}).ok());
  int served = 0;
  Server server = start_server(io.get_executor(), Echo{&served}, "127.0.0.1", 0, so);
  run(io, [](Server& server) -> asio::awaitable<void> {
    StreamOptions co = client_tls();
    EXPECT_TRUE(co.ssl->set_alpn_protocols({"http/1.1"}).ok());
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), co);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    EXPECT_EQ(s.writer.get_extra_info("alpn_protocol"), "http/1.1");
    s.writer.close();
    co_await s.writer.async_wait_closed(use_awaitable);
  }(server));
}

// ---- Refused handshakes. ------------------------------------------------------------------------

TEST(AsioTlsTest, HostnameMismatchFailsOpenConnectionWithATlsError) {
  asio::io_context io;
  int served = 0;
  Server server = start_server(io.get_executor(), Echo{&served}, "127.0.0.1", 0, server_tls());
  run(io, [](Server& server) -> asio::awaitable<void> {
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), client_tls("wrong.example"));
    EXPECT_TRUE(is_tls_error(ec)) << ec.category().name() << ": " << ec.message();
    EXPECT_NE(ec.message().find("hostname mismatch"), std::string::npos) << ec.message();
    EXPECT_FALSE(s.reader);
  }(server));
  EXPECT_EQ(served, 0);
}

TEST(AsioTlsTest, UntrustedCertificateFailsOpenConnectionWithATlsError) {
  asio::io_context io;
  ServerOptions so;
  so.stream.ssl = *TlsContext::server();
  ASSERT_TRUE(so.stream.ssl
                  ->load_cert_chain(test_pki().untrusted_server.cert_file,
                                    test_pki().untrusted_server.key_file)
                  .ok());
  int served = 0;
  Server server = start_server(io.get_executor(), Echo{&served}, "127.0.0.1", 0, so);
  run(io, [](Server& server) -> asio::awaitable<void> {
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), client_tls("localhost"));
    EXPECT_TRUE(is_tls_error(ec)) << ec.category().name() << ": " << ec.message();
    EXPECT_NE(ec.message().find("certificate verify failed"), std::string::npos) << ec.message();
  }(server));
  EXPECT_EQ(served, 0);
}

TEST(AsioTlsTest, OpenConnectionErrorKeepsOpenSslReasonThroughUseAwaitable) {
  asio::io_context io;
  int served = 0;
  Server server = start_server(io.get_executor(), Echo{&served}, "127.0.0.1", 0, server_tls());
  run(io, [](Server& server) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    StreamOptions untrusting;
    untrusting.ssl = *TlsContext::client();  // trusts nothing
    untrusting.server_hostname = "localhost";
    try {
      co_await async_open_connection(ex, "127.0.0.1", port_of(server), untrusting, use_awaitable);
      ADD_FAILURE() << "no exception";
    } catch (const std::system_error& e) {
      EXPECT_TRUE(is_tls_error(e.code()));
      EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos)
          << e.what();
    }
  }(server));
}

TEST(AsioTlsTest, ServerKeepsServingAfterFailedHandshakes) {
  asio::io_context io;
  int served = 0;
  Server server = start_server(io.get_executor(), Echo{&served}, "127.0.0.1", 0, server_tls());
  run(io, [](Server& server) -> asio::awaitable<void> {
    auto [bad_ec, bad] = co_await open("127.0.0.1", port_of(server), client_tls("wrong.example"));
    EXPECT_TRUE(is_tls_error(bad_ec)) << bad_ec.message();
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), client_tls("localhost"));
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    s.writer.write("still serving\n");
    const std::string back = co_await s.reader.async_readline(use_awaitable);
    EXPECT_EQ(back, "still serving\n");
    EXPECT_TRUE(server.is_serving());
    s.writer.close();
    co_await s.writer.async_wait_closed(use_awaitable);
  }(server));
  EXPECT_EQ(served, 1);  // only the good client reached the callback
  EXPECT_TRUE(run_until(io, [&] { return server.active_connections() == 0; }));
}

TEST(AsioTlsTest, PlainClientToTlsServerIsClosedWithoutRunningTheCallback) {
  asio::io_context io;
  int served = 0;
  Server server = start_server(io.get_executor(), Echo{&served}, "127.0.0.1", 0, server_tls());
  run(io, [](Server& server) -> asio::awaitable<void> {
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), StreamOptions{});
    EXPECT_FALSE(ec) << ec.message();  // the plain connect itself works
    if (ec) co_return;
    s.writer.write("hello\n");
    // The server answers with a TLS alert at most, then closes.
    auto [read_ec, data] = co_await s.reader.async_read(-1, as_tuple_awaitable);
    EXPECT_TRUE(!read_ec || read_ec == asio::error::connection_reset) << read_ec.message();
    EXPECT_EQ(data.find("hello"), std::string::npos);
    EXPECT_TRUE(s.reader.at_eof() || read_ec);
    s.writer.close();
  }(server));
  EXPECT_TRUE(run_until(io, [&] { return server.active_connections() == 0; }));
  EXPECT_EQ(served, 0);
}

TEST(AsioTlsTest, TlsClientToPlainServerFailsWithATlsError) {
  asio::io_context io;
  Server server = start_server(
      io.get_executor(),
      [](StreamReader reader, StreamWriter writer) -> asio::awaitable<void> {
        writer.write("hello\n");
        co_await reader.async_read(-1, asio::experimental::as_tuple(use_awaitable));
        writer.close();
      },
      "127.0.0.1", 0);
  run(io, [](Server& server) -> asio::awaitable<void> {
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), client_tls("localhost"));
    EXPECT_TRUE(is_tls_error(ec)) << ec.category().name() << ": " << ec.message();
    EXPECT_NE(ec.message().find("SSL routines"), std::string::npos) << ec.message();
  }(server));
}

TEST(AsioTlsTest, PeerClosingDuringTheHandshakeFailsOpenConnectionWithConnectionReset) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  acceptor.async_accept([](std::error_code, asio::ip::tcp::socket peer) {
    std::error_code ignored;
    peer.shutdown(asio::socket_base::shutdown_both, ignored);
    peer.close(ignored);  // FIN without a ServerHello
  });
  run(io, [](std::uint16_t port) -> asio::awaitable<void> {
    auto [ec, s] = co_await open("127.0.0.1", port, client_tls("localhost"));
    EXPECT_EQ(ec, asio::error::connection_reset) << ec.message();
  }(acceptor.local_endpoint().port()));
}

// ---- Timers. ------------------------------------------------------------------------------------

TEST(AsioTlsTest, HandshakeTimeoutFailsOpenConnectionWithTimedOut) {
  asio::io_context io;
  SilentListener listener(io);
  const int fds_before = fd_count();
  run(io, [](SilentListener& listener, int fds_before) -> asio::awaitable<void> {
    StreamOptions o = client_tls("localhost");
    o.ssl_handshake_timeout = 200ms;
    const Clock::time_point start = Clock::now();
    auto [ec, s] = co_await open("127.0.0.1", listener.port(), o);
    const auto elapsed = Clock::now() - start;
    EXPECT_EQ(ec, asio::error::timed_out) << ec.message();
    EXPECT_GE(elapsed, 200ms);
    EXPECT_LT(elapsed, 1000ms);
    EXPECT_TRUE(listener.accepted);
    // The client's socket is closed (the listener's accepted one remains).
    EXPECT_EQ(fd_count(), fds_before + 1);
  }(listener, fds_before));
}

TEST(AsioTlsTest, ServerDropsAClientThatNeverHandshakesAfterTheTimeout) {
  asio::io_context io;
  int served = 0;
  ServerOptions so = server_tls();
  so.stream.ssl_handshake_timeout = 200ms;
  Server server = start_server(io.get_executor(), Echo{&served}, "127.0.0.1", 0, so);
  asio::ip::tcp::socket silent(io);
  silent.connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port_of(server)));
  const Clock::time_point start = Clock::now();
  ASSERT_TRUE(run_until(io, [&] { return server.active_connections() == 1; }));
  EXPECT_TRUE(run_until(io, [&] { return server.active_connections() == 0; }));
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 150ms);  // counted from the accept, a moment after start
  EXPECT_LT(elapsed, 1000ms);
  EXPECT_EQ(served, 0);
  // The server aborted it: the silent client sees the end.
  const std::error_code end = end_of(io, silent);
  EXPECT_TRUE(end == asio::error::connection_reset || end == asio::error::eof) << end.message();
}

TEST(AsioTlsTest, ShutdownTimeoutFailsWaitClosedWithTimedOut) {
  asio::io_context io;
  // A TLS peer that completes the handshake, then stops reading: its limit
  // is 1 byte, so 3 unread bytes pause it, and it never sees (nor answers)
  // our close_notify, while keeping the socket open.
  ServerOptions so = server_tls();
  so.stream.limit = 1;
  std::optional<StreamReader> peer;
  Server server = start_server(
      io.get_executor(),
      [&peer](StreamReader reader, StreamWriter writer) -> asio::awaitable<void> {
        peer = reader;
        co_await writer.async_wait_closed(asio::experimental::as_tuple(use_awaitable));
      },
      "127.0.0.1", 0, so);
  run(io, [](Server& server, std::optional<StreamReader>& peer) -> asio::awaitable<void> {
    StreamOptions o = client_tls("localhost");
    o.ssl_shutdown_timeout = 200ms;
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), o);
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    s.writer.write("xyz");
    for (int i = 0; i < 2000 && !(peer && peer->reading_paused()); ++i) co_await sleep_for(1ms);
    EXPECT_TRUE(peer && peer->reading_paused());
    const Clock::time_point start = Clock::now();
    s.writer.close();
    auto [closed] = co_await s.writer.async_wait_closed(as_tuple_awaitable);
    const auto elapsed = Clock::now() - start;
    EXPECT_EQ(closed, asio::error::timed_out) << closed.message();
    EXPECT_GE(elapsed, 200ms);
    EXPECT_LT(elapsed, 1000ms);
    EXPECT_EQ(s.writer.native_handle(), -1);  // aborted: the descriptor is released
  }(server, peer));
}

TEST(AsioTlsTest, CancellingOpenConnectionDuringTheHandshakeAbortsIt) {
  asio::io_context io;
  SilentListener listener(io);
  asio::cancellation_signal signal;
  bool done = false;
  std::error_code result;
  Stream stream;
  auto handler = [&](std::error_code ec, Stream s) {
    done = true;
    result = ec;
    stream = std::move(s);
  };
  async_open_connection(io.get_executor(), "127.0.0.1", listener.port(), client_tls("localhost"),
                        asio::bind_cancellation_slot(signal.slot(), handler));
  // Wait for the ClientHello: connected and handshaking (the listener never
  // answers). Then cancel.
  ASSERT_TRUE(run_until(io, [&] {
    std::error_code ignored;
    return listener.accepted && listener.peer.available(ignored) > 0;
  }));
  signal.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until(io, [&] { return done; }, 1000ms));
  EXPECT_EQ(result, asio::error::operation_aborted);
  EXPECT_FALSE(stream.reader);
  // The connection was aborted: the listener's end sees a reset (after the
  // ClientHello).
  EXPECT_EQ(end_of(io, listener.peer), asio::error::connection_reset);
}

// ---- make_stream. -------------------------------------------------------------------------------

TEST(AsioTlsTest, MakeStreamWithSslHandshakesInTheBackground) {
  asio::io_context io;
  StreamOptions server_side;
  server_side.ssl = make_server_context(test_pki());
  auto [c, s] = unix_pair(io, client_tls("localhost"), server_side);
  // Returned at once: TLS is set up, the handshake not done yet.
  ASSERT_NE(c.writer.ssl_object(), nullptr);
  EXPECT_EQ(c.writer.get_extra_info("cipher"), std::nullopt);
  EXPECT_FALSE(c.writer.can_write_eof());
  run(io, [](Stream& c, Stream& s) -> asio::awaitable<void> {
    c.writer.write("queued during the handshake\n");
    const std::string line = co_await s.reader.async_readline(use_awaitable);
    EXPECT_EQ(line, "queued during the handshake\n");
    EXPECT_TRUE(c.writer.get_extra_info("cipher").has_value());
    EXPECT_TRUE(s.writer.get_extra_info("cipher").has_value());
    std::error_code ec;
    c.writer.write_eof(ec);
    EXPECT_EQ(ec, StreamErrc::kNotSupported);
  }(c, s));
}

TEST(AsioTlsTest, MakeStreamWithAFailingHandshakeFailsReadsWithTheTlsError) {
  asio::io_context io;
  StreamOptions server_side;
  server_side.ssl = make_server_context(test_pki());
  auto [c, s] = unix_pair(io, client_tls("wrong.example"), server_side);
  run(io, [](Stream& c, Stream& s) -> asio::awaitable<void> {
    auto [ec, data] = co_await c.reader.async_readline(as_tuple_awaitable);
    EXPECT_TRUE(is_tls_error(ec)) << ec.message();
    EXPECT_NE(ec.message().find("hostname mismatch"), std::string::npos) << ec.message();
    EXPECT_TRUE(c.reader.last_error().has_value());
    if (c.reader.last_error()) {
      EXPECT_EQ(c.reader.last_error()->code, StreamErrc::kTlsError);
      EXPECT_FALSE(c.reader.last_error()->tls_reason.empty());
    }
    // The server end learns of it from the client's alert.
    auto [server_ec, server_data] = co_await s.reader.async_readline(as_tuple_awaitable);
    EXPECT_TRUE(is_tls_error(server_ec)) << server_ec.message();
    co_await c.writer.async_wait_closed(as_tuple_awaitable);
    EXPECT_EQ(c.writer.native_handle(), -1);
  }(c, s));
}

// ---- start_tls. ---------------------------------------------------------------------------------

// A STARTTLS server (plain at first): "STARTTLS\n" -> [answer "OK\n"] ->
// TLS -> echo one line -> close. Records what it saw.
struct StartTlsServer {
  bool answer_ok = true;
  std::size_t buffered_after_command = 0;
  std::error_code upgrade;
  bool echoed = false;

  asio::awaitable<void> operator()(StreamReader reader, StreamWriter writer) {
    const std::string command = co_await reader.async_readline(use_awaitable);
    EXPECT_EQ(command, "STARTTLS\n");
    buffered_after_command = reader.buffered_size();
    if (answer_ok) writer.write("OK\n");
    auto [ec] = co_await writer.async_start_tls(make_server_context(test_pki()),
                                                asio::experimental::as_tuple(use_awaitable));
    upgrade = ec;
    if (ec) co_return;
    EXPECT_NE(writer.ssl_object(), nullptr);
    std::string line = co_await reader.async_readline(use_awaitable);  // the same reader
    writer.write(std::move(line));
    co_await writer.async_drain(use_awaitable);
    echoed = true;
    writer.close();
  }
};

TEST(AsioTlsTest, StartTlsUpgradesBothEndsOfAPlainConnectionInPlace) {
  asio::io_context io;
  StartTlsServer handler;
  Server server = start_server(
      io.get_executor(),
      [&handler](StreamReader r, StreamWriter w) { return handler(std::move(r), std::move(w)); },
      "127.0.0.1", 0);
  run(io, [](Server& server) -> asio::awaitable<void> {
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), StreamOptions{});
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    EXPECT_EQ(s.writer.ssl_object(), nullptr);
    s.writer.write("STARTTLS\n");
    const std::string ok = co_await s.reader.async_readline(use_awaitable);
    EXPECT_EQ(ok, "OK\n");
    // server_hostname defaults to open_connection's host ("127.0.0.1").
    co_await s.writer.async_start_tls(make_client_context(test_pki()), use_awaitable);
    EXPECT_NE(s.writer.ssl_object(), nullptr);
    EXPECT_EQ(s.writer.get_extra_info("peercert"), kServerSubject);
    EXPECT_EQ(s.writer.get_extra_info("server_hostname"), "127.0.0.1");
    s.writer.write("secret\n");
    const std::string back = co_await s.reader.async_readline(use_awaitable);
    EXPECT_EQ(back, "secret\n");
    const std::string eof = co_await s.reader.async_readline(use_awaitable);
    EXPECT_EQ(eof, "");  // the server's close_notify
    s.writer.close();
    co_await s.writer.async_wait_closed(use_awaitable);
  }(server));
  EXPECT_FALSE(handler.upgrade) << handler.upgrade.message();
  EXPECT_TRUE(handler.echoed);
}

TEST(AsioTlsTest, StartTlsHandsAPipelinedClientHelloToTls) {
  asio::io_context io;
  StartTlsServer handler;
  handler.answer_ok = false;  // the client does not wait for an answer
  Server server = start_server(
      io.get_executor(),
      [&handler](StreamReader r, StreamWriter w) { return handler(std::move(r), std::move(w)); },
      "127.0.0.1", 0);
  run(io, [](Server& server) -> asio::awaitable<void> {
    auto [ec, s] = co_await open("127.0.0.1", port_of(server), StreamOptions{});
    EXPECT_FALSE(ec) << ec.message();
    if (ec) co_return;
    // The command and the ClientHello leave in one send.
    s.writer.write("STARTTLS\n");
    StartTlsOptions o;
    o.server_hostname = "localhost";
    co_await s.writer.async_start_tls(make_client_context(test_pki()), o, use_awaitable);
    s.writer.write("pipelined\n");
    const std::string back = co_await s.reader.async_readline(use_awaitable);
    EXPECT_EQ(back, "pipelined\n");
    s.writer.close();
    co_await s.writer.async_wait_closed(use_awaitable);
  }(server));
  // The ClientHello was already buffered behind the command, and was handed
  // over (StartTlsBuffered::kHandOver, the default).
  EXPECT_GT(handler.buffered_after_command, 0u);
  EXPECT_FALSE(handler.upgrade) << handler.upgrade.message();
  EXPECT_TRUE(handler.echoed);
}

TEST(AsioTlsTest, StartTlsWithRefuseFailsWhenThePeerSentBytesEarly) {
  asio::io_context io;
  auto [a, b] = tcp_pair(io);
  run(io, [](Stream& a, Stream& b) -> asio::awaitable<void> {
    a.writer.write("STARTTLS\nearly");
    const std::string command = co_await b.reader.async_readline(use_awaitable);
    EXPECT_EQ(command, "STARTTLS\n");
    for (int i = 0; i < 1000 && b.reader.buffered_size() < 5; ++i) co_await sleep_for(1ms);
    StartTlsOptions o;
    o.buffered = StartTlsBuffered::kRefuse;
    auto [ec] = co_await b.writer.async_start_tls(make_server_context(test_pki()), o,
                                                  as_tuple_awaitable);
    EXPECT_TRUE(is_tls_error(ec)) << ec.message();
    EXPECT_EQ(b.writer.ssl_object(), nullptr);  // still plain
    const std::string early = co_await b.reader.async_readexactly(5, use_awaitable);
    EXPECT_EQ(early, "early");
  }(a, b));
}

// use_awaitable is what the other tests use.
TEST(AsioTlsTest, AsyncStartTlsTakesDeferredCallbacksAndFutures) {
  asio::io_context io;
  auto [a, b] = unix_pair(io);
  bool server_done = false;
  std::error_code server_ec;
  auto deferred = b.writer.async_start_tls(make_server_context(test_pki()),
                                           asio::experimental::deferred);
  std::move(deferred)([&](std::error_code ec) {
    server_done = true;
    server_ec = ec;
  });
  EXPECT_FALSE(server_done);  // never inline
  StartTlsOptions o;
  o.server_hostname = "localhost";
  std::future<void> client = a.writer.async_start_tls(make_client_context(test_pki()), o,
                                                       asio::use_future);
  ASSERT_TRUE(run_until(io, [&] {
    return server_done && client.wait_for(0s) == std::future_status::ready;
  }));
  EXPECT_FALSE(server_ec) << server_ec.message();
  EXPECT_NO_THROW(client.get());
  EXPECT_TRUE(a.writer.get_extra_info("cipher").has_value());
}

TEST(AsioTlsTest, StartTlsHandshakeFailureCompletesWithTheTlsError) {
  asio::io_context io;
  auto [a, b] = unix_pair(io);
  std::error_code server_ec, client_ec;
  int done = 0;
  b.writer.async_start_tls(make_server_context(test_pki()), [&](std::error_code ec) {
    server_ec = ec;
    ++done;
  });
  StartTlsOptions o;
  o.server_hostname = "wrong.example";
  a.writer.async_start_tls(make_client_context(test_pki()), o, [&](std::error_code ec) {
    client_ec = ec;
    ++done;
  });
  ASSERT_TRUE(run_until(io, [&] { return done == 2; }));
  EXPECT_TRUE(is_tls_error(client_ec)) << client_ec.message();
  EXPECT_NE(client_ec.message().find("hostname mismatch"), std::string::npos);
  EXPECT_TRUE(is_tls_error(server_ec)) << server_ec.message();  // the client's alert
  EXPECT_TRUE(a.writer.is_closing());
}

TEST(AsioTlsTest, StartTlsRejectsAConnectionAlreadyOnTlsAndBadOptions) {
  asio::io_context io;
  StreamOptions server_side;
  server_side.ssl = make_server_context(test_pki());
  auto [c, s] = unix_pair(io, client_tls("localhost"), server_side);
  auto [p, q] = unix_pair(io);
  run(io, [](Stream& c, Stream& p) -> asio::awaitable<void> {
    auto [again] = co_await c.writer.async_start_tls(make_client_context(test_pki()),
                                                     as_tuple_awaitable);
    EXPECT_EQ(again, StreamErrc::kInvalidArgument);
    StartTlsOptions hostname_on_server;
    hostname_on_server.server_hostname = "localhost";
    auto [server_name] = co_await p.writer.async_start_tls(
        make_server_context(test_pki()), hostname_on_server, as_tuple_awaitable);
    EXPECT_EQ(server_name, StreamErrc::kInvalidArgument);
    StartTlsOptions zero;
    zero.ssl_handshake_timeout = 0ms;
    auto [timeout] = co_await p.writer.async_start_tls(make_server_context(test_pki()), zero,
                                                       as_tuple_awaitable);
    EXPECT_EQ(timeout, StreamErrc::kInvalidArgument);
    // No host to default to, and the context checks hostnames.
    auto [no_name] = co_await p.writer.async_start_tls(make_client_context(test_pki()),
                                                       as_tuple_awaitable);
    EXPECT_EQ(no_name, StreamErrc::kInvalidArgument);
    auto [empty] = co_await p.writer.async_start_tls(TlsContext(), as_tuple_awaitable);
    EXPECT_EQ(empty, StreamErrc::kInvalidArgument);
    EXPECT_EQ(p.writer.ssl_object(), nullptr);  // nothing changed
  }(c, p));
}

// ---- Option validation. -------------------------------------------------------------------------

std::error_code open_error(asio::io_context& io, const StreamOptions& options,
                           std::string host = "127.0.0.1") {
  std::optional<std::error_code> result;
  async_open_connection(io.get_executor(), host, 1, options,
                        [&](std::error_code ec, Stream) { result = ec; });
  EXPECT_TRUE(run_until(io, [&] { return result.has_value(); }));
  return result.value_or(std::error_code());
}

TEST(AsioTlsTest, ServerHostnameOrTimeoutsWithoutSslAreInvalid) {
  asio::io_context io;
  StreamOptions hostname;
  hostname.server_hostname = "localhost";
  EXPECT_EQ(open_error(io, hostname), StreamErrc::kInvalidArgument);
  StreamOptions handshake;
  handshake.ssl_handshake_timeout = 1s;
  EXPECT_EQ(open_error(io, handshake), StreamErrc::kInvalidArgument);
  StreamOptions shutdown;
  shutdown.ssl_shutdown_timeout = 1s;
  EXPECT_EQ(open_error(io, shutdown), StreamErrc::kInvalidArgument);
  ServerOptions server;
  server.stream.ssl_handshake_timeout = 1s;
  std::error_code ec;
  Server s = start_server(io.get_executor(), Echo{nullptr}, "127.0.0.1", 0, server, ec);
  EXPECT_EQ(ec, StreamErrc::kInvalidArgument);
}

TEST(AsioTlsTest, NonPositiveTimeoutsAreInvalid) {
  asio::io_context io;
  StreamOptions zero = client_tls("localhost");
  zero.ssl_handshake_timeout = 0ms;
  EXPECT_EQ(open_error(io, zero), StreamErrc::kInvalidArgument);
  StreamOptions negative = client_tls("localhost");
  negative.ssl_shutdown_timeout = -5ms;
  EXPECT_EQ(open_error(io, negative), StreamErrc::kInvalidArgument);
}

TEST(AsioTlsTest, ContextsOfTheWrongRoleAreInvalid) {
  asio::io_context io;
  StreamOptions server_context;
  server_context.ssl = make_server_context(test_pki());
  EXPECT_EQ(open_error(io, server_context), StreamErrc::kInvalidArgument);
  StreamOptions empty;
  empty.ssl = TlsContext();
  EXPECT_EQ(open_error(io, empty), StreamErrc::kInvalidArgument);
  ServerOptions client_context;
  client_context.stream.ssl = make_client_context(test_pki());
  try {
    Server s = start_server(io.get_executor(), Echo{nullptr}, "127.0.0.1", 0, client_context);
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), StreamErrc::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("server context"), std::string::npos) << e.what();
  }
  ServerOptions hostname_on_server = server_tls();
  hostname_on_server.stream.server_hostname = "localhost";
  std::error_code ec;
  Server s = start_server(io.get_executor(), Echo{nullptr}, "127.0.0.1", 0, hostname_on_server, ec);
  EXPECT_EQ(ec, StreamErrc::kInvalidArgument);
}

TEST(AsioTlsTest, AHostnameCheckingClientWithoutANameIsInvalid) {
  asio::io_context io;
  // open_unix_connection has no host to default to.
  std::optional<std::error_code> result;
  async_open_unix_connection(io.get_executor(), unix_socket_path("nowhere"), client_tls(),
                             [&](std::error_code ec, Stream) { result = ec; });
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }));
  EXPECT_EQ(*result, StreamErrc::kInvalidArgument);
  // "" turns the hostname check off, which this context still wants.
  EXPECT_EQ(open_error(io, client_tls("")), StreamErrc::kInvalidArgument);
  // make_stream: no host either; the throwing form says why.
  asio::local::stream_protocol::socket x(io), y(io);
  asio::local::connect_pair(x, y);
  try {
    (void)make_stream(std::move(x), client_tls());
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), StreamErrc::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("server_hostname"), std::string::npos) << e.what();
  }
}

TEST(AsioTlsTest, MakeStreamRejectsServerHostnameWithoutSsl) {
  asio::io_context io;
  asio::local::stream_protocol::socket x(io), y(io);
  asio::local::connect_pair(x, y);
  StreamOptions o;
  o.server_hostname = "localhost";
  try {
    (void)make_stream(std::move(x), o);
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), StreamErrc::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("server_hostname is only meaningful with ssl"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sluice::asio_backend
