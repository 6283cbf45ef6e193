#include "core/stream_error.h"

#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>
#include <string>
#include <utility>

namespace sluice {
namespace {

class StreamErrcCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sluice.stream"; }

  std::string message(int ev) const override {
    switch (static_cast<StreamErrc>(ev)) {
      case StreamErrc::kIncompleteRead:
        return "incomplete read: EOF before the read completed";
      case StreamErrc::kLimitOverrun:
        return "limit overrun: chunk longer than the reader's limit";
      case StreamErrc::kInvalidArgument:
        return "invalid argument";
      case StreamErrc::kConcurrentRead:
        return "another read is already waiting for incoming data";
      case StreamErrc::kConnectionError:
        return "connection error";
      case StreamErrc::kWriteAfterEof:
        return "Cannot call write() after write_eof()";
      case StreamErrc::kNotSupported:
        return "operation not supported by this transport";
      case StreamErrc::kTlsError:
        return "TLS error";
    }
    return "unknown sluice.stream error";
  }
};

// Interns kTlsError texts: value i >= 1 is texts[i - 1].
class TlsErrorCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sluice.tls"; }

  std::string message(int ev) const override {
    std::lock_guard<std::mutex> lock(mu_);
    if (ev >= 1 && static_cast<std::size_t>(ev) <= texts_.size()) return texts_[ev - 1];
    return "TLS error";
  }

  int intern(const std::string& text) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = index_.find(text); it != index_.end()) return it->second;
    if (texts_.size() >= static_cast<std::size_t>(kMaxTlsErrorTexts)) return 0;
    texts_.push_back(text);
    const int value = static_cast<int>(texts_.size());
    index_.emplace(text, value);
    return value;
  }

 private:
  mutable std::mutex mu_;
  mutable std::vector<std::string> texts_;
  mutable std::unordered_map<std::string, int> index_;
};

const TlsErrorCategory& tls_category_instance() {
  static const TlsErrorCategory category;
  return category;
}

}  // namespace

const std::error_category& tls_error_category() noexcept { return tls_category_instance(); }

bool is_tls_error(const std::error_code& ec) noexcept {
  return ec.category() == tls_category_instance();
}

std::error_code StreamError::to_error_code() const {
  switch (code) {
    case StreamErrc::kConnectionError:
      return connection_error ? connection_error : make_error_code(code);
    case StreamErrc::kTlsError:
      return {tls_category_instance().intern(message()), tls_category_instance()};
    default:
      return make_error_code(code);
  }
}

const std::error_category& stream_errc_category() noexcept {
  static const StreamErrcCategory category;
  return category;
}

std::error_code make_error_code(StreamErrc e) noexcept {
  return {static_cast<int>(e), stream_errc_category()};
}

std::string StreamError::message() const {
  switch (code) {
    case StreamErrc::kIncompleteRead: {
      std::string total = expected ? std::to_string(*expected) : "undefined";
      return std::to_string(partial.size()) + " bytes read on a total of " + total +
             " expected bytes";
    }
    case StreamErrc::kLimitOverrun:
      return overrun == LimitOverrunKind::kSeparatorFound
                 ? "Separator is found, but chunk is longer than limit"
                 : "Separator is not found, and chunk exceed the limit";
    case StreamErrc::kInvalidArgument:
      return detail;
    case StreamErrc::kConcurrentRead:
      return std::string(detail) +
             "() called while another coroutine is already waiting for incoming data";
    case StreamErrc::kConnectionError:
      if (*detail != '\0') return detail;
      return connection_error ? connection_error.message() : "Connection lost";
    case StreamErrc::kWriteAfterEof:
      return "Cannot call write() after write_eof()";
    case StreamErrc::kNotSupported:
      return detail;
    case StreamErrc::kTlsError: {
      std::string out = *detail != '\0' ? detail : "TLS error";
      if (!tls_reason.empty()) out += ": " + tls_reason;
      return out;
    }
  }
  return "unknown stream error";
}

bool operator==(const StreamError& a, const StreamError& b) {
  return a.code == b.code && a.partial == b.partial && a.expected == b.expected &&
         a.consumed == b.consumed && a.overrun == b.overrun &&
         a.connection_error == b.connection_error && std::strcmp(a.detail, b.detail) == 0 &&
         a.tls_reason == b.tls_reason;
}

StreamError StreamError::incomplete_read(std::string partial,
                                         std::optional<std::size_t> expected) {
  StreamError e;
  e.code = StreamErrc::kIncompleteRead;
  e.partial = std::move(partial);
  e.expected = expected;
  return e;
}

StreamError StreamError::limit_overrun(LimitOverrunKind kind, std::size_t consumed) {
  StreamError e;
  e.code = StreamErrc::kLimitOverrun;
  e.overrun = kind;
  e.consumed = consumed;
  return e;
}

StreamError StreamError::invalid_argument(const char* detail) {
  StreamError e;
  e.code = StreamErrc::kInvalidArgument;
  e.detail = detail;
  return e;
}

StreamError StreamError::concurrent_read(const char* operation) {
  StreamError e;
  e.code = StreamErrc::kConcurrentRead;
  e.detail = operation;
  return e;
}

StreamError StreamError::connection(std::error_code cause, const char* detail) {
  StreamError e;
  e.code = StreamErrc::kConnectionError;
  e.connection_error = cause;
  e.detail = detail;
  return e;
}

StreamError StreamError::not_supported(const char* detail) {
  StreamError e;
  e.code = StreamErrc::kNotSupported;
  e.detail = detail;
  return e;
}

StreamError StreamError::write_after_eof() {
  StreamError e;
  e.code = StreamErrc::kWriteAfterEof;
  return e;
}

void StreamErrorSlot::set(StreamError error) {
  if (box_) {
    **box_ = std::move(error);
  } else {
    box_ = std::make_unique<std::optional<StreamError>>(std::move(error));
  }
}

namespace {
// What an empty StreamErrorSlot reads as. Constant-initialised, so usable
// from any other static initialiser.
constinit const std::optional<StreamError> kNoStreamError;
}  // namespace

const std::optional<StreamError>& StreamErrorSlot::as_optional() const {
  return box_ ? *box_ : kNoStreamError;
}

StreamError StreamError::tls(const char* detail, std::string reason) {
  StreamError e;
  e.code = StreamErrc::kTlsError;
  e.detail = detail;
  e.tls_reason = std::move(reason);
  return e;
}

}  // namespace sluice
