// File: core/coro/stream_exceptions.h
//
// The exceptions the throwing coroutine API raises, mirroring asyncio's. The
// core never throws; the coroutine layer turns a StreamError into one of
// these at the co_await (the non-throwing variants return the StreamError as
// a value instead).
//
//   asyncio                          C++                     StreamErrc
//   IncompleteReadError              IncompleteReadError     kIncompleteRead
//   LimitOverrunError, and readline's
//     ValueError (same cause)        LimitOverrunError       kLimitOverrun
//   ConnectionResetError & co.       ConnectionError         kConnectionError
//   ssl.SSLError & co.               TlsError                kTlsError
//   ValueError / RuntimeError        StreamException         kInvalidArgument,
//                                                            kConcurrentRead,
//                                                            kWriteAfterEof,
//                                                            kNotSupported
//
// All derive from StreamException, a std::system_error: code() is the cause
// for a ConnectionError (e.g. std::errc::connection_reset) and
// make_error_code(StreamErrc) otherwise; what() is asyncio's message; error()
// is the full StreamError. Copying an exception never throws (the payload is
// shared).
//
// Example:
//   try {
//     std::string header = co_await reader.readexactly(16);
//   } catch (const IncompleteReadError& e) {
//     log(e.partial().size(), "of", *e.expected());
//   } catch (const ConnectionError& e) {
//     log(e.code().message());
//   }

#ifndef SLUICE_CORE_CORO_STREAM_EXCEPTIONS_H_
#define SLUICE_CORE_CORO_STREAM_EXCEPTIONS_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "core/stream_error.h"

namespace sluice {

class StreamException : public std::system_error {
 public:
  explicit StreamException(StreamError error);

  // error: the StreamError this was made from.
  const StreamError& error() const noexcept { return payload_->error; }
  // what: asyncio's message (StreamError::message()).
  const char* what() const noexcept override { return payload_->message.c_str(); }

 private:
  struct Payload {
    StreamError error;
    std::string message;
  };
  std::shared_ptr<const Payload> payload_;
};

// EOF came first: `partial` holds what was read, `expected` is readexactly's
// n (nullopt for readuntil, asyncio's None).
class IncompleteReadError : public StreamException {
 public:
  using StreamException::StreamException;
  const std::string& partial() const noexcept { return error().partial; }
  std::optional<std::size_t> expected() const noexcept { return error().expected; }
};

// The limit was hit; `consumed` is asyncio's value.
class LimitOverrunError : public StreamException {
 public:
  using StreamException::StreamException;
  std::size_t consumed() const noexcept { return error().consumed; }
};

// The connection failed or was lost; code() says how.
class ConnectionError : public StreamException {
 public:
  using StreamException::StreamException;
};

// The TLS layer failed (handshake refused, bad record, alert); reason() is
// OpenSSL's reason, what() "<what failed>: <reason>".
class TlsError : public StreamException {
 public:
  using StreamException::StreamException;
  const std::string& reason() const noexcept { return error().tls_reason; }
};

// throw_stream_error: throws the exception class matching error.code.
[[noreturn]] void throw_stream_error(StreamError error);

}  // namespace sluice

#endif  // SLUICE_CORE_CORO_STREAM_EXCEPTIONS_H_
