#include "core/tls/tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cassert>
#include <climits>
#include <cstring>
#include <system_error>
#include <utility>

#include "core/tls/openssl_error.h"

namespace sluice {

using tls_internal::openssl_failure;
using tls_internal::take_openssl_reason;

std::string_view to_string(TlsState state) {
  switch (state) {
    case TlsState::kHandshaking:
      return "kHandshaking";
    case TlsState::kEstablished:
      return "kEstablished";
    case TlsState::kShuttingDown:
      return "kShuttingDown";
    case TlsState::kClosed:
      return "kClosed";
    case TlsState::kFailed:
      return "kFailed";
  }
  return "?";
}

// ---- The BIO: OpenSSL's view of the session's two ciphertext buffers. ----------

struct TlsBio {
  static TlsSession* session(BIO* bio) { return static_cast<TlsSession*>(BIO_get_data(bio)); }

  // OpenSSL reads ciphertext: from the front of the input buffer. Empty
  // input is "retry later" (never EOF: input EOF is the caller's business,
  // see TlsSession::input_eof).
  static int read(BIO* bio, char* out, int len) {
    BIO_clear_retry_flags(bio);
    TlsSession* s = session(bio);
    if (s == nullptr || len <= 0) return 0;
    if (s->input_.empty()) {
      BIO_set_retry_read(bio);
      return -1;
    }
    const std::size_t n = std::min(static_cast<std::size_t>(len), s->input_.size());
    std::memcpy(out, s->input_.view().data(), n);
    s->input_.consume(n);
    return static_cast<int>(n);
  }

  // OpenSSL writes ciphertext: appended to the output queue, always whole
  // (the caller bounds how much plaintext it encrypts at a time).
  static int write(BIO* bio, const char* data, int len) {
    BIO_clear_retry_flags(bio);
    TlsSession* s = session(bio);
    if (s == nullptr || len < 0) return -1;
    s->output_.append(std::string_view(data, static_cast<std::size_t>(len)));
    s->ciphertext_out_ += static_cast<std::uint64_t>(len);
    return len;
  }

  static long ctrl(BIO* bio, int cmd, long, void*) {
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_PENDING: {
        TlsSession* s = session(bio);
        return s == nullptr ? 0 : static_cast<long>(std::min<std::size_t>(s->input_.size(), LONG_MAX));
      }
      default:
        return 0;  // WPENDING (nothing is held back), EOF (never), the rest unsupported
    }
  }

  static int create(BIO* bio) {
    BIO_set_data(bio, nullptr);
    BIO_set_init(bio, 1);
    return 1;
  }

  static int destroy(BIO* bio) {
    if (bio == nullptr) return 0;
    BIO_set_data(bio, nullptr);
    return 1;
  }

  // One method table for the process; never freed (like OpenSSL's own).
  static BIO_METHOD* method() {
    static BIO_METHOD* const kMethod = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sluice TlsSession");
      if (m != nullptr) {
        BIO_meth_set_read(m, &TlsBio::read);
        BIO_meth_set_write(m, &TlsBio::write);
        BIO_meth_set_ctrl(m, &TlsBio::ctrl);
        BIO_meth_set_create(m, &TlsBio::create);
        BIO_meth_set_destroy(m, &TlsBio::destroy);
      }
      return m;
    }();
    return kMethod;
  }
};

namespace {

bool is_ip_literal(const std::string& host) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  if (ip == nullptr) return false;
  ASN1_OCTET_STRING_free(ip);
  return true;
}

}  // namespace

// ---- Creation. --------------------------------------------------------------------

