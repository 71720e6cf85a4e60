package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog/client"
)

// serverFlags are the flags every client verb that talks to a server has.
type serverFlags struct {
	server  string
	log     string
	timeout time.Duration
}

func (f *serverFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.server, "server", "127.0.0.1:7000", "personality server gRPC address")
	cmd.Flags().StringVar(&f.log, "log", "", "log name, e.g. disclosures")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 90*time.Second, "give up after this long")
	cmd.MarkFlagRequired("log")
}

func (f *serverFlags) dial(cmd *cobra.Command) (*client.Client, context.Context, context.CancelFunc, error) {
	c, err := client.Dial(f.server)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	return c, ctx, func() { cancel(); c.Close() }, nil
}
