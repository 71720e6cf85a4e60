package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/monitor"
	"github.com/govlog/govlog/personalities"
)

// TestConfigDocsStateDefaults keeps the defaults written in the config
// structs' comments, which are the configs' documentation, true to the
// constants the libraries apply.
func TestConfigDocsStateDefaults(t *testing.T) {
	for _, tc := range []struct {
		file, constant string
		value          any
	}{
		{"serve.go", "logserver.DefaultSequencerInterval", logserver.DefaultSequencerInterval},
		{"serve.go", "logserver.DefaultMMD", logserver.DefaultMMD},
		{"serve.go", "personalities.DefaultScheduleInterval", personalities.DefaultScheduleInterval},
		{"monitor.go", "monitor.DefaultInterval", monitor.DefaultInterval},
		{"monitor.go", "monitor.DefaultBatchSize", monitor.DefaultBatchSize},
		{"monitor.go", "monitor.DefaultOverdueAfter", monitor.DefaultOverdueAfter},
	} {
		src, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(strings.ReplaceAll(string(src), "//", "")), " ")
		value := fmt.Sprint(tc.value)
		if d, ok := tc.value.(time.Duration); ok {
			value = strings.Replace(strings.Replace(d.String(), "m0s", "m", 1), "h0m", "h", 1) // 5m0s: 5m
		}
		if want := "Default " + value + " (" + tc.constant + ")"; !strings.Contains(text, want) {
			t.Errorf("%s does not document %q", tc.file, want)
		}
	}
}
