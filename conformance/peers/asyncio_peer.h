// File: conformance/peers/asyncio_peer.h
//
// The C++ side of the interop tests against the real asyncio (CPython's,
// python3 from PATH), shared by every backend's asyncio_interop_test:
// AsyncioPeer starts conformance/peers/asyncio_peer.py (the Python side: an
// asyncio streams server or client) with its stdin and stdout piped to the
// test, and the data both sides agree on: the lines of the "lines" exchange,
// the large payload, and the "summarize" answer (length and CRC-32).
//
// Example (a sluice client against an asyncio echo server):
//   AsyncioPeer server({"server", "echo"});
//   std::optional<std::string> line = server.read_line(std::chrono::seconds(20));
//   // *line == "port 40123": connect, exchange, then
//   server.close_stdin();                  // the server stops...
//   while (!server.exited()) run_the_loop_a_little();
//   EXPECT_EQ(server.exit_code(), 0);      // ...and says whether all went right
//
// Needs the script as Bazel data (this library's `data` brings it); a test
// finds it in its runfiles. Every wait here is bounded; a peer still running
// when its AsyncioPeer is destroyed is killed. POSIX only.

#ifndef SLUICE_CONFORMANCE_PEERS_ASYNCIO_PEER_H_
#define SLUICE_CONFORMANCE_PEERS_ASYNCIO_PEER_H_

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

extern char** environ;

namespace sluice::conformance::peers {

// interop_lines: the lines of the "lines" exchange (asyncio_peer.py's LINES).
inline const std::vector<std::string>& interop_lines() {
  static const std::vector<std::string> v = {"hello\n", "second line\n", "\n",
                                             std::string("bytes \x00\xff\r\n", 10),
                                             std::string(60000, 'x') + "\n"};
  return v;
}

// Crc32: zlib's CRC-32 of a byte stream, fed in pieces.
class Crc32 {
 public:
  void update(std::string_view data) {
    static const std::array<std::uint32_t, 256> table = [] {
      std::array<std::uint32_t, 256> t{};
      for (std::uint32_t n = 0; n < 256; ++n) {
        std::uint32_t c = n;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[n] = c;
      }
      return t;
    }();
    for (unsigned char b : data) crc_ = table[(crc_ ^ b) & 0xFF] ^ (crc_ >> 8);
  }
  std::uint32_t value() const { return crc_ ^ 0xFFFFFFFFu; }
  // hex: the value as 8 lower-case hex digits (Python's f"{crc:08x}").
  std::string hex() const {
    char out[9];
    std::snprintf(out, sizeof out, "%08x", value());
    return out;
  }

 private:
  std::uint32_t crc_ = 0xFFFFFFFFu;
};

inline std::string crc32_hex(std::string_view data) {
  Crc32 crc;
  crc.update(data);
  return crc.hex();
}

// summary: the "summarize" answer for `data`: "LENGTH CRC32\n".
inline std::string summary(std::string_view data) {
  return std::to_string(data.size()) + " " + crc32_hex(data) + "\n";
}

// large_payload: 8 MiB of lines of 0..16 KiB (deterministic bytes, every
// value but "\n" inside them).
inline std::string large_payload() {
  std::string out;
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&x] {  // xorshift64
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  while (out.size() < 8 * 1024 * 1024) {
    const std::size_t n = next() % (16 * 1024 + 1);
    for (std::size_t k = 0; k < n; ++k) {
      const char c = static_cast<char>(next() >> 56);
      out += c == '\n' ? '\r' : c;
    }
    out += '\n';
  }
  return out;
}

// AsyncioPeer: python3 asyncio_peer.py ARGS..., its stdin and stdout piped
// to us (stderr goes to the test log). Killed when destroyed if still
// running.
class AsyncioPeer {
 public:
  explicit AsyncioPeer(const std::vector<std::string>& args) {
    const char* srcdir = std::getenv("TEST_SRCDIR");
    const char* workspace = std::getenv("TEST_WORKSPACE");
    const std::string script = std::string(srcdir ? srcdir : ".") + "/" +
                               (workspace ? workspace : "sluice") +
                               "/conformance/peers/asyncio_peer.py";
    std::vector<std::string> argv = {"python3", script};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return;
    if (::pipe2(out, O_CLOEXEC) != 0) {
      ::close(in[0]);
      ::close(in[1]);
      return;
    }
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

  AsyncioPeer(const AsyncioPeer&) = delete;
  AsyncioPeer& operator=(const AsyncioPeer&) = delete;

  ~AsyncioPeer() {
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

  // close_stdin: a server peer stops serving when its stdin closes.
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

  // exited: it has ended (reaps it once).
  bool exited() {
    if (status_) return true;
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return status_.has_value();
  }

  // exit_code: its exit status, or -1 if it did not exit normally (killed,
  // still running, never started).
  int exit_code() const { return status_ && WIFEXITED(*status_) ? WEXITSTATUS(*status_) : -1; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::optional<int> status_;
};

}  // namespace sluice::conformance::peers

#endif  // SLUICE_CONFORMANCE_PEERS_ASYNCIO_PEER_H_
