// start_server / start_unix_server and the Server object on a libevent loop:
// bound addresses, several listening sockets, close with live clients,
// wait_closed, serve_forever, close_clients / abort_clients, handler
// exceptions, UNIX socket files, reuse_port.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "backends/libevent/streams.h"
#include "backends/libevent/test_support.h"
#include "gtest/gtest.h"

namespace sluice::libevent_backend {
namespace {

using namespace std::chrono_literals;
using test_support::LoopTest;
using test_support::run;
using test_support::run_all;
using test_support::run_until;
using test_support::sleep_for;

Task<void> echo(StreamReader reader, StreamWriter writer) {
  while (std::optional<std::string> line = co_await reader.next_line()) {
    if (*line == "boom\n") throw std::runtime_error("boom");
    writer.write(std::move(*line));
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

// Connects and checks one echoed line; leaves the stream open.
Task<Stream> connect_and_ping(event_base* base, std::string host, std::uint16_t port) {
  Stream s = co_await open_connection(base, host, port);
  s.writer.write("ping\n");
  std::string back = co_await s.reader.readline();
  EXPECT_EQ(back, "ping\n");
  co_return s;
}

// Runs a Task<T> to completion and returns its value.
template <typename T>
T run_for_value(event_base* base, Task<T> task) {
  task.start();
  if (!run_until(base, [&] { return task.done(); })) {
    test_support::abandon(std::move(task));
    throw std::runtime_error("timed out");
  }
  return task.result();
}

std::uint16_t port_of(const Server& s) { return s.sockets().at(0).port(); }

TEST_F(LoopTest, PortZeroGivesTheBoundAddress) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  EXPECT_TRUE(server.is_serving());
  ASSERT_EQ(server.sockets().size(), 1u);
  EXPECT_EQ(server.sockets()[0].family(), AF_INET);
  EXPECT_EQ(server.sockets()[0].address(), "127.0.0.1");
  EXPECT_NE(server.sockets()[0].port(), 0);
  server.close();
  EXPECT_FALSE(server.is_serving());
  EXPECT_TRUE(server.sockets().empty());
}

TEST_F(LoopTest, ListensOnEveryAddressTheHostResolvesTo) {
  Server server = start_server(base(), echo, std::nullopt, 0);  // all interfaces
  std::set<int> families;
  for (const Endpoint& e : server.sockets()) families.insert(e.family());
  if (test_support::ipv6_available()) {
    EXPECT_EQ(families, (std::set<int>{AF_INET, AF_INET6}));
  } else {
    EXPECT_EQ(families, (std::set<int>{AF_INET}));
  }
  for (const Endpoint& e : server.sockets()) {
    const std::string host = e.family() == AF_INET ? "127.0.0.1" : "::1";
    Stream s = run_for_value(base(), connect_and_ping(base(), host, e.port()));
    s.writer.close();
  }
  server.close();
}

TEST_F(LoopTest, EchoServesManyClientsAtOnce) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  const std::uint16_t port = port_of(server);
  int done = 0;
  std::vector<Task<void>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back([](event_base* base, std::uint16_t port, int i, int* done) -> Task<void> {
      Stream s = co_await open_connection(base, "127.0.0.1", port);
      for (int k = 0; k < 10; ++k) {
        const std::string line = std::to_string(i) + ":" + std::to_string(k) + "\n";
        s.writer.write(line);
        std::string back = co_await s.reader.readline();
        EXPECT_EQ(back, line);
      }
      s.writer.close();
      co_await s.writer.wait_closed();
      ++*done;
    }(base(), port, i, &done));
    clients.back().start();
  }
  EXPECT_TRUE(run_until(base(), [&] { return done == 50; }));
  for (Task<void>& t : clients) test_support::expect_no_exception(t);
  EXPECT_TRUE(run_until(base(), [&] { return server.active_connections() == 0; }));
  server.close();
}

TEST_F(LoopTest, CloseStopsListeningAndKeepsTheClients) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  const std::uint16_t port = port_of(server);
  Stream client = run_for_value(base(), connect_and_ping(base(), "127.0.0.1", port));
  EXPECT_EQ(server.active_connections(), 1u);
  server.close();
  EXPECT_FALSE(server.is_serving());
  EXPECT_TRUE(server.sockets().empty());
  bool closed = false;
  server.wait_closed([&](std::error_code ec) {
    EXPECT_FALSE(ec);
    closed = true;
  });
  run(base(),
      [](event_base* base, StreamReader r, StreamWriter w, std::uint16_t port) -> Task<void> {
        // The accepted connection still works...
        w.write("still here\n");
        std::string back = co_await r.readline();
        EXPECT_EQ(back, "still here\n");
        // ...but nobody listens any more.
        try {
          (void)co_await open_connection(base, "127.0.0.1", port);
          ADD_FAILURE() << "connected to a closed server";
        } catch (const std::system_error& e) {
          EXPECT_EQ(e.code(), std::errc::connection_refused);
        }
      }(base(), client.reader, client.writer, port));
  EXPECT_FALSE(closed) << "wait_closed returned with a client still connected";
  client.writer.close();
  EXPECT_TRUE(run_until(base(), [&] { return closed; }));
  EXPECT_EQ(server.active_connections(), 0u);
}

