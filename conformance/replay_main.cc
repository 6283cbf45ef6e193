// replay: runs conformance vectors (shared/conformance-vectors.md) on one
// implementation of the stream reader and prints the results.
//
//   replay --backend=core|asio|libevent [FILE ...]
//
// With no FILE it reads one vector from standard input and prints its
// results. With FILEs it prints, for each, {"vector":"FILE"} (FILE as given)
// and then that vector's results. Every file is read and parsed before
// anything runs, so unusable input prints no results at all.
//
// --backend=asio and --backend=libevent replay over a real loopback TCP
// connection (loopback_replay.h says how: the same rules for both), one event
// loop (io_context, event_base) for all vectors.
//
// Exit status: 0 when every vector ran (whatever the results); 2 for unusable
// input (unreadable file, not JSON, unknown op, ...: each problem on standard
// error as "replay: FILE: line L (i=L-1), column C: message") or a bad
// command line (unknown option or backend); 1 when standard output cannot be
// written; 3 when a network backend failed on a vector (its connection could
// not be set up or did not settle: "replay: FILE: asio: message", or
// "libevent: message"; that vector's results are printed but not to be
// trusted).

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <event2/event.h>

#include <asio/io_context.hpp>

#include "conformance/asio_replay.h"
#include "conformance/core_replay.h"
#include "conformance/json.h"
#include "conformance/libevent_replay.h"
#include "conformance/loopback_replay.h"
#include "conformance/parse_error.h"
#include "conformance/runner.h"
#include "conformance/vector.h"

namespace sluice::conformance {
namespace {

constexpr std::string_view kUsage = "usage: replay --backend=core|asio|libevent [FILE ...]\n";

constexpr int kExitOk = 0;
constexpr int kExitOutputError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitBackendFailed = 3;

struct Input {
  std::string name;   // as given, or "<stdin>"
  bool from_stdin = false;
  Vector vector;
};

// known_backend: a backend this build can run; else false with a message on
// stderr.
bool known_backend(std::string_view name) {
  if (name == "core" || name == "asio" || name == "libevent") return true;
  std::cerr << "replay: unknown backend \"" << name << "\" (expected core, asio or libevent)\n";
  return false;
}

// EventBase: --backend=libevent's one event_base for every vector, created
// on first use and freed after the last backend on it is gone.
class EventBase {
 public:
  EventBase() = default;
  EventBase(const EventBase&) = delete;
  EventBase& operator=(const EventBase&) = delete;
  ~EventBase() {
    if (base_ != nullptr) event_base_free(base_);
  }
  event_base* get() {
    if (base_ == nullptr) base_ = event_base_new();
    return base_;
  }

 private:
  event_base* base_ = nullptr;
};

// replay_over_loopback: the result lines of `input` on a network backend;
// the backend's failure, if any, goes to stderr and sets `failed`.
std::vector<std::string> replay_over_loopback(const Input& input, LoopbackReplayBackend& backend,
                                              bool& failed) {
  std::vector<std::string> lines = run_vector(input.vector, backend);
  if (backend.error()) {
    std::cerr << "replay: " << input.name << ": " << *backend.error() << "\n";
    failed = true;
  }
  return lines;
}

// Reads and parses one vector; false (with a message on stderr) if unusable.
bool load(Input& input) {
  std::string text;
  if (input.from_stdin) {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (std::cin.bad()) {
      std::cerr << "replay: " << input.name << ": read error\n";
      return false;
    }
  } else {
    std::ifstream file(input.name, std::ios::binary);
    if (!file) {
      std::cerr << "replay: " << input.name << ": cannot open: " << std::strerror(errno) << "\n";
      return false;
    }
    std::ostringstream contents;
    contents << file.rdbuf();
    if (file.bad()) {
      std::cerr << "replay: " << input.name << ": read error\n";
      return false;
    }
    text = std::move(contents).str();
  }
  Parsed<Vector> vector = parse_vector(text);
  if (!vector.ok()) {
    std::cerr << "replay: " << input.name << ": " << vector.error().to_string() << "\n";
    return false;
  }
  input.vector = std::move(*vector);
  return true;
}

int run(int argc, char** argv) {
  std::string backend_name;
  bool have_backend = false;
  std::vector<Input> inputs;
  bool options_done = false;
  for (int k = 1; k < argc; ++k) {
    std::string_view arg = argv[k];
    if (!options_done && arg.starts_with("--")) {
      if (arg == "--") {
        options_done = true;
      } else if (arg == "--help") {
        std::cout << kUsage;
        return kExitOk;
      } else if (arg.starts_with("--backend=")) {
        backend_name = arg.substr(std::string_view("--backend=").size());
        have_backend = true;
      } else if (arg == "--backend" && k + 1 < argc) {
        backend_name = argv[++k];
        have_backend = true;
      } else {
        std::cerr << "replay: unknown option " << arg << "\n" << kUsage;
        return kExitUsage;
      }
      continue;
    }
    inputs.push_back(Input{std::string(arg), false, {}});
  }
  if (!have_backend) {
    std::cerr << "replay: --backend is required\n" << kUsage;
    return kExitUsage;
  }
  // Checked before reading any input, so a bad backend never consumes stdin.
  if (!known_backend(backend_name)) return kExitUsage;

  const bool from_stdin = inputs.empty();
  if (from_stdin) inputs.push_back(Input{"<stdin>", true, {}});
  bool usable = true;
  for (Input& input : inputs) usable = load(input) && usable;
  if (!usable) return kExitUsage;

  asio::io_context io;  // --backend=asio: one for every vector
  EventBase base;       // --backend=libevent: the same
  bool backend_failed = false;
  for (const Input& input : inputs) {
    if (!from_stdin) std::cout << "{\"vector\":" << json_quote(input.name) << "}\n";
    std::vector<std::string> lines;
    if (backend_name == "asio") {
      AsioReplayBackend backend(io);
      lines = replay_over_loopback(input, backend, backend_failed);
    } else if (backend_name == "libevent") {
      if (base.get() == nullptr) {
        std::cerr << "replay: libevent: cannot create an event_base\n";
        return kExitBackendFailed;
      }
      LibeventReplayBackend backend(base.get());
      lines = replay_over_loopback(input, backend, backend_failed);
    } else {
      CoreReplayBackend backend;
      lines = run_vector(input.vector, backend);
    }
    for (const std::string& line : lines) std::cout << line << "\n";
  }
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "replay: error writing standard output\n";
    return kExitOutputError;
  }
  return backend_failed ? kExitBackendFailed : kExitOk;
}

}  // namespace
}  // namespace sluice::conformance

int main(int argc, char** argv) { return sluice::conformance::run(argc, argv); }
