// open_connection and open_unix_connection against start_server /
// start_unix_server on a libevent loop, in both styles (Task and callback),
// with name resolution, refused connections, trying each address, and
// cancellation.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "backends/libevent/internal/connector.h"
#include "backends/libevent/internal/loop_context.h"
#include "backends/libevent/internal/resolver.h"
#include "backends/libevent/streams.h"
#include "backends/libevent/test_support.h"
#include "gtest/gtest.h"

namespace sluice::libevent_backend {
namespace {

using namespace std::chrono_literals;
using test_support::LoopTest;
using test_support::run;
using test_support::run_until;

// The echo handler: every line back, drained, until EOF; then close.
Task<void> echo(StreamReader reader, StreamWriter writer) {
  while (std::optional<std::string> line = co_await reader.next_line()) {
    writer.write(std::move(*line));
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

// One client exchange: send the lines, read them back, close.
Task<void> echo_client(Stream s, std::vector<std::string> lines) {
  for (const std::string& line : lines) {
    s.writer.write(line + "\n");
    std::string back = co_await s.reader.readline();
    EXPECT_EQ(back, line + "\n");
  }
  s.writer.close();
  co_await s.writer.wait_closed();
}

// A loopback port nothing listens on (bound, then closed).
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof(in));
  socklen_t len = sizeof(in);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len);
  ::close(fd);
  return ntohs(in.sin_port);
}

class OpenConnectionTest : public LoopTest, public ::testing::WithParamInterface<const char*> {};

INSTANTIATE_TEST_SUITE_P(Hosts, OpenConnectionTest, ::testing::Values("127.0.0.1", "::1"),
                         [](const auto& info) {
                           return std::string(info.param) == "::1" ? "Ipv6" : "Ipv4";
                         });

TEST_P(OpenConnectionTest, EchoThroughStartServerAndOpenConnection) {
  Server server = start_server(base(), echo, GetParam(), 0);
  const std::uint16_t port = server.sockets().at(0).port();
  run(base(), [](event_base* base, std::string host, std::uint16_t port) -> Task<void> {
    Stream s = co_await open_connection(base, host, port);
    EXPECT_EQ(s.writer.peername()->address(), host);
    EXPECT_EQ(s.writer.peername()->port(), port);
    std::vector<std::string> lines{"hello", "world"};
    co_await echo_client(std::move(s), lines);
  }(base(), GetParam(), port));
  server.close();
  run(base(), [](Server s) -> Task<void> { co_await s.wait_closed(); }(server));
}

TEST_F(LoopTest, OpenConnectionResolvesANameWithoutBlockingTheLoop) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  const std::uint16_t port = server.sockets().at(0).port();
  run(base(), [](event_base* base, std::uint16_t port) -> Task<void> {
    // "localhost" is not numeric: resolved by getaddrinfo on a helper thread.
    Stream s = co_await open_connection(base, "localhost", port);
    std::vector<std::string> lines{"by name"};
    co_await echo_client(std::move(s), lines);
  }(base(), port));
  server.close();
}

TEST_F(LoopTest, OpenConnectionToTheEmptyHostUsesTheLoopback) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  const std::uint16_t port = server.sockets().at(0).port();
  run(base(), [](event_base* base, std::uint16_t port) -> Task<void> {
    Stream s = co_await open_connection(base, "", port);
    std::vector<std::string> lines{"loopback"};
    co_await echo_client(std::move(s), lines);
  }(base(), port));
  server.close();
}

TEST_F(LoopTest, OpenConnectionRefused) {
  run(base(), [](event_base* base, std::uint16_t port) -> Task<void> {
    try {
      (void)co_await open_connection(base, "127.0.0.1", port);
      ADD_FAILURE() << "connected to a closed port";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_refused);
    }
  }(base(), closed_port()));
}

TEST_F(LoopTest, OpenConnectionWithBadOptionsFails) {
  run(base(), [](event_base* base) -> Task<void> {
    try {
      StreamOptions bad;
      bad.limit = 0;
      (void)co_await open_connection(base, "127.0.0.1", 9, bad);
      ADD_FAILURE() << "no error";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), make_error_code(StreamErrc::kInvalidArgument));
    }
  }(base()));
}