TEST_F(LoopTest, WaitClosedAfterTheClientsLeftAndThenClose) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  Stream client = run_for_value(base(), connect_and_ping(base(), "127.0.0.1", port_of(server)));
  client.writer.close();
  EXPECT_TRUE(run_until(base(), [&] { return server.active_connections() == 0; }));
  bool closed = false;
  server.wait_closed([&](std::error_code) { closed = true; });
  run(base(), [](event_base* base) -> Task<void> { co_await sleep_for(base, 10ms); }(base()));
  EXPECT_FALSE(closed) << "wait_closed returned before close()";
  server.close();
  EXPECT_TRUE(run_until(base(), [&] { return closed; }));
  // Once woken, it returns at once.
  run(base(), [](Server s) -> Task<void> { co_await s.wait_closed(); }(server));
}

TEST_F(LoopTest, CloseClientsClosesThemGracefully) {
  // The handler never ends by itself: it waits for a line that never comes.
  Server server = start_server(
      base(),
      [](StreamReader r, StreamWriter w) -> Task<void> {
        w.write("welcome\n");
        (void)co_await r.readexactly(1000);
      },
      "127.0.0.1", 0);
  run(base(), [](event_base* base, Server server) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", server.sockets().at(0).port());
    std::string hello = co_await s.reader.readline();
    EXPECT_EQ(hello, "welcome\n");
    server.close();
    server.close_clients();
    std::string rest = co_await s.reader.read();  // EOF, not a reset
    EXPECT_EQ(rest, "");
    co_await server.wait_closed();
    s.writer.close();
  }(base(), server));
}

TEST_F(LoopTest, AbortClientsResetsThem) {
  Server server = start_server(
      base(),
      [](StreamReader r, StreamWriter w) -> Task<void> {
        w.write("welcome\n");
        (void)co_await r.readexactly(1000);
      },
      "127.0.0.1", 0);
  run(base(), [](event_base* base, Server server) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", server.sockets().at(0).port());
    std::string hello = co_await s.reader.readline();
    EXPECT_EQ(hello, "welcome\n");
    server.abort_clients();
    try {
      (void)co_await s.reader.read();
      ADD_FAILURE() << "no reset";
    } catch (const ConnectionError& e) {
      EXPECT_EQ(e.code(), std::errc::connection_reset);
    }
    server.close();
    co_await server.wait_closed();
  }(base(), server));
}

TEST_F(LoopTest, ServeForeverReturnsWhenTheServerIsClosed) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  run_all(
      base(), 5s,
      [](Server s) -> Task<void> {
        co_await s.serve_forever();
        EXPECT_FALSE(s.is_serving());
      }(server),
      [](event_base* base, Server s) -> Task<void> {
        Stream c = co_await connect_and_ping(base, "127.0.0.1", s.sockets().at(0).port());
        c.writer.close();
        s.close();
      }(base(), server));
}

