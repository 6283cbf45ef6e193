// Feeds fuzzer bytes as TLS records to a server-side TLS Connection (the
// connection seam with a TlsSession under it), the way a driver would: in
// chunks, through data_received or prepare_receive/commit_received, with a
// user reading and the peer taking everything sent. Two modes:
//   - raw: the input (after a 2-byte header) is the whole ciphertext stream
//     from the "client";
//   - in transit: a real sluice client talks to the server and the input is
//     XORed onto its ciphertext (zeros: an untouched conversation), so
//     corruption reaches records after the handshake too.
// Header: byte 0 = flags (bit 0 zero-copy receive, bit 1 EOF at the end,
// bit 2 in-transit mode, bit 3 plaintext queued before the handshake, bits
// 4-7 the chunk size, see kChunkSizes); byte 1 = the reader's limit.
// Corpus (fuzz/corpus/tls_server_fuzz/, hand-made, no keys): ClientHellos
// (TLS 1.3 and 1.2) captured from sluice's own client Connection, fed whole,
// 1 KiB or 1 byte at a time, truncated then EOF; an HTTP request; a clean
// in-transit conversation; and in-transit flips of one bit in the client's
// Finished, application data and close_notify records.
// Invariants, after every driver call:
//   - no crash, and Connection::check_invariants() holds;
//   - no unbounded growth: nothing received waits unprocessed, the
//     ciphertext queued for sending stays small, the reader holds at most
//     2*limit plus one receive;
//   - a failure is a clear error: kTlsError with OpenSSL's reason, or
//     kConnectionError (EOF during the handshake), never anything else;
//     after it the connection only asks to flush and close.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/connection.h"
#include "core/tls/testing/test_certs.h"
#include "fuzz/fuzz_input.h"

namespace {

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

using sluice::Completions;
using sluice::Connection;
using sluice::ConnectionOptions;
using sluice::ReadPoll;
using sluice::StreamErrc;
using sluice::StreamError;
using sluice::TlsOptions;
using sluice::TlsRole;
using sluice::TlsState;
using sluice::WriteAction;

constexpr std::size_t kChunkSizes[] = {1, 2, 3, 5, 7, 16, 64, 100, 517, 1024, 4096, 1 << 20};

const sluice::TlsContext& server_context() {
  static const sluice::TlsContext ctx =
      sluice::testing::make_server_context(sluice::testing::test_pki());
  return ctx;
}

const sluice::TlsContext& client_context() {
  static const sluice::TlsContext ctx =
      sluice::testing::make_client_context(sluice::testing::test_pki());
  return ctx;
}

void check_error(const StreamError& e) {
  FUZZ_CHECK(e.code == StreamErrc::kTlsError || e.code == StreamErrc::kConnectionError);
  if (e.code == StreamErrc::kTlsError) FUZZ_CHECK(!e.tls_reason.empty());
  FUZZ_CHECK(!e.message().empty());
}

void check_completions(const Completions& c) {
  if (c.read && !c.read->ok()) {
    const StreamError& e = c.read->error();
    if (e.code != StreamErrc::kIncompleteRead) check_error(e);
  }
  if (c.handshake && !c.handshake->ok()) check_error(c.handshake->error());
  if (c.closed && !c.closed->ok()) check_error(c.closed->error());
}

struct Server {
  Connection conn;
  std::size_t limit;
  std::size_t max_chunk = 0;
  bool reading = false;  // a read is pending

  void check() {
    conn.check_invariants();
    const sluice::TlsSession* tls = conn.tls();
    FUZZ_CHECK(tls != nullptr);
    if (!conn.is_lost()) FUZZ_CHECK(tls->input_size() == 0);
    // A server's flight (certificate included) plus alerts and what the
    // reader's echo writes: small.
    FUZZ_CHECK(tls->output_size() <= sluice::kDefaultTlsOutgoingLimit + 32 * 1024);
    FUZZ_CHECK(conn.reader().buffered_size() <=
               2 * limit + max_chunk + sluice::kTlsMaxRecordPlaintext);
    if (tls->state() == TlsState::kFailed) {
      check_error(*tls->error());
      const WriteAction a = conn.write_action();
      FUZZ_CHECK(conn.is_lost() || a == WriteAction::kSend || a == WriteAction::kClose);
      FUZZ_CHECK(!conn.want_read());
    }
  }

  void deliver(Completions c) {
    check_completions(c);
    if (c.read) reading = false;
  }

  // The user: reads whatever is there (and echoes a little of it).
  void user() {
    if (reading || conn.is_lost()) return;
    ReadPoll r = conn.reader().read(static_cast<std::int64_t>(limit));
    if (!r) {
      reading = true;
      return;
    }
    if (r->ok() && !r->value().empty()) {
      (void)conn.writer().write(std::string_view(r->value()).substr(0, 16));
    }
  }

