//go:build tools

// Package sandboxcluster pins the Kubernetes control-plane commands that
// scripts/build-sandbox-cluster compiles. It is never built itself; the
// blank imports keep the commands' packages (and their dependencies) in
// go.mod and go.sum.
package sandboxcluster

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
