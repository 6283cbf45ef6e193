// TLS on the libevent backend: ssl on open_connection / open_unix_connection
// / start_server / make_stream, StreamWriter::start_tls (STARTTLS, also with
// a pipelined ClientHello), the handshake and shutdown timers, refused
// handshakes and the errors they carry, get_extra_info and ssl_object, and
// option validation. Certificates come from //core/tls/testing:test_certs
// (generated at test time). Every test runs under a deadline and checks that
// no descriptor leaked (test_support.h's LoopTest); the only waits on the
// clock are the timeouts under test.

#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "backends/libevent/internal/socket_ops.h"
#include "backends/libevent/streams.h"
#include "backends/libevent/test_support.h"
#include "core/tls/testing/test_certs.h"
#include "core/tls/tls_context.h"
#include "core/tls/tls_session.h"
#include "gtest/gtest.h"

namespace sluice::libevent_backend {
namespace {

using namespace std::chrono_literals;
using libevent_backend_internal::UniqueFd;
using sluice::testing::make_client_context;
using sluice::testing::make_server_context;
using sluice::testing::test_pki;
using test_support::LoopTest;
using test_support::run;
using test_support::run_all;
using test_support::run_until;

using Clock = std::chrono::steady_clock;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// The echo handler: echoes lines until EOF, then closes.
Task<void> echo_lines(StreamReader reader, StreamWriter writer) {
  while (std::optional<std::string> line = co_await reader.next_line()) {
    writer.write(std::move(*line));
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

// echo_lines, counting its runs in *runs.
ClientConnectedCallback counting_echo(int* runs) {
  return [runs](StreamReader reader, StreamWriter writer) -> Task<void> {
    ++*runs;
    return echo_lines(std::move(reader), std::move(writer));
  };
}

// One client exchange on an open stream: each line out and back, then a
// clean close (a TLS close: close_notify both ways).
Task<void> ping_lines(Stream s, int lines) {
  for (int i = 0; i < lines; ++i) {
    const std::string line = "line " + std::to_string(i) + "\n";
    s.writer.write(line);
    EXPECT_EQ(co_await s.reader.readline(), line);
  }
  s.writer.close();
  co_await s.writer.wait_closed();  // throws unless the close was clean
}

// What a client's open_connection ended with.
struct Outcome {
  bool connected = false;
  std::error_code code;             // StreamError::to_error_code() or system_error's code
  StreamErrc stream_code{};         // set for StreamException
  std::string what;                 // the exception's what()
  std::string tls_reason;           // TlsError's reason()
  bool threw_tls_error = false;     // caught as sluice::TlsError
  bool threw_connection_error = false;
};

// open_connection (TCP, Task form), caught into an Outcome; a connected
// stream is closed cleanly.
Task<Outcome> try_connect(event_base* base, std::string host, std::uint16_t port,
                          StreamOptions options) {
  Outcome out;
  try {
    Stream s = co_await open_connection(base, host, port, options);
    out.connected = true;
    co_await ping_lines(std::move(s), 1);
  } catch (const TlsError& e) {
    out.threw_tls_error = true;
    out.stream_code = e.error().code;
    out.code = e.error().to_error_code();
    out.what = e.what();
    out.tls_reason = e.reason();
  } catch (const ConnectionError& e) {
    out.threw_connection_error = true;
    out.stream_code = e.error().code;
    out.code = e.error().to_error_code();
    out.what = e.what();
  } catch (const StreamException& e) {
    out.stream_code = e.error().code;
    out.code = e.error().to_error_code();
    out.what = e.what();
  } catch (const std::system_error& e) {
    out.code = e.code();
    out.what = e.what();
  }
  co_return out;
}

// Runs a Task<T> to completion and returns its value (fails the test and
// throws on timeout).
template <typename T>
T run_for_value(event_base* base, Task<T> task, std::chrono::milliseconds timeout = 5000ms) {
  task.start();
  if (!run_until(base, [&] { return task.done(); }, timeout)) {
    test_support::abandon(std::move(task));
    ADD_FAILURE() << "timed out";
    throw std::runtime_error("timed out");
  }
  return task.result();
}

// RawListener: a loopback TCP listener nobody serves: connections complete
// in the kernel's backlog and nothing ever answers.
class RawListener {
 public:
  RawListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(in);
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&in), len) != 0 ||
        ::listen(fd_.get(), 8) != 0 ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&in), &len) != 0) {
      ADD_FAILURE() << "listener: " << std::strerror(errno);
    }
    port_ = ntohs(in.sin_port);
  }
  std::uint16_t port() const { return port_; }
  // accept_nonblocking: the next pending connection, or an invalid fd.
  UniqueFd accept_nonblocking() {
    return UniqueFd(::accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  }

 private:
  UniqueFd fd_;
  std::uint16_t port_ = 0;
};

// raw_connect: a blocking loopback TCP client socket connected to `port`.
UniqueFd raw_connect(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in.sin_port = htons(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&in), sizeof(in)) != 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
  }
  return fd;
}

// read_to_end: everything a socket delivers until EOF or an error (made
// blocking first); `err` gets errno for an error, 0 for EOF.
std::string read_to_end(int fd, int& err) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t k = ::recv(fd, buf, sizeof(buf), 0);
    if (k > 0) {
      out.append(buf, static_cast<std::size_t>(k));
      continue;
    }
    err = k == 0 ? 0 : errno;
    if (k < 0 && err == EINTR) continue;
    return out;
  }
}

// der_of_pem: a PEM certificate's DER bytes.
std::string der_of_pem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return {};
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  std::string out = n > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<std::size_t>(n))
                          : std::string();
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

