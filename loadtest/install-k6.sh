#!/usr/bin/env bash
# Prints the path of a k6 v2.2.0 binary, building it from the Go module proxy the first time and
# reusing it after (K6_BIN, default ~/.cache/k6/k6). `go install go.k6.io/k6/v2@v2.2.0` stops at
# "loading deprecation" here, so the build goes through a throwaway module instead.
set -euo pipefail

K6_VERSION=v2.2.0
K6_BIN=${K6_BIN:-$HOME/.cache/k6/k6}

if [ -x "$K6_BIN" ] && "$K6_BIN" version 2>/dev/null | grep -q "k6 $K6_VERSION "; then
  echo "$K6_BIN"
  exit 0
fi
# k6 v2.2.0 needs Go >= 1.25: Debian's golang-go is older, the machine image's is in /usr/local/go.
PATH=$PATH:/usr/local/go/bin
if ! command -v go >/dev/null; then
  echo "install-k6: building k6 needs Go >= 1.25 on PATH" >&2
  exit 1
fi

echo "install-k6: building k6 $K6_VERSION into $K6_BIN (a few minutes, once)" >&2
build_dir=$(mktemp -d)
trap 'rm -rf "$build_dir"' EXIT
mkdir -p "$(dirname "$K6_BIN")"
(
  cd "$build_dir"
  go mod init k6build
  # The module proxy is the Go toolchain's own setting (go env GOPROXY), not named here.
  GOFLAGS=-mod=mod go get "go.k6.io/k6/v2@$K6_VERSION"
  go build -o "$K6_BIN" go.k6.io/k6/v2
) >&2
echo "$K6_BIN"
