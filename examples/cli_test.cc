// The examples' shared command-line helpers. The programs' whole command
// lines are tested end to end by examples/testing/*.sh, on every backend;
// here only what a shell test cannot see.

#include "examples/cli.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "core/tls/testing/test_certs.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, server_hostname, "", "a flag whose name has an underscore");

namespace sluice::examples {
namespace {

std::vector<std::string> parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  std::vector<std::string> positional;
  for (char* p : parse_command_line(static_cast<int>(argv.size()), argv.data())) {
    positional.emplace_back(p);
  }
  return positional;
}

TEST(ParseCommandLineTest, AcceptsDashesInFlagNames) {
  EXPECT_EQ(parse({"prog", "--server-hostname=example.com", "arg"}),
            (std::vector<std::string>{"prog", "arg"}));
  EXPECT_EQ(absl::GetFlag(FLAGS_server_hostname), "example.com");
}

TEST(ParseCommandLineTest, LeavesArgumentsAfterADoubleDashAlone) {
  EXPECT_EQ(parse({"prog", "--", "--not-a-flag"}),
            (std::vector<std::string>{"prog", "--not-a-flag"}));
}

TEST(ClientContextTest, TrustsTheCaFileItIsGiven) {
  Result<TlsContext, std::string> context = client_context(testing::test_pki().ca_file);
  ASSERT_TRUE(context.ok()) << context.error();
  EXPECT_EQ(context->role(), TlsRole::kClient);
  EXPECT_TRUE(context->check_hostname());
}

TEST(ClientContextTest, NamesTheCaFileThatDoesNotLoadAndOpensslsReason) {
  Result<TlsContext, std::string> context = client_context("/nonexistent/ca.pem");
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().find("--cafile /nonexistent/ca.pem: "), std::string::npos)
      << context.error();
  EXPECT_NE(context.error().find("error:"), std::string::npos) << context.error();
}

}  // namespace
}  // namespace sluice::examples
