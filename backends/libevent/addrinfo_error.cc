#include "backends/libevent/addrinfo_error.h"

#include <netdb.h>

#include <cerrno>
#include <string>

namespace sluice::libevent_backend {
namespace {

class AddrinfoCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sluice.addrinfo"; }
  std::string message(int eai) const override { return ::gai_strerror(eai); }
};

}  // namespace

const std::error_category& addrinfo_category() noexcept {
  static const AddrinfoCategory category;
  return category;
}

std::error_code make_addrinfo_error(int eai) noexcept {
  if (eai == EAI_SYSTEM) return {errno, std::system_category()};
  return {eai, addrinfo_category()};
}

}  // namespace sluice::libevent_backend
