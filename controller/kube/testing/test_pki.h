// Certificates for TLS tests, generated in memory with OpenSSL: a CA, a server
// certificate for 127.0.0.1/localhost and a client certificate, all signed by
// the CA. Nothing is read from or written to disk.
#pragma once

#include <string>

namespace gatehouse::kube::testing {

struct TestPki {
  std::string ca_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
};

// Aborts the test binary if OpenSSL fails (tests only).
TestPki MakeTestPki();

}  // namespace gatehouse::kube::testing
