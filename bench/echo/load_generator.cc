// File: bench/echo/load_generator.cc
//
// The echo load generator: one thread, epoll, non-blocking sockets, C
// connections to an echo server on loopback, every echoed byte checked
// (echo_line.h). Prints one JSON line per run.
//
//   load_generator --port P [--host 127.0.0.1] [--connections 64]
//                  [--mode pingpong|pipelined|idle] [--size 64] [--duration 2]
//                  [--window 65536] [--drain 10] [--label NAME]
//
// Modes:
//   pingpong   each connection sends one line, waits for its echo, repeats:
//              requests/s, MB/s (echoed payload) and p50/p99 latency.
//   pipelined  each connection writes lines as fast as the socket takes them
//              (at most --window bytes not yet echoed, so the run ends
//              promptly) and counts the echoed lines: requests/s, MB/s.
//   idle       for memory measurements, driven by the harness on stdin:
//              connects, prints {"phase":"connected"}; then for each line on
//              stdin echoes one line on every connection ("echo-seq": one
//              connection after the other; else all at once) and prints
//              {"phase":"echoed"}; exits at EOF.
//
// A run: connect (at most 64 connections not yet verified at a time, so a
// server's listen backlog of 100 never overflows), one warm-up echo on each
// connection, then --duration seconds measured, then a drain: no new lines,
// every line sent must come back (within --drain seconds). Only replies that complete
// inside the measured window count. "verified": false (exit status 1) when a
// byte was wrong, a connection failed, or a line did not come back.
//
// Only loopback addresses are accepted: this is a load test.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/echo/echo_line.h"

namespace {

using sluice::bench::fill_line;
using sluice::bench::LineChecker;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 64;
  std::string mode = "pingpong";
  std::size_t size = 64;
  double duration = 2;
  std::size_t window = 64 << 10;
  double drain = 10;
  std::string label;
};

enum class Mode { kPingPong, kPipelined, kIdle };

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "load_generator: %s\nusage: load_generator --port P [--host H] [--connections C]"
               " [--mode pingpong|pipelined|idle] [--size BYTES] [--duration SECONDS]"
               " [--window BYTES] [--drain SECONDS] [--label NAME]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg.rfind("--", 0) != 0) usage(("unexpected argument " + arg).c_str());
    const std::size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usage(("missing value for " + arg).c_str());
    }
    if (arg == "--host") o.host = value;
    else if (arg == "--port") o.port = std::atoi(value.c_str());
    else if (arg == "--connections") o.connections = std::atoi(value.c_str());
    else if (arg == "--mode") o.mode = value;
    else if (arg == "--size") o.size = std::strtoul(value.c_str(), nullptr, 10);
    else if (arg == "--duration") o.duration = std::atof(value.c_str());
    else if (arg == "--window") o.window = std::strtoul(value.c_str(), nullptr, 10);
    else if (arg == "--label") o.label = value;
    else if (arg == "--drain") o.drain = std::atof(value.c_str());
    else usage(("unknown flag " + arg).c_str());
  }
  if (o.port <= 0 || o.port > 65535) usage("--port must be in 1..65535");
  if (o.connections < 1) usage("--connections must be >= 1");
  if (o.size < sluice::bench::kMinLineSize) usage("--size must be >= 17");
  if (o.duration <= 0) usage("--duration must be > 0");
  if (o.window < o.size) o.window = o.size;
  return o;
}

// The server's address; loopback only.
struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;
};

Address resolve(const std::string& host, int port) {
  Address a;
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) usage("--host must be a loopback address");
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    a.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) usage("--host must be a loopback address");
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    a.len = sizeof(sockaddr_in6);
  } else {
    usage("--host must be a numeric loopback address (or localhost)");
  }
  return a;
}

struct Conn {
  Conn(std::uint32_t id, std::size_t size) : id(id), check(id, size) {}
  int fd = -1;
  std::uint32_t id;
  bool connected = false;
  bool verified = false;  // connected (idle) or warm-up echo back
  LineChecker check;
  std::uint64_t lines_queued = 0;  // lines generated into `out` so far
  std::string out;                 // bytes to send
  std::size_t out_off = 0;
  std::int64_t sent_at = 0;  // ping-pong: when the outstanding line was sent
  std::uint32_t interest = 0;
};

