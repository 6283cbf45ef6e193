// File: backends/libevent/addrinfo_error.h
//
// addrinfo_category(): the std::error_category ("sluice.addrinfo") of name
// resolution failures, i.e. getaddrinfo()'s EAI_* codes, as open_connection
// and start_server report them (asyncio raises socket.gaierror). message() is
// gai_strerror()'s text. EAI_SYSTEM is not used: the errno it stands for is
// reported in std::system_category() instead.
//
// Example:
//   try {
//     auto [r, w] = co_await open_connection(base, "no.such.host.invalid", 80);
//   } catch (const std::system_error& e) {
//     if (e.code() == make_addrinfo_error(EAI_NONAME)) ...;   // unknown host
//   }

#ifndef SLUICE_BACKENDS_LIBEVENT_ADDRINFO_ERROR_H_
#define SLUICE_BACKENDS_LIBEVENT_ADDRINFO_ERROR_H_

#include <system_error>

namespace sluice::libevent_backend {

const std::error_category& addrinfo_category() noexcept;

// make_addrinfo_error: getaddrinfo()'s return value `eai` as an error code
// (EAI_SYSTEM becomes the current errno in the system category).
std::error_code make_addrinfo_error(int eai) noexcept;

}  // namespace sluice::libevent_backend

#endif  // SLUICE_BACKENDS_LIBEVENT_ADDRINFO_ERROR_H_
