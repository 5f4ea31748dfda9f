// kubeconfig `users[].user.exec` credential plugins (client.authentication.k8s.io
// ExecCredential), as cloud clusters use them (aws eks get-token,
// gke-gcloud-auth-plugin, kubelogin): the plugin is run without a terminal, its
// token cached until the expiry it states.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace gatehouse::kube {

struct ExecConfig {
  std::string command;  // looked up in PATH when it has no slash
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to the controller's
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1

  bool empty() const { return command.empty(); }
};

struct ExecToken {
  std::string token;
  // absl::InfiniteFuture() when the plugin gave no expirationTimestamp.
  absl::Time expires = absl::InfiniteFuture();
};

// Runs the plugin once and parses its ExecCredential. Errors name the command
// and carry its stderr; a credential without a token (client certificates
// only) is Unimplemented.
absl::StatusOr<ExecToken> RunExecPlugin(const ExecConfig& exec,
                                        absl::Duration timeout = absl::Seconds(30));

// The cached token of `exec`, running the plugin when there is none or it
// expires within a minute. A token without expiry is kept for `max_age`.
absl::StatusOr<std::string> ExecTokenCached(const ExecConfig& exec,
                                            absl::Duration max_age = absl::Minutes(10));

// Drops the cached token (the server answered 401): the next use runs the plugin.
void ForgetExecToken(const ExecConfig& exec);

}  // namespace gatehouse::kube
