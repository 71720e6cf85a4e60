package govlog_test

import (
	"bytes"
	"encoding/json"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/govlog/govlog"

// listedPackage is what TestLayout reads of `go list -json`.
type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string // of the package's non-test files
}

// TestLayout enforces the architecture the tree shows (STYLE.md): a domain
// is its folder plus one line of registration, the protocol package stays
// small, the auditors' parts stay independent of each other and of the
// admission server, and Trillian stays behind log-server and storage.
func TestLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	std := map[string]bool{}
	stdOut, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	for _, p := range strings.Fields(string(stdOut)) {
		std[p] = true
	}
	rel := func(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }
	under := func(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

	var domains []string
	for _, p := range pkgs {
		r := rel(p.ImportPath)
		if isDomain(r) {
			domains = append(domains, p.ImportPath)
		}
	}
	if len(domains) < 2 {
		t.Fatalf("found domains %v; the layout test no longer recognizes them", domains)
	}

	for _, p := range pkgs {
		r := rel(p.ImportPath)
		for _, imp := range p.Imports {
			own := strings.HasPrefix(imp, module+"/") || imp == module
			ri := rel(imp)
			switch {
			case isDomain(r) && !std[imp] && !(own && (ri == "personalities/rule" || under(ri, "personalities/rule"))):
				t.Errorf("domain %s imports %s: a domain imports only personalities/rule, its kit and the standard library", r, imp)
			case isRuleKit(r) && own && !under(ri, "personalities/rule"):
				t.Errorf("%s imports %s: the rule contract and its kit import no other package of govlog", r, imp)
			case r == "" && !std[imp] && !slices.ContainsFunc([]string{"golang.org/x/mod/sumdb/note", "github.com/transparency-dev/merkle", "github.com/gowebpki/jcs"},
				func(allowed string) bool { return under(imp, allowed) }):
				t.Errorf("the root package imports %s: it imports only std, note, merkle and jcs", imp)
			}
			for _, part := range []string{"witness", "monitor", "client"} {
				if !under(r, part) || !own {
					continue
				}
				for _, other := range []string{"witness", "monitor", "client", "personalities", "log-server"} {
					if other != part && under(ri, other) && !allowedAcross(ri) {
						t.Errorf("%s imports %s: witness, monitor and client import neither each other nor the servers", r, imp)
					}
				}
			}
			if under(imp, "github.com/google/trillian") && !under(r, "log-server") && !under(r, "storage") {
				t.Errorf("%s imports %s: only log-server and storage use Trillian", r, imp)
			}
			if own && isDomain(ri) && !isDomain(r) && r != "cmd/govlog" {
				t.Errorf("%s imports the domain %s: only cmd/govlog's registration list names a domain", r, ri)
			}
		}
		if r == "cmd/govlog" {
			for _, f := range p.GoFiles {
				file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.ImportsOnly)
				if err != nil {
					t.Fatal(err)
				}
				for _, imp := range file.Imports {
					path := strings.Trim(imp.Path.Value, `"`)
					if f != "domains.go" && strings.HasPrefix(path, module+"/") && isDomain(rel(path)) {
						t.Errorf("cmd/govlog/%s imports the domain %s: only the registration list, domains.go, names a domain", f, rel(path))
					}
				}
			}
		}
	}
}

// allowedAcross are the packages under personalities/ that the monitor and
// client share with the admission server: the contract and the registry.
func allowedAcross(rel string) bool {
	return rel == "personalities/rule" || rel == "personalities/registry"
}

// isDomain reports whether the package at rel is a domain:
// personalities/<domain>, not the contract, its kit or the registry.
func isDomain(rel string) bool {
	name, ok := strings.CutPrefix(rel, "personalities/")
	return ok && !strings.Contains(name, "/") && name != "rule" && name != "registry" && name != "internal"
}

func isRuleKit(rel string) bool {
	return rel == "personalities/rule" || strings.HasPrefix(rel, "personalities/rule/")
}
