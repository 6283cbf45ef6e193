#include "core/testing/memory_pipe.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>

namespace sluice::testing {

namespace {
const std::error_code kReset = std::make_error_code(std::errc::connection_reset);
}  // namespace

void CompletionLog::add(Completions c) {
  if (c.read) reads.push_back(std::move(*c.read));
  if (c.drain) drains.push_back(std::move(*c.drain));
  if (c.closed) closeds.push_back(std::move(*c.closed));
  if (c.handshake) handshakes.push_back(std::move(*c.handshake));
}

std::optional<ReadResult> CompletionLog::take_read() {
  if (reads.empty()) return std::nullopt;
  ReadResult r = std::move(reads.front());
  reads.pop_front();
  return r;
}

std::optional<Status> CompletionLog::take_drain() {
  if (drains.empty()) return std::nullopt;
  Status s = std::move(drains.front());
  drains.pop_front();
  return s;
}

std::optional<Status> CompletionLog::take_closed() {
  if (closeds.empty()) return std::nullopt;
  Status s = std::move(closeds.front());
  closeds.pop_front();
  return s;
}

std::optional<Status> CompletionLog::take_handshake() {
  if (handshakes.empty()) return std::nullopt;
  Status s = std::move(handshakes.front());
  handshakes.pop_front();
  return s;
}

MemoryPipe::MemoryPipe(Connection& a, Connection& b, MemoryPipeOptions options)
    : options_(options) {
  ends_[kA].conn = &a;
  ends_[kB].conn = &b;
}

void MemoryPipe::set_sink(int side, Sink sink) { ends_[side].sink = std::move(sink); }

void MemoryPipe::deliver(End& e, Completions c) {
  if (c.empty()) return;
  if (e.sink) {
    e.sink(std::move(c));
  } else {
    e.log.add(std::move(c));
  }
}

void MemoryPipe::lose(End& e, std::error_code error) {
  e.lost = true;
  e.socket_closed = true;
  e.inbound.clear();
  e.head = 0;
  deliver(e, e.conn->connection_lost(error));
}

bool MemoryPipe::pump() {
  bool a = pump_end(ends_[kA], ends_[kB]);
  bool b = pump_end(ends_[kB], ends_[kA]);
  return a || b;
}

std::size_t MemoryPipe::run(std::size_t max_rounds) {
  std::size_t rounds = 0;
  while (rounds < max_rounds && pump()) ++rounds;
  return rounds;
}

void MemoryPipe::reset() {
  for (End& e : ends_) {
    if (!e.lost) lose(e, kReset);
  }
}

void MemoryPipe::inject(int to_side, std::string_view bytes) {
  End& e = ends_[to_side];
  if (e.lost || e.fin_inbound) return;
  e.inbound.append(bytes);
}

void MemoryPipe::inject_fin(int to_side) { ends_[to_side].fin_inbound = true; }

void MemoryPipe::set_tap(int from_side, std::function<void(std::string_view)> tap) {
  ends_[from_side].tap = std::move(tap);
}

bool MemoryPipe::pump_end(End& e, End& peer) {
  if (e.lost) return false;
  Connection& conn = *e.conn;
  if (e.reset_inbound) {
    lose(e, kReset);
    return true;
  }
  bool progress = false;

  // Write side: as much as the pipe takes.
  std::vector<std::string_view> views(options_.max_views);
  for (bool blocked = false; !blocked;) {
    switch (conn.write_action()) {
      case WriteAction::kSend: {
        if (peer.socket_closed) {  // the peer's stack answers with RST
          lose(e, kReset);
          return true;
        }
        const std::size_t room = options_.capacity - (peer.inbound.size() - peer.head);
        if (room == 0) {
          blocked = true;
          break;
        }
        const std::size_t k = conn.next_send(views);
        std::size_t sent = 0;
        for (std::size_t i = 0; i < k && sent < room; ++i) {
          const std::size_t n = std::min(views[i].size(), room - sent);
          peer.inbound.append(views[i].data(), n);
          if (e.tap) e.tap(views[i].substr(0, n));
          sent += n;
        }
        ++e.sends;
        max_in_flight_ = std::max(max_in_flight_, peer.inbound.size() - peer.head);
        deliver(e, conn.bytes_sent(sent));
        progress = true;
        break;
      }
      case WriteAction::kShutdownWrite:
        peer.fin_inbound = true;
        conn.write_eof_sent();
        progress = true;
        break;
      case WriteAction::kClose:
        peer.fin_inbound = true;
        lose(e, {});
        return true;
      case WriteAction::kAbort:
        peer.inbound.clear();
        peer.head = 0;
        peer.reset_inbound = true;
        lose(e, {});
        return true;
      case WriteAction::kNone:
        blocked = true;
        break;
    }
  }

  // Read side: deliver while the connection wants to read.
  while (conn.want_read()) {
    const std::size_t available = e.inbound.size() - e.head;
    if (available > 0) {
      const std::size_t n = std::min(available, options_.max_read);
      std::span<char> space = conn.prepare_receive(n);
      assert(space.size() >= n);
      std::memcpy(space.data(), e.inbound.data() + e.head, n);
      e.head += n;
      if (e.head == e.inbound.size()) {
        e.inbound.clear();
        e.head = 0;
      } else if (e.head > options_.capacity) {
        e.inbound.erase(0, e.head);  // keep the buffer bounded
        e.head = 0;
      }
      ++e.receives;
      deliver(e, conn.commit_received(n));
      progress = true;
      continue;
    }
    if (e.fin_inbound && !e.eof_delivered) {
      e.eof_delivered = true;
      deliver(e, conn.eof_received());
      progress = true;
    }
    break;
  }
  conn.check_invariants();
  return progress;
}

}  // namespace sluice::testing
