#!/usr/bin/env bash
# Regenerates lib/local-plane/build/k8s/go.mod for the K8S_VERSION in versions.env (staging replace block).
# Run by hand when bumping Kubernetes; commit the resulting go.mod and go.sum.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
staging_v="v0.${K8S_VERSION#v1.}"
staging="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider cluster-bootstrap
code-generator component-base component-helpers controller-manager cri-api cri-client csi-translation-lib
dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver sample-cli-plugin
sample-controller"
{
  echo "module daemonless.local/k8s-bins"
  echo
  echo "go 1.25.0"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  for m in $staging; do echo "	k8s.io/$m => k8s.io/$m $staging_v"; done
  echo ")"
} > "$here/k8s/go.mod"
cd "$here/k8s"
export GOTOOLCHAIN=local GOFLAGS=-modcacherw GOMODCACHE="${GOMODCACHE:-$HOME/.cache/k8s-local/gomod}"
go get "k8s.io/kubernetes@$K8S_VERSION"
go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION" \
  "k8s.io/kubernetes/cmd/kube-scheduler@$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@$K8S_VERSION"
go mod tidy