TEST_F(LoopTest, ServeForeverFailsWhenAlreadyWaitingOrClosed) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  run_all(
      base(), 5s, [](Server s) -> Task<void> { co_await s.serve_forever(); }(server),
      [](Server s) -> Task<void> {
        try {
          co_await s.serve_forever();
          ADD_FAILURE() << "a second serve_forever ran";
        } catch (const std::system_error& e) {
          EXPECT_EQ(e.code(), std::errc::connection_already_in_progress);
        }
        s.close();
        try {
          co_await s.serve_forever();
          ADD_FAILURE() << "serve_forever on a closed server ran";
        } catch (const std::system_error& e) {
          EXPECT_EQ(e.code(), std::errc::bad_file_descriptor);
        }
      }(server));
  std::optional<std::error_code> result;
  server.serve_forever([&](std::error_code ec) { result = ec; });
  EXPECT_FALSE(result.has_value());  // never inside the call
  EXPECT_TRUE(run_until(base(), [&] { return result.has_value(); }));
  EXPECT_EQ(*result, std::errc::bad_file_descriptor);
}

TEST_F(LoopTest, DestroyingTheServeForeverCoroutineClosesTheServer) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  Task<void> forever = [](Server s) -> Task<void> { co_await s.serve_forever(); }(server);
  forever.start();
  EXPECT_TRUE(server.is_serving());
  forever = Task<void>();  // asyncio: cancelling serve_forever closes the server
  EXPECT_FALSE(server.is_serving());
}

TEST_F(LoopTest, DroppingTheLastServerHandleClosesIt) {
  std::uint16_t port = 0;
  {
    Server server = start_server(base(), echo, "127.0.0.1", 0);
    port = port_of(server);
  }
  run(base(), [](event_base* base, std::uint16_t port) -> Task<void> {
    try {
      (void)co_await open_connection(base, "127.0.0.1", port);
      ADD_FAILURE() << "still listening";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_refused);
    }
  }(base(), port));
}

TEST_F(LoopTest, HandlerExceptionClosesOnlyThatConnection) {
  std::vector<std::string> reported;
  ServerOptions options;
  options.on_handler_exception = [&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      reported.push_back(x.what());
    }
  };
  Server server = start_server(base(), echo, "127.0.0.1", 0, options);
  run(base(), [](event_base* base, std::uint16_t port) -> Task<void> {
    Stream good = co_await connect_and_ping(base, "127.0.0.1", port);
    Stream bad = co_await connect_and_ping(base, "127.0.0.1", port);
    bad.writer.write("boom\n");
    std::string rest = co_await bad.reader.read();  // the server closed it: EOF
    EXPECT_EQ(rest, "");
    good.writer.write("still served\n");
    std::string back = co_await good.reader.readline();
    EXPECT_EQ(back, "still served\n");
    Stream fresh = co_await connect_and_ping(base, "127.0.0.1", port);
    fresh.writer.close();
    good.writer.close();
    bad.writer.close();
  }(base(), port_of(server)));
  EXPECT_EQ(reported, (std::vector<std::string>{"boom"}));
  EXPECT_TRUE(server.is_serving());
  server.close();
}

TEST_F(LoopTest, HandlerExceptionIsLoggedByDefault) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  ::testing::internal::CaptureStderr();
  run(base(), [](event_base* base, std::uint16_t port) -> Task<void> {
    Stream bad = co_await open_connection(base, "127.0.0.1", port);
    bad.writer.write("boom\n");
    std::string rest = co_await bad.reader.read();
    EXPECT_EQ(rest, "");
    bad.writer.close();
  }(base(), port_of(server)));
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("Unhandled exception in client_connected_cb: boom"), std::string::npos) << log;
  server.close();
}

TEST_F(LoopTest, HandlerReturningWithoutClosingClosesTheConnection) {
  Server server = start_server(
      base(),
      [](StreamReader, StreamWriter w) -> Task<void> {
        w.write("bye\n");
        co_return;  // no close(): the last handle closes it (flush, then FIN)
      },
      "127.0.0.1", 0);
  run(base(), [](event_base* base, std::uint16_t port) -> Task<void> {
    Stream s = co_await open_connection(base, "127.0.0.1", port);
    std::string all = co_await s.reader.read();
    EXPECT_EQ(all, "bye\n");
    s.writer.close();
  }(base(), port_of(server)));
  EXPECT_TRUE(run_until(base(), [&] { return server.active_connections() == 0; }));
  server.close();
}

