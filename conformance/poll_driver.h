// File: conformance/poll_driver.h
//
// PollLoop: a third event loop for sluice, over poll(2) and plain
// non-blocking sockets, written against core/connection.h and
// core/coro/executor.h alone. It exists to prove that the seam is enough: the
// conformance scenarios run on it exactly as on the Asio and libevent
// backends. It is deliberately small (one file, no timers, no name
// resolution) and only used by tests.
//
// Example:
//   PollLoop loop;
//   std::shared_ptr<AsyncConnection> conn = loop.adopt(fd);  // connected socket
//   Task<void> t = talk(*conn);                         // co_await conn->reader()...
//   t.start();
//   loop.run_until([&] { return t.done(); });
//
// Ownership: the loop owns every adopted socket and every listener, and
// shares each AsyncConnection with its users: it keeps one alive while its
// socket is open. A socket is closed when the core asks for a close or an
// abort, or when the connection is lost; from then on the AsyncConnection
// lives as long as a user holds it (coroutines that use it must hold it), so
// a long-running loop keeps nothing of the connections it has finished.
//
// Threading: one thread.

#ifndef SLUICE_CONFORMANCE_POLL_DRIVER_H_
#define SLUICE_CONFORMANCE_POLL_DRIVER_H_

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "core/connection.h"
#include "core/coro/async_connection.h"
#include "core/coro/executor.h"

namespace sluice::conformance {

class PollLoop final : public Executor {
 public:
  PollLoop() = default;
  PollLoop(const PollLoop&) = delete;
  PollLoop& operator=(const PollLoop&) = delete;
  ~PollLoop() override;

  // adopt: drive the connected socket `fd` (the loop owns it from now on).
  std::shared_ptr<AsyncConnection> adopt(int fd, ConnectionOptions options = {});

  // listen: call on_accept(fd) for every connection accepted on the
  // listening socket `fd` (owned by the loop) until stop_listening(fd).
  void listen(int fd, std::function<void(int)> on_accept);
  void stop_listening(int fd);

  // run_once: run posted coroutines, let every connection act, then wait up
  // to `timeout` for socket readiness (not at all if a coroutine ran: its
  // caller may be done) and handle it.
  void run_once(std::chrono::milliseconds timeout);
  // run_until: run_once until `done()` or the deadline; returns done().
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds deadline = std::chrono::seconds(20));

  // Executor.
  void post(std::coroutine_handle<> h) override { ready_.push_back(h); }
  void wake(Connection&) override {}  // every turn re-asks every connection

  std::size_t open_connections() const;

 private:
  struct Socket {
    int fd = -1;  // -1 once closed: the socket is then dropped
    std::shared_ptr<AsyncConnection> conn;
    bool want_write = false;  // a send would block: wait for POLLOUT
  };
  struct Listener {
    int fd;
    std::function<void(int)> on_accept;
  };

  void act(Socket& s);      // do what write_action() asks
  void receive(Socket& s);  // POLLIN
  void lose(Socket& s, std::error_code error);

  std::deque<std::coroutine_handle<>> ready_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::vector<Listener> listeners_;
};

}  // namespace sluice::conformance

#endif  // SLUICE_CONFORMANCE_POLL_DRIVER_H_
