#!/usr/bin/env bash
# Builds the real control-plane binaries from their Go modules into a cache keyed by versions:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s/), etcd (etcd/), kwok.
# Prints the binary directory on stdout (last line). Progress goes to stderr.
# Idempotent: returns at once when the cache entry is complete. Never writes into the repository.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"

cache=${DAEMONLESS_CACHE:-$HOME/.cache/daemonless}
export GOTOOLCHAIN=local GOFLAGS=-modcacherw CGO_ENABLED=0
export GOMODCACHE=${GOMODCACHE_OVERRIDE:-$HOME/.cache/k8s-local/gomod}
export GOCACHE=${GOCACHE_OVERRIDE:-$HOME/.cache/k8s-local/gocache}

maj=${K8S_VERSION#v}; maj=${maj%%.*}
min=${K8S_VERSION#v*.}; min=${min%%.*}
V=k8s.io/component-base/version; C=k8s.io/client-go/pkg/version
LDF="-s -w -X $V.gitVersion=$K8S_VERSION -X $V.gitMajor=$maj -X $V.gitMinor=$min -X $V.gitTreeState=clean \
-X $C.gitVersion=$K8S_VERSION -X $C.gitMajor=$maj -X $C.gitMinor=$min -X $C.gitTreeState=clean"

key=$( { go version; cat "$here/versions.env" "$here/k8s/go.sum" "$here/etcd/go.sum"; echo "$LDF"; } \
  | sha256sum | cut -c1-16)
bin="$cache/bin/$key"
if [ -f "$bin/.complete" ]; then echo "$bin"; exit 0; fi

log() { printf '[harness %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
step() { # step <what> <command...>: runs a build step and reports its duration
  local what=$1 t0=$SECONDS; shift
  log "building $what ..."
  "$@" >&2
  log "built $what in $((SECONDS - t0)) s"
}

free=$(df -Pk "$HOME" | awk 'NR==2 {print int($4/1024/1024)}')
[ "$free" -ge 8 ] || log "warning: only ${free} GiB free under \$HOME; a cold build needs about 8 GiB"

mkdir -p "$cache/bin" "$GOMODCACHE" "$GOCACHE"
tmp=$(mktemp -d "$cache/bin/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
total0=$SECONDS
log "cold build into $bin (Kubernetes $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION); this takes a while on 2 cores"

( cd "$here/k8s" && step "module download (k8s)" go mod download )
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  ( cd "$here/k8s" && step "$c" go build -trimpath -pgo=off -ldflags "$LDF" -o "$tmp/$c" "k8s.io/kubernetes/cmd/$c" )
done
( cd "$here/etcd" && step etcd go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3 )
step kwok env GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

touch "$tmp/.complete"
rm -rf "$bin"; mv "$tmp" "$bin"; trap - EXIT
log "all binaries built in $((SECONDS - total0)) s: $bin"
echo "$bin"
