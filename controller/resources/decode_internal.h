// Decoders shared between decode.cc (dispatch, metadata, core kinds) and
// decode_gateway_api.cc (Gateway API kinds). Each throws internal::FieldError.
#pragma once

#include <boost/json/object.hpp>

#include "controller/resources/core.h"
#include "controller/resources/gateway_api.h"
#include "controller/resources/json_reader.h"

namespace gatehouse::resources::internal {

ObjectRef DecodeObjectRef(const boost::json::object& o, const Path& path,
                          std::string_view default_group, std::string_view default_kind);
LabelSelector DecodeSelector(const boost::json::object& o, const Path& path);

// `spec` may be empty (absent in the object).
void DecodeGatewayClass(const boost::json::object& spec, const Path& path, GatewayClass& out);
void DecodeGateway(const boost::json::object& spec, const Path& path, Gateway& out);
void DecodeListenerSet(const boost::json::object& spec, const Path& path, ListenerSet& out);
void DecodeHTTPRoute(const boost::json::object& spec, const Path& path, HTTPRoute& out);
void DecodeGRPCRoute(const boost::json::object& spec, const Path& path, GRPCRoute& out);
void DecodeL4Route(const boost::json::object& spec, const Path& path, L4Route& out);
void DecodeReferenceGrant(const boost::json::object& spec, const Path& path, ReferenceGrant& out);
void DecodeBackendTLSPolicy(const boost::json::object& spec, const Path& path,
                            BackendTLSPolicy& out);

}  // namespace gatehouse::resources::internal