std::uint16_t port_of(const Server& s) { return s.sockets().at(0).port(); }

class TlsTest : public LoopTest {
 protected:
  void SetUp() override {
    // The PKI and contexts first: whatever OpenSSL opens on first use is
    // not counted as a leak.
    server_ctx_ = make_server_context(test_pki());
    client_ctx_ = make_client_context(test_pki());
    LoopTest::SetUp();
  }

  // client_options: ssl with the client context; server_hostname as given.
  StreamOptions client_options(std::optional<std::string> server_hostname = "localhost") const {
    StreamOptions o;
    o.ssl = client_ctx_;
    o.server_hostname = std::move(server_hostname);
    return o;
  }
  ServerOptions server_options() const {
    ServerOptions o;
    o.stream.ssl = server_ctx_;
    return o;
  }

  TlsContext server_ctx_;
  TlsContext client_ctx_;
};

// ---- Echo over TLS. --------------------------------------------------------------------

TEST_F(TlsTest, EchoOverTlsOverTcp) {
  int runs = 0;
  Server server = start_server(base(), counting_echo(&runs), "127.0.0.1", 0, server_options());
  run(base(), [](event_base* base, std::uint16_t port, StreamOptions options) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port, options);
    co_await ping_lines(std::move(s), 100);
  }(base(), port_of(server), client_options()));
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(run_until(base(), [&] { return server.active_connections() == 0; }));
  server.close();
}

TEST_F(TlsTest, EchoOverTlsOverAUnixSocket) {
  const std::string path = test_support::unix_socket_path("tls_echo");
  int runs = 0;
  Server server = start_unix_server(base(), counting_echo(&runs), path, server_options());
  run(base(), [](event_base* base, std::string path, StreamOptions options) -> Task<void> {
    Stream s = co_await open_unix_connection(base, path, options);
    EXPECT_EQ(s.writer.get_extra_info("tls_version"), "TLSv1.3");
    co_await ping_lines(std::move(s), 100);
  }(base(), path, client_options()));
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(run_until(base(), [&] { return server.active_connections() == 0; }));
  server.close();
}

constexpr std::uint64_t kTotal = 4 << 20;

TEST_F(TlsTest, LargeTransferOverTlsArrivesIntactBothWays) {
  // 4 MiB each way through 64 KiB reader limits and water marks: plaintext
  // flow control and the driver's TLS pumping together.
  auto echo_chunks = [](StreamReader r, StreamWriter w) -> Task<void> {
    for (;;) {
      std::string chunk = co_await r.read(64 * 1024);
      if (chunk.empty()) break;
      w.write(std::move(chunk));
      co_await w.drain();
    }
    w.close();
    co_await w.wait_closed();
  };
  Server server = start_server(base(), echo_chunks, "127.0.0.1", 0, server_options());
  auto client = [](event_base* base, std::uint16_t port, StreamOptions options) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port, options);
    auto send = [](StreamWriter w, std::uint64_t total) -> Task<void> {
      for (std::uint64_t off = 0; off < total; off += 32 * 1024) {
        w.write(test_support::Payload::piece(off, 32 * 1024));
        co_await w.drain();
      }
    };
    Task<void> sender = send(s.writer, kTotal);
    sender.start();
    test_support::Payload check;
    while (check.checked() < kTotal) {
      std::string got = co_await s.reader.read(256 * 1024);
      if (got.empty()) break;
      if (!check.check(got)) break;
    }
    EXPECT_EQ(check.checked(), kTotal);
    co_await sender;
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  run(base(), client(base(), port_of(server), client_options()), 20s);
  server.close();
}

// ---- Peer information. ---------------------------------------------------------------------

// What the server callback saw of its connection.
struct ServerView {
  bool ran = false;
  bool ssl_object = false;
  std::optional<std::string> peercert, cipher, tls_version, server_hostname, alpn;
};

TEST_F(TlsTest, GetExtraInfoDescribesTheSessionOnBothEnds) {
  ServerView seen;
  auto handler = [&seen](StreamReader r, StreamWriter w) -> Task<void> {
    seen.ran = true;
    seen.ssl_object = w.ssl_object() != nullptr;
    seen.peercert = w.get_extra_info("peercert");
    seen.cipher = w.get_extra_info("cipher");
    seen.tls_version = w.get_extra_info("tls_version");
    seen.server_hostname = w.get_extra_info("server_hostname");
    seen.alpn = w.get_extra_info("alpn_protocol");
    co_await echo_lines(r, w);
  };
  Server server = start_server(base(), handler, "127.0.0.1", 0, server_options());
  auto client = [](event_base* base, std::uint16_t port, StreamOptions options,
                   std::string server_der, ServerView* seen) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port, options);
    const StreamWriter& w = s.writer;
    EXPECT_TRUE(w.ssl_object() != nullptr && w.ssl_object()->protocol_version() == "TLSv1.3");
    const std::string peercert = w.get_extra_info("peercert").value_or("(none)");
    EXPECT_TRUE(contains(peercert, "CN=localhost")) << peercert;
    EXPECT_FALSE(server_der.empty());
    EXPECT_EQ(w.get_extra_info("peercert_der"), server_der);
    std::optional<std::string> cipher = w.get_extra_info("cipher");
    EXPECT_TRUE(cipher.value_or("").starts_with("TLS_")) << cipher.value_or("(none)");
    EXPECT_EQ(w.get_extra_info("tls_version"), "TLSv1.3");
    EXPECT_EQ(w.get_extra_info("alpn_protocol"), std::nullopt);  // none offered
    EXPECT_EQ(w.get_extra_info("server_hostname"), "localhost");
    EXPECT_EQ(w.get_extra_info("no such name"), std::nullopt);
    co_await ping_lines(s, 1);  // the server callback has run by now
    EXPECT_EQ(seen->cipher, cipher);
  };
  run(base(), client(base(), port_of(server), client_options(),
                     der_of_pem(test_pki().server.cert_pem), &seen));
  ASSERT_TRUE(seen.ran);
  EXPECT_TRUE(seen.ssl_object);
  EXPECT_EQ(seen.peercert, std::nullopt);  // the server asked for no client certificate
  EXPECT_EQ(seen.tls_version, "TLSv1.3");
  EXPECT_EQ(seen.server_hostname, "localhost");  // the SNI received
  EXPECT_EQ(seen.alpn, std::nullopt);
  server.close();
}

