#include "examples/url.h"

#include <algorithm>
#include <cctype>

namespace sluice::examples {

namespace {

using Parsed = Result<Url, std::string>;

Parsed error(std::string message) { return message; }

}  // namespace

std::string Url::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (explicit_port) h += ":" + std::to_string(port);
  return h;
}

Parsed parse_url(std::string_view text) {
  Url url;
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0) {
    return "not an absolute URL (scheme://host/path): " + std::string(text);
  }
  url.scheme = std::string(text.substr(0, colon));
  std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (url.scheme == "http") {
    url.port = 80;
  } else if (url.scheme == "https") {
    url.port = 443;
  } else {
    return "unsupported scheme \"" + url.scheme + "\" (http or https)";
  }
  std::string_view rest = text.substr(colon + 3);
  const std::size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const std::size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  url.target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (url.target.front() == '?') url.target.insert(0, "/");

  if (authority.find('@') != std::string_view::npos)
    return error("user info in URLs is not supported");
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return error("unclosed \"[\" in the host");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return error("junk after \"]\" in the host");
    if (!after.empty()) {
      port = after.substr(1);
      url.explicit_port = true;
    }
  } else {
    const std::size_t c = authority.rfind(':');
    url.host = std::string(authority.substr(0, c));
    if (c != std::string_view::npos) {
      port = authority.substr(c + 1);
      url.explicit_port = true;
    }
  }
  if (url.host.empty()) return "no host in " + std::string(text);
  if (url.explicit_port) {
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return "bad port \"" + std::string(port) + "\"";
    }
    const int value = std::stoi(std::string(port));
    if (value < 1 || value > 65535) return "port " + std::string(port) + " out of range";
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

}  // namespace sluice::examples
