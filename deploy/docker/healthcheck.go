//go:build ignore

// Command govlog-healthcheck is the container image's probe for docker
// compose healthchecks: the image has no shell, curl or wget, and govlog
// has no verb that asks a daemon's admin listener. It GETs one URL (a
// daemon's /readyz or /healthz) and exits 0 on 200 OK, 1 on anything
// else, saying why. Kubernetes asks the admin port itself and needs none
// of this.
//
// It is built by deploy/Dockerfile (go build deploy/docker/healthcheck.go;
// the build tag keeps it out of ./...) and tested by cmd/govlog's
// deploy_test.go against a witness's admin listener.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: govlog-healthcheck URL")
		os.Exit(2)
	}
	c := &http.Client{
		Timeout: 4 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := c.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "%s: %s: %s", os.Args[1], resp.Status, body)
		os.Exit(1)
	}
	os.Stdout.Write(body)
}
