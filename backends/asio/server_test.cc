// Tests of start_server / start_unix_server / Server and of
// async_open_connection / async_open_unix_connection over real sockets.

#include <sys/stat.h>

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include "backends/asio/streams.h"
#include "backends/asio/test_support.h"
#include "gtest/gtest.h"

namespace sluice::asio_backend {
namespace {

using namespace test_support;  // NOLINT
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// echo: asyncio's echo handler: each line back, drained, until EOF.
asio::awaitable<void> echo(StreamReader reader, StreamWriter writer) {
  for (;;) {
    std::string line = co_await reader.async_readline(use_awaitable);
    if (line.empty()) break;
    writer.write(std::move(line));
    co_await writer.async_drain(use_awaitable);
  }
  writer.close();
}

// One echo round trip; true if the line came back.
asio::awaitable<bool> round_trip(Stream& s, std::string line) {
  s.writer.write(line);
  const std::string back = co_await s.reader.async_readline(use_awaitable);
  co_return back == line;
}

TEST(ServerTest, EchoesLinesBetweenOpenConnectionAndStartServerOverIpv4) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
  ASSERT_EQ(server.sockets().size(), 1u);
  run(io, [](Server& server) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto [reader, writer] = co_await async_open_connection(
        ex, "127.0.0.1", port_of(server.sockets().front()), use_awaitable);
    // The last line is just under the server's 64 KiB limit.
    const std::array<std::string, 3> lines = {"hello\n", "world\n", std::string(60000, 'z') + "\n"};
    for (const std::string& line : lines) {
      writer.write(line);
      const std::string back = co_await reader.async_readline(use_awaitable);
      EXPECT_TRUE(back == line) << back.size() << " bytes back for " << line.size();
    }
    writer.close();
    co_await writer.async_wait_closed(use_awaitable);
    server.close();
    co_await server.async_wait_closed(use_awaitable);
  }(server));
}

TEST(ServerTest, ServesOverIpv6Loopback) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), echo, "::1", 0);
  ASSERT_EQ(server.sockets().size(), 1u);
  const auto tcp = std::get<asio::ip::tcp::endpoint>(server.sockets().front());
  EXPECT_TRUE(tcp.address().is_v6());
  EXPECT_NE(tcp.port(), 0);
  run(io, [](Server& server) -> asio::awaitable<void> {
    Stream s = co_await connect("::1", port_of(server.sockets().front()));
    EXPECT_TRUE(co_await round_trip(s, "over v6\n"));
    EXPECT_EQ(s.writer.get_extra_info("peername"), to_string(server.sockets().front()));
    s.writer.close();
  }(server));
}

TEST(ServerTest, PortZeroBindsARealPortReadableFromSockets) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
  const std::uint16_t port = port_of(server.sockets().front());
  EXPECT_NE(port, 0);
  EXPECT_EQ(to_string(server.sockets().front()), "127.0.0.1:" + std::to_string(port));
  run(io, [](std::uint16_t port) -> asio::awaitable<void> {
    Stream s = co_await connect("127.0.0.1", port);
    EXPECT_EQ(port_of(*s.writer.peername()), port);
    s.writer.close();
  }(port));
}

TEST(ServerTest, AllInterfacesListensOnEveryResolvedAddress) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), echo, std::nullopt, 0);
  ASSERT_GE(server.sockets().size(), 1u);
  std::optional<std::uint16_t> v4_port;
  for (const Endpoint& e : server.sockets()) {
    const auto tcp = std::get<asio::ip::tcp::endpoint>(e);
    EXPECT_TRUE(tcp.address().is_unspecified()) << to_string(e);
    EXPECT_NE(tcp.port(), 0);
    if (tcp.address().is_v4()) v4_port = tcp.port();
  }
  ASSERT_TRUE(v4_port.has_value());
  run(io, [](std::uint16_t port) -> asio::awaitable<void> {
    Stream s = co_await connect("127.0.0.1", port);
    EXPECT_TRUE(co_await round_trip(s, "any\n"));
    s.writer.close();
  }(*v4_port));
}

