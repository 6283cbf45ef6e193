// File: examples/cli.h
//
// What the examples' command lines share, on every backend: flag parsing
// that accepts dashes in flag names, the TLS contexts their flags describe,
// and the whole command line of http_headers and wget. Each program still
// defines its own flags (ABSL_FLAG), so its --help lists only those.
//
//   echo_server [--cert FILE --key FILE] ...       tls_server_flags()
//   echo_client [--tls [--cafile FILE] [--server-hostname NAME]] ...
//                                                  tls_client_flags()
//   http_headers [--cafile FILE] URL               http_command()
//   wget [--cafile FILE] URL                       http_command()
//
// Example (wget's main):
//   std::vector<char*> args = parse_command_line(argc, argv);
//   Result<HttpCommand, int> cmd = http_command("wget", args, absl::GetFlag(FLAGS_cafile));
//   if (!cmd.ok()) return cmd.error();  // the reason is already on stderr
//   options.ssl = cmd->ssl;             // nullopt for http://
//   ... open_connection(cmd->url.host, cmd->url.port, options) ...
//
// The functions that return an int error print why first, as
// "PROGRAM: WHAT" on standard error; the int is the exit status: 2 for a
// bad command line, 1 for a file that does not load (with OpenSSL's
// reason).

#ifndef SLUICE_EXAMPLES_CLI_H_
#define SLUICE_EXAMPLES_CLI_H_

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/tls/tls_context.h"
#include "examples/url.h"

namespace sluice::examples {

// parse_command_line: absl::ParseCommandLine, except that a flag may be
// spelled with dashes (--server-hostname for the server_hostname flag).
// Returns the positional arguments, the program name first.
std::vector<char*> parse_command_line(int argc, char** argv);

// client_context: a client context (certificate and hostname checks on)
// trusting the CA certificates of `cafile` (PEM), or the system store when
// `cafile` is empty. The error says which file failed and OpenSSL's reason.
Result<TlsContext, std::string> client_context(const std::string& cafile);

// tls_server_flags: --cert and --key, both or neither: a server context
// presenting them, or nullopt for neither (serve plain TCP).
Result<std::optional<TlsContext>, int> tls_server_flags(const char* program,
                                                        const std::string& cert,
                                                        const std::string& key);

// tls_client_flags: --tls, --cafile, --server-hostname: a client context
// (client_context(cafile)) with --tls, nullopt without it. --cafile and
// --server-hostname without --tls are a bad command line.
Result<std::optional<TlsContext>, int> tls_client_flags(const char* program, bool tls,
                                                        const std::string& cafile,
                                                        const std::string& server_hostname);

// HttpCommand: what http_headers and wget are asked to fetch.
struct HttpCommand {
  Url url;
  // https://: the client context to connect with (client_context(cafile));
  // nullopt for http://.
  std::optional<TlsContext> ssl;
};

// http_command: `PROGRAM [--cafile FILE] URL`, from the positional `args`
// (parse_command_line's) and the --cafile flag's value. --cafile with an
// http:// URL is a bad command line.
Result<HttpCommand, int> http_command(const char* program, const std::vector<char*>& args,
                                      const std::string& cafile);

}  // namespace sluice::examples

#endif  // SLUICE_EXAMPLES_CLI_H_
