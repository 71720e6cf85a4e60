package monitor_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports enforces the layout: the monitor re-checks what the admission
// server, log server and witnesses did, so it must share none of their code
// but the root package and the pure rule packages.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/govlog/govlog/personalities",
		"github.com/govlog/govlog/log-server",
		"github.com/govlog/govlog/witness",
		"github.com/govlog/govlog/client",
		"github.com/google/trillian",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") && !strings.HasPrefix(dep, "github.com/govlog/govlog/personalities/") {
				t.Errorf("monitor imports %s", dep)
			}
		}
	}
}
