// File: bench/echo/batching_echo.h
//
// The ceiling's echo logic, shared by the two servers that differ only in
// their loop: epoll_echo_server.cc (raw epoll) and
// libevent_event_echo_server.cc (libevent's raw events), so that comparing
// them measures the loop and nothing else.
//
// Every readable event is one recv() of up to 64 KiB, and every complete line
// in it is echoed with one send() (partial lines wait for the rest), so many
// pipelined lines cost one read and one write. When a send would block, the
// rest is kept and the connection watches writability instead of
// readability until it is sent (backpressure). An idle connection holds no
// buffer.
//
// The loop calls echo_readable / echo_writable when the descriptor is ready
// and drops the connection when they return false; `watch(Interest)` switches
// what the loop waits for.
//
// Threading: one thread (the receive buffer is shared).

#ifndef SLUICE_BENCH_ECHO_BATCHING_ECHO_H_
#define SLUICE_BENCH_ECHO_BATCHING_ECHO_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>

namespace sluice::bench {

enum class Interest { kRead, kWrite };

struct EchoBuffers {
  std::string in;   // a partial line
  std::string out;  // echoed bytes the socket did not take yet
};

inline char echo_receive_buffer[64 << 10];

// echo_send: sends `data`; what does not fit goes to b.out and the
// connection watches writability. False when the connection failed.
template <typename Watch>
bool echo_send(int fd, EchoBuffers& b, const char* data, std::size_t n, Watch&& watch) {
  while (n > 0) {
    const ssize_t k = send(fd, data, n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      b.out.assign(data, n);
      watch(Interest::kWrite);
      return true;
    }
    data += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

// echo_readable: one recv, then every complete line echoed with one send.
// False: EOF or an error (drop the connection).
template <typename Watch>
bool echo_readable(int fd, EchoBuffers& b, Watch&& watch) {
  const ssize_t n = recv(fd, echo_receive_buffer, sizeof echo_receive_buffer, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) {
    return false;
  }
  if (n < 0) return true;
  const char* data = echo_receive_buffer;
  std::size_t len = static_cast<std::size_t>(n);
  if (!b.in.empty()) {
    b.in.append(echo_receive_buffer, len);
    data = b.in.data();
    len = b.in.size();
  }
  // Every complete line, found one by one as a line server would.
  std::size_t end = 0;
  while (const void* nl = std::memchr(data + end, '\n', len - end)) {
    end = static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1;
  }
  std::string rest(data + end, len - end);
  if (end > 0 && !echo_send(fd, b, data, end, watch)) return false;
  b.in = std::move(rest);
  return true;
}

// echo_writable: send what was kept; once all is sent, read again. False on
// an error.
template <typename Watch>
bool echo_writable(int fd, EchoBuffers& b, Watch&& watch) {
  const ssize_t k = send(fd, b.out.data(), b.out.size(), MSG_NOSIGNAL);
  if (k < 0) return errno == EAGAIN || errno == EINTR || errno == EWOULDBLOCK;
  b.out.erase(0, static_cast<std::size_t>(k));
  if (b.out.empty()) {
    std::string().swap(b.out);
    watch(Interest::kRead);
  }
  return true;
}

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_ECHO_BATCHING_ECHO_H_
