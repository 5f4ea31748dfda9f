// Test certificates made with OpenSSL at test time (nothing checked in): a CA and
// leaf certificates signed by it, as PEM strings.
#pragma once

#include <string>
#include <vector>

namespace gatehouse::proxy::testing {

struct Pem {
  std::string cert;
  std::string key;
};

// A self-signed CA (EC P-256).
Pem MakeCa(const std::string& common_name);

// A leaf for `dns_names` (subjectAltName DNS entries, "*.foo.com" allowed), signed by `ca`.
Pem MakeLeaf(const Pem& ca, const std::string& common_name,
             const std::vector<std::string>& dns_names);

}  // namespace gatehouse::proxy::testing
