// Reads what the provisioners need about a Gateway from its object (identity,
// spec.infrastructure labels and annotations) and from its snapshot (ports).
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "controller/infra/provisioner.h"
#include "gatehouse/config/v1/config.pb.h"

namespace gatehouse::infra {

// Finds the Gateway "namespace/name" among `objects` (nullptr if absent).
source::ObjectPtr FindGateway(const std::vector<source::ObjectPtr>& objects,
                              const std::string& key);

// `gateway` may be null (then only key, namespace, name and addresses are set);
// `snapshot` may be null (no ports). Malformed fields read as absent.
GatewayInfo MakeGatewayInfo(const std::string& key, const boost::json::object* gateway,
                            const gatehouse::config::v1::Snapshot* snapshot,
                            const std::vector<Address>& spec_addresses);

}  // namespace gatehouse::infra
