// File: core/stream_error.h
//
// StreamError: every failure the sluice core reports, as a value. The core never
// throws; a read, drain or wait either yields its result or a StreamError that
// carries every field the matching asyncio exception carries:
//
//   asyncio                              StreamErrc            fields
//   IncompleteReadError(partial, exp)    kIncompleteRead       partial, expected
//   LimitOverrunError(msg, consumed)     kLimitOverrun         consumed
//   ValueError from readline's limit     kLimitOverrun         consumed (as readuntil saw it)
//   ValueError (bad argument)            kInvalidArgument      -
//   RuntimeError (already waiting)       kConcurrentRead       -
//   ConnectionResetError & co.           kConnectionError      connection_error
//   RuntimeError (write after write_eof) kWriteAfterEof        -
//   NotImplementedError (write_eof, TLS) kNotSupported         -
//   ssl.SSLError & co. (TLS failures)    kTlsError             tls_reason
//
// message() reproduces asyncio's exception text, so logs read the same.
// Backends translate StreamError into std::error_code (see stream_errc_category())
// or into exceptions, and must keep partial/expected/consumed reachable.

#ifndef SLUICE_CORE_STREAM_ERROR_H_
#define SLUICE_CORE_STREAM_ERROR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace sluice {

enum class StreamErrc {
  // IncompleteReadError: EOF came before the read could complete. `partial`
  // holds the bytes that were buffered (the buffer is left empty); `expected`
  // is readexactly's n, or nullopt (asyncio's None) for readuntil.
  kIncompleteRead = 1,
  // LimitOverrunError (readuntil) or readline's ValueError: the data before
  // the separator exceeds the limit. `consumed` is asyncio's value. readuntil
  // leaves the buffer untouched; readline discards as asyncio does.
  kLimitOverrun,
  // ValueError: a bad argument (negative readexactly, empty separator, no
  // separators, limit <= 0, water marks out of order).
  kInvalidArgument,
  // RuntimeError: a read had to wait while another read was already waiting.
  kConcurrentRead,
  // The connection failed (reset, aborted, broken pipe, or an error the driver
  // reported). `connection_error` says which. Sticky on the reader.
  kConnectionError,
  // RuntimeError('Cannot call write() after write_eof()').
  kWriteAfterEof,
  // NotImplementedError: the transport cannot do this (write_eof over TLS).
  kNotSupported,
  // ssl.SSLError and its subclasses: the TLS layer failed (bad certificate,
  // hostname mismatch, a peer that does not speak TLS, a corrupt record, an
  // alert from the peer). `detail` says what failed ("TLS handshake failed"),
  // `tls_reason` carries OpenSSL's own reason. Sticky on the reader, like
  // kConnectionError.
  kTlsError,
};

// The std::error_code category of StreamErrc ("sluice.stream").
const std::error_category& stream_errc_category() noexcept;
std::error_code make_error_code(StreamErrc e) noexcept;

// The std::error_code category of TLS failures ("sluice.tls"). A value
// stands for one whole kTlsError text (StreamError::message(), e.g. "TLS
// handshake failed: error:0A000086:SSL routines::certificate verify failed
// (hostname mismatch)"), interned process-wide, so that an error_code - an
// Asio handler's, a std::system_error's what() - still carries OpenSSL's
// reason. The table is bounded (kMaxTlsErrorTexts distinct texts; OpenSSL's
// reasons and verify results are a finite set): past it, new texts get value
// 0, whose message is "TLS error". Thread-safe.
inline constexpr int kMaxTlsErrorTexts = 1024;
const std::error_category& tls_error_category() noexcept;
bool is_tls_error(const std::error_code& ec) noexcept;

// Which of readuntil's two limit checks fired (asyncio's two messages).
enum class LimitOverrunKind {
  kSeparatorFound,     // 'Separator is found, but chunk is longer than limit'
  kSeparatorNotFound,  // 'Separator is not found, and chunk exceed the limit'
};

struct StreamError {
  StreamErrc code = StreamErrc::kInvalidArgument;