class Generator {
 public:
  Generator(const Options& o, Mode mode) : o_(o), mode_(mode), addr_(resolve(o.host, o.port)) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    conns_.reserve(o.connections);
    for (int i = 0; i < o.connections; ++i) conns_.emplace_back(static_cast<std::uint32_t>(i), o.size);
    buf_.resize(64 << 10);
  }

  ~Generator() {
    for (Conn& c : conns_)
      if (c.fd >= 0) close(c.fd);
    close(ep_);
  }

  // run: the whole run (see the file comment); returns the exit status.
  int run() {
    const std::int64_t setup_deadline = now_ns() + 60'000'000'000LL;
    if (!connect_all(setup_deadline)) return report();
    if (mode_ == Mode::kIdle) return run_idle();
    t_start_ = now_ns();
    t_end_ = t_start_ + static_cast<std::int64_t>(o_.duration * 1e9);
    running_ = true;
    for (Conn& c : conns_) {
      if (mode_ == Mode::kPingPong) send_line(c, now_ns());
      else pump(c);
    }
    while (error_.empty() && now_ns() < t_end_) poll(t_end_);
    running_ = false;
    const std::int64_t drain_deadline = now_ns() + static_cast<std::int64_t>(o_.drain * 1e9);
    while (error_.empty() && !drained()) {
      if (now_ns() >= drain_deadline) {
        error_ = "not every line came back within --drain seconds of the end";
        break;
      }
      poll(drain_deadline);
    }
    return report();
  }

 private:
  // connect_all: every connection connected and verified (warm-up echo,
  // except in idle mode), at most 64 unverified at a time.
  bool connect_all(std::int64_t deadline) {
    std::size_t started = 0;
    while (error_.empty() && verified_ < conns_.size()) {
      while (started < conns_.size() && started - verified_ < 64) {
        if (!start_connect(conns_[started++])) return false;
      }
      if (now_ns() >= deadline) error_ = "connections not established within 60 s";
      else poll(deadline);
    }
    return error_.empty();
  }

  bool start_connect(Conn& c) {
    c.fd = socket(addr_.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (c.fd < 0) return fail("socket", errno);
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_.storage), addr_.len) != 0 &&
        errno != EINPROGRESS) {
      return fail("connect", errno);
    }
    epoll_event ev{};
    ev.events = c.interest = EPOLLOUT;
    ev.data.ptr = &c;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) return fail("epoll_ctl", errno);
    return true;
  }

  void set_interest(Conn& c, std::uint32_t events) {
    if (c.interest == events) return;
    epoll_event ev{};
    ev.events = c.interest = events;
    ev.data.ptr = &c;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  bool fail(const char* what, int err) {
    if (error_.empty()) error_ = std::string(what) + ": " + std::strerror(err);
    return false;
  }

  // poll: one epoll_wait (until `deadline` at most) and its events.
  void poll(std::int64_t deadline) {
    epoll_event events[256];
    const std::int64_t wait_ns = std::max<std::int64_t>(0, deadline - now_ns());
    const int timeout_ms = static_cast<int>(std::min<std::int64_t>((wait_ns + 999'999) / 1'000'000, 1000));
    const int n = epoll_wait(ep_, events, 256, timeout_ms);
    if (n < 0 && errno != EINTR) fail("epoll_wait", errno);
    for (int i = 0; i < n && error_.empty(); ++i) {
      Conn& c = *static_cast<Conn*>(events[i].data.ptr);
      if (!c.connected) {
        on_connected(c);
        continue;
      }
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
      if (error_.empty() && (events[i].events & EPOLLOUT)) flush(c);
    }
  }

  void on_connected(Conn& c) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail("connect", err);
      return;
    }
    c.connected = true;
    if (mode_ == Mode::kIdle) {
      c.verified = true;
      ++verified_;
      set_interest(c, EPOLLIN);
    } else {
      send_line(c, now_ns());  // the warm-up echo
    }
  }

  // send_line: queues the connection's next line and sends it.
  void send_line(Conn& c, std::int64_t now) {
    c.out.resize(o_.size);
    c.out_off = 0;
    fill_line(c.out.data(), o_.size, c.id, c.lines_queued++);
    c.sent_at = now;
    flush(c);
  }

  // pump (pipelined): keeps the socket full, within the window.
  void pump(Conn& c) {
    for (;;) {
      if (c.out_off == c.out.size()) {
        if (!running_) break;
        const std::uint64_t in_flight = (c.lines_queued - c.check.lines()) * o_.size;
        if (in_flight + o_.size > o_.window) break;
        const std::size_t room = std::min<std::size_t>(64 << 10, o_.window - in_flight);
        const std::size_t lines = std::max<std::size_t>(1, room / o_.size);
        c.out.resize(lines * o_.size);
        c.out_off = 0;
        for (std::size_t i = 0; i < lines; ++i) {
          fill_line(c.out.data() + i * o_.size, o_.size, c.id, c.lines_queued++);
        }
      }
      if (!write_out(c)) return;
    }
    set_interest(c, EPOLLIN);
  }

  // write_out: sends what `out` holds; false when the socket is full (write
  // interest set) or failed.
  bool write_out(Conn& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          set_interest(c, EPOLLIN | EPOLLOUT);
          return false;
        }
        if (errno == EINTR) continue;
        return fail("send", errno);
      }
      c.out_off += static_cast<std::size_t>(n);
    }
    return true;
  }

  void flush(Conn& c) {
    if (mode_ == Mode::kPipelined && running_) {
      pump(c);
    } else if (write_out(c)) {
      set_interest(c, EPOLLIN);
    }
  }

  void on_readable(Conn& c) {
    const std::uint64_t before = c.check.lines();
    for (int reads = 0; reads < 4; ++reads) {
      const ssize_t n = recv(c.fd, buf_.data(), buf_.size(), 0);
      if (n == 0) {
        error_ = "the server closed a connection";
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        fail("recv", errno);
        return;
      }
      if (!c.check.consume(buf_.data(), static_cast<std::size_t>(n))) {
        error_ = "wrong bytes echoed on connection " + std::to_string(c.id);
        return;
      }
      if (static_cast<std::size_t>(n) < buf_.size()) break;
    }
    const std::uint64_t done = c.check.lines() - before;
    if (done == 0) return;
    if (c.check.lines() > c.lines_queued) {
      error_ = "more lines echoed than sent on connection " + std::to_string(c.id);
      return;
    }
    const std::int64_t now = now_ns();
    if (!c.verified) {  // the warm-up (or, in idle mode, the one) echo
      c.verified = true;
      ++verified_;
      return;
    }
    if (running_ && now <= t_end_) {
      requests_ += done;
      if (mode_ == Mode::kPingPong) latencies_.push_back(now - c.sent_at);
    }
    if (mode_ == Mode::kPingPong) {
      if (running_ && now < t_end_) send_line(c, now);
    } else if (running_) {
      pump(c);
    }
  }

  bool drained() const {
    for (const Conn& c : conns_) {
      if (c.out_off < c.out.size() || c.check.lines() < c.lines_queued) return false;
    }
    return true;
  }

  // run_idle: the memory measurement's side (see the file comment). Each
  // stdin line asks for one echo on every connection: "echo-seq" one
  // connection after the other (at most one line in flight: what stays
  // allocated per connection), anything else on all at once (also what the
  // burst leaves behind). EOF ends it.
  int run_idle() {
    std::printf("{\"phase\":\"connected\",\"connections\":%zu}\n", conns_.size());
    std::fflush(stdout);
    char line[64];
    while (std::fgets(line, sizeof line, stdin) != nullptr) {
      const bool one_by_one = std::strncmp(line, "echo-seq", 8) == 0;
      verified_ = 0;
      const std::int64_t deadline = now_ns() + 30'000'000'000LL;
      for (std::size_t i = 0; i < conns_.size() && error_.empty(); ++i) {
        conns_[i].verified = false;
        send_line(conns_[i], now_ns());
        while (one_by_one && error_.empty() && verified_ <= i) {
          if (now_ns() >= deadline) error_ = "echoes not back within 30 s";
          else poll(deadline);
        }
      }
      while (error_.empty() && verified_ < conns_.size()) {
        if (now_ns() >= deadline) error_ = "echoes not back within 30 s";
        else poll(deadline);
      }
      if (!error_.empty()) return report();
      std::printf("{\"phase\":\"echoed\",\"connections\":%zu}\n", conns_.size());
      std::fflush(stdout);
    }
    return 0;
  }

  static std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
      if (ch == '"' || ch == '\\') out += '\\';
      if (static_cast<unsigned char>(ch) >= 0x20) out += ch;
    }
    return out + "\"";
  }

  int report() {
    const double seconds = t_end_ > t_start_ ? (t_end_ - t_start_) / 1e9 : 0;
    const double rps = seconds > 0 ? requests_ / seconds : 0;
    double p50 = 0, p99 = 0;
    if (!latencies_.empty()) {
      auto at = [&](double q) {
        const std::size_t k = std::min(latencies_.size() - 1, static_cast<std::size_t>(q * latencies_.size()));
        std::nth_element(latencies_.begin(), latencies_.begin() + k, latencies_.end());
        return latencies_[k] / 1e3;
      };
      p50 = at(0.50);
      p99 = at(0.99);
    }
    std::uint64_t verified_lines = 0;
    for (const Conn& c : conns_) verified_lines += c.check.lines();
    const bool ok = error_.empty();
    std::printf(
        "{\"label\":%s,\"mode\":\"%s\",\"connections\":%d,\"size\":%zu,\"duration_s\":%.3f,"
        "\"requests\":%llu,\"rps\":%.1f,\"mbps\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
        "\"lines_verified\":%llu,\"verified\":%s,\"error\":%s}\n",
        json_string(o_.label).c_str(), o_.mode.c_str(), o_.connections, o_.size, seconds,
        static_cast<unsigned long long>(requests_), rps, rps * o_.size / 1e6, p50, p99,
        static_cast<unsigned long long>(verified_lines), ok ? "true" : "false",
        json_string(error_).c_str());
    std::fflush(stdout);
    return ok ? 0 : 1;
  }

  const Options o_;
  const Mode mode_;
  const Address addr_;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::vector<char> buf_;
  std::size_t verified_ = 0;
  bool running_ = false;
  std::int64_t t_start_ = 0, t_end_ = 0;
  std::uint64_t requests_ = 0;
  std::vector<std::int64_t> latencies_;
  std::string error_;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Mode mode;
  if (o.mode == "pingpong") mode = Mode::kPingPong;
  else if (o.mode == "pipelined") mode = Mode::kPipelined;
  else if (o.mode == "idle") mode = Mode::kIdle;
  else usage("--mode must be pingpong, pipelined or idle");
  // Thousands of connections: raise the descriptor limit to the hard limit.
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  std::signal(SIGPIPE, SIG_IGN);
  Generator g(o, mode);
  return g.run();
}