TEST_F(TlsTest, AlpnProtocolIsReportedOnBothEnds) {
  ASSERT_TRUE(server_ctx_.set_alpn_protocols({"http/1.1", "h2"}).ok());
  ASSERT_TRUE(client_ctx_.set_alpn_protocols({"h2", "http/1.1"}).ok());
  std::optional<std::string> server_alpn;
  auto handler = [&server_alpn](StreamReader r, StreamWriter w) -> Task<void> {
    server_alpn = w.get_extra_info("alpn_protocol");
    w.close();
    co_await w.wait_closed();
  };
  Server server = start_server(base(), handler, "127.0.0.1", 0, server_options());
  auto client = [](event_base* base, std::uint16_t port, StreamOptions options) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port, options);
    EXPECT_EQ(s.writer.get_extra_info("alpn_protocol"), "http/1.1");  // the server's choice
    EXPECT_EQ(co_await s.reader.read(), "");  // the server closes
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  run(base(), client(base(), port_of(server), client_options()));
  EXPECT_EQ(server_alpn, "http/1.1");
  server.close();
}

TEST_F(TlsTest, ServerHostnameDefaultsToTheHostGivenToOpenConnection) {
  // 127.0.0.1 is in the certificate as an IP address: checked as one (and
  // sent without SNI, so the server sees none).
  std::optional<std::string> server_sni = "unset";
  auto handler = [&server_sni](StreamReader r, StreamWriter w) -> Task<void> {
    server_sni = w.get_extra_info("server_hostname");
    w.close();
    co_await w.wait_closed();
  };
  Server server = start_server(base(), handler, "127.0.0.1", 0, server_options());
  auto client = [](event_base* base, std::uint16_t port, StreamOptions options) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port, options);
    EXPECT_EQ(s.writer.get_extra_info("server_hostname"), "127.0.0.1");
    EXPECT_EQ(co_await s.reader.read(), "");
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  run(base(), client(base(), port_of(server), client_options(std::nullopt)));
  EXPECT_EQ(server_sni, std::nullopt);
  server.close();
}

TEST_F(TlsTest, PlainStreamHasNoSslObjectNorTlsInformation) {
  auto [a, b] = test_support::stream_pair(base(), test_support::Transport::kUnix);
  EXPECT_EQ(a.writer.ssl_object(), nullptr);
  for (const char* name :
       {"peercert", "peercert_der", "cipher", "tls_version", "alpn_protocol", "server_hostname"}) {
    EXPECT_EQ(a.writer.get_extra_info(name), std::nullopt) << name;
  }
  a.writer.close();
  b.writer.close();
}

TEST_F(TlsTest, TlsInformationAppearsOnlyOnceTheHandshakeIsDone) {
  auto [cfd, sfd] = test_support::connected_fds(test_support::Transport::kUnix);
  StreamOptions server;
  server.ssl = server_ctx_;
  Stream c = make_stream(base(), cfd, client_options());
  Stream s = make_stream(base(), sfd, server);
  ASSERT_NE(c.writer.ssl_object(), nullptr);  // the session exists at once...
  for (const char* name :
       {"peercert", "peercert_der", "cipher", "tls_version", "alpn_protocol", "server_hostname"}) {
    EXPECT_EQ(c.writer.get_extra_info(name), std::nullopt) << name;  // ...its answers do not
  }
  s.writer.write("ready\n");  // queued; encrypted once the handshake is done
  run(base(), [](StreamReader r) -> Task<void> {
    EXPECT_EQ(co_await r.readline(), "ready\n");
  }(c.reader));
  EXPECT_EQ(c.writer.get_extra_info("tls_version"), "TLSv1.3");
  c.writer.close();
  s.writer.close();
}

// ---- Memory: plain connections carry nothing for TLS. -----------------------------------

TEST_F(TlsTest, PlainConnectionsAllocateNoTlsState) {
  bool accepted_has_tls_state = true;
  auto handler = [&accepted_has_tls_state](StreamReader r, StreamWriter w) -> Task<void> {
    accepted_has_tls_state = HandleAccess::state(w).has_tls_extras();
    w.close();
    co_await w.wait_closed();
  };
  Server server = start_server(base(), handler, "127.0.0.1", 0);
  run(base(), [](event_base* base, std::uint16_t port) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port);
    EXPECT_EQ(co_await s.reader.read(), "");
    s.writer.close();
  }(base(), port_of(server)));
  EXPECT_FALSE(accepted_has_tls_state);
  auto [a, b] = test_support::stream_pair(base(), test_support::Transport::kUnix);
  EXPECT_FALSE(HandleAccess::state(a.writer).has_tls_extras());
  a.writer.close();
  b.writer.close();
  server.close();
}

