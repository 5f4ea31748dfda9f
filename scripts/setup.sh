#!/usr/bin/env bash
# Idempotent machine set-up for Gatehouse on Debian 12: apt packages and the Go
# toolchain. A second run installs nothing. Everything the two README commands
# need comes from here.
set -euo pipefail

APT_PACKAGES=(
  bazel-bootstrap
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libboost1.81-dev libboost-json1.81-dev libssl-dev libyaml-cpp-dev libnghttp2-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  pkg-config iproute2 openssl jq curl ca-certificates unzip python3 python3-yaml
  clang-format clang-tidy
  nghttp2-client
)
# Peers and load generators for `make bench` only.
BENCH_PACKAGES=(nginx-light haproxy wrk)

GO_VERSION="${GO_VERSION:-go1.27.3}"

missing=()
want=("${APT_PACKAGES[@]}")
if [[ "${1:-}" == "--bench" ]]; then want+=("${BENCH_PACKAGES[@]}"); fi
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Go: any go >= 1.21 can fetch the pinned toolchain (GOTOOLCHAIN) from the module
# proxy. Without one, bootstrap the same toolchain module from the proxy by hand.
if ! command -v go >/dev/null 2>&1; then
  GOROOT_BOOT="$HOME/.cache/gatehouse/go-bootstrap"
  if [[ ! -x "$GOROOT_BOOT/bin/go" ]]; then
    echo "setup: no go on PATH; fetching $GO_VERSION from the Go module proxy"
    tmp=$(mktemp -d)
    curl -fsSL -o "$tmp/go.zip" \
      "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-${GO_VERSION}.linux-amd64.zip"
    mkdir -p "$GOROOT_BOOT"
    unzip -q "$tmp/go.zip" -d "$tmp/x"
    cp -a "$tmp/x/golang.org/toolchain@v0.0.1-${GO_VERSION}.linux-amd64/." "$GOROOT_BOOT/"
    chmod +x "$GOROOT_BOOT/bin/"* "$GOROOT_BOOT/pkg/tool/"*/* 2>/dev/null || true
    rm -rf "$tmp"
  fi
  echo "setup: add $GOROOT_BOOT/bin to PATH (the Makefile does this itself)"
fi
export GOTOOLCHAIN="$GO_VERSION"
export PATH="$PATH:$HOME/.cache/gatehouse/go-bootstrap/bin"
go version >/dev/null
