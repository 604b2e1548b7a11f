//go:build tools

// Package tools pins kwok's command so `go mod tidy` keeps its dependencies in go.sum; it is built with
// `go build sigs.k8s.io/kwok/cmd/kwok`.
package tools

import (
	_ "sigs.k8s.io/kwok/pkg/kwok/cmd"
)
