#include "conformance/runner.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "conformance/vector.h"
#include "core/result.h"
#include "core/stream_error.h"

namespace sluice::conformance {

namespace {

std::string prefix(std::size_t i) { return "{\"i\":" + std::to_string(i) + ","; }

}  // namespace

std::string format_error_result(std::size_t i, OpKind kind, const StreamError& error) {
  std::string out = prefix(i) + "\"error\":";
  switch (error.code) {
    case StreamErrc::kIncompleteRead:
      out += "\"incomplete_read\",\"partial\":\"" + encode_hex(error.partial) +
             "\",\"expected\":" +
             (error.expected ? std::to_string(*error.expected) : std::string("null"));
      break;
    case StreamErrc::kLimitOverrun:
      out += "\"limit_overrun\"";
      // asyncio's readline raises ValueError, which has no `consumed`.
      if (kind != OpKind::kReadline) out += ",\"consumed\":" + std::to_string(error.consumed);
      break;
    case StreamErrc::kInvalidArgument:
      out += "\"invalid_argument\"";
      break;
    case StreamErrc::kConcurrentRead:
      out += "\"concurrent_read\"";
      break;
    case StreamErrc::kConnectionError:
      out += "\"connection_error\"";
      break;
    case StreamErrc::kWriteAfterEof:  // No read reports these two; printed for completeness.
      out += "\"write_after_eof\"";
      break;
    case StreamErrc::kNotSupported:
      out += "\"not_supported\"";
      break;
    case StreamErrc::kTlsError:
      out += "\"tls_error\"";
      break;
  }
  return out + "}";
}

std::string format_result(std::size_t i, OpKind kind, const Result<std::string>& result) {
  if (!result.ok()) return format_error_result(i, kind, result.error());
  return prefix(i) + "\"hex\":\"" + encode_hex(*result) + "\"}";
}

std::vector<std::string> run_vector(const Vector& vector, ReplayBackend& backend) {
  std::vector<std::string> out;
  Status opened = backend.open(vector.limit());
  if (!opened.ok()) {
    out.push_back(format_error_result(0, OpKind::kConfig, opened.error()));
    return out;
  }
  // waiting[i]: line i started a read that has not completed yet.
  std::vector<bool> waiting(vector.ops.size(), false);
  std::vector<Completion> done;
  for (std::size_t i = 0; i < vector.ops.size(); ++i) {
    const Op& op = vector.ops[i];
    done.clear();
    switch (op.kind) {
      case OpKind::kConfig:
        break;
      case OpKind::kFeed:
        backend.feed(op.data, done);
        break;
      case OpKind::kFeedEof:
        backend.feed_eof(done);
        break;
      case OpKind::kSetException:
        backend.set_exception(done);
        break;
      case OpKind::kRead:
      case OpKind::kReadline:
      case OpKind::kReadexactly:
      case OpKind::kReaduntil:
        waiting[i] = true;
        backend.start_read(i, op, done);
        break;
      case OpKind::kAtEof:
        out.push_back(prefix(i) + "\"bool\":" + (backend.at_eof() ? "true" : "false") + "}");
        break;
    }
    for (const Completion& c : done) {
      // A backend may only complete reads that were started and are waiting.
      if (c.i >= waiting.size() || !waiting[c.i]) {
        out.push_back("{\"i\":" + std::to_string(c.i) +
                      ",\"error\":\"backend_bug_unexpected_completion\"}");
        continue;
      }
      waiting[c.i] = false;
      out.push_back(format_result(c.i, vector.ops[c.i].kind, c.result));
    }
  }
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    if (waiting[i]) out.push_back(prefix(i) + "\"pending\":true}");
  }
  return out;
}

}  // namespace sluice::conformance
