//go:build tools

// Package tools pins the control-plane commands this module builds, so `go mod tidy` keeps their
// dependencies in go.sum. The commands themselves are built with `go build k8s.io/kubernetes/cmd/...`.
// kubectl is built too, so the environment has a client of the server's version on any machine.
// kube-proxy runs in each networked node of the local VPC, and agnhost is what pods of the e2e image
// registry.k8s.io/e2e-test-images/agnhost run there (ADR 0011).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-proxy/app"
	_ "k8s.io/kubernetes/test/images/agnhost"
)
