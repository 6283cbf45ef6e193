// File: core/tls/openssl_error.h
//
// Internal to core/tls: OpenSSL's error queue as sluice errors. OpenSSL
// reports failures on a per-thread queue; every core/tls call clears it
// before calling into OpenSSL and empties it when it reads a failure, so one
// connection's errors never leak into another's.

#ifndef SLUICE_CORE_TLS_OPENSSL_ERROR_H_
#define SLUICE_CORE_TLS_OPENSSL_ERROR_H_

#include <string>

#include "core/stream_error.h"

namespace sluice::tls_internal {

// take_openssl_reason: the first (oldest) error on this thread's OpenSSL
// error queue as ERR_error_string_n prints it ("error:0A000086:SSL
// routines::certificate verify failed"), or "" if the queue is empty. Empties
// the queue.
std::string take_openssl_reason();

// openssl_failure: kTlsError{detail, take_openssl_reason() or `fallback`}.
// `detail` and `fallback` are string literals.
StreamError openssl_failure(const char* detail, const char* fallback = "unknown OpenSSL error");

}  // namespace sluice::tls_internal

#endif  // SLUICE_CORE_TLS_OPENSSL_ERROR_H_
