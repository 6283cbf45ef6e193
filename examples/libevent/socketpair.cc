// socketpair: the "register an open socket to wait for data using streams"
// example of asyncio's streams docs, on sluice's libevent backend: one end of
// a socketpair is wrapped in a stream (make_stream, asyncio's
// open_connection(sock=...)), the other end writes to it.
//
//   socketpair        prints "Received: abc"

#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>

#include "backends/libevent/streams.h"
#include "examples/libevent/run.h"

namespace sle = sluice::libevent_backend;

sluice::Task<void> wait_for_data(event_base* base) {
  // Create a pair of connected sockets.
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::system_error(errno, std::system_category(), "socketpair");
  }
  int rsock = fds[0], wsock = fds[1];

  // Register the open socket to wait for data.
  auto [reader, writer] = sle::make_stream(base, rsock);

  // Simulate the reception of data from the network (loop.call_soon).
  event_base_once(
      base, -1, EV_TIMEOUT,
      [](evutil_socket_t, short, void* wsock) {
        if (::send(*static_cast<int*>(wsock), "abc", 3, MSG_NOSIGNAL) != 3) {
          std::perror("socketpair: send");
        }
      },
      &wsock, nullptr);

  // Wait for data.
  std::string data = co_await reader.read(100);

  // Got data, we are done: close the socket.
  std::printf("Received: %s\n", data.c_str());
  writer.close();
  co_await writer.wait_closed();

  // Close the second socket.
  ::close(wsock);
}

int main() { return sluice::examples::run_main("socketpair", wait_for_data); }