TEST_F(TlsTest, HandshakeTimerRunsOnlyDuringTheHandshake) {
  auto [cfd, sfd] = test_support::connected_fds(test_support::Transport::kUnix);
  StreamOptions server;
  server.ssl = server_ctx_;
  Stream c = make_stream(base(), cfd, client_options());
  Stream s = make_stream(base(), sfd, server);
  EXPECT_TRUE(HandleAccess::state(c.writer).tls_timer_armed());
  EXPECT_TRUE(HandleAccess::state(s.writer).tls_timer_armed());
  s.writer.write("ready\n");
  run(base(), [](StreamReader r) -> Task<void> {
    EXPECT_EQ(co_await r.readline(), "ready\n");
  }(c.reader));
  EXPECT_FALSE(HandleAccess::state(c.writer).tls_timer_armed());
  EXPECT_FALSE(HandleAccess::state(s.writer).tls_timer_armed());
  c.writer.close();
  s.writer.close();
}

// ---- Refused handshakes. ---------------------------------------------------------------------

TEST_F(TlsTest, HostnameMismatchIsRefusedAndTheServerKeepsServing) {
  int runs = 0;
  Server server = start_server(base(), counting_echo(&runs), "127.0.0.1", 0, server_options());
  Outcome bad = run_for_value(
      base(), try_connect(base(), "127.0.0.1", port_of(server), client_options("example.com")));
  EXPECT_FALSE(bad.connected);
  EXPECT_TRUE(bad.threw_tls_error);
  EXPECT_TRUE(is_tls_error(bad.code)) << bad.code.category().name();
  EXPECT_TRUE(contains(bad.what, "hostname mismatch")) << bad.what;
  Outcome good = run_for_value(
      base(), try_connect(base(), "127.0.0.1", port_of(server), client_options()));
  EXPECT_TRUE(good.connected) << good.what;
  EXPECT_EQ(runs, 1);  // only the good client reached the callback
  EXPECT_TRUE(run_until(base(), [&] { return server.active_connections() == 0; }));
  server.close();
}

TEST_F(TlsTest, UntrustedCertificateIsRefusedAndTheServerKeepsServing) {
  TlsContext untrusted = TlsContext::server().value();
  ASSERT_TRUE(untrusted
                  .load_cert_chain(test_pki().untrusted_server.cert_file,
                                   test_pki().untrusted_server.key_file)
                  .ok());
  ServerOptions options;
  options.stream.ssl = untrusted;
  int runs = 0;
  Server server = start_server(base(), counting_echo(&runs), "127.0.0.1", 0, options);
  Outcome bad = run_for_value(
      base(), try_connect(base(), "127.0.0.1", port_of(server), client_options()));
  EXPECT_FALSE(bad.connected);
  EXPECT_TRUE(bad.threw_tls_error);
  EXPECT_TRUE(contains(bad.what, "certificate verify failed")) << bad.what;
  // A client that trusts the other CA is served.
  TlsContext trusting_other = TlsContext::client().value();
  ASSERT_TRUE(trusting_other.load_verify_locations(test_pki().other_ca_file).ok());
  StreamOptions other = client_options();
  other.ssl = trusting_other;
  Outcome good = run_for_value(base(), try_connect(base(), "127.0.0.1", port_of(server), other));
  EXPECT_TRUE(good.connected) << good.what;
  EXPECT_EQ(runs, 1);
  server.close();
}

TEST_F(TlsTest, TaskFormThrowsTlsErrorKeepingOpenSslsReason) {
  Server server = start_server(base(), echo_lines, "127.0.0.1", 0, server_options());
  TlsContext trusts_nothing = TlsContext::client().value();  // no trust anchor loaded
  StreamOptions options = client_options();
  options.ssl = trusts_nothing;
  Outcome out =
      run_for_value(base(), try_connect(base(), "127.0.0.1", port_of(server), options));
  EXPECT_FALSE(out.connected);
  ASSERT_TRUE(out.threw_tls_error) << out.what;
  EXPECT_EQ(out.stream_code, StreamErrc::kTlsError);
  EXPECT_FALSE(out.tls_reason.empty());
  EXPECT_TRUE(contains(out.tls_reason, "certificate verify failed")) << out.tls_reason;
  server.close();
}

TEST_F(TlsTest, CallbackFormGetsATlsErrorCodeKeepingOpenSslsReason) {
  Server server = start_server(base(), echo_lines, "127.0.0.1", 0, server_options());
  std::optional<std::error_code> result;
  bool stream_empty = false;
  open_connection(base(), "127.0.0.1", port_of(server), client_options("example.com"),
                  [&](std::error_code ec, Stream s) {
                    result = ec;
                    stream_empty = !s.reader && !s.writer;
                  });
  ASSERT_TRUE(run_until(base(), [&] { return result.has_value(); }));
  EXPECT_TRUE(is_tls_error(*result)) << result->category().name() << ": " << result->message();
  EXPECT_TRUE(contains(result->message(), "hostname mismatch")) << result->message();
  EXPECT_TRUE(stream_empty);
  server.close();
}

TEST_F(TlsTest, PlainClientToATlsServerIsClosedAndTheCallbackNeverRuns) {
  int runs = 0;
  Server server = start_server(base(), counting_echo(&runs), "127.0.0.1", 0, server_options());
  auto client = [](event_base* base, std::uint16_t port) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port);  // plain
    s.writer.write("hello\n");
    // The server gives up and closes: whatever comes (an alert, if OpenSSL
    // wrote one), it ends (EOF, or a reset).
    ReadResult r = co_await s.reader.read().as_result();
    while (r.ok() && !r->empty()) r = co_await s.reader.read().as_result();
    s.writer.close();
  };
  run(base(), client(base(), port_of(server)));
  EXPECT_TRUE(run_until(base(), [&] { return server.active_connections() == 0; }));
  EXPECT_EQ(runs, 0);
  EXPECT_TRUE(server.is_serving());
  server.close();
}

