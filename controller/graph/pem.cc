#include "controller/graph/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace gatehouse::graph {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioFree> Bio(std::string_view s) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

std::unique_ptr<X509, X509Free> FirstCert(std::string_view pem) {
  auto bio = Bio(pem);
  X509* x = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  ERR_clear_error();
  return std::unique_ptr<X509, X509Free>(x);
}

}  // namespace

std::string CheckCertificateAndKey(std::string_view cert_pem, std::string_view key_pem) {
  if (cert_pem.empty()) return "tls.crt is empty";
  if (key_pem.empty()) return "tls.key is empty";
  auto cert = FirstCert(cert_pem);
  if (!cert) return "tls.crt does not hold a PEM certificate";
  auto bio = Bio(key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  if (!key) return "tls.key does not hold a PEM private key";
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return "tls.key does not match the certificate in tls.crt";
  }
  return "";
}

std::string CheckCABundle(std::string_view pem) {
  if (pem.empty()) return "the CA bundle is empty";
  if (!FirstCert(pem)) return "the CA bundle does not hold a PEM certificate";
  return "";
}

}  // namespace gatehouse::graph
