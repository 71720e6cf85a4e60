package main

import (
	"flag"
	"io"

	"k8s.io/klog/v2"
)

// quietTrillian silences klog, which Trillian logs through: its routine
// warnings (a pass that stored nothing, every 25ms) would drown ours. With
// verbose, they go to stderr.
func quietTrillian(verbose bool) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if verbose {
		return
	}
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(io.Discard)
}
