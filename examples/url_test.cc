#include "examples/url.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice::examples {
namespace {

Url parse_ok(std::string_view text) {
  Result<Url, std::string> url = parse_url(text);
  EXPECT_TRUE(url.ok()) << text << ": " << (url.ok() ? "" : url.error());
  return url.ok() ? *url : Url{};
}

std::string parse_error(std::string_view text) {
  Result<Url, std::string> url = parse_url(text);
  EXPECT_FALSE(url.ok()) << text << " parsed";
  return url.ok() ? "" : url.error();
}

TEST(UrlTest, HttpUrlWithPortPathAndQuery) {
  const Url url = parse_ok("http://127.0.0.1:8000/a/b?x=1");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 8000);
  EXPECT_TRUE(url.explicit_port);
  EXPECT_EQ(url.target, "/a/b?x=1");
  EXPECT_EQ(url.host_header(), "127.0.0.1:8000");
}

TEST(UrlTest, DefaultPortIsTheSchemes) {
  EXPECT_EQ(parse_ok("http://example.com/").port, 80);
  EXPECT_EQ(parse_ok("https://example.com/").port, 443);
  EXPECT_FALSE(parse_ok("http://example.com/").explicit_port);
  EXPECT_EQ(parse_ok("http://example.com/").host_header(), "example.com");
}

TEST(UrlTest, EmptyPathIsSlash) {
  EXPECT_EQ(parse_ok("http://example.com").target, "/");
  EXPECT_EQ(parse_ok("http://example.com?q").target, "/?q");
}

TEST(UrlTest, FragmentIsDropped) { EXPECT_EQ(parse_ok("http://h/p?q#frag").target, "/p?q"); }

TEST(UrlTest, SchemeIsCaseInsensitive) { EXPECT_EQ(parse_ok("HTTP://h/").scheme, "http"); }

TEST(UrlTest, Ipv6HostIsInBrackets) {
  const Url url = parse_ok("http://[::1]:8080/x");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.host_header(), "[::1]:8080");
  EXPECT_EQ(parse_ok("http://[::1]/").port, 80);
}

TEST(UrlTest, BadUrlsAreRejectedWithAReason) {
  EXPECT_NE(parse_error("example.com/x").find("not an absolute URL"), std::string::npos);
  EXPECT_NE(parse_error("ftp://h/").find("unsupported scheme"), std::string::npos);
  EXPECT_NE(parse_error("http:///path").find("no host"), std::string::npos);
  EXPECT_NE(parse_error("http://h:/").find("bad port"), std::string::npos);
  EXPECT_NE(parse_error("http://h:8x/").find("bad port"), std::string::npos);
  EXPECT_NE(parse_error("http://h:0/").find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("http://h:65536/").find("out of range"), std::string::npos);
  EXPECT_NE(parse_error("http://[::1/").find("unclosed"), std::string::npos);
  EXPECT_NE(parse_error("http://user@h/").find("user info"), std::string::npos);
}

}  // namespace
}  // namespace sluice::examples
