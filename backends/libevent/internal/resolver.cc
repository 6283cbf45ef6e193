#include "backends/libevent/internal/resolver.h"

#include <event2/event.h>
#include <netdb.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "backends/libevent/addrinfo_error.h"
#include "backends/libevent/internal/socket_ops.h"

namespace sluice::libevent_backend_internal {

using libevent_backend::Endpoint;

namespace {

std::atomic<int> g_helper_threads{0};

std::error_code lookup(const std::string& host, std::uint16_t port, int flags,
                       std::vector<Endpoint>& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = flags | AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  addrinfo* list = nullptr;
  const int eai =
      ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  if (eai != 0) return libevent_backend::make_addrinfo_error(eai);
  out.clear();
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    Endpoint e(ai->ai_addr, ai->ai_addrlen);
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  ::freeaddrinfo(list);
  return {};
}

}  // namespace

std::error_code resolve_now(const std::string& host, std::uint16_t port, int flags,
                            std::vector<Endpoint>& out) {
  return lookup(host, port, flags, out);
}

struct ResolveOp::Request {
  std::mutex mutex;
  // The eventfd the thread signals. Closed by the loop side only (when the
  // answer arrived or the op was cancelled), under `mutex`; -1 after.
  int efd = -1;
  std::error_code error;
  std::vector<Endpoint> result;
};

ResolveOp::ResolveOp(std::shared_ptr<LoopContext> loop, std::string host, std::uint16_t port)
    : loop_(std::move(loop)), host_(std::move(host)), port_(port) {}

ResolveOp::~ResolveOp() {
  if (event_) event_free(event_);
  if (request_) {
    std::lock_guard<std::mutex> lock(request_->mutex);
    if (request_->efd >= 0) ::close(request_->efd);
    request_->efd = -1;
  }
}

bool ResolveOp::await_ready() {
  error_ = lookup(host_, port_, AI_NUMERICHOST, result_);
  // Only "not a numeric address" sends us to the thread.
  return !(error_ == libevent_backend::make_addrinfo_error(EAI_NONAME) && !host_.empty());
}

void ResolveOp::await_suspend(std::coroutine_handle<> h) {
  error_.clear();
  waiter_ = h;
  auto request = std::make_shared<Request>();
  request->efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (request->efd < 0) {
    error_ = errno_error();
    loop_->post(h);
    return;
  }
  event_ = event_new(loop_->base(), request->efd, EV_READ, &ResolveOp::on_ready, this);
  if (event_ == nullptr || event_add(event_, nullptr) != 0) {
    ::close(request->efd);
    request->efd = -1;
    error_ = std::make_error_code(std::errc::not_enough_memory);
    loop_->post(h);
    return;
  }
  request_ = request;
  try {
    ++g_helper_threads;
    std::thread([request, host = host_, port = port_] {
      std::vector<Endpoint> result;
      std::error_code error = lookup(host, port, 0, result);
      std::lock_guard<std::mutex> lock(request->mutex);
      request->error = error;
      request->result = std::move(result);
      if (request->efd >= 0) {
        const std::uint64_t one = 1;
        (void)!::write(request->efd, &one, sizeof(one));
      }
      --g_helper_threads;
    }).detach();
  } catch (const std::system_error& e) {  // no thread: fail the lookup
    --g_helper_threads;
    event_free(std::exchange(event_, nullptr));
    {
      std::lock_guard<std::mutex> lock(request_->mutex);
      ::close(request_->efd);
      request_->efd = -1;
    }
    request_.reset();
    error_ = e.code();
    loop_->post(h);
  }
}

void ResolveOp::on_ready(int, short, void* self) {
  auto* op = static_cast<ResolveOp*>(self);
  {
    std::lock_guard<std::mutex> lock(op->request_->mutex);
    ::close(op->request_->efd);
    op->request_->efd = -1;
    op->error_ = op->request_->error;
    op->result_ = std::move(op->request_->result);
  }
  op->request_.reset();
  event_free(std::exchange(op->event_, nullptr));
  op->loop_->post(op->waiter_);
}

int ResolveOp::helper_threads() { return g_helper_threads.load(); }

std::vector<Endpoint> ResolveOp::await_resume() {
  if (error_) throw std::system_error(error_, "getaddrinfo");
  return std::move(result_);
}

}  // namespace sluice::libevent_backend_internal