TEST_F(LoopTest, HandlerGetsPeernameAndSockname) {
  std::optional<Endpoint> handler_peer;
  std::optional<Endpoint> handler_local;
  Server server = start_server(
      base(),
      [&](StreamReader, StreamWriter w) -> Task<void> {
        handler_peer = w.peername();
        handler_local = w.sockname();
        w.close();
        co_return;
      },
      "127.0.0.1", 0);
  std::optional<Endpoint> client_local;
  run(base(),
      [](event_base* base, std::uint16_t port,
         std::optional<Endpoint>* client_local) -> Task<void> {
        Stream s = co_await open_connection(base, "127.0.0.1", port);
        *client_local = s.writer.sockname();
        (void)co_await s.reader.read();  // the handler closes
        s.writer.close();
      }(base(), port_of(server), &client_local));
  ASSERT_TRUE(handler_peer && handler_local && client_local);
  EXPECT_EQ(*handler_peer, *client_local);
  EXPECT_EQ(*handler_local, server.sockets().at(0));
  server.close();
}

TEST_F(LoopTest, UnixServerReplacesAStaleSocketAndRemovesItsOwnOnClose) {
  const std::string path = test_support::unix_socket_path("stale");
  {
    // A stale socket file left by a dead process.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::snprintf(un.sun_path, sizeof(un.sun_path), "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof(un)), 0);
    ::close(fd);
  }
  Server server = start_unix_server(base(), echo, path);
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  run(base(), [](event_base* base, std::string path) -> Task<void> {
    Stream s = co_await open_unix_connection(base, path);
    s.writer.write("unix\n");
    std::string back = co_await s.reader.readline();
    EXPECT_EQ(back, "unix\n");
    s.writer.close();
  }(base(), path));
  server.close();
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

TEST_F(LoopTest, UnixServerRefusesAPathThatIsNotASocket) {
  const std::string path = test_support::unix_socket_path("regular_file");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  std::error_code ec;
  Server server = start_unix_server(base(), echo, path, {}, ec);
  EXPECT_EQ(ec, std::errc::address_in_use);
  EXPECT_FALSE(server);
  ::unlink(path.c_str());
}

TEST_F(LoopTest, AbstractUnixSocket) {
  const std::string name =
      std::string(1, '\0') + "sluice_libevent_abstract_" + std::to_string(::getpid());
  Server server = start_unix_server(base(), echo, name);
  EXPECT_EQ(server.sockets().at(0).address(), name);
  run(base(), [](event_base* base, std::string name) -> Task<void> {
    Stream s = co_await open_unix_connection(base, name);
    s.writer.write("abstract\n");
    std::string back = co_await s.reader.readline();
    EXPECT_EQ(back, "abstract\n");
    s.writer.close();
  }(base(), name));
  server.close();
}

TEST_F(LoopTest, AddressInUseWithoutReusePort) {
  Server first = start_server(base(), echo, "127.0.0.1", 0);
  std::error_code ec;
  Server second = start_server(base(), echo, "127.0.0.1", port_of(first), {}, ec);
  EXPECT_EQ(ec, std::errc::address_in_use);
  EXPECT_FALSE(second);
  EXPECT_THROW((void)start_server(base(), echo, "127.0.0.1", port_of(first)), std::system_error);
  first.close();
}

TEST_F(LoopTest, ReusePortLetsTwoServersShareAPort) {
  ServerOptions options;
  options.reuse_port = true;
  Server first = start_server(base(), echo, "127.0.0.1", 0, options);
  Server second = start_server(base(), echo, "127.0.0.1", port_of(first), options);
  EXPECT_EQ(port_of(first), port_of(second));
  Stream s = run_for_value(base(), connect_and_ping(base(), "127.0.0.1", port_of(first)));
  s.writer.close();
  first.close();
  second.close();
}

TEST_F(LoopTest, StartServerRejectsBadOptions) {
  ServerOptions options;
  options.stream.limit = 0;
  std::error_code ec;
  Server s = start_server(base(), echo, "127.0.0.1", 0, options, ec);
  EXPECT_EQ(ec, make_error_code(StreamErrc::kInvalidArgument));
  s = start_server(base(), ClientConnectedCallback(), "127.0.0.1", 0, {}, ec);
  EXPECT_EQ(ec, make_error_code(StreamErrc::kInvalidArgument));
}

}  // namespace
}  // namespace sluice::libevent_backend
