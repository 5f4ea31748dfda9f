// Where the controller's input objects come from and where status goes: a
// directory of YAML (standalone use, tests) or the Kubernetes API server. The
// reconcile loop only sees this interface.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <boost/json/object.hpp>

#include "controller/status/update.h"

namespace gatehouse::source {

// One Kubernetes-shaped object (apiVersion, kind, metadata, spec, status), as
// parsed JSON. Shared and immutable once published.
using ObjectPtr = std::shared_ptr<const boost::json::object>;

class Provider {
 public:
  virtual ~Provider() = default;

  // Begins watching. `on_change` is called (from any thread) after the set of
  // objects changed; callers coalesce bursts. It is also called once after the
  // first complete load (for the API server: after every informer synced).
  virtual void Start(std::function<void()> on_change) = 0;

  // A consistent copy of every current object of every watched kind.
  virtual std::vector<ObjectPtr> Objects() const = 0;

  // Writes desired status for objects. Implementations skip writes whose status
  // equals what the object already has.
  virtual void WriteStatus(const std::vector<status::StatusUpdate>& updates) = 0;

  virtual void Stop() = 0;
};

}  // namespace gatehouse::source