Result<std::unique_ptr<TlsSession>> TlsSession::create(const TlsOptions& options) {
  if (!options.context.valid()) {
    return StreamError::invalid_argument("TLS needs a TlsContext (this one is empty)");
  }
  if (options.context.role() != options.role) {
    return StreamError::invalid_argument(
        options.role == TlsRole::kServer
            ? "Cannot create a server TLS session with a client TlsContext"
            : "Cannot create a client TLS session with a server TlsContext");
  }
  const bool client = options.role == TlsRole::kClient;
  if (client && options.context.check_hostname() && options.server_hostname.empty()) {
    return StreamError::invalid_argument("check_hostname requires server_hostname");
  }
  std::unique_ptr<TlsSession> s(new TlsSession());
  s->context_ = options.context;
  s->role_ = options.role;
  if (client) s->server_hostname_ = options.server_hostname;

  ERR_clear_error();
  s->ssl_ = SSL_new(options.context.native_handle());
  if (s->ssl_ == nullptr) return openssl_failure("cannot create a TLS session");
  BIO* bio = TlsBio::method() == nullptr ? nullptr : BIO_new(TlsBio::method());
  if (bio == nullptr) return openssl_failure("cannot create a TLS session");
  BIO_set_data(bio, s.get());
  SSL_set_bio(s->ssl_, bio, bio);  // one BIO both ways; the SSL owns it
  // Idle connections give their record buffers back.
  SSL_set_mode(s->ssl_, SSL_MODE_RELEASE_BUFFERS);
  if (!client) {
    SSL_set_accept_state(s->ssl_);
    return s;
  }
  SSL_set_connect_state(s->ssl_);
  const std::string& host = options.server_hostname;
  if (host.empty()) return s;
  const bool ip = is_ip_literal(host);
  // RFC 6066: SNI carries host names only, never address literals.
  if (!ip && SSL_set_tlsext_host_name(s->ssl_, host.c_str()) != 1) {
    return openssl_failure("invalid server_hostname");
  }
  if (options.context.check_hostname()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(s->ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (ok != 1) return openssl_failure("invalid server_hostname");
  }
  return s;
}

std::unique_ptr<TlsSession> TlsSession::failed(StreamError error) {
  std::unique_ptr<TlsSession> s(new TlsSession());
  s->fail(std::move(error));
  return s;
}

TlsSession::~TlsSession() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees the BIO too
}

// ---- Transitions: every state change happens here. ------------------------------

void TlsSession::transition(TlsState to) {
#ifndef NDEBUG
  switch (state_) {
    case TlsState::kHandshaking:
      assert(to == TlsState::kEstablished || to == TlsState::kFailed);
      break;
    case TlsState::kEstablished:
      assert(to == TlsState::kShuttingDown || to == TlsState::kClosed || to == TlsState::kFailed);
      break;
    case TlsState::kShuttingDown:
      assert(to == TlsState::kClosed || to == TlsState::kFailed);
      break;
    case TlsState::kClosed:
    case TlsState::kFailed:
      assert(false && "no transition out of a terminal TLS state");
      break;
  }
#endif
  state_ = to;
  if (to == TlsState::kClosed || to == TlsState::kFailed) input_.clear();
}

void TlsSession::fail(StreamError error) {
  if (state_ == TlsState::kFailed) return;
  error_ = std::move(error);
  if (state_ == TlsState::kClosed) {
    // Only failed() builds a session that fails before running; a closed
    // session never fails again.
    assert(false && "fail() after kClosed");
    return;
  }
  transition(TlsState::kFailed);
}

void TlsSession::fail_from_openssl(const char* detail, int ret) {
  const int err = SSL_get_error(ssl_, ret);
  std::string reason = take_openssl_reason();
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    reason += reason.empty() ? "" : " ";
    reason += "(";
    reason += X509_verify_cert_error_string(verify);
    reason += ")";
  }
  if (reason.empty()) {
    reason = err == SSL_ERROR_SYSCALL ? "unexpected end of the transport"
                                      : "unknown OpenSSL error " + std::to_string(err);
  }
  fail(StreamError::tls(detail, std::move(reason)));
}

// ---- Input EOF. -----------------------------------------------------------------------

void TlsSession::input_eof() {
  if (input_ended_) return;
  input_ended_ = true;
  switch (state_) {
    case TlsState::kHandshaking:
      // asyncio: EOF during the handshake is ConnectionResetError.
      fail(StreamError::connection(std::make_error_code(std::errc::connection_reset),
                                   "Connection lost during the TLS handshake"));
      break;
    case TlsState::kShuttingDown:
      transition(TlsState::kClosed);
      break;
    case TlsState::kEstablished:  // the caller's policy (see the header)
    case TlsState::kClosed:
    case TlsState::kFailed:
      break;
  }
}

// ---- The engine. --------------------------------------------------------------------

TlsState TlsSession::handshake() {
  assert(state_ == TlsState::kHandshaking);
  if (state_ != TlsState::kHandshaking) return state_;
  const std::size_t before = input_.size();
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_);
  ciphertext_in_ += before - input_.size();
  if (ret == 1) {
    transition(TlsState::kEstablished);
  } else if (SSL_get_error(ssl_, ret) != SSL_ERROR_WANT_READ) {
    fail_from_openssl("TLS handshake failed", ret);
  }
  return state_;
}