TEST_F(TlsTest, AFailedHandshakeSendsItsAlertBeforeClosing) {
  // The client refuses the certificate; its driver still sends OpenSSL's
  // alert, which the server reports (without it the server would only see
  // the connection end: kConnectionError).
  TlsContext trusts_other = TlsContext::client().value();
  ASSERT_TRUE(trusts_other.load_verify_locations(test_pki().other_ca_file).ok());
  StreamOptions client = client_options();
  client.ssl = trusts_other;
  StreamOptions server;
  server.ssl = server_ctx_;
  auto [cfd, sfd] = test_support::connected_fds(test_support::Transport::kUnix);
  Stream c = make_stream(base(), cfd, client);
  Stream s = make_stream(base(), sfd, server);
  auto failure = [](StreamReader r) -> Task<StreamError> {
    ReadResult got = co_await r.read().as_result();
    co_return got.ok() ? StreamError() : got.error();
  };
  const StreamError client_error = run_for_value(base(), failure(c.reader));
  const StreamError server_error = run_for_value(base(), failure(s.reader));
  EXPECT_EQ(client_error.code, StreamErrc::kTlsError);
  EXPECT_TRUE(contains(client_error.tls_reason, "certificate verify failed"))
      << client_error.message();
  EXPECT_EQ(server_error.code, StreamErrc::kTlsError) << server_error.message();
  EXPECT_TRUE(contains(server_error.tls_reason, "alert")) << server_error.message();
  // Both sides closed by themselves.
  EXPECT_TRUE(run_until(base(), [&] { return c.writer.native_handle() < 0; }));
  EXPECT_TRUE(run_until(base(), [&] { return s.writer.native_handle() < 0; }));
}

TEST_F(TlsTest, TlsClientToAPlainServerFailsWithATlsError) {
  auto hello = [](StreamReader r, StreamWriter w) -> Task<void> {
    w.write("hello\n");
    (void)co_await r.read().as_result();  // to EOF (or the client's reset)
    w.close();
  };
  Server server = start_server(base(), hello, "127.0.0.1", 0);  // plain
  Outcome out = run_for_value(
      base(), try_connect(base(), "127.0.0.1", port_of(server), client_options()));
  EXPECT_FALSE(out.connected);
  EXPECT_TRUE(out.threw_tls_error);
  EXPECT_EQ(out.stream_code, StreamErrc::kTlsError);
  EXPECT_TRUE(contains(out.what, "wrong version number")) << out.what;
  server.close();
}

TEST_F(TlsTest, EofDuringTheHandshakeFailsWithConnectionReset) {
  auto hang_up = [](StreamReader r, StreamWriter w) -> Task<void> {
    w.close();
    co_return;
  };
  Server server = start_server(base(), hang_up, "127.0.0.1", 0);  // plain
  Outcome out = run_for_value(
      base(), try_connect(base(), "127.0.0.1", port_of(server), client_options()));
  EXPECT_FALSE(out.connected);
  EXPECT_TRUE(out.threw_connection_error) << out.what;
  EXPECT_EQ(out.code, std::errc::connection_reset) << out.code.message();
  server.close();
}

// ---- Timers. ------------------------------------------------------------------------------------

TEST_F(TlsTest, HandshakeTimeoutFailsOpenConnectionWithTimedOut) {
  RawListener silent;
  StreamOptions options = client_options();
  options.ssl_handshake_timeout = 200ms;
  const Clock::time_point start = Clock::now();
  Outcome out =
      run_for_value(base(), try_connect(base(), "127.0.0.1", silent.port(), options));
  const auto elapsed = Clock::now() - start;
  EXPECT_FALSE(out.connected);
  EXPECT_TRUE(out.threw_connection_error) << out.what;
  EXPECT_EQ(out.code, std::errc::timed_out) << out.code.message();
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 1000ms);
  // The client had sent its ClientHello (a TLS handshake record, 0x16),
  // then reset the connection.
  UniqueFd peer = silent.accept_nonblocking();
  ASSERT_TRUE(peer.valid());
  int err = 0;
  const std::string got = read_to_end(peer.get(), err);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0], '\x16');
  EXPECT_EQ(err, ECONNRESET);
}

TEST_F(TlsTest, ServerDropsAClientThatNeverHandshakesAfterTheTimeout) {
  int runs = 0;
  ServerOptions options = server_options();
  options.stream.ssl_handshake_timeout = 200ms;
  Server server = start_server(base(), counting_echo(&runs), "127.0.0.1", 0, options);
  UniqueFd silent = raw_connect(port_of(server));
  ASSERT_TRUE(run_until(base(), [&] { return server.active_connections() == 1; }));
  const Clock::time_point start = Clock::now();
  ASSERT_TRUE(run_until(base(), [&] { return server.active_connections() == 0; }));
  const auto elapsed = Clock::now() - start;
  EXPECT_LT(elapsed, 1000ms);
  EXPECT_EQ(runs, 0);
  int err = 0;
  EXPECT_EQ(read_to_end(silent.get(), err), "");  // nothing was ever sent to it
  EXPECT_EQ(err, ECONNRESET);                      // aborted
  server.close();
}

