#!/usr/bin/env bash
# Installs what the tests in deploy/test need, without a Docker engine and without GitHub:
#   from Debian (when missing, as root):  haproxy, promtool (prometheus), redis-server, mosquitto
#   built from the Go module proxy:       kustomize, kubeconform, compose-check, keda-check
#   from PyPI (a wheel, only unpacked):   Kubernetes JSON schemas shipped by kubernetes-validate
# Everything but the Debian packages goes into $CHAT_TOOLS_DIR (default ~/.cache/chat-tools).
# Idempotent: a second run finds everything in place and only re-links the repo's own checkers
# (Go's build cache makes that a second or two). Run it from anywhere: bash deploy/test/install-tools.sh
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.1
KUBECONFORM_VERSION=v0.7.0
KUBERNETES_VALIDATE_VERSION=1.37.0
# The Kubernetes API version the manifests are validated against (a folder of that wheel).
KUBERNETES_SCHEMA_VERSION=v1.31.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools_dir="${CHAT_TOOLS_DIR:-$HOME/.cache/chat-tools}"
bin_dir="$tools_dir/bin"
mkdir -p "$bin_dir"

# Only the proxy: "direct" would mean GitHub, which these machines cannot reach.
export GOPROXY=https://proxy.golang.org
export GOFLAGS=-buildvcs=false

log() { printf 'install-tools: %s\n' "$*"; }

install_debian_packages() {
  local missing=()
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v mosquitto >/dev/null || [[ -x /usr/sbin/mosquitto ]] || missing+=(mosquitto)
  if ((${#missing[@]} == 0)); then
    return
  fi
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    log "missing ${missing[*]}: install them with your package manager (Debian: apt-get install ${missing[*]})"
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  # The packages' services are not wanted running: the tests start their own processes.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# go install MODULE@VERSION fails on some modules here, so each upstream tool is built inside a
# throwaway module that requires it.
build_upstream() { # NAME MODULE VERSION PACKAGE
  local name=$1 module=$2 version=$3 package=$4
  local target="$bin_dir/$name-$version"
  if [[ ! -x $target ]]; then
    log "building $name $version from the Go module proxy"
    local work
    work="$(mktemp -d)"
    (
      cd "$work"
      go mod init "build-$name" >/dev/null 2>&1
      go get "$module@$version" >/dev/null 2>&1 || go get "$module@$version"
      go build -mod=mod -o "$target" "$package"
    )
    rm -rf "$work"
  fi
  ln -sf "$target" "$bin_dir/$name"
}

# The repo's own checkers: pinned by their go.mod and go.sum, which the build must not change.
build_local() { # NAME
  local name=$1
  (cd "$here/tools/$name" && go build -mod=readonly -o "$bin_dir/$name" .)
}

install_kubernetes_schemas() {
  local dest="$tools_dir/kubernetes-json-schema/$KUBERNETES_SCHEMA_VERSION-local-strict"
  if [[ -f $dest/deployment-apps-v1.json ]]; then
    return
  fi
  log "unpacking the $KUBERNETES_SCHEMA_VERSION schemas of kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI)"
  local work
  work="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    -d "$work" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  python3 - "$work"/kubernetes_validate-*.whl "$tools_dir/kubernetes-json-schema" \
    "$KUBERNETES_SCHEMA_VERSION-local-strict" <<'PY'
import json, os, sys, zipfile
wheel, dest, folder = sys.argv[1:4]
prefix = f"kubernetes_validate/kubernetes-json-schema/{folder}/"
with zipfile.ZipFile(wheel) as archive:
    names = [n for n in archive.namelist() if n.startswith(prefix) and not n.endswith("/")]
    if not names:
        sys.exit(f"{folder} is not in {wheel}")
    for name in names:
        target = os.path.join(dest, folder, name[len(prefix):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        schema = json.loads(archive.read(name))
        # These schemas name themselves https://kubernetes.io/api/... and point at
        # /api/_definitions.json, which a validator would then fetch from the web. Made file-relative,
        # they resolve inside this folder.
        if isinstance(schema, dict):
            schema.pop("$id", None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        with open(target, "w") as out:
            out.write(text)
PY
  rm -rf "$work"
}

command -v go >/dev/null || { log "go is missing: install Go 1.23 or newer"; exit 1; }
command -v python3 >/dev/null || { log "python3 is missing (it fetches the Kubernetes schemas from PyPI)"; exit 1; }

install_debian_packages
build_upstream kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5
build_upstream kubeconform github.com/yannh/kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform
build_local compose-check
build_local keda-check
install_kubernetes_schemas
printf '%s\n' "$KUBERNETES_SCHEMA_VERSION" >"$tools_dir/kubernetes-schema-version"
log "ready in $tools_dir"