  // Feeds `bytes` as one receive. Returns false once the server stopped
  // reading for good.
  bool receive(std::string_view bytes, bool zero_copy) {
    if (conn.is_lost() || bytes.empty()) return !conn.is_lost();
    if (!conn.want_read()) {
      user();
      if (!conn.want_read()) return false;
    }
    max_chunk = std::max(max_chunk, bytes.size());
    if (zero_copy) {
      std::span<char> space = conn.prepare_receive(bytes.size());
      FUZZ_CHECK(space.size() >= bytes.size());
      std::copy(bytes.begin(), bytes.end(), space.begin());
      deliver(conn.commit_received(bytes.size()));
    } else {
      deliver(conn.data_received(bytes));
    }
    check();
    return true;
  }

  // Everything the server wants to send goes; returns it. Closes as asked.
  std::string send() {
    std::string out;
    std::array<std::string_view, 16> views;
    for (int guard = 0; guard < 10000 && !conn.is_lost(); ++guard) {
      const WriteAction a = conn.write_action();
      if (a == WriteAction::kSend) {
        const std::size_t k = conn.next_send(views);
        std::size_t n = 0;
        for (std::size_t i = 0; i < k; ++i) {
          out += views[i];
          n += views[i].size();
        }
        deliver(conn.bytes_sent(n));
      } else if (a == WriteAction::kClose || a == WriteAction::kAbort) {
        deliver(conn.connection_lost());
      } else {
        break;
      }
      check();
    }
    return out;
  }
};

void run_raw(std::string_view stream, std::size_t chunk, bool zero_copy, bool eof, Server& s) {
  while (!stream.empty()) {
    const std::size_t n = std::min(chunk, stream.size());
    if (!s.receive(stream.substr(0, n), zero_copy)) break;
    stream.remove_prefix(n);
    (void)s.send();
    s.user();
    s.check();
  }
  if (eof && !s.conn.is_lost()) {
    s.deliver(s.conn.eof_received());
    s.check();
    (void)s.send();
  }
}

// A real client; the fuzz bytes are XORed onto its ciphertext.
void run_in_transit(std::string_view mask, std::size_t chunk, bool zero_copy, Server& s) {
  Connection client(ConnectionOptions{
      .tls = TlsOptions{.context = client_context(), .role = TlsRole::kClient,
                        .server_hostname = "localhost"}});
  (void)client.writer().write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  std::size_t offset = 0;  // into the client's ciphertext stream
  std::array<std::string_view, 16> views;
  for (int round = 0; round < 200 && !s.conn.is_lost() && !client.is_lost(); ++round) {
    if (round == 20) client.writer().close();
    // Client -> server, masked.
    std::string wire;
    while (client.write_action() == WriteAction::kSend) {
      const std::size_t k = client.next_send(views);
      std::size_t n = 0;
      for (std::size_t i = 0; i < k; ++i) {
        wire += views[i];
        n += views[i].size();
      }
      (void)client.bytes_sent(n);
    }
    for (char& c : wire) {
      if (offset < mask.size()) c = static_cast<char>(c ^ mask[offset]);
      ++offset;
    }
    for (std::size_t i = 0; i < wire.size(); i += chunk) {
      if (!s.receive(std::string_view(wire).substr(i, chunk), zero_copy)) break;
    }
    const WriteAction ca = client.write_action();
    if (ca == WriteAction::kClose || ca == WriteAction::kAbort) {
      (void)client.connection_lost();
      if (!s.conn.is_lost()) {
        s.deliver(s.conn.eof_received());
        s.check();
      }
    }
    // Server -> client, untouched.
    const std::string back = s.send();
    if (!back.empty() && !client.is_lost() && client.want_read()) {
      (void)client.data_received(back);
    }
    if (s.conn.is_lost() && !client.is_lost() && client.want_read()) (void)client.eof_received();
    s.user();
    s.check();
    client.check_invariants();
    if (wire.empty() && back.empty() && round > 25) break;
  }
  if (!client.is_lost()) (void)client.connection_lost();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::FuzzInput in(data, size);
  const std::uint8_t flags = in.byte();
  const std::size_t limit = 1 + in.range(0, 255) * 257;  // 1 .. 65536
  const std::string stream(reinterpret_cast<const char*>(data) + std::min<std::size_t>(size, 2),
                           size - std::min<std::size_t>(size, 2));
  const std::size_t chunk = kChunkSizes[(flags >> 4) % std::size(kChunkSizes)];
  const bool zero_copy = (flags & 1) != 0;
  const bool eof = (flags & 2) != 0;
  const bool in_transit = (flags & 4) != 0;

  Server s{Connection(ConnectionOptions{
               .limit = limit,
               .tls = TlsOptions{.context = server_context(), .role = TlsRole::kServer}}),
           limit};
  if ((flags & 8) != 0) (void)s.conn.writer().write("220 banner queued before the handshake\r\n");
  s.check();
  if (in_transit) {
    run_in_transit(stream, chunk, zero_copy, s);
  } else {
    run_raw(stream, chunk, zero_copy, eof, s);
  }
  if (!s.conn.is_lost()) s.deliver(s.conn.connection_lost());
  s.check();
  FUZZ_CHECK(s.conn.writer().wait_closed().has_value());
  return 0;
}