TEST(ServerTest, ServesOverAUnixSocketPathAndRemovesItOnClose) {
  asio::io_context io;
  const std::string path = unix_socket_path("serve");
  Server server = start_unix_server(io.get_executor(), echo, path);
  ASSERT_EQ(server.sockets().size(), 1u);
  EXPECT_EQ(to_string(server.sockets().front()), path);
  run(io, [](Server& server, std::string path) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    Stream s = co_await async_open_unix_connection(ex, path, use_awaitable);
    EXPECT_TRUE(co_await round_trip(s, "over unix\n"));
    s.writer.close();
    server.close();
    co_await server.async_wait_closed(use_awaitable);
  }(server, path));
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0);  // cleaned up
}

TEST(ServerTest, StartUnixServerReplacesAStaleSocketFile) {
  asio::io_context io;
  const std::string path = unix_socket_path("stale");
  {
    asio::local::stream_protocol::acceptor old(io, asio::local::stream_protocol::endpoint(path));
  }  // closed, the file stays
  std::error_code ec;
  Server server = start_unix_server(io.get_executor(), echo, path, {}, ec);
  EXPECT_FALSE(ec) << ec.message();
  if (server) server.close();
}

TEST(ServerTest, CloseStopsListeningButKeepsTheConnectionsUntilTheyEnd) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
  const std::uint16_t port = port_of(server.sockets().front());
  run(io, [](Server& server, std::uint16_t port) -> asio::awaitable<void> {
    Stream s = co_await connect("127.0.0.1", port);
    EXPECT_TRUE(co_await round_trip(s, "before\n"));
    server.close();
    EXPECT_FALSE(server.is_serving());
    EXPECT_TRUE(server.sockets().empty());
    bool closed = false;
    server.async_wait_closed([&](std::error_code) { closed = true; });
    auto ex = co_await asio::this_coro::executor;
    auto [ec, refused] = co_await async_open_connection(ex, "127.0.0.1", port, as_tuple_awaitable);
    EXPECT_EQ(ec, asio::error::connection_refused);
    EXPECT_TRUE(co_await round_trip(s, "after\n"));  // still served
    co_await sleep_for(10ms);
    EXPECT_FALSE(closed);  // closed, but a connection is active
    EXPECT_EQ(server.active_connections(), 1u);
    s.writer.close();  // the handler sees EOF and closes its side
    for (int i = 0; i < 500 && !closed; ++i) co_await sleep_for(1ms);
    EXPECT_TRUE(closed);
    EXPECT_EQ(server.active_connections(), 0u);
  }(server, port));
}

TEST(ServerTest, CloseClientsClosesEveryConnection) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
  run(io, [](Server& server) -> asio::awaitable<void> {
    const std::uint16_t port = port_of(server.sockets().front());
    Stream a = co_await connect("127.0.0.1", port);
    Stream b = co_await connect("127.0.0.1", port);
    EXPECT_TRUE(co_await round_trip(a, "a\n"));
    EXPECT_TRUE(co_await round_trip(b, "b\n"));
    EXPECT_EQ(server.active_connections(), 2u);
    server.close();
    server.close_clients();
    const std::string a_eof = co_await a.reader.async_read(100, use_awaitable);
    const std::string b_eof = co_await b.reader.async_read(100, use_awaitable);
    EXPECT_EQ(a_eof, "");
    EXPECT_EQ(b_eof, "");
    co_await server.async_wait_closed(use_awaitable);
    EXPECT_EQ(server.active_connections(), 0u);
  }(server));
}

TEST(ServerTest, AbortClientsResetsEveryConnection) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
  run(io, [](Server& server) -> asio::awaitable<void> {
    const std::uint16_t port = port_of(server.sockets().front());
    Stream a = co_await connect("127.0.0.1", port);
    Stream b = co_await connect("127.0.0.1", port);
    EXPECT_TRUE(co_await round_trip(a, "a\n"));
    EXPECT_TRUE(co_await round_trip(b, "b\n"));
    server.abort_clients();
    EXPECT_EQ(server.active_connections(), 0u);  // aborted at once
    auto [a_ec, a_data] = co_await a.reader.async_read(100, as_tuple_awaitable);
    auto [b_ec, b_data] = co_await b.reader.async_read(100, as_tuple_awaitable);
    EXPECT_EQ(a_ec, asio::error::connection_reset);
    EXPECT_EQ(b_ec, asio::error::connection_reset);
    server.close();
    co_await server.async_wait_closed(use_awaitable);
  }(server));
}