TEST_F(TlsTest, ShutdownTimeoutFailsWaitClosedWithTimedOut) {
  // The peer completes the handshake, then stops reading (a reader limit of
  // 1 byte, paused by the first line it does not read): our close_notify is
  // never answered, while its socket stays open.
  auto [cfd, sfd] = test_support::connected_fds(test_support::Transport::kUnix);
  StreamOptions mine = client_options();
  mine.ssl_shutdown_timeout = 200ms;
  StreamOptions peer_options;
  peer_options.ssl = server_ctx_;
  peer_options.limit = 1;
  Stream c = make_stream(base(), cfd, mine);
  Stream peer = make_stream(base(), sfd, peer_options);
  peer.writer.write("ready\n");
  run(base(), [](Stream c) -> Task<void> {
    EXPECT_EQ(co_await c.reader.readline(), "ready\n");  // handshake done
    c.writer.write("more than the peer will read\n");
    co_await c.writer.drain();
  }(c));
  ASSERT_TRUE(run_until(base(), [&] { return !peer.reader.is_reading(); }));
  const Clock::time_point start = Clock::now();
  Status closed = run_for_value(base(), [](Stream c) -> Task<Status> {
    c.writer.close();
    co_return co_await c.writer.wait_closed().as_result();
  }(c));
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, StreamErrc::kConnectionError);
  EXPECT_EQ(closed.error().connection_error, std::errc::timed_out);
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 1000ms);
  peer.writer.abort();
}

TEST_F(TlsTest, CleanTlsCloseDoesNotWaitForTheShutdownTimer) {
  auto [cfd, sfd] = test_support::connected_fds(test_support::Transport::kUnix);
  StreamOptions server;
  server.ssl = server_ctx_;
  Stream c = make_stream(base(), cfd, client_options());
  Stream s = make_stream(base(), sfd, server);
  s.writer.write("ready\n");
  const Clock::time_point start = Clock::now();
  run_all(
      base(), 5s,
      [](Stream c) -> Task<void> {
        EXPECT_EQ(co_await c.reader.readline(), "ready\n");
        c.writer.close();
        co_await c.writer.wait_closed();  // Ok: the peer answered close_notify
      }(c),
      [](Stream s) -> Task<void> {
        EXPECT_EQ(co_await s.reader.read(), "");  // our close_notify is EOF there
        co_await s.writer.wait_closed();          // and that side closes by itself
      }(s));
  EXPECT_LT(Clock::now() - start, 1000ms);
}

TEST_F(TlsTest, DestroyingOpenConnectionDuringTheHandshakeResetsTheSocket) {
  RawListener silent;
  Task<Stream> t = open_connection(base(), "127.0.0.1", silent.port(), client_options());
  t.start();
  UniqueFd peer;
  // Until the ClientHello arrived: open_connection then waits for the answer.
  ASSERT_TRUE(run_until(base(), [&] {
    if (!peer.valid()) peer = silent.accept_nonblocking();
    char byte;
    return peer.valid() && ::recv(peer.get(), &byte, 1, MSG_PEEK) == 1;
  }));
  t = Task<Stream>();  // cancel
  EXPECT_TRUE(test_support::run_until_idle(base()));
  int err = 0;
  (void)read_to_end(peer.get(), err);
  EXPECT_EQ(err, ECONNRESET);
}

// ---- start_tls. -----------------------------------------------------------------------------------

TEST_F(TlsTest, StartTlsUpgradesAPlainConversation) {
  std::optional<std::string> server_got;
  auto handler = [this, &server_got](StreamReader r, StreamWriter w) -> Task<void> {
    EXPECT_EQ(co_await r.readline(), "STARTTLS\n");
    w.write("OK\n");
    co_await w.start_tls(server_ctx_);
    EXPECT_EQ(w.get_extra_info("tls_version"), "TLSv1.3");
    std::string line = co_await r.readline();  // the same reader, plaintext now
    server_got = line;
    w.write("secret " + line);
    w.close();
    co_await w.wait_closed();
  };
  Server server = start_server(base(), handler, "127.0.0.1", 0);  // plain
  auto client = [](event_base* base, std::uint16_t port, TlsContext ctx) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port);
    EXPECT_EQ(s.writer.ssl_object(), nullptr);
    s.writer.write("STARTTLS\n");
    EXPECT_EQ(co_await s.reader.readline(), "OK\n");
    StartTlsOptions options;
    options.server_hostname = "localhost";
    co_await s.writer.start_tls(ctx, options);
    EXPECT_NE(s.writer.ssl_object(), nullptr);
    EXPECT_EQ(s.writer.get_extra_info("server_hostname"), "localhost");
    s.writer.write("hello over tls\n");
    EXPECT_EQ(co_await s.reader.readline(), "secret hello over tls\n");
    EXPECT_EQ(co_await s.reader.read(), "");  // the server's close_notify
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  run(base(), client(base(), port_of(server), client_ctx_));
  EXPECT_EQ(server_got, "hello over tls\n");
  server.close();
}

TEST_F(TlsTest, StartTlsHandsAPipelinedClientHelloToTls) {
  // The client sends "STARTTLS\n" and its ClientHello in the same pump,
  // without waiting for an answer; the server's readline takes the command
  // and the ClientHello stays buffered: kHandOver feeds it to TLS.
  std::optional<std::size_t> buffered_at_upgrade;
  auto handler = [this, &buffered_at_upgrade](StreamReader r, StreamWriter w) -> Task<void> {
    EXPECT_EQ(co_await r.readline(), "STARTTLS\n");
    buffered_at_upgrade = r.buffered_size();
    co_await w.start_tls(server_ctx_);
    std::string line = co_await r.readline();
    w.write(std::move(line));
    w.close();
    co_await w.wait_closed();
  };
  Server server = start_server(base(), handler, "127.0.0.1", 0);
  auto client = [](event_base* base, std::uint16_t port, TlsContext ctx) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port);
    s.writer.write("STARTTLS\n");
    StartTlsOptions options;
    options.server_hostname = "localhost";
    co_await s.writer.start_tls(ctx, options);
    s.writer.write("pipelined\n");
    EXPECT_EQ(co_await s.reader.readline(), "pipelined\n");
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  run(base(), client(base(), port_of(server), client_ctx_));
  ASSERT_TRUE(buffered_at_upgrade.has_value());
  EXPECT_GT(*buffered_at_upgrade, 0u);  // the ClientHello was already there
  server.close();
}

