// File: backends/libevent/internal/resolver.h
//
// Name resolution for the libevent backend. Private to the backend.
//
//   ResolveOp     co_await ResolveOp(loop, host, port): the TCP endpoints of
//                 host:port, resolved without blocking the loop. Throws
//                 std::system_error (addrinfo_category() for EAI_* codes).
//   resolve_now   the same, blocking (start_server resolves synchronously,
//                 like the Asio backend; a numeric host never blocks).
//
// Why getaddrinfo() on a helper thread and not evdns_getaddrinfo():
//   - it is the system resolver, the one asyncio itself uses (asyncio runs
//     socket.getaddrinfo in its default thread pool): the same answers from
//     /etc/hosts, nsswitch (mDNS, LDAP, systemd-resolved) and the same
//     address order (RFC 6724 via gai.conf);
//   - evdns needs an evdns_base per event_base, parses resolv.conf itself,
//     keeps UDP sockets open for the base's whole life and only reads
//     /etc/hosts, not nsswitch;
//   - no libevent threading support is needed (evthread_use_pthreads): the
//     thread hands its answer back through an eventfd watched by the loop,
//     and never touches the event_base.
// The cost - one short-lived thread per lookup - is paid only for names:
// numeric hosts ("127.0.0.1", "::1") and "" (the loopback) are resolved inside
// await_ready() with AI_NUMERICHOST, without a thread, an eventfd or a loop
// turn.
//
// Cancellation: destroying a pending ResolveOp (its coroutine was destroyed)
// closes the eventfd at once; the thread finishes its getaddrinfo() in the
// background and drops the answer.
//
// Threading: the op lives on the loop's thread; the helper thread touches
// only the shared request (under its mutex).

#ifndef SLUICE_BACKENDS_LIBEVENT_INTERNAL_RESOLVER_H_
#define SLUICE_BACKENDS_LIBEVENT_INTERNAL_RESOLVER_H_

#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "backends/libevent/endpoint.h"
#include "backends/libevent/internal/loop_context.h"

struct event;

namespace sluice::libevent_backend_internal {

// resolve_now: getaddrinfo(host, port) for SOCK_STREAM, `flags` added to the
// hints (AI_PASSIVE for servers). host "" means nullptr (the loopback, or
// every interface with AI_PASSIVE). Duplicates are removed, order is kept.
std::error_code resolve_now(const std::string& host, std::uint16_t port, int flags,
                            std::vector<libevent_backend::Endpoint>& out);

class ResolveOp {
 public:
  ResolveOp(std::shared_ptr<LoopContext> loop, std::string host, std::uint16_t port);
  ResolveOp(const ResolveOp&) = delete;
  ResolveOp& operator=(const ResolveOp&) = delete;
  ~ResolveOp();

  // Numeric hosts complete here, without suspending.
  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  std::vector<libevent_backend::Endpoint> await_resume();

  struct Request;  // shared with the helper thread (resolver.cc)

  // helper_threads: lookups running on helper threads now, cancelled ones
  // included (tests wait for 0 before counting descriptors).
  static int helper_threads();

 private:
  static void on_ready(int fd, short what, void* self);

  std::shared_ptr<LoopContext> loop_;
  std::string host_;
  std::uint16_t port_;
  std::shared_ptr<Request> request_;
  event* event_ = nullptr;
  std::coroutine_handle<> waiter_;
  std::error_code error_;
  std::vector<libevent_backend::Endpoint> result_;
};

}  // namespace sluice::libevent_backend_internal

#endif  // SLUICE_BACKENDS_LIBEVENT_INTERNAL_RESOLVER_H_
