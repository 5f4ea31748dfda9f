#include "proxy/config/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/buffer.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gatehouse::proxy::config {
namespace {

namespace pb = ::gatehouse::config::v1;
namespace ssl = boost::asio::ssl;

std::string OpenSslError(const boost::system::error_code& ec) {
  std::string out = ec.message();
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    absl::StrAppend(&out, "; ", buf);
  }
  return out;
}

// Selects the first protocol of ours that the client also offers (server preference).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void* arg) {
  const auto* self = static_cast<const ServerTlsContext*>(arg);
  unsigned char* selected = nullptr;
  int r = SSL_select_next_proto(&selected, outlen,
                                reinterpret_cast<const unsigned char*>(self->alpn_wire.data()),
                                static_cast<unsigned int>(self->alpn_wire.size()), in, inlen);
  if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// Loads every certificate of a PEM bundle into the context's trust store.
absl::Status AddCaBundle(ssl::context& ctx, const pb::Secret& ca) {
  boost::system::error_code ec;
  ctx.add_certificate_authority(boost::asio::buffer(ca.cert_pem()), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret ", ca.name(), ": CA bundle: ", OpenSslError(ec)));
  }
  return absl::OkStatus();
}

absl::Status UseCertificate(ssl::context& ctx, const pb::Secret& secret) {
  boost::system::error_code ec;
  ctx.use_certificate_chain(boost::asio::buffer(secret.cert_pem()), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret ", secret.name(), ": certificate: ", OpenSslError(ec)));
  }
  ctx.use_private_key(boost::asio::buffer(secret.key_pem()), ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret ", secret.name(), ": private key: ", OpenSslError(ec)));
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("secret ", secret.name(), ": private key does not match the certificate"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string AlpnWire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) continue;
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  return wire;
}

absl::StatusOr<std::shared_ptr<ServerTlsContext>> MakeServerTlsContext(
    const std::vector<const pb::Secret*>& certificates, const std::vector<std::string>& alpn,
    const pb::Secret* client_ca, bool allow_insecure_fallback) {
  if (certificates.empty()) return absl::InvalidArgumentError("no certificate");
  auto out = std::make_shared<ServerTlsContext>();
  ssl::context& ctx = out->ctx;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  // "First usable wins": try each secret in order, keep the first that loads.
  absl::Status last = absl::InvalidArgumentError("no certificate");
  bool loaded = false;
  for (const pb::Secret* secret : certificates) {
    last = UseCertificate(ctx, *secret);
    if (last.ok()) {
      loaded = true;
      break;
    }
  }
  if (!loaded) return last;

  out->alpn_wire = AlpnWire(alpn.empty() ? std::vector<std::string>{"h2", "http/1.1"} : alpn);
  SSL_CTX_set_alpn_select_cb(ctx.native_handle(), &SelectAlpn, out.get());

  if (client_ca != nullptr) {
    if (absl::Status s = AddCaBundle(ctx, *client_ca); !s.ok()) return s;
    if (allow_insecure_fallback) {
      // Ask for a certificate but accept the connection whatever happens.
      SSL_CTX_set_verify(ctx.native_handle(), SSL_VERIFY_PEER,
                         [](int, X509_STORE_CTX*) { return 1; });
    } else {
      ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }
  return out;
}

absl::StatusOr<std::shared_ptr<ssl::context>> MakeUpstreamTlsContext(
    const pb::UpstreamTls& tls, const pb::Secret* ca, const pb::Secret* client_certificate) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx->set_verify_mode(ssl::verify_peer);
  if (ca != nullptr) {
    if (absl::Status s = AddCaBundle(*ctx, *ca); !s.ok()) return s;
  }
  if (ca == nullptr || tls.use_system_trust()) {
    boost::system::error_code ec;
    ctx->set_default_verify_paths(ec);
  }
  if (client_certificate != nullptr) {
    if (absl::Status s = UseCertificate(*ctx, *client_certificate); !s.ok()) return s;
  }
  std::vector<std::string> alpn(tls.alpn().begin(), tls.alpn().end());
  if (!alpn.empty()) {
    std::string wire = AlpnWire(alpn);
    SSL_CTX_set_alpn_protos(ctx->native_handle(),
                            reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }
  return ctx;
}

}  // namespace gatehouse::proxy::config
