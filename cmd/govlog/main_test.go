package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/govlog/govlog/personalities/petitions"
	"github.com/govlog/govlog/personalities/rule"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"govlog": main,
		// govlog with one more domain, registered as a domain author
		// would: its folder (personalities/petitions) and this one line.
		"govlog-petitions": func() {
			domainList = append(domainList, func() rule.Domain { return petitions.New() })
			main()
		},
	})
}

// TestScripts types the CLI as a user would: testdata/script/*.txtar, each
// starting the real binary's dev server on its own port.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitport": cmdWaitPort,
			"tamper":   cmdTamper,
			"policy":   cmdPolicy,
			"policy2":  cmdPolicyWithWitness,
			"registry": cmdRegistry,
			"httpget":  cmdHTTPGet,
			"revoke":   cmdRevoke,
		},
	})
}

// waitport ADDR waits up to 60s until ADDR accepts TCP connections.
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitport ADDR")
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", args[0]); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("%s never accepted a connection", args[0])
}

// tamper FILE OLD NEW replaces the first OLD in FILE with NEW, failing if
// OLD is absent; \n in OLD and NEW stands for a newline.
func cmdTamper(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: tamper FILE OLD NEW")
	}
	data := ts.ReadFile(args[0])
	old := strings.ReplaceAll(args[1], `\n`, "\n")
	repl := strings.ReplaceAll(args[2], `\n`, "\n")
	if !strings.Contains(data, old) {
		ts.Fatalf("%s does not contain %q", args[0], old)
	}
	path := ts.MkAbs(args[0])
	ts.Check(os.WriteFile(path, []byte(strings.Replace(data, old, repl, 1)), 0o644))
}

// policy OUT LOGVKEYFILE writes a tlog-policy trusting that log, quorum none.
func cmdPolicy(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: policy OUT LOGVKEYFILE")
	}
	vkey := strings.TrimSpace(ts.ReadFile(args[1]))
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(fmt.Sprintf("log %s\nquorum none\n", vkey)), 0o644))
}

// policy2 OUT LOGVKEYFILE WITNESSVKEYFILE URL writes a tlog-policy trusting
// that log, with that witness (named court) as the quorum.
func cmdPolicyWithWitness(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 {
		ts.Fatalf("usage: policy2 OUT LOGVKEYFILE WITNESSVKEYFILE URL")
	}
	logVKey := strings.TrimSpace(ts.ReadFile(args[1]))
	wVKey := strings.TrimSpace(ts.ReadFile(args[2]))
	text := fmt.Sprintf("log %s\nwitness court %s %s\nquorum court\n", logVKey, wVKey, args[3])
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(text), 0o644))
}

// registry OUT VKEYFILE writes a registry with one agency, demo-agency,
// holding that key and the discloser role.
func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: registry OUT VKEYFILE")
	}
	vkey := strings.TrimSpace(ts.ReadFile(args[1]))
	text := fmt.Sprintf("agencies:\n  - id: demo-agency\n    roles: [discloser]\n    keys:\n      - vkey: %s\n", vkey)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(text), 0o644))
}

// httpget URL TEXT fetches URL until its body contains TEXT (up to 30s).
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: httpget URL TEXT")
	}
	var last string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(args[0])
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if strings.Contains(last, args[1]) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	ts.Fatalf("%s never contained %q; last body:\n%s", args[0], args[1], last)
}

// revoke OUT REGISTRY writes a copy of REGISTRY with every key revoked.
func cmdRevoke(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: revoke OUT REGISTRY")
	}
	text := strings.ReplaceAll(ts.ReadFile(args[1]), "- vkey:", "- revoked: true\n          vkey:")
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(text), 0o644))
}