TlsRead TlsSession::read(std::span<char> out) {
  assert(state_ != TlsState::kHandshaking);
  if (state_ == TlsState::kFailed) return {TlsRead::Kind::kFailed, 0};
  if (close_notify_received_) return {TlsRead::Kind::kCloseNotify, 0};
  if (state_ != TlsState::kEstablished && state_ != TlsState::kShuttingDown) {
    return {TlsRead::Kind::kWantInput, 0};  // closed by input EOF: nothing more
  }
  const std::size_t before = input_.size();
  const int len = static_cast<int>(std::min<std::size_t>(out.size(), INT_MAX));
  ERR_clear_error();
  const int ret = SSL_read(ssl_, out.data(), len);
  ciphertext_in_ += before - input_.size();
  if (ret > 0) {
    plaintext_in_ += static_cast<std::uint64_t>(ret);
    return {TlsRead::Kind::kData, static_cast<std::size_t>(ret)};
  }
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return {TlsRead::Kind::kWantInput, 0};
    case SSL_ERROR_ZERO_RETURN:
      close_notify_received_ = true;
      input_.clear();  // nothing after close_notify is read
      if (state_ == TlsState::kShuttingDown) transition(TlsState::kClosed);
      return {TlsRead::Kind::kCloseNotify, 0};
    default:
      fail_from_openssl("TLS error", ret);
      return {TlsRead::Kind::kFailed, 0};
  }
}

bool TlsSession::has_pending_plaintext() const {
  return ssl_ != nullptr && (!input_.empty() || SSL_pending(ssl_) > 0);
}

std::size_t TlsSession::write(std::string_view plaintext) {
  assert(state_ == TlsState::kEstablished);
  if (state_ != TlsState::kEstablished || plaintext.empty()) return 0;
  std::size_t done = 0;
  while (done < plaintext.size()) {
    const std::size_t n = std::min(plaintext.size() - done, kTlsMaxRecordPlaintext);
    ERR_clear_error();
    const int ret = SSL_write(ssl_, plaintext.data() + done, static_cast<int>(n));
    if (ret <= 0) {
      fail_from_openssl("TLS error", ret);
      return 0;
    }
    // The BIO takes everything, so SSL_write is never partial.
    assert(static_cast<std::size_t>(ret) == n);
    done += static_cast<std::size_t>(ret);
  }
  plaintext_out_ += done;
  return done;
}

TlsState TlsSession::shutdown() {
  assert(state_ == TlsState::kEstablished);
  if (state_ != TlsState::kEstablished) return state_;
  ERR_clear_error();
  const int ret = SSL_shutdown(ssl_);
  if (ret < 0) {
    fail_from_openssl("TLS shutdown failed", ret);
  } else if (ret == 1 || close_notify_received_ || input_ended_) {
    transition(TlsState::kClosed);
  } else {
    transition(TlsState::kShuttingDown);
  }
  return state_;
}

// ---- Peer information. ------------------------------------------------------------------

std::string_view TlsSession::protocol_version() const {
  if (ssl_ == nullptr || state_ == TlsState::kHandshaking) return {};
  const char* v = SSL_get_version(ssl_);
  return v == nullptr ? std::string_view() : std::string_view(v);
}

std::string_view TlsSession::cipher() const {
  if (ssl_ == nullptr) return {};
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  if (c == nullptr) return {};
  const char* name = SSL_CIPHER_get_name(c);
  return name == nullptr ? std::string_view() : std::string_view(name);
}

std::string_view TlsSession::alpn_protocol() const {
  if (ssl_ == nullptr) return {};
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  if (data == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(data), len);
}

std::string TlsSession::peer_certificate_der() const {
  if (ssl_ == nullptr) return {};
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) return {};
  const int len = i2d_X509(cert, nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<std::size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert, &p);
  return der;
}

std::string TlsSession::peer_certificate_subject() const {
  if (ssl_ == nullptr) return {};
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) return {};
  BIO* mem = BIO_new(BIO_s_mem());
  if (mem == nullptr) return {};
  X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem, &data);
  std::string subject = len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
  BIO_free(mem);
  return subject;
}

std::string_view TlsSession::server_name() const {
  if (role_ == TlsRole::kClient) return server_hostname_;
  if (ssl_ == nullptr) return {};
  const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return name == nullptr ? std::string_view() : std::string_view(name);
}

// ---- Invariants. ------------------------------------------------------------------------

void TlsSession::check_invariants() const {
#ifndef NDEBUG
  output_.check_invariants();
  assert(error_.has_value() == (state_ == TlsState::kFailed));
  assert(ssl_ != nullptr || state_ == TlsState::kFailed);
  // Input EOF ends a handshake (kFailed) and a shutdown (kClosed).
  if (input_ended_) assert(state_ != TlsState::kHandshaking && state_ != TlsState::kShuttingDown);
  if (state_ == TlsState::kShuttingDown) assert(!close_notify_received_);
#endif
}

}  // namespace sluice