  // kIncompleteRead: the bytes read before EOF (asyncio's e.partial).
  std::string partial;
  // kIncompleteRead: readexactly's n; nullopt for readuntil (asyncio's None).
  std::optional<std::size_t> expected;
  // kLimitOverrun: asyncio's e.consumed.
  std::size_t consumed = 0;
  // kLimitOverrun: which check fired.
  LimitOverrunKind overrun = LimitOverrunKind::kSeparatorNotFound;
  // kConnectionError: the cause (e.g. std::errc::connection_reset). For the
  // writer's "Connection lost" after a clean close it is connection_reset too.
  std::error_code connection_error;
  // kInvalidArgument, kNotSupported and kConcurrentRead: which operation or
  // argument; kConnectionError: asyncio's own text where it has one
  // ("Connection lost"), else empty and the cause's message is used;
  // kTlsError: what failed ("TLS handshake failed"). A string literal; never
  // owned.
  const char* detail = "";
  // kTlsError: OpenSSL's reason, owned (the first error of OpenSSL's error
  // queue as ERR_error_string_n prints it, plus the certificate verification
  // result when that failed), e.g. "error:0A000086:SSL routines::certificate
  // verify failed (hostname mismatch)". Empty for every other code.
  std::string tls_reason;

  // asyncio's str(exception), e.g. "18 bytes read on a total of 36 expected
  // bytes" or "Separator is found, but chunk is longer than limit"; for
  // kTlsError "<detail>: <tls_reason>".
  std::string message() const;

  static StreamError incomplete_read(std::string partial,
                                     std::optional<std::size_t> expected);
  static StreamError limit_overrun(LimitOverrunKind kind, std::size_t consumed);
  static StreamError invalid_argument(const char* detail);
  static StreamError concurrent_read(const char* operation);
  static StreamError connection(std::error_code cause, const char* detail = "");
  static StreamError not_supported(const char* detail);
  static StreamError write_after_eof();
  static StreamError tls(const char* detail, std::string reason);

  // to_error_code: as one std::error_code: kConnectionError gives its cause
  // (make_error_code(kConnectionError) if none), kTlsError a
  // tls_error_category() code with the whole message, every other code
  // make_error_code(code) (partial, expected and consumed need the
  // StreamError itself).
  std::error_code to_error_code() const;

  // Field by field; `detail` by its text.
  friend bool operator==(const StreamError& a, const StreamError& b);
};

// StreamErrorSlot: an optional StreamError kept on the heap, for the sticky
// errors of the reader (its exception()) and the writer (what its drains fail
// with after a loss): one pointer while empty - the state of every healthy
// connection - instead of the whole StreamError. Setting it allocates once;
// a later set() replaces the error in place.
class StreamErrorSlot {
 public:
  StreamErrorSlot() = default;
  StreamErrorSlot(StreamErrorSlot&&) noexcept = default;
  StreamErrorSlot& operator=(StreamErrorSlot&&) noexcept = default;
  StreamErrorSlot(const StreamErrorSlot&) = delete;
  StreamErrorSlot& operator=(const StreamErrorSlot&) = delete;

  explicit operator bool() const { return box_ != nullptr; }
  // Precondition: an error is held.
  const StreamError& operator*() const { return **box_; }
  const StreamError* operator->() const { return &**box_; }

  // set: hold `error`, replacing the one held (in place: once an error is
  // held, as_optional()'s reference stays the same object).
  void set(StreamError error);

  // as_optional: the slot as a std::optional: the held error, or a shared
  // empty optional while none is held (a reference taken then does not see
  // a later set()). Valid until the slot is destroyed or moved from.
  const std::optional<StreamError>& as_optional() const;

 private:
  // Engaged whenever allocated.
  std::unique_ptr<std::optional<StreamError>> box_;
};

}  // namespace sluice

namespace std {
template <>
struct is_error_code_enum<sluice::StreamErrc> : true_type {};
}  // namespace std

#endif  // SLUICE_CORE_STREAM_ERROR_H_
