// File: examples/url.h
//
// Url and parse_url: the little URL syntax the examples need (http_headers,
// wget, for every backend): scheme://host[:port][path][?query][#fragment],
// the way Python's urllib.parse.urlsplit reads such URLs. Not a general URL
// parser: no user info, no percent-decoding, no relative references.
//
// Example:
//   Result<Url, std::string> url = parse_url("http://127.0.0.1:8000/a/b?x=1#top");
//   // url->scheme "http", host "127.0.0.1", port 8000, target "/a/b?x=1",
//   // url->host_header() "127.0.0.1:8000"

#ifndef SLUICE_EXAMPLES_URL_H_
#define SLUICE_EXAMPLES_URL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sluice::examples {

struct Url {
  std::string scheme;          // lower case: "http" or "https"
  std::string host;            // as written, without the brackets of an IPv6 address
  std::uint16_t port = 0;      // as written, else the scheme's (80, 443)
  bool explicit_port = false;  // the URL names a port
  std::string target;          // path and query ("/" when the path is empty)

  // host_header: the value of an HTTP Host header for this URL: the host (an
  // IPv6 address in brackets), and ":port" when the URL names one.
  std::string host_header() const;
};

// parse_url: `text` as a Url, or a message saying what is wrong (no
// "scheme://", a scheme other than http or https, an empty host, user info,
// a port that is not a number in 1..65535, an unclosed "[").
Result<Url, std::string> parse_url(std::string_view text);

}  // namespace sluice::examples

#endif  // SLUICE_EXAMPLES_URL_H_