TEST(ServerTest, ServeForeverCompletesWhenTheServerIsClosed) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
  bool served = false;
  std::error_code serve_ec = asio::error::would_block;
  server.async_serve_forever([&](std::error_code ec) {
    served = true;
    serve_ec = ec;
  });
  std::error_code second_ec;
  server.async_serve_forever([&](std::error_code ec) { second_ec = ec; });
  EXPECT_FALSE(run_until(
      io, [&] { return served; }, 20ms));
  EXPECT_EQ(second_ec, asio::error::already_started);
  server.close();
  EXPECT_TRUE(run_until(io, [&] { return served; }));
  EXPECT_FALSE(serve_ec) << serve_ec.message();
  std::error_code after_ec;
  server.async_serve_forever([&](std::error_code ec) { after_ec = ec; });
  EXPECT_TRUE(run_until(io, [&] { return bool(after_ec); }));
  EXPECT_EQ(after_ec, asio::error::bad_descriptor);
}

TEST(ServerTest, CancellingServeForeverClosesTheServer) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
  asio::cancellation_signal signal;
  bool served = false;
  std::error_code serve_ec;
  server.async_serve_forever(asio::bind_cancellation_slot(signal.slot(), [&](std::error_code ec) {
    served = true;
    serve_ec = ec;
  }));
  EXPECT_FALSE(run_until(
      io, [&] { return served; }, 20ms));
  signal.emit(asio::cancellation_type::terminal);
  EXPECT_TRUE(run_until(io, [&] { return served; }));
  EXPECT_EQ(serve_ec, asio::error::operation_aborted);
  EXPECT_FALSE(server.is_serving());
}

// A handler that fails on "boom" and echoes otherwise.
asio::awaitable<void> fragile(StreamReader reader, StreamWriter writer) {
  const std::string first = co_await reader.async_readline(use_awaitable);
  if (first == "boom\n") throw std::runtime_error("boom");
  writer.write(first);
  co_await echo(std::move(reader), std::move(writer));
}

TEST(ServerTest, AHandlerExceptionClosesOnlyThatConnection) {
  asio::io_context io;
  ServerOptions options;
  std::vector<std::string> reported;
  options.on_handler_exception = record_what(reported);
  Server server = start_server(io.get_executor(), fragile, "127.0.0.1", 0, options);
  run(io, [](Server& server) -> asio::awaitable<void> {
    const std::uint16_t port = port_of(server.sockets().front());
    Stream good = co_await connect("127.0.0.1", port);
    Stream bad = co_await connect("127.0.0.1", port);
    EXPECT_TRUE(co_await round_trip(good, "first\n"));
    bad.writer.write("boom\n");
    auto [ec, rest] = co_await bad.reader.async_read(-1, as_tuple_awaitable);
    EXPECT_FALSE(ec) << ec.message();  // closed cleanly: EOF
    EXPECT_EQ(rest, "");
    EXPECT_TRUE(co_await round_trip(good, "still here\n"));
    EXPECT_TRUE(server.is_serving());
    Stream later = co_await connect("127.0.0.1", port);
    EXPECT_TRUE(co_await round_trip(later, "later\n"));
  }(server));
  EXPECT_EQ(reported, std::vector<std::string>{"boom"});
}

TEST(ServerTest, AHandlerExceptionIsLoggedLikeAsyncio) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), fragile, "127.0.0.1", 0);
  ::testing::internal::CaptureStderr();
  run(io, [](Server& server) -> asio::awaitable<void> {
    Stream bad = co_await connect("127.0.0.1", port_of(server.sockets().front()));
    bad.writer.write("boom\n");
    const std::string rest = co_await bad.reader.async_read(-1, use_awaitable);
    EXPECT_EQ(rest, "");
  }(server));
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("Unhandled exception in client_connected_cb: boom"), std::string::npos) << log;
}

TEST(ServerTest, ACallbackThatThrowsBeforeReturningItsCoroutineIsReportedAndClosed) {
  asio::io_context io;
  ServerOptions options;
  std::vector<std::string> reported;
  options.on_handler_exception = record_what(reported);
  // Not a coroutine: it throws when called, before any coroutine exists.
  ClientConnectedCallback refuse = [](StreamReader, StreamWriter) -> asio::awaitable<void> {
    throw std::runtime_error("no coroutine");
  };
  Server server = start_server(io.get_executor(), refuse, "127.0.0.1", 0, options);
  run(io, [](Server& server) -> asio::awaitable<void> {
    Stream s = co_await connect("127.0.0.1", port_of(server.sockets().front()));
    auto [ec, rest] = co_await s.reader.async_read(-1, as_tuple_awaitable);
    EXPECT_FALSE(ec) << ec.message();  // closed cleanly: EOF
    EXPECT_EQ(rest, "");
    EXPECT_TRUE(server.is_serving());
  }(server));
  EXPECT_EQ(reported, std::vector<std::string>{"no coroutine"});
}

