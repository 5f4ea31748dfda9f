// Reads what the provisioners need about a Gateway from its object (identity,
// spec.infrastructure labels and annotations) and from its snapshot (ports).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "controller/infra/provisioner.h"
#include "gatehouse/config/v1/config.pb.h"

namespace gatehouse::infra {

// The Gateways among `objects` by "namespace/name".
std::map<std::string, source::ObjectPtr> GatewaysByKey(
    const std::vector<source::ObjectPtr>& objects);

// `gateway` may be null (then only key, namespace, name and addresses are set);
// `snapshot` may be null (no ports). Malformed fields read as absent.
GatewayInfo MakeGatewayInfo(const std::string& key, const boost::json::object* gateway,
                            const gatehouse::config::v1::Snapshot* snapshot,
                            const std::vector<Address>& spec_addresses);

}  // namespace gatehouse::infra
