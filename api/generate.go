// Package api holds the gRPC API of govlog personality servers: govlog.proto
// and the code protoc generates from it. Nothing here is written by hand but
// the .proto; run `make generate` (or `go generate ./api`) after changing it.
package api

//go:generate sh ./generate.sh
