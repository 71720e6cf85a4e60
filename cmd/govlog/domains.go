package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
)

// domainList is every domain govlog runs, in the order dev starts them.
// Adding a domain is its folder under personalities/ and one line here;
// everything else (dev's logs and demo roles, serve's checks, the monitor's
// rules, dashboard panels and watch kinds, the query verbs) is asked of the
// domains themselves through personalities/rule.
var domainList = []func() rule.Domain{
	func() rule.Domain { return disclosures.New() },
	func() rule.Domain { return funds.New() },
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
