#include "controller/graph/pem.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace gatehouse::graph {
namespace {

std::string ToPem(int (*write)(BIO*, void*), void* obj) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio, obj);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

// A fresh self-signed certificate and key, made with OpenSSL for the test.
struct Pair {
  std::string cert;
  std::string key;
};

Pair MakePair() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_sign(x, key, EVP_sha256());
  Pair p;
  p.cert = ToPem([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, x);
  p.key = ToPem(
      [](BIO* b, void* o) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0, nullptr,
                                        nullptr);
      },
      key);
  X509_free(x);
  EVP_PKEY_free(key);
  return p;
}

TEST(CheckCertificateAndKey, AcceptsAMatchingPair) {
  Pair p = MakePair();
  EXPECT_EQ(CheckCertificateAndKey(p.cert, p.key), "");
}

TEST(CheckCertificateAndKey, RejectsMismatchAndGarbage) {
  Pair a = MakePair(), b = MakePair();
  EXPECT_EQ(CheckCertificateAndKey(a.cert, b.key),
            "tls.key does not match the certificate in tls.crt");
  EXPECT_EQ(CheckCertificateAndKey("not a pem", a.key), "tls.crt does not hold a PEM certificate");
  EXPECT_EQ(CheckCertificateAndKey(
                a.cert, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            "tls.key does not hold a PEM private key");
  EXPECT_EQ(CheckCertificateAndKey("", a.key), "tls.crt is empty");
}

TEST(CheckCABundle, NeedsOneCertificate) {
  Pair a = MakePair();
  EXPECT_EQ(CheckCABundle(a.cert + a.cert), "");
  EXPECT_EQ(CheckCABundle(""), "the CA bundle is empty");
  EXPECT_EQ(CheckCABundle(a.key), "the CA bundle does not hold a PEM certificate");
}

}  // namespace
}  // namespace gatehouse::graph
