// Invariant: for any sequence of writes (copied and moved, small and large),
// writelines, drains, wait_closeds, water-mark changes, partial sends,
// write_eof, close, abort and connection loss:
//   - the bytes the driver is offered, in order, are exactly the bytes
//     accepted, and views already offered keep their bytes until sent;
//   - accepted == sent + still queued + dropped;
//   - writing pauses exactly when the queue passes the high mark and resumes
//     at the low mark (a model decides), and a drain completes at once
//     exactly when not paused and not closing;
//   - no waiter is lost: every pending drain and wait_closed is released by
//     a resume or by the connection loss;
//   - nothing is offered after write_eof's shutdown, after abort, or after
//     the loss; after close only what was queued before it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/stream_writer.h"
#include "fuzz/fuzz_input.h"

namespace {

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

using sluice::StatusPoll;
using sluice::StreamWriter;
using sluice::WriteAction;
using sluice::WriterRelease;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::FuzzInput in(data, size);
  StreamWriter writer(sluice::StreamWriterOptions{.can_write_eof = (in.byte() & 1) == 0});

  std::string queued;      // model: accepted, not yet sent or dropped
  std::string wire;        // what the driver sent, in order
  std::string accepted;    // everything accepted, in order
  std::size_t high = 65536, low = 16384;
  bool paused = false, eof_called = false, closing = false, lost = false, shut_down = false;
  bool aborted = false;
  std::size_t pending_drains = 0, pending_waits = 0;
  std::vector<std::pair<std::string_view, std::string>> offered;  // view, its bytes then

  auto release = [&](const WriterRelease& r) {
    if (r.drain) pending_drains = 0;
    if (r.closed) pending_waits = 0;
  };
  auto check = [&] {
    writer.check_invariants();
    FUZZ_CHECK(writer.get_write_buffer_size() == queued.size());
    FUZZ_CHECK(writer.bytes_accepted() ==
               writer.bytes_sent_total() + writer.get_write_buffer_size() + writer.bytes_dropped());
    FUZZ_CHECK(writer.write_paused() == paused);
    FUZZ_CHECK(accepted.compare(0, wire.size(), wire) == 0);
    for (const auto& [view, bytes] : offered) FUZZ_CHECK(view == bytes);
    if (shut_down || lost) FUZZ_CHECK(writer.action() != WriteAction::kSend);
    if (aborted && !lost) FUZZ_CHECK(writer.action() == WriteAction::kAbort);
  };
  auto accept = [&](std::string_view bytes) {
    if (bytes.empty()) return;
    queued += bytes;
    accepted += bytes;
    if (!paused && queued.size() > high) paused = true;
  };
  auto dropping = [&] { return closing || lost; };

  for (int steps = 0; steps < 300 && !in.empty(); ++steps) {
    switch (in.range(0, 11)) {
      case 0: {
        std::string s = in.bytes(200);
        sluice::Status st = writer.write(std::string_view(s));
        FUZZ_CHECK(st.ok() == !eof_called);
        if (st.ok() && !dropping()) accept(s);
        break;
      }
      case 1: {
        std::string s(in.range(1, 8) * 1024, static_cast<char>(in.byte()));
        const std::string copy = s;
        sluice::Status st = writer.write(std::move(s));
        FUZZ_CHECK(st.ok() == !eof_called);
        if (st.ok() && !dropping()) accept(copy);
        break;
      }
      case 2: {
        std::vector<std::string> parts(in.range(0, 4));
        for (std::string& p : parts) p = in.bytes(40);
        std::vector<std::string_view> views(parts.begin(), parts.end());
        sluice::Status st = writer.writelines(std::span<const std::string_view>(views));
        FUZZ_CHECK(st.ok() == !eof_called);
        if (st.ok() && !dropping()) for (const std::string& p : parts) accept(p);
        break;
      }
      case 3: {
        StatusPoll p = writer.drain();
        if (lost) {
          FUZZ_CHECK(p.has_value() && !p->ok());
        } else if (!paused && !closing) {
          FUZZ_CHECK(p.has_value() && p->ok());
        } else {
          FUZZ_CHECK(!p.has_value());
          ++pending_drains;
        }
        break;
      }
      case 4: {
        StatusPoll p = writer.wait_closed();
        FUZZ_CHECK(p.has_value() == lost);
        if (!p) ++pending_waits;
        break;
      }
      case 5: {
        if (writer.action() != WriteAction::kSend) break;
        std::string_view views[8];
        const std::size_t n = writer.peek(views);
        FUZZ_CHECK(n > 0);
        std::string offered_bytes;
        for (std::size_t i = 0; i < n; ++i) {
          FUZZ_CHECK(!views[i].empty());
          offered_bytes += views[i];
        }
        FUZZ_CHECK(queued.compare(0, offered_bytes.size(), offered_bytes) == 0);
        const std::size_t sent = in.range(0, offered_bytes.size());
        release(writer.bytes_sent(sent));
        wire += offered_bytes.substr(0, sent);
        queued.erase(0, sent);
        if (paused && queued.size() <= low) paused = false;
        // A resume releases every drain waiting for it.
        if (!paused && !closing) FUZZ_CHECK(pending_drains == 0);
        // Views not wholly sent must keep their bytes through later writes.
        offered.clear();
        std::size_t covered = sent;
        for (std::size_t i = 0; i < n; ++i) {
          if (covered >= views[i].size()) {
            covered -= views[i].size();
          } else {
            covered = 0;
            offered.emplace_back(views[i], std::string(views[i]));
          }
        }
        break;
      }
      case 6: {
        sluice::Status st = writer.write_eof();
        FUZZ_CHECK(st.ok() == writer.can_write_eof());
        if (st.ok() && !closing && !lost) eof_called = true;
        break;
      }
      case 7:
        writer.close();
        closing = true;
        break;
      case 8:
        writer.abort();
        if (!lost) {
          closing = true;
          aborted = true;
          queued.clear();
          offered.clear();
        }
        break;
      case 9: {
        const std::int64_t h = static_cast<std::int64_t>(in.range(0, 70000));
        const std::int64_t l = static_cast<std::int64_t>(in.range(0, 70000));
        sluice::Status st = writer.set_write_buffer_limits(h, l);
        FUZZ_CHECK(st.ok() == (l <= h));
        if (st.ok()) {
          high = static_cast<std::size_t>(h);
          low = static_cast<std::size_t>(l);
          if (!paused && queued.size() > high) paused = true;  // may pause, never resumes
        }
        break;
      }
      case 10:
        if (writer.action() == WriteAction::kShutdownWrite) {
          FUZZ_CHECK(queued.empty());
          writer.eof_sent();
          shut_down = true;
        }
        break;
      case 11: {
        if (lost) break;
        const WriteAction action = writer.action();
        // The peer may vanish at any time; a close or abort ends with a loss.
        const bool error = in.byte() & 1;
        if (action == WriteAction::kClose) FUZZ_CHECK(queued.empty());
        WriterRelease r = writer.connection_lost(
            error ? std::make_error_code(std::errc::connection_reset) : std::error_code());
        if (pending_drains > 0) FUZZ_CHECK(r.drain.has_value());
        if (pending_waits > 0) FUZZ_CHECK(r.closed.has_value());
        release(r);
        lost = true;
        closing = true;
        queued.clear();
        offered.clear();
        break;
      }
    }
    check();
  }
  if (!lost) {
    WriterRelease r = writer.connection_lost();
    if (pending_drains > 0) FUZZ_CHECK(r.drain.has_value());
    if (pending_waits > 0) FUZZ_CHECK(r.closed.has_value());
  }
  return 0;
}
