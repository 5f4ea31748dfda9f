// The catalogue of condition types and reasons Gatehouse writes (the exact
// strings of Gateway API v1.7.0), and the one merge rule for writing them:
// observedGeneration is always the object's current generation, lastTransitionTime
// changes only when a condition's status changes, and condition types owned by
// someone else are kept untouched.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>

namespace gatehouse::status {

// A desired condition, before time and generation are stamped on it.
struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;

  bool IsTrue() const { return status == "True"; }
  bool operator==(const Condition&) const = default;
};

Condition True(std::string_view type, std::string_view reason, std::string message = "");
Condition False(std::string_view type, std::string_view reason, std::string message);

namespace type {
inline constexpr std::string_view kAccepted = "Accepted";
inline constexpr std::string_view kProgrammed = "Programmed";
inline constexpr std::string_view kResolvedRefs = "ResolvedRefs";
inline constexpr std::string_view kConflicted = "Conflicted";
inline constexpr std::string_view kPartiallyInvalid = "PartiallyInvalid";
inline constexpr std::string_view kInsecureFrontendValidationMode =
    "InsecureFrontendValidationMode";
inline constexpr std::string_view kSupportedVersion = "SupportedVersion";
}  // namespace type

namespace reason {
// Shared by several kinds.
inline constexpr std::string_view kAccepted = "Accepted";
inline constexpr std::string_view kProgrammed = "Programmed";
inline constexpr std::string_view kResolvedRefs = "ResolvedRefs";
inline constexpr std::string_view kInvalid = "Invalid";
inline constexpr std::string_view kPending = "Pending";
inline constexpr std::string_view kRefNotPermitted = "RefNotPermitted";
inline constexpr std::string_view kInvalidParameters = "InvalidParameters";
inline constexpr std::string_view kUnsupportedValue = "UnsupportedValue";
inline constexpr std::string_view kInvalidKind = "InvalidKind";
inline constexpr std::string_view kNoValidCACertificate = "NoValidCACertificate";
inline constexpr std::string_view kInvalidCACertificateRef = "InvalidCACertificateRef";
// GatewayClass.
inline constexpr std::string_view kUnsupportedVersion = "UnsupportedVersion";
inline constexpr std::string_view kSupportedVersion = "SupportedVersion";
// Gateway.
inline constexpr std::string_view kListenersNotValid = "ListenersNotValid";
inline constexpr std::string_view kListenersNotResolved = "ListenersNotResolved";
inline constexpr std::string_view kUnsupportedAddress = "UnsupportedAddress";
inline constexpr std::string_view kAddressNotAssigned = "AddressNotAssigned";
inline constexpr std::string_view kAddressNotUsable = "AddressNotUsable";
inline constexpr std::string_view kInvalidClientCertificateRef = "InvalidClientCertificateRef";
inline constexpr std::string_view kConfigurationChanged = "ConfigurationChanged";
// Listener.
inline constexpr std::string_view kUnsupportedProtocol = "UnsupportedProtocol";
inline constexpr std::string_view kProtocolConflict = "ProtocolConflict";
inline constexpr std::string_view kHostnameConflict = "HostnameConflict";
inline constexpr std::string_view kNoConflicts = "NoConflicts";
inline constexpr std::string_view kInvalidCertificateRef = "InvalidCertificateRef";
inline constexpr std::string_view kInvalidRouteKinds = "InvalidRouteKinds";
inline constexpr std::string_view kInvalidCACertificateKind = "InvalidCACertificateKind";
// ListenerSet.
inline constexpr std::string_view kNotAllowed = "NotAllowed";
inline constexpr std::string_view kParentNotAccepted = "ParentNotAccepted";
// Route.
inline constexpr std::string_view kNotAllowedByListeners = "NotAllowedByListeners";
inline constexpr std::string_view kNoMatchingListenerHostname = "NoMatchingListenerHostname";
inline constexpr std::string_view kNoMatchingParent = "NoMatchingParent";
inline constexpr std::string_view kIncompatibleFilters = "IncompatibleFilters";
inline constexpr std::string_view kBackendNotFound = "BackendNotFound";
// Implementation-specific (the spec lists none for it; Envoy Gateway's name): a
// backendRef whose Service has an invalid BackendTLSPolicy.
inline constexpr std::string_view kInvalidBackendTLS = "InvalidBackendTLS";
// Policy.
inline constexpr std::string_view kConflicted = "Conflicted";
inline constexpr std::string_view kTargetNotFound = "TargetNotFound";
}  // namespace reason

// Builds the conditions list to write. `desired` come first, in their order, each
// stamped with `generation`; lastTransitionTime is kept from `previous` when the
// same type had the same status, else `now`. Conditions in `previous` whose type
// is neither desired nor in `owned` belong to someone else and are kept verbatim.
boost::json::array MergeConditions(const std::vector<Condition>& desired,
                                   const boost::json::array* previous, int64_t generation,
                                   std::string_view now,
                                   const std::vector<std::string_view>& owned = {});

// The `conditions` array of a status (or of a status sub-object), or nullptr.
const boost::json::array* ConditionsOf(const boost::json::object* status_like);

}  // namespace gatehouse::status
