package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newGetCmd() *cobra.Command {
	var sf serverFlags
	var index, count uint64
	cmd := &cobra.Command{
		Use:   "get --log LOG --index N",
		Short: "Print entries of a log (the signed statements)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ctx, done, err := sf.dial(cmd)
			if err != nil {
				return err
			}
			defer done()
			w := cmd.OutOrStdout()
			for got := uint64(0); got < count; {
				entries, err := c.Entries(ctx, sf.log, index+got, count-got)
				if err != nil {
					return fmt.Errorf("get: %w", err)
				}
				for i, e := range entries {
					if count > 1 {
						fmt.Fprintf(w, "# entry %d\n", index+got+uint64(i))
					}
					w.Write(e)
				}
				got += uint64(len(entries))
			}
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().Uint64Var(&index, "index", 0, "first entry")
	cmd.Flags().Uint64Var(&count, "count", 1, "number of entries")
	return cmd
}