TEST_F(TlsTest, StartTlsDefaultsServerHostnameToTheHostGivenToOpenConnection) {
  auto handler = [this](StreamReader r, StreamWriter w) -> Task<void> {
    co_await w.start_tls(server_ctx_);
    w.close();
    co_await w.wait_closed();
  };
  Server server = start_server(base(), handler, "127.0.0.1", 0);
  auto client = [](event_base* base, std::uint16_t port, TlsContext ctx) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port);
    co_await s.writer.start_tls(ctx);  // checks 127.0.0.1, which the certificate names
    EXPECT_EQ(s.writer.get_extra_info("server_hostname"), "127.0.0.1");
    s.writer.close();
    co_await s.writer.wait_closed();
  };
  run(base(), client(base(), port_of(server), client_ctx_));
  server.close();
}

TEST_F(TlsTest, StartTlsCallbackFormCompletesAfterTheHandshakeNeverInsideTheCall) {
  auto handler = [this](StreamReader r, StreamWriter w) -> Task<void> {
    co_await w.start_tls(server_ctx_);
    std::string line = co_await r.readline();
    w.write(std::move(line));
    w.close();
    co_await w.wait_closed();
  };
  Server server = start_server(base(), handler, "127.0.0.1", 0);
  Stream s = run_for_value(base(), open_connection(base(), "127.0.0.1", port_of(server)));
  std::optional<Status> result;
  StartTlsOptions options;
  options.server_hostname = "localhost";
  s.writer.start_tls(client_ctx_, options, [&](Status st) { result = std::move(st); });
  EXPECT_FALSE(result.has_value());
  s.writer.write("after the call\n");  // started inside the call: this is encrypted
  ASSERT_TRUE(run_until(base(), [&] { return result.has_value(); }));
  EXPECT_TRUE(result->ok());
  EXPECT_EQ(s.writer.get_extra_info("tls_version"), "TLSv1.3");
  run(base(), [](Stream s) -> Task<void> {
    EXPECT_EQ(co_await s.reader.readline(), "after the call\n");
    s.writer.close();
    co_await s.writer.wait_closed();
  }(s));
  server.close();
}

TEST_F(TlsTest, StartTlsHandshakeTimesOutWhenThePeerNeverHandshakes) {
  // The server upgrades and waits for a ClientHello that never comes: its
  // handshake timer (started by start_tls, with no send to make) fires.
  std::optional<std::error_code> server_result;
  auto handler = [this, &server_result](StreamReader r, StreamWriter w) -> Task<void> {
    StartTlsOptions options;
    options.ssl_handshake_timeout = 200ms;
    try {
      co_await w.start_tls(server_ctx_, options);
      server_result = std::error_code();
    } catch (const ConnectionError& e) {
      server_result = e.code();
    }
  };
  Server server = start_server(base(), handler, "127.0.0.1", 0);
  Stream s = run_for_value(base(), open_connection(base(), "127.0.0.1", port_of(server)));
  const Clock::time_point start = Clock::now();
  ASSERT_TRUE(run_until(base(), [&] { return server_result.has_value(); }));
  EXPECT_LT(Clock::now() - start, 1000ms);
  EXPECT_EQ(*server_result, std::errc::timed_out) << server_result->message();
  run(base(), [](Stream s) -> Task<void> {
    (void)co_await s.reader.read().as_result();  // the server's reset (or EOF)
    s.writer.close();
  }(s));
  server.close();
}

TEST_F(TlsTest, StartTlsOnATlsConnectionFailsWithInvalidArgument) {
  Server server = start_server(base(), echo_lines, "127.0.0.1", 0, server_options());
  auto client = [](event_base* base, std::uint16_t port, StreamOptions options) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port, options);
    try {
      co_await s.writer.start_tls(options.ssl.value());
      ADD_FAILURE() << "start_tls on a TLS connection succeeded";
    } catch (const StreamException& e) {
      EXPECT_EQ(e.error().code, StreamErrc::kInvalidArgument);
      EXPECT_TRUE(contains(e.what(), "already uses TLS")) << e.what();
    }
    co_await ping_lines(s, 1);  // still usable
  };
  run(base(), client(base(), port_of(server), client_options()));
  server.close();
}

