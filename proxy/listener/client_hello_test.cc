#include "proxy/listener/client_hello.h"

#include <openssl/ssl.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::proxy::listener {
namespace {

// A real ClientHello, produced by OpenSSL's client into a memory BIO.
std::vector<uint8_t> MakeClientHello(const char* sni, const std::string& alpn_wire) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  if (sni != nullptr) SSL_set_tlsext_host_name(ssl, sni);
  if (!alpn_wire.empty()) {
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn_wire.data()),
                        static_cast<unsigned>(alpn_wire.size()));
  }
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);
  std::vector<uint8_t> out(BIO_pending(wbio));
  BIO_read(wbio, out.data(), static_cast<int>(out.size()));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

TEST(ClientHelloTest, ReadsSniAndAlpn) {
  auto hello = MakeClientHello("Foo.Example.COM", std::string("\x02h2\x08http/1.1", 12));
  ASSERT_GT(hello.size(), 50u);
  ClientHello ch = ParseClientHello(hello);
  ASSERT_EQ(ch.result, ClientHello::Result::kOk);
  EXPECT_EQ(ch.sni, "foo.example.com");
  EXPECT_EQ(ch.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(ClientHelloTest, NoSni) {
  auto hello = MakeClientHello(nullptr, "");
  ClientHello ch = ParseClientHello(hello);
  ASSERT_EQ(ch.result, ClientHello::Result::kOk);
  EXPECT_EQ(ch.sni, "");
  EXPECT_TRUE(ch.alpn.empty());
}

TEST(ClientHelloTest, EveryPrefixNeedsMore) {
  auto hello = MakeClientHello("a.b", "");
  for (size_t n = 0; n < hello.size(); ++n) {
    ClientHello ch = ParseClientHello(std::span<const uint8_t>(hello.data(), n));
    ASSERT_EQ(ch.result, ClientHello::Result::kNeedMore) << n;
  }
}

TEST(ClientHelloTest, SplitAcrossRecords) {
  auto hello = MakeClientHello("split.example", "");
  // Re-frame the handshake message into two records of the same content.
  std::vector<uint8_t> msg(hello.begin() + 5, hello.end());
  size_t half = msg.size() / 2;
  std::vector<uint8_t> framed;
  auto record = [&](size_t from, size_t to) {
    size_t n = to - from;
    framed.insert(framed.end(),
                  {0x16, 0x03, 0x01, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
    framed.insert(framed.end(), msg.begin() + from, msg.begin() + to);
  };
  record(0, half);
  EXPECT_EQ(ParseClientHello(framed).result, ClientHello::Result::kNeedMore);
  record(half, msg.size());
  ClientHello ch = ParseClientHello(framed);
  ASSERT_EQ(ch.result, ClientHello::Result::kOk);
  EXPECT_EQ(ch.sni, "split.example");
}

TEST(ClientHelloTest, PlainHttpIsNotTls) {
  std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ClientHello ch = ParseClientHello(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(get.data()), get.size()));
  EXPECT_EQ(ch.result, ClientHello::Result::kNotTls);
}

TEST(ClientHelloTest, TruncatedExtensionIsRejected) {
  auto hello = MakeClientHello("x.example", "");
  // Claim a longer extensions block than the message holds: shrink the record length
  // fields would be complex; instead corrupt the SNI list length.
  std::vector<uint8_t> bad = hello;
  // Find "x.example" and bump the 2-byte name length before it.
  for (size_t i = 2; i + 9 <= bad.size(); ++i) {
    if (std::string(bad.begin() + i, bad.begin() + i + 9) == "x.example") {
      bad[i - 1] = 0xff;
      break;
    }
  }
  EXPECT_EQ(ParseClientHello(bad).result, ClientHello::Result::kNotTls);
}

}  // namespace
}  // namespace gatehouse::proxy::listener
