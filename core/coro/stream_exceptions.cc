#include "core/coro/stream_exceptions.h"

#include <utility>

namespace sluice {

namespace {

std::error_code code_of(const StreamError& e) {
  if (e.code == StreamErrc::kConnectionError && e.connection_error) return e.connection_error;
  return make_error_code(e.code);
}

}  // namespace

StreamException::StreamException(StreamError error)
    : std::system_error(code_of(error)),
      payload_(std::make_shared<const Payload>(Payload{error, error.message()})) {}

void throw_stream_error(StreamError error) {
  switch (error.code) {
    case StreamErrc::kIncompleteRead:
      throw IncompleteReadError(std::move(error));
    case StreamErrc::kLimitOverrun:
      throw LimitOverrunError(std::move(error));
    case StreamErrc::kConnectionError:
      throw ConnectionError(std::move(error));
    case StreamErrc::kTlsError:
      throw TlsError(std::move(error));
    case StreamErrc::kInvalidArgument:
    case StreamErrc::kConcurrentRead:
    case StreamErrc::kWriteAfterEof:
    case StreamErrc::kNotSupported:
      break;
  }
  throw StreamException(std::move(error));
}

}  // namespace sluice