TEST_F(TlsTest, StartTlsRejectsBadOptions) {
  auto [a, b] = test_support::stream_pair(base(), test_support::Transport::kUnix);
  auto expect_invalid = [](StreamWriter w, TlsContext ctx, StartTlsOptions options,
                           std::string expected) -> Task<void> {
    try {
      co_await w.start_tls(ctx, options);
      ADD_FAILURE() << "accepted: " << expected;
    } catch (const StreamException& e) {
      EXPECT_EQ(e.error().code, StreamErrc::kInvalidArgument);
      EXPECT_TRUE(contains(e.what(), expected)) << e.what();
    }
  };
  StartTlsOptions hostname_on_server;
  hostname_on_server.server_hostname = "localhost";
  run(base(), expect_invalid(a.writer, server_ctx_, hostname_on_server, "only meaningful for a client"));
  StartTlsOptions zero_timeout;
  zero_timeout.ssl_handshake_timeout = 0ms;
  run(base(), expect_invalid(a.writer, client_ctx_, zero_timeout, "must be > 0"));
  run(base(), expect_invalid(a.writer, TlsContext(), {}, "empty TlsContext"));
  StartTlsOptions no_name;  // a hostname-checking client, and make_stream has no host
  run(base(), expect_invalid(a.writer, client_ctx_, no_name, "server_hostname"));
  EXPECT_EQ(a.writer.ssl_object(), nullptr);  // still plain
  EXPECT_FALSE(HandleAccess::state(a.writer).has_tls_extras());  // nothing kept
  a.writer.close();
  b.writer.close();
}

// ---- Option validation. ---------------------------------------------------------------------------

// The error open_connection's Task throws for `options` (none: it did not).
std::optional<std::system_error> open_connection_error(event_base* base, StreamOptions options) {
  Task<Stream> t = open_connection(base, "127.0.0.1", 9, std::move(options));
  try {
    t.start();
    if (t.done()) (void)t.result();
  } catch (const std::system_error& e) {
    return e;
  }
  if (!t.done()) test_support::abandon(std::move(t));
  return std::nullopt;
}

TEST_F(TlsTest, ServerHostnameWithoutSslIsInvalid) {
  StreamOptions options;
  options.server_hostname = "localhost";
  std::optional<std::system_error> e = open_connection_error(base(), options);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), StreamErrc::kInvalidArgument);
  EXPECT_TRUE(contains(e->what(), "server_hostname is only meaningful with ssl")) << e->what();
}

TEST_F(TlsTest, TlsTimeoutsWithoutSslAreInvalid) {
  StreamOptions handshake;
  handshake.ssl_handshake_timeout = 1s;
  std::optional<std::system_error> e = open_connection_error(base(), handshake);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), StreamErrc::kInvalidArgument);
  EXPECT_TRUE(contains(e->what(), "ssl_handshake_timeout is only meaningful with ssl"));
  StreamOptions shutdown;
  shutdown.ssl_shutdown_timeout = 1s;
  e = open_connection_error(base(), shutdown);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), StreamErrc::kInvalidArgument);
  EXPECT_TRUE(contains(e->what(), "ssl_shutdown_timeout is only meaningful with ssl"));
}

TEST_F(TlsTest, NonPositiveTlsTimeoutsAreInvalid) {
  StreamOptions zero = client_options();
  zero.ssl_handshake_timeout = 0ms;
  std::optional<std::system_error> e = open_connection_error(base(), zero);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), StreamErrc::kInvalidArgument);
  StreamOptions negative = client_options();
  negative.ssl_shutdown_timeout = -5ms;
  e = open_connection_error(base(), negative);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), StreamErrc::kInvalidArgument);
  EXPECT_TRUE(contains(e->what(), "ssl_shutdown_timeout must be > 0")) << e->what();
}

TEST_F(TlsTest, ServerContextOnOpenConnectionIsInvalid) {
  StreamOptions options = client_options(std::nullopt);
  options.ssl = server_ctx_;
  std::optional<std::system_error> e = open_connection_error(base(), options);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), StreamErrc::kInvalidArgument);
  EXPECT_TRUE(contains(e->what(), "client context")) << e->what();
}

TEST_F(TlsTest, ClientContextOnStartServerIsInvalid) {
  ServerOptions options;
  options.stream.ssl = client_ctx_;
  std::error_code ec;
  Server server = start_server(base(), echo_lines, "127.0.0.1", 0, options, ec);
  EXPECT_EQ(ec, StreamErrc::kInvalidArgument);
  EXPECT_FALSE(server);
  try {
    Server s = start_server(base(), echo_lines, "127.0.0.1", 0, options);
    ADD_FAILURE() << "start_server accepted a client context";
  } catch (const std::system_error& e) {
    EXPECT_TRUE(contains(e.what(), "server context")) << e.what();
  }
}

TEST_F(TlsTest, EmptyTlsContextIsInvalid) {
  StreamOptions options;
  options.ssl = TlsContext();
  std::optional<std::system_error> e = open_connection_error(base(), options);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code(), StreamErrc::kInvalidArgument);
  EXPECT_TRUE(contains(e->what(), "empty TlsContext")) << e->what();
}

TEST_F(TlsTest, OpenUnixConnectionWithSslNeedsServerHostname) {
  std::optional<std::error_code> result;
  open_unix_connection(base(), test_support::unix_socket_path("no_such"),
                       client_options(std::nullopt),
                       [&](std::error_code ec, Stream) { result = ec; });
  ASSERT_TRUE(run_until(base(), [&] { return result.has_value(); }));
  EXPECT_EQ(*result, StreamErrc::kInvalidArgument);
}

TEST_F(TlsTest, MakeStreamWithSslNeedsServerHostnameAndLeavesTheDescriptor) {
  auto [x, y] = test_support::connected_fds(test_support::Transport::kUnix);
  std::error_code ec;
  Stream s = make_stream(base(), x, client_options(std::nullopt), ec);
  EXPECT_EQ(ec, StreamErrc::kInvalidArgument);
  EXPECT_FALSE(s.writer);
  EXPECT_EQ(::fcntl(x, F_GETFD), FD_CLOEXEC);  // still open, still the caller's
  ::close(x);
  ::close(y);
}

}  // namespace
}  // namespace sluice::libevent_backend
