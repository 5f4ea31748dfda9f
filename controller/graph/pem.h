// Sanity checks of PEM material with OpenSSL, so a malformed Secret or CA bundle
// becomes a condition on the object that references it rather than a NACK from
// every proxy.
#pragma once

#include <string>
#include <string_view>

namespace gatehouse::graph {

// "" when `cert_pem` holds at least one certificate, `key_pem` a private key, and
// the key belongs to the first certificate; else why not.
std::string CheckCertificateAndKey(std::string_view cert_pem, std::string_view key_pem);

// "" when `pem` holds at least one parsable certificate; else why not.
std::string CheckCABundle(std::string_view pem);

}  // namespace gatehouse::graph
