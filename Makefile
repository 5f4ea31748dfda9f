# Gatehouse: the human entry points. `make conformance` and `make test` each install
# what they need (scripts/setup.sh is idempotent) and build what they run.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

# Gateway API v1.7.0's modules need Go 1.27; the go command fetches this exact
# toolchain from the Go module proxy. Every Go invocation below inherits it.
export GOTOOLCHAIN := go1.27.3
export PATH := $(PATH):$(HOME)/.cache/gatehouse/go-bootstrap/bin

OUT := $(CURDIR)/_out
BIN := $(OUT)/bin
BAZEL ?= bazel
BAZEL_FLAGS ?=

CONTROLLER := //controller/cmd:gatehouse-controller
PROXY := //proxy/cmd:gatehouse-proxy

.PHONY: all setup build test test-unit test-features test-go test-cluster conformance \
        cluster-up cluster-down bench fmt lint clean help

all: build

help:
	@echo "make test         all tests (installs what it needs)"
	@echo "make conformance  upstream Gateway API conformance suite against Gatehouse"
	@echo "make build        the two binaries into _out/bin"
	@echo "make bench        benchmarks (side by side with nginx/HAProxy)"
	@echo "make cluster-up / cluster-down   the local control plane alone"

setup:
	@./scripts/setup.sh

build: setup
	$(BAZEL) build $(BAZEL_FLAGS) $(CONTROLLER) $(PROXY)
	mkdir -p $(BIN)
	install -m 0755 bazel-bin/controller/cmd/gatehouse-controller $(BIN)/gatehouse-controller
	install -m 0755 bazel-bin/proxy/cmd/gatehouse-proxy $(BIN)/gatehouse-proxy

# Unit, golden, integration and end-to-end tests (Bazel), the feature-registry
# check, the Go test-infrastructure tests, and the local-cluster test.
test: setup lint test-unit test-features test-go test-cluster

test-unit: setup
	$(BAZEL) test $(BAZEL_FLAGS) //...

test-features: setup
	./features/check.sh

test-go: setup
	./conformance/scripts/go-test.sh

test-cluster: setup
	./conformance/scripts/cluster-test.sh

# conformance.sh runs `make build` itself: a build failure must still produce a
# (failing) report that says so, rather than no run at all.
conformance: setup
	./conformance/scripts/conformance.sh

cluster-up: setup
	./conformance/scripts/cluster-up.sh

cluster-down:
	./conformance/scripts/cluster-down.sh

bench: build
	./scripts/setup.sh --bench
	./bench/run.sh
	./bench/m4.sh
	./bench/m5.sh
	./bench/m6.sh

fmt:
	find controller proxy features e2e -name '*.cc' -o -name '*.h' | xargs -r clang-format -i

lint: setup
	find controller proxy features e2e -name '*.cc' -o -name '*.h' | xargs -r clang-format --dry-run --Werror

clean:
	$(BAZEL) clean
	rm -rf $(OUT)
