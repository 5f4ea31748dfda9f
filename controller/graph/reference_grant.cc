#include "controller/graph/reference_grant.h"

namespace gatehouse::graph {

namespace {

// Fields cannot contain NUL, so it separates them unambiguously.
std::string AllowKey(std::string_view from_group, std::string_view from_kind,
                     std::string_view from_ns, std::string_view to_group, std::string_view to_kind,
                     std::string_view to_ns, std::string_view to_name) {
  std::string k;
  for (std::string_view part :
       {from_group, from_kind, from_ns, to_group, to_kind, to_ns, to_name}) {
    k.append(part);
    k.push_back('\0');
  }
  return k;
}

// "core" is how some manifests spell the core group.
std::string_view CoreGroup(std::string_view g) { return g == "core" ? std::string_view() : g; }

}  // namespace

ReferenceGrants::ReferenceGrants(const std::vector<resources::ReferenceGrant>& grants) {
  for (const auto& g : grants) {
    for (const auto& f : g.from) {
      for (const auto& t : g.to) {
        allowed_.insert(AllowKey(CoreGroup(f.group), f.kind, f.ns, CoreGroup(t.group), t.kind,
                                 g.meta.ns, t.name ? std::string_view(*t.name) : "*"));
      }
    }
  }
}

bool ReferenceGrants::Allowed(const RefFrom& from, const RefTo& to) const {
  if (from.ns == to.ns) return true;
  std::string_view fg = CoreGroup(from.group), tg = CoreGroup(to.group);
  return allowed_.count(AllowKey(fg, from.kind, from.ns, tg, to.kind, to.ns, to.name)) > 0 ||
         allowed_.count(AllowKey(fg, from.kind, from.ns, tg, to.kind, to.ns, "*")) > 0;
}

}  // namespace gatehouse::graph
