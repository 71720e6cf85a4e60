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

func (f *serverFlags) register(cmd *cobra.Command) { f.registerLog(cmd, "") }

// registerLog registers the flags with --log defaulting to defaultLog, or
// required if that is empty.
func (f *serverFlags) registerLog(cmd *cobra.Command, defaultLog string) {
	f.registerFlags(cmd, defaultLog)
	if defaultLog == "" {
		cmd.MarkFlagRequired("log")
	}
}

// registerFlags registers the flags; the command checks --log itself.
func (f *serverFlags) registerFlags(cmd *cobra.Command, defaultLog string) {
	cmd.Flags().StringVar(&f.server, "server", "127.0.0.1:7000", "personality server gRPC address")
	cmd.Flags().StringVar(&f.log, "log", defaultLog, "log name, e.g. disclosures")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 90*time.Second, "give up after this long")
}

func (f *serverFlags) dial(cmd *cobra.Command) (*client.Client, context.Context, context.CancelFunc, error) {
	c, err := client.Dial(f.server)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	return c, ctx, func() { cancel(); c.Close() }, nil
}
