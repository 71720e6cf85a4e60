package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/petitions"
	"github.com/govlog/govlog/personalities/registry"
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
			"waitport":    cmdWaitPort,
			"waitgenesis": cmdWaitGenesis,
			"now":         cmdNow,
			"capture":     cmdCapture,
			"tamper":      cmdTamper,
			"policy":      cmdPolicy,
			"policy2":     cmdPolicyWithWitness,
			"registry":    cmdRegistry,
			"httpget":     cmdHTTPGet,
			"revoke":      cmdRevoke,
			"tlscerts":    cmdTLSCerts,
			"waitready":   cmdWaitReady,
			"httpsget":    cmdHTTPSGet,
			"waitcert":    cmdWaitCert,
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

// waitgenesis ADDR GENESIS waits up to 60s until the registry log served at
// ADDR has a checkpoint holding every entry of the genesis file GENESIS.
func cmdWaitGenesis(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! waitgenesis")
	}
	if len(args) != 2 {
		ts.Fatalf("usage: waitgenesis ADDR GENESIS")
	}
	ts.Check(waitGenesis(args[0], ts.MkAbs(args[1]), 60*time.Second))
}

// waitGenesis waits until the registry log served at addr has a checkpoint
// holding every entry of the genesis file at genesisPath. The server
// listens (and dev says ready) while personalities.Server.Run may still be
// writing the genesis into the empty registry log, so a statement
// submitted at once may find its key not yet registered.
func waitGenesis(addr, genesisPath string, timeout time.Duration) error {
	f, err := registry.ReadFile(genesisPath)
	if err != nil {
		return err
	}
	entries, err := f.Entries()
	if err != nil {
		return err
	}
	c, err := client.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var last string
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		signed, err := c.Checkpoint(ctx, registry.LogName)
		cancel()
		if err != nil {
			last = err.Error()
			continue
		}
		text, _, _ := strings.Cut(string(signed), "\n\n")
		cp, err := govlog.ParseCheckpoint([]byte(text + "\n"))
		if err != nil {
			return err
		}
		if cp.Size >= uint64(len(entries)) {
			return nil
		}
		last = fmt.Sprintf("registry log at size %d", cp.Size)
	}
	return fmt.Errorf("the registry log at %s never held the %d genesis entries of %s (last: %s)", addr, len(entries), genesisPath, last)
}

// now VAR sets VAR to the time now, UTC, in RFC 3339 to the second.
func cmdNow(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! now")
	}
	if len(args) != 1 {
		ts.Fatalf("usage: now VAR")
	}
	ts.Setenv(args[0], time.Now().UTC().Format(time.RFC3339))
}

// capture VAR REGEXP [FILE] sets VAR to the first group of REGEXP's first
// match in the last command's stdout, failing if there is none. With FILE
// (a background command's output, say), it reads FILE instead, until it
// matches (up to 30s).
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! capture")
	}
	if len(args) != 2 && len(args) != 3 {
		ts.Fatalf("usage: capture VAR REGEXP [FILE]")
	}
	re, err := regexp.Compile(`(?m)` + args[1])
	ts.Check(err)
	if re.NumSubexp() < 1 {
		ts.Fatalf("%q has no group to capture", args[1])
	}
	if len(args) == 2 {
		m := re.FindStringSubmatch(ts.ReadFile("stdout"))
		if m == nil {
			ts.Fatalf("no match for %q in stdout", args[1])
		}
		ts.Setenv(args[0], m[1])
		return
	}
	var text string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(ts.MkAbs(args[2]))
		text = string(b)
		if m := re.FindStringSubmatch(text); m != nil {
			ts.Setenv(args[0], m[1])
			return
		}
	}
	ts.Fatalf("no match for %q in %s after 30s:\n%s", args[1], args[2], text)
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

// policy2 OUT LOGVKEYFILE WITNESSVKEYFILE URL [LOGVKEYFILE...] writes a
// tlog-policy trusting those logs, with that witness (named court) as the
// quorum.
func cmdPolicyWithWitness(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 4 {
		ts.Fatalf("usage: policy2 OUT LOGVKEYFILE WITNESSVKEYFILE URL [LOGVKEYFILE...]")
	}
	text := ""
	for _, f := range append([]string{args[1]}, args[4:]...) {
		text += fmt.Sprintf("log %s\n", strings.TrimSpace(ts.ReadFile(f)))
	}
	wVKey := strings.TrimSpace(ts.ReadFile(args[2]))
	text += fmt.Sprintf("witness court %s %s\nquorum court\n", wVKey, args[3])
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
// ! httpget URL TEXT fetches URL once and fails if its body contains TEXT.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: httpget URL TEXT")
	}
	get := func() (string, error) {
		resp, err := http.Get(args[0])
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if neg {
		body, err := get()
		ts.Check(err)
		if strings.Contains(body, args[1]) {
			ts.Fatalf("%s contains %q:\n%s", args[0], args[1], body)
		}
		return
	}
	var last string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if body, err := get(); err == nil {
			last = body
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
	// Every agency key (not an official's) is revoked, at its own indent.
	lines := strings.Split(ts.ReadFile(args[1]), "\n")
	for i, l := range lines {
		indent, rest, ok := strings.Cut(l, "- vkey: ")
		if ok && strings.TrimSpace(indent) == "" && !strings.HasPrefix(rest, "demo-0") {
			lines[i] = indent + "- revoked: true\n" + indent + "  vkey: " + rest
		}
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Join(lines, "\n")), 0o644))
}