TEST_F(LoopTest, OpenConnectionTriesEachAddressInTurn) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  const Endpoint good = server.sockets().at(0);
  sockaddr_in bad{};
  bad.sin_family = AF_INET;
  bad.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bad.sin_port = htons(closed_port());
  const Endpoint refused(reinterpret_cast<const sockaddr*>(&bad), sizeof(bad));
  auto loop = libevent_backend_internal::LoopContext::of(base());
  run(base(),
      [](std::shared_ptr<libevent_backend_internal::LoopContext> loop, Endpoint refused,
         Endpoint good) -> Task<void> {
        // The first refuses, the second accepts.
        std::vector<Endpoint> two{refused, good};
        Stream s = co_await libevent_backend_internal::connect_any(loop, two, StreamOptions());
        EXPECT_EQ(*s.writer.peername(), good);
        std::vector<std::string> lines{"second address"};
        co_await echo_client(std::move(s), lines);
        // All refuse: the last address's error.
        try {
          std::vector<Endpoint> both_refuse{refused, refused};
          (void)co_await libevent_backend_internal::connect_any(loop, both_refuse, StreamOptions());
          ADD_FAILURE() << "connected";
        } catch (const std::system_error& e) {
          EXPECT_EQ(e.code(), std::errc::connection_refused);
        }
      }(loop, refused, good));
  server.close();
}

TEST_F(LoopTest, OpenConnectionCallbackIsNeverInvokedInsideTheCall) {
  Server server = start_server(base(), echo, "127.0.0.1", 0);
  const std::uint16_t port = server.sockets().at(0).port();
  std::optional<std::error_code> result;
  Stream stream;
  open_connection(base(), "127.0.0.1", port, {}, [&](std::error_code ec, Stream s) {
    result = ec;
    stream = std::move(s);
  });
  EXPECT_FALSE(result.has_value());
  ASSERT_TRUE(run_until(base(), [&] { return result.has_value(); }));
  EXPECT_FALSE(*result);
  ASSERT_TRUE(stream.writer);
  run(base(), echo_client(std::move(stream), {"callback"}));

  std::optional<std::error_code> refused;
  open_connection(base(), "127.0.0.1", closed_port(), {}, [&](std::error_code ec, Stream s) {
    EXPECT_FALSE(s.reader);
    refused = ec;
  });
  ASSERT_TRUE(run_until(base(), [&] { return refused.has_value(); }));
  EXPECT_EQ(*refused, std::errc::connection_refused);
  server.close();
}

TEST_F(LoopTest, OpenUnixConnection) {
  const std::string path = test_support::unix_socket_path("open_unix");
  Server server = start_unix_server(base(), echo, path);
  EXPECT_EQ(server.sockets().at(0).address(), path);
  run(base(), [](event_base* base, std::string path) -> Task<void> {
    Stream s = co_await open_unix_connection(base, path);
    EXPECT_EQ(s.writer.get_extra_info("peername"), path);
    std::vector<std::string> lines{"over a UNIX socket"};
    co_await echo_client(std::move(s), lines);
  }(base(), path));
  std::optional<std::error_code> result;
  open_unix_connection(base(), path, {}, [&](std::error_code ec, Stream s) {
    result = ec;
    s.writer.close();
  });
  ASSERT_TRUE(run_until(base(), [&] { return result.has_value(); }));
  EXPECT_FALSE(*result);
  server.close();
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // removed on close
  run(base(), [](event_base* base, std::string path) -> Task<void> {
    try {
      (void)co_await open_unix_connection(base, path);
      ADD_FAILURE() << "connected to a removed socket";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    }
  }(base(), path));
}

TEST_F(LoopTest, OpenUnixConnectionPathTooLong) {
  run(base(), [](event_base* base) -> Task<void> {
    try {
      (void)co_await open_unix_connection(base, std::string(200, 'x'));
      ADD_FAILURE() << "no error";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::filename_too_long);
    }
  }(base()));
}

TEST_F(LoopTest, DestroyingAPendingOpenConnectionCancelsIt) {
  // Suspended in the lookup of a name (a helper thread and an eventfd).
  Task<Stream> pending = open_connection(base(), "localhost", 9);
  pending.start();
  EXPECT_FALSE(pending.done());
  pending = Task<Stream>();  // cancel: the eventfd is closed at once
  // The lookup itself finishes on its thread; wait for it before the
  // fixture counts descriptors.
  for (int i = 0; i < 5000 && libevent_backend_internal::ResolveOp::helper_threads() > 0; ++i) {
    ::usleep(1000);
  }
  EXPECT_EQ(libevent_backend_internal::ResolveOp::helper_threads(), 0);
}

}  // namespace
}  // namespace sluice::libevent_backend
