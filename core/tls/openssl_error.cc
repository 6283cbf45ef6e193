#include "core/tls/openssl_error.h"

#include <openssl/err.h>

#include <array>

namespace sluice::tls_internal {

std::string take_openssl_reason() {
  const unsigned long code = ERR_peek_error();
  if (code == 0) return std::string();
  std::array<char, 256> text;
  ERR_error_string_n(code, text.data(), text.size());
  ERR_clear_error();
  return std::string(text.data());
}

StreamError openssl_failure(const char* detail, const char* fallback) {
  std::string reason = take_openssl_reason();
  if (reason.empty()) reason = fallback;
  return StreamError::tls(detail, std::move(reason));
}

}  // namespace sluice::tls_internal