TEST(ServerTest, OpeningAConnectionToAClosedPortIsRefused) {
  asio::io_context io;
  std::uint16_t port = 0;
  {
    asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    port = probe.local_endpoint().port();
  }
  run(io, [](std::uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto [ec, s] = co_await async_open_connection(ex, "127.0.0.1", port, as_tuple_awaitable);
    EXPECT_EQ(ec, asio::error::connection_refused);
    EXPECT_FALSE(s.reader);
  }(port));
}

TEST(ServerTest, BindingABusyPortFailsAndReusePortSharesIt) {
  asio::io_context io;
  ServerOptions shared;
  shared.reuse_port = true;
  Server first = start_server(io.get_executor(), echo, "127.0.0.1", 0, shared);
  const std::uint16_t port = port_of(first.sockets().front());
  std::error_code ec;
  Server busy = start_server(io.get_executor(), echo, "127.0.0.1", port, {}, ec);
  EXPECT_EQ(ec, asio::error::address_in_use);
  EXPECT_FALSE(busy);
  Server second = start_server(io.get_executor(), echo, "127.0.0.1", port, shared, ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(ServerTest, DroppingTheLastServerHandleClosesIt) {
  asio::io_context io;
  std::uint16_t port = 0;
  {
    Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
    port = port_of(server.sockets().front());
  }
  run(io, [](std::uint16_t port) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto [ec, s] = co_await async_open_connection(ex, "127.0.0.1", port, as_tuple_awaitable);
    EXPECT_EQ(ec, asio::error::connection_refused);
  }(port));
}

TEST(ServerTest, ConnectionsAreStillServedAfterTheServerIsGone) {
  asio::io_context io;
  std::optional<Server> server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
  const std::uint16_t port = port_of(server->sockets().front());
  run(io, [](std::optional<Server>& server, std::uint16_t port) -> asio::awaitable<void> {
    Stream s = co_await connect("127.0.0.1", port);
    EXPECT_TRUE(co_await round_trip(s, "before\n"));
    server.reset();  // closed; its state goes once its accept is cancelled
    co_await sleep_for(10ms);
    EXPECT_TRUE(co_await round_trip(s, "after\n"));
    // The handler sees EOF and closes: the server's connection is lost
    // after the server itself is gone.
    s.writer.write_eof();
    const std::string rest = co_await s.reader.async_read(-1, use_awaitable);
    EXPECT_EQ(rest, "");
    co_await sleep_for(10ms);
  }(server, port));
}

TEST(ServerTest, DestroyingTheContextWithAHandlerWaitingReleasesEveryDescriptor) {
  const int before = fd_count();
  {
    asio::io_context io;
    Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
    std::optional<Stream> client;
    run(io, [](Server& server, std::optional<Stream>& client) -> asio::awaitable<void> {
      client = co_await connect("127.0.0.1", port_of(server.sockets().front()));
      EXPECT_TRUE(co_await round_trip(*client, "x\n"));
      EXPECT_EQ(server.active_connections(), 1u);
    }(server, client));
    // The server's handler waits in readline; the context goes first (its
    // shutdown destroys the handler, which drops the connection).
    client.reset();
  }
  EXPECT_EQ(fd_count(), before);
}

TEST(ServerTest, ServerAndConnectionsReleaseEveryDescriptor) {
  const int before = fd_count();
  {
    asio::io_context io;
    Server server = start_server(io.get_executor(), echo, "127.0.0.1", 0);
    run(io, [](Server& server) -> asio::awaitable<void> {
      Stream s = co_await connect("127.0.0.1", port_of(server.sockets().front()));
      EXPECT_TRUE(co_await round_trip(s, "x\n"));
      s.writer.close();
      co_await s.writer.async_wait_closed(use_awaitable);
      server.close();
      co_await server.async_wait_closed(use_awaitable);
    }(server));
  }
  EXPECT_EQ(fd_count(), before);
}

}  // namespace
}  // namespace sluice::asio_backend
