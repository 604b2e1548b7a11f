// Command etcd is etcd 3.6 built from the Go module proxy. `go install go.etcd.io/etcd/server/v3@…` is
// refused because etcd's go.mod has replace directives, so this wrapper calls the same entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
