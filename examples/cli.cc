#include "examples/cli.h"

#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/flags/parse.h"

namespace sluice::examples {

namespace {

// fail: prints "PROGRAM: MESSAGE" and returns `status`.
int fail(const char* program, const std::string& message, int status) {
  std::fprintf(stderr, "%s: %s\n", program, message.c_str());
  return status;
}

}  // namespace

std::vector<char*> parse_command_line(int argc, char** argv) {
  // absl knows flags by their C++ names only (server_hostname).
  for (int k = 1; k < argc; ++k) {
    char* arg = argv[k];
    if (std::strcmp(arg, "--") == 0) break;
    if (arg[0] != '-') continue;
    for (char* c = arg + (arg[1] == '-' ? 2 : 1); *c != '\0' && *c != '='; ++c) {
      if (*c == '-') *c = '_';
    }
  }
  return absl::ParseCommandLine(argc, argv);
}

Result<TlsContext, std::string> client_context(const std::string& cafile) {
  Result<TlsContext> context = TlsContext::client();
  if (!context.ok()) return context.error().message();
  const Status trust = cafile.empty() ? context->set_default_verify_paths()
                                      : context->load_verify_locations(cafile);
  if (!trust.ok()) {
    return (cafile.empty() ? "" : "--cafile " + cafile + ": ") + trust.error().message();
  }
  return std::move(*context);
}

Result<std::optional<TlsContext>, int> tls_server_flags(const char* program,
                                                        const std::string& cert,
                                                        const std::string& key) {
  if (cert.empty() != key.empty()) return fail(program, "--cert and --key go together", 2);
  if (cert.empty()) return std::optional<TlsContext>();
  Result<TlsContext> context = TlsContext::server();
  if (!context.ok()) return fail(program, context.error().message(), 1);
  if (const Status s = context->load_cert_chain(cert, key); !s.ok()) {
    return fail(program, "--cert " + cert + " --key " + key + ": " + s.error().message(), 1);
  }
  return std::optional<TlsContext>(std::move(*context));
}

Result<std::optional<TlsContext>, int> tls_client_flags(const char* program, bool tls,
                                                        const std::string& cafile,
                                                        const std::string& server_hostname) {
  if (!tls) {
    if (!cafile.empty() || !server_hostname.empty()) {
      return fail(program, "--cafile and --server-hostname need --tls", 2);
    }
    return std::optional<TlsContext>();
  }
  Result<TlsContext, std::string> context = client_context(cafile);
  if (!context.ok()) return fail(program, context.error(), 1);
  return std::optional<TlsContext>(std::move(*context));
}

Result<HttpCommand, int> http_command(const char* program, const std::vector<char*>& args,
                                      const std::string& cafile) {
  if (args.size() != 2) {
    std::fprintf(stderr, "usage: %s [--cafile FILE] URL\n", program);
    return 2;
  }
  Result<Url, std::string> url = parse_url(args[1]);
  if (!url.ok()) return fail(program, url.error(), 2);
  HttpCommand command{std::move(*url), std::nullopt};
  if (command.url.scheme != "https") {
    if (!cafile.empty()) return fail(program, "--cafile is only meaningful with https://", 2);
    return command;
  }
  Result<TlsContext, std::string> context = client_context(cafile);
  if (!context.ok()) return fail(program, context.error(), 1);
  command.ssl = std::move(*context);
  return command;
}

}  // namespace sluice::examples
