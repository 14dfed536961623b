#!/usr/bin/env bash
# Prints the path of a Centrifugo v6.9.1 binary, building it from the Go module proxy the first time
# and reusing it after (CENTRIFUGO_BIN, default ~/.cache/centrifugo/centrifugo). The benchmark runs
# it as a fourth system beside the gateway, the relay and Socket.IO.
set -euo pipefail

CENTRIFUGO_VERSION=v6.9.1
CENTRIFUGO_BIN=${CENTRIFUGO_BIN:-$HOME/.cache/centrifugo/centrifugo}

if [ -x "$CENTRIFUGO_BIN" ] && "$CENTRIFUGO_BIN" version 2>/dev/null | grep -q "Centrifugo $CENTRIFUGO_VERSION "; then
  echo "$CENTRIFUGO_BIN"
  exit 0
fi
# Centrifugo v6.9 needs a recent Go: Debian's golang-go is older, the machine image's is in /usr/local/go.
PATH=$PATH:/usr/local/go/bin
if ! command -v go >/dev/null; then
  echo "install-centrifugo: building Centrifugo needs Go >= 1.25 on PATH" >&2
  exit 1
fi

echo "install-centrifugo: building Centrifugo $CENTRIFUGO_VERSION into $CENTRIFUGO_BIN (a few minutes, once)" >&2
build_dir=$(mktemp -d)
trap 'rm -rf "$build_dir"' EXIT
mkdir -p "$(dirname "$CENTRIFUGO_BIN")"
(
  # go install names the binary after the module (centrifugo); it lands in a scratch GOBIN and is
  # moved to CENTRIFUGO_BIN, so an override with another file name works too. The version is stamped
  # as the release builds do (else `centrifugo version` says 0.0.0 and the check above never
  # matches). The module proxy is the Go toolchain's own setting (go env GOPROXY), not named here.
  GOBIN="$build_dir" go install \
    -ldflags "-X github.com/centrifugal/centrifugo/v6/internal/build.Version=${CENTRIFUGO_VERSION#v}" \
    "github.com/centrifugal/centrifugo/v6@$CENTRIFUGO_VERSION"
  mv "$build_dir/centrifugo" "$CENTRIFUGO_BIN"
) >&2
echo "$CENTRIFUGO_BIN"
