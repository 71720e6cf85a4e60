package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/personalities/approvals"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/donations"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/identity"
	"github.com/govlog/govlog/personalities/identity/wallet"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/votes"
	"github.com/govlog/govlog/personalities/votes/ballot"
)

// domainList is every domain govlog runs, in the order dev starts them.
// Adding a domain is its folder under personalities/ and one line here;
// everything else (dev's logs and demo roles, serve's checks, the monitor's
// rules, dashboard panels and watch kinds, the query verbs) is asked of the
// domains themselves through personalities/rule.
var domainList = []func() rule.Domain{
	func() rule.Domain { return disclosures.New() },
	func() rule.Domain { return approvals.New() },
	func() rule.Domain { return funds.New() },
	func() rule.Domain { return donations.New() },
	func() rule.Domain { return votes.New() },
	func() rule.Domain { return identity.New() },
}

// domainCommands are the commands a domain's own kit adds under
// `govlog <log>` beside its queries and tools: the votes log's token
// issuer and voter (personalities/votes/ballot).
var domainCommands = map[string]func() []*cobra.Command{
	votes.LogName:    ballot.Commands,
	identity.LogName: func() []*cobra.Command { return wallet.Commands(identity.New()) },
}

// domainNames lists the log names of domainList.
func domainNames() []string {
	var out []string
	for _, newDomain := range domainList {
		out = append(out, newDomain().Log())
	}
	return out
}

// newDomain returns the rules of the log called name.
func newDomain(name string) (rule.Domain, error) {
	for _, newDomain := range domainList {
		if d := newDomain(); d.Log() == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("no personality %q (have: %s)", name, strings.Join(domainNames(), ", "))
}

// domainFor returns the rules of the log called name: the registry log's,
// whose entries roots sign, or a domain's.
func domainFor(name string, roots *registry.Roots) (rule.Domain, error) {
	if name != registry.LogName {
		return newDomain(name)
	}
	if roots == nil {
		return nil, errors.New("the registry log needs its root keys (registry_roots)")
	}
	return registry.NewDomain(roots), nil
}

// rootsConfig names the registry's root keys in a config file.
type rootsConfig struct {
	// Quorum is how many root keys must sign each registry entry: at
	// least 2.
	Quorum int `yaml:"quorum"`
	// Keys are the root verifier keys: vkey lines, or paths of .vkey files
	// (whatever is not a verifier key is read as a path).
	Keys []string `yaml:"keys"`
}

func (c rootsConfig) load() (*registry.Roots, error) {
	var vkeys []string
	for _, k := range c.Keys {
		// A vkey line is a verifier key; anything else names a file
		// (a vkey's base64 may hold '/', so the form decides, not a '/').
		if _, err := note.NewVerifier(k); err != nil {
			vk, ferr := readKeyFile(k)
			if ferr != nil {
				return nil, fmt.Errorf("registry_roots: bad root key %.80q: not a verifier key (%v), nor a file holding one (%v)", k, err, ferr)
			}
			k = vk
		}
		vkeys = append(vkeys, k)
	}
	roots, err := registry.NewRoots(vkeys, c.Quorum)
	if err != nil {
		return nil, fmt.Errorf("registry_roots: %w", err)
	}
	return roots, nil
}

// logRoles returns the roles the log itself holds, for the statements it
// writes itself (rule.TypeInfo.ByLog), and the roles its agencies need.
func logRoles(d rule.Domain) (byLog, agencies []string) {
	for _, t := range d.Types() {
		switch {
		case t.Role == rule.SelfSigned:
		case t.ByLog:
			if !slices.Contains(byLog, t.Role) {
				byLog = append(byLog, t.Role)
			}
		case !slices.Contains(agencies, t.Role):
			agencies = append(agencies, t.Role)
		}
	}
	return byLog, agencies
}

// byLogTypes lists the statement types the log of d writes itself.
func byLogTypes(d rule.Domain) []string {
	var out []string
	for _, t := range d.Types() {
		if t.ByLog {
			out = append(out, t.Type)
		}
	}
	return out
}

func newDomainsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "domains [LOG...]",
		Short: "Print each log's statement types, the role each needs and an example body",
		Long: `domains prints what each log of govlog accepts, as its domain package
declares it: every statement type with the registry role its signer needs (or
"self-signed" for a type the domain authenticates itself, and "written by the
log" for a type the log writes with its own rules key), what it records, and
example bodies the rules accept, in order; then the log's queries and the
kinds of ID a monitor can watch for. With --json, the same as JSON.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			names := args
			if len(names) == 0 {
				names = domainNames()
			}
			var docs []domainDoc
			for _, name := range names {
				d, err := newDomain(name)
				if err != nil {
					return err
				}
				docs = append(docs, describeDomain(d))
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(docs)
			}
			for i, d := range docs {
				if i > 0 {
					fmt.Fprintln(w)
				}
				printDomainDoc(w, d)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// domainDoc is what `govlog domains` says of one domain.
type domainDoc struct {
	Log     string           `json:"log"`
	Types   []typeDoc        `json:"types"`
	Queries []rule.QueryInfo `json:"queries,omitempty"`
	Watch   []rule.WatchKind `json:"watch_kinds,omitempty"`
}

type typeDoc struct {
	Type     string            `json:"type"`
	Role     string            `json:"role"`
	ByLog    bool              `json:"written_by_log,omitempty"`
	Summary  string            `json:"summary"`
	Examples []json.RawMessage `json:"examples,omitempty"`
}

func describeDomain(d rule.Domain) domainDoc {
	doc := domainDoc{Log: d.Log()}
	for _, t := range d.Types() {
		role := t.Role
		if role == rule.SelfSigned {
			role = "self-signed"
		}
		doc.Types = append(doc.Types, typeDoc{Type: t.Type, Role: role, ByLog: t.ByLog, Summary: t.Summary, Examples: t.Examples})
	}
	if qc, ok := d.(rule.QueryClient); ok {
		doc.Queries = qc.Queries()
	}
	if w, ok := d.(rule.Watcher); ok {
		doc.Watch = w.WatchKinds()
	}
	return doc
}

func printDomainDoc(w io.Writer, d domainDoc) {
	fmt.Fprintf(w, "log %s\n", d.Log)
	for _, t := range d.Types {
		who := "role " + t.Role
		if t.ByLog {
			who += ", written by the log"
		}
		fmt.Fprintf(w, "  %s (%s): %s\n", t.Type, who, t.Summary)
		for _, ex := range t.Examples {
			fmt.Fprintf(w, "    --body '%s'\n", ex)
		}
	}
	for _, q := range d.Queries {
		fmt.Fprintf(w, "  query %s: govlog %s %s %s: %s\n", q.Name, d.Log, cmp.Or(q.Verb, q.Name), q.ArgName, q.Summary)
	}
	for _, k := range d.Watch {
		fmt.Fprintf(w, "  watch %s: %s\n", k.Name, k.Doc)
	}
}
