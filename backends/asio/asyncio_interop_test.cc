// Interop with the real asyncio (CPython's, python3 from PATH): a Python
// asyncio streams client against a sluice server, and a sluice client against
// a Python asyncio streams server (testdata/asyncio_peer.py is the Python
// side): echoed lines, a large payload (8 MiB, hash-checked) and half-closes
// (write_eof; the other side reads to EOF and still answers). Every wait is
// bounded; the Python process is killed if it outlives its test.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "backends/asio/streams.h"
#include "backends/asio/test_support.h"
#include "gtest/gtest.h"

extern char** environ;

namespace sluice::asio_backend {
namespace {

using namespace test_support;  // NOLINT
using asio::use_awaitable;

constexpr auto kChildTimeout = std::chrono::milliseconds(40000);

// The lines of the "lines" exchange (asyncio_peer.py's LINES).
const std::vector<std::string>& lines() {
  static const std::vector<std::string> v = {"hello\n", "second line\n", "\n",
                                             std::string("bytes \x00\xff\r\n", 10),
                                             std::string(60000, 'x') + "\n"};
  return v;
}

// crc32: zlib's CRC-32, as 8 lower-case hex digits.
std::string crc32_hex(std::string_view data) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", crc ^ 0xFFFFFFFFu);
  return hex;
}

// summary: the "summarize" answer for `data`: "LENGTH CRC32\n".
std::string summary(std::string_view data) {
  return std::to_string(data.size()) + " " + crc32_hex(data) + "\n";
}

// large_payload: 8 MiB of lines of 0..16 KiB (no "\n" inside them).
std::string large_payload() {
  std::string out;
  for (std::uint64_t k = 0; out.size() < 8 * 1024 * 1024; ++k) {
    std::string line = pattern_chunk(k, (k * 7919) % (16 * 1024));
    for (char& c : line) {
      if (c == '\n') c = '\r';
    }
    out += line + "\n";
  }
  return out;
}

// PythonPeer: python3 testdata/asyncio_peer.py ARGS..., its stdin and stdout
// piped to us (stderr goes to the test log). Killed when destroyed if still
// running.
class PythonPeer {
 public:
  explicit PythonPeer(const std::vector<std::string>& args) {
    const char* srcdir = std::getenv("TEST_SRCDIR");
    const char* workspace = std::getenv("TEST_WORKSPACE");
    const std::string script = std::string(srcdir ? srcdir : ".") + "/" +
                               (workspace ? workspace : "sluice") +
                               "/backends/asio/testdata/asyncio_peer.py";
    std::vector<std::string> argv = {"python3", script};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    if (::posix_spawnp(&pid_, "python3", &actions, nullptr, cargv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }

  ~PythonPeer() {
    close_stdin();
    if (stdout_ >= 0) ::close(stdout_);
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  bool started() const { return pid_ > 0; }

  // read_line: the next line of its stdout (without "\n"), nullopt at EOF
  // or after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string line;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char c;
      if (::read(stdout_, &c, 1) != 1) return std::nullopt;
      if (c == '\n') return line;
      line += c;
    }
  }

  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

  // exited: it has ended (reaps it once).
  bool exited() {
    if (status_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return status_.has_value();
  }

  // exit_code: its exit status, or -1 if it did not exit normally (killed,
  // still running).
  int exit_code() const { return status_ && WIFEXITED(*status_) ? WEXITSTATUS(*status_) : -1; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::optional<int> status_;
};

// run_polling: runs `io` until `done()` (something outside `io`, checked
// every few milliseconds) or `timeout`; false on timeout.
template <typename Done>
bool run_polling(asio::io_context& io, Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
    if (io.stopped()) ::usleep(5000);  // `io` has nothing to do: wait a moment
  }
  return true;
}

// ---- A Python asyncio client against a sluice server. --------------------------

asio::awaitable<void> echo_lines(StreamReader reader, StreamWriter writer) {
  for (;;) {
    std::string line = co_await reader.async_readline(use_awaitable);
    if (line.empty()) break;
    writer.write(std::move(line));
    co_await writer.async_drain(use_awaitable);
  }
  writer.close();
  co_await writer.async_wait_closed(use_awaitable);
}

asio::awaitable<void> summarize(StreamReader reader, StreamWriter writer) {
  const std::string all = co_await reader.async_read(-1, use_awaitable);
  writer.write(summary(all));
  co_await writer.async_drain(use_awaitable);
  writer.close();
  co_await writer.async_wait_closed(use_awaitable);
}

// Runs `asyncio_peer.py client MODE 127.0.0.1 PORT` against a sluice server
// serving `handler`; expects it to exit 0.
void run_asyncio_client(const std::string& mode, ClientConnectedCallback handler) {
  asio::io_context io;
  Server server = start_server(io.get_executor(), std::move(handler), "127.0.0.1", 0);
  const auto port = std::get<asio::ip::tcp::endpoint>(server.sockets().front()).port();
  PythonPeer client({"client", mode, "127.0.0.1", std::to_string(port)});
  ASSERT_TRUE(client.started()) << "cannot start python3";
  EXPECT_TRUE(run_polling(
      io, [&] { return client.exited(); }, kChildTimeout))
      << "the asyncio client did not finish";
  EXPECT_EQ(client.exit_code(), 0) << "the asyncio client failed (its reason is in the log)";
  server.close();
  EXPECT_TRUE(run_until(io, [&] { return server.active_connections() == 0; }));
}

TEST(AsyncioInteropTest, AsyncioClientGetsItsLinesEchoedBySluiceServer) {
  run_asyncio_client("lines", echo_lines);
}

TEST(AsyncioInteropTest, AsyncioClientGetsALargePayloadEchoedBySluiceServer) {
  run_asyncio_client("large", echo_lines);
}

TEST(AsyncioInteropTest, SluiceServerReadsToEofAfterAsyncioClientsWriteEofAndStillAnswers) {
  run_asyncio_client("half_close", summarize);
}

// ---- A sluice client against a Python asyncio server. ---------------------------

// Starts `asyncio_peer.py server MODE`, runs `client(port)` to its end, then
// stops the server and expects it to exit 0 (no connection went wrong).
template <typename Client>
void run_against_asyncio_server(const std::string& mode, Client client) {
  PythonPeer server({"server", mode});
  ASSERT_TRUE(server.started()) << "cannot start python3";
  std::optional<std::string> line = server.read_line(std::chrono::seconds(20));
  ASSERT_TRUE(line && line->starts_with("port ")) << "the asyncio server did not start";
  const auto port = static_cast<std::uint16_t>(std::stoi(line->substr(5)));
  asio::io_context io;
  run(io, client(port), kChildTimeout);
  server.close_stdin();
  EXPECT_TRUE(run_polling(
      io, [&] { return server.exited(); }, std::chrono::seconds(20)));
  EXPECT_EQ(server.exit_code(), 0) << "the asyncio server failed (its reason is in the log)";
}

asio::awaitable<Stream> connect(std::uint16_t port) {
  co_return co_await async_open_connection(co_await asio::this_coro::executor, "127.0.0.1", port,
                                           use_awaitable);
}

TEST(AsyncioInteropTest, SluiceClientGetsItsLinesEchoedByAsyncioServer) {
  run_against_asyncio_server("echo", [](std::uint16_t port) -> asio::awaitable<void> {
    auto [reader, writer] = co_await connect(port);
    for (const std::string& line : lines()) {
      writer.write(line);
      co_await writer.async_drain(use_awaitable);
      const std::string echoed = co_await reader.async_readline(use_awaitable);
      EXPECT_EQ(echoed, line);
    }
    writer.write_eof();
    const std::string rest = co_await reader.async_read(-1, use_awaitable);
    EXPECT_EQ(rest, "");
    writer.close();
    co_await writer.async_wait_closed(use_awaitable);
  });
}

TEST(AsyncioInteropTest, SluiceClientGetsALargePayloadEchoedByAsyncioServer) {
  run_against_asyncio_server("echo", [](std::uint16_t port) -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;  // NOLINT
    auto [reader, writer] = co_await connect(port);
    const std::string payload = large_payload();
    StreamHash sent, received;
    sent.update(payload);
    std::size_t received_size = 0;
    auto send = [&]() -> asio::awaitable<void> {
      for (std::size_t k = 0; k < payload.size(); k += 100000) {
        writer.write(std::string_view(payload).substr(k, 100000));
        co_await writer.async_drain(use_awaitable);
      }
      writer.write_eof();
    };
    auto receive = [&]() -> asio::awaitable<void> {
      for (;;) {
        const std::string chunk = co_await reader.async_read(1 << 16, use_awaitable);
        if (chunk.empty()) break;
        received.update(chunk);
        received_size += chunk.size();
      }
    };
    co_await (send() && receive());
    EXPECT_EQ(received_size, payload.size());
    EXPECT_EQ(received.value(), sent.value());
    writer.close();
    co_await writer.async_wait_closed(use_awaitable);
  });
}

TEST(AsyncioInteropTest, AsyncioServerReadsToEofAfterSluiceClientsWriteEofAndStillAnswers) {
  run_against_asyncio_server("summarize", [](std::uint16_t port) -> asio::awaitable<void> {
    auto [reader, writer] = co_await connect(port);
    std::string payload = large_payload();
    const std::string want = summary(payload);
    writer.write(std::move(payload));
    co_await writer.async_drain(use_awaitable);
    writer.write_eof();
    const std::string answer = co_await reader.async_read(-1, use_awaitable);
    EXPECT_EQ(answer, want);
    writer.close();
    co_await writer.async_wait_closed(use_awaitable);
  });
}

}  // namespace
}  // namespace sluice::asio_backend
