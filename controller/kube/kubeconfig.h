// How to reach and authenticate to the Kubernetes API server: a kubeconfig file
// (client certificates, bearer token, exec credential plugin, CA; inline base64
// data or file paths) or
// the in-cluster service-account configuration.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "controller/kube/exec_credential.h"

namespace gatehouse::kube {

struct KubeConfig {
  // "https://host:port" or "http://host:port" (plain HTTP: tests, local proxies).
  std::string server;
  // PEM bundle that verifies the server. Empty: the system's default CA store.
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  // SNI / name checked in the server certificate. Empty: the host of `server`.
  std::string tls_server_name;
  // Client certificate authentication (PEM).
  std::string client_cert_pem;
  std::string client_key_pem;
  // Bearer token. `token_file` wins when set: it is re-read on every new
  // connection because projected service-account tokens rotate.
  std::string token;
  std::string token_file;
  // A credential plugin (users[].user.exec) that prints the bearer token.
  ExecConfig exec;
  // The context's namespace or the service account's namespace ("" if none).
  std::string ns;
};

// Parses a kubeconfig file. `context` empty: the file's current-context.
absl::StatusOr<KubeConfig> LoadKubeConfig(const std::string& path, const std::string& context = "");

// Same as LoadKubeConfig, from the file's content. Relative file references are
// resolved against `base_dir`.
absl::StatusOr<KubeConfig> ParseKubeConfig(const std::string& yaml, const std::string& base_dir,
                                           const std::string& context = "");

// KUBERNETES_SERVICE_HOST/PORT and the files under `sa_dir` (token, ca.crt,
// namespace).
absl::StatusOr<KubeConfig> LoadInClusterConfig(
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// `path` if given, else $KUBECONFIG (first entry), else in-cluster, else
// ~/.kube/config.
absl::StatusOr<KubeConfig> LoadDefaultConfig(const std::string& path);

// The bearer token to send now: the exec plugin's (cached), token_file's
// content (trimmed) or token.
absl::StatusOr<std::string> CurrentToken(const KubeConfig& config);

}  // namespace gatehouse::kube
