package registry

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/mod/sumdb/note"
	"gopkg.in/yaml.v3"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
)

// File is the YAML genesis document: the registry a log starts from.
// Each key is named after its agency's ID (keygen --name
// ministry-of-finance), an official's after their staff ID, and no public
// key is listed twice:
//
//	agencies:
//	  - id: ministry-of-finance          # [a-z0-9][a-z0-9-]{0,63}, unique
//	    name: Ministry of Finance
//	    roles: [discloser]
//	    retired_roles:                    # roles the agency no longer holds
//	      - role: payroll
//	        until: 2026-10-01T00:00:00Z
//	    keys:
//	      - vkey: ministry-of-finance+1a2b3c4d+AX...
//	      - vkey: ministry-of-finance+5e6f7a8b+AZ...
//	        retired: 2026-09-01T00:00:00Z # rotated out
//	      - vkey: ministry-of-finance+9f8e7d6c+AY...
//	        revoked: true                 # compromised: never trusted
//	    officials:
//	      - staff: mof-0042               # pseudonymous, unique
//	        keys:
//	          - vkey: mof-0042+0a1b2c3d+AW...
type File struct {
	Agencies []Agency `yaml:"agencies"`
}

// Agency is one agency entry.
type Agency struct {
	// ID identifies the agency in state and in the log ("ministry-of-finance").
	ID string `yaml:"id"`
	// Name is for people; default the ID.
	Name string `yaml:"name"`
	// Roles the agency holds, e.g. "discloser".
	Roles []string `yaml:"roles"`
	// RetiredRoles are roles the agency held until a time.
	RetiredRoles []RetiredRole `yaml:"retired_roles,omitempty"`
	// Keys are the agency's signing keys.
	Keys []Key `yaml:"keys"`
	// Officials are the agency's staff who sign beside it.
	Officials []Official `yaml:"officials,omitempty"`
}

// Official is a staff member, by pseudonymous staff ID, with their keys.
type Official struct {
	Staff string `yaml:"staff"`
	Keys  []Key  `yaml:"keys"`
}

// RetiredRole is a role held for statements dated before Until.
type RetiredRole struct {
	Role  string    `yaml:"role"`
	Until time.Time `yaml:"until"`
}

// Key is one verifier key.
type Key struct {
	VKey string `yaml:"vkey"`
	// Revoked: no signature by the key counts, whatever its date.
	Revoked bool `yaml:"revoked,omitempty"`
	// Retired, if set: the key signs nothing dated at or after it.
	Retired time.Time `yaml:"retired,omitempty"`
}

// GenesisEntry is one registry entry of a genesis, before it is signed.
type GenesisEntry struct {
	Type string
	Body map[string]any
}

// Entries returns the registry entries that build f, in order.
func (f File) Entries() ([]GenesisEntry, error) {
	var out []GenesisEntry
	add := func(t string, kv ...any) {
		b := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			b[kv[i].(string)] = kv[i+1]
		}
		out = append(out, GenesisEntry{Type: t, Body: b})
	}
	// keyEnd adds the retirement or revocation of k, if any.
	keyEnd := func(agency string, k Key) error {
		v, err := note.NewVerifier(k.VKey)
		if err != nil {
			return fmt.Errorf("agency %q: bad vkey %.80q: %w", agency, k.VKey, err)
		}
		id := keyID{v.Name(), v.KeyHash()}.String()
		switch {
		case k.Revoked && !k.Retired.IsZero():
			return fmt.Errorf("agency %q: key %s is both revoked and retired; a revoked key is never trusted", agency, id)
		case k.Revoked:
			add(TypeKeyRevoke, "key", id)
		case !k.Retired.IsZero():
			add(TypeKeyRetire, "key", id, "at", k.Retired.UTC().Format(time.RFC3339Nano))
		}
		return nil
	}
	keys := func(agency string, ks []Key) error {
		for _, k := range ks {
			add(TypeKeyAdd, "agency", agency, "key", k.VKey)
			if err := keyEnd(agency, k); err != nil {
				return err
			}
		}
		return nil
	}
	for _, a := range f.Agencies {
		add(TypeAgencyRegister, "agency", a.ID, "name", cmp.Or(a.Name, a.ID))
		for _, o := range a.Officials {
			if len(o.Keys) == 0 {
				return nil, fmt.Errorf("agency %q: official %q has no key", a.ID, o.Staff)
			}
			add(TypeOfficialRegister, "agency", a.ID, "staff", o.Staff, "key", o.Keys[0].VKey)
			// The first key comes with the registration.
			if err := keyEnd(a.ID, o.Keys[0]); err != nil {
				return nil, err
			}
			if err := keys(a.ID, o.Keys[1:]); err != nil {
				return nil, err
			}
		}
		if err := keys(a.ID, a.Keys); err != nil {
			return nil, err
		}
		for _, r := range a.Roles {
			add(TypeRoleGrant, "agency", a.ID, "role", r)
		}
		for _, r := range a.RetiredRoles {
			if r.Role == "" || r.Until.IsZero() {
				return nil, fmt.Errorf("agency %q: a retired role needs a role and an until time", a.ID)
			}
			add(TypeRoleGrant, "agency", a.ID, "role", r.Role)
			add(TypeRoleWithdraw, "agency", a.ID, "role", r.Role, "at", r.Until.UTC().Format(time.RFC3339Nano))
		}
	}
	return out, nil
}

// Genesis signs f's entries as statements of the registry log origin,
// dated at, with the root keys signers.
func Genesis(f File, origin string, at time.Time, signers ...note.Signer) ([][]byte, error) {
	entries, err := f.Entries()
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, e := range entries {
		b, err := json.Marshal(e.Body)
		if err != nil {
			return nil, err
		}
		st, err := govlog.NewStatement(origin, e.Type, at, b)
		if err != nil {
			return nil, err
		}
		signed, err := st.Sign(signers...)
		if err != nil {
			return nil, err
		}
		out = append(out, signed)
	}
	return out, nil
}

// Load reads and parses the registry file at path.
func Load(path string) (*Registry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("couldn't read registry: %w", err)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", path, err)
	}
	return r, nil
}

// ReadFile reads and parses the genesis file at path.
func ReadFile(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("couldn't read registry: %w", err)
	}
	f, err := ParseFile(data)
	if err != nil {
		return File{}, fmt.Errorf("registry %s: %w", path, err)
	}
	return f, nil
}

// ParseFile parses a genesis document, refusing unknown fields and times
// without a zone.
func ParseFile(data []byte) (File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return File{}, fmt.Errorf("bad YAML: %w", err)
	}
	if err := checkTimes(data); err != nil {
		return File{}, err
	}
	return f, nil
}

// Parse parses a genesis document into the registry it builds, as New.
func Parse(data []byte) (*Registry, error) {
	f, err := ParseFile(data)
	if err != nil {
		return nil, err
	}
	return New(f)
}

// New returns the registry f builds, kept in memory and in no log: the
// genesis entries applied by the registry's rules, with no signatures.
// Tests and benchmarks use it; a server keeps the registry log.
func New(f File) (*Registry, error) {
	entries, err := f.Entries()
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	st := memState{}
	d := &Domain{}
	at := time.Now().UTC()
	for _, e := range entries {
		b, err := json.Marshal(e.Body)
		if err != nil {
			return nil, err
		}
		if err := d.Apply(ctx, st, rule.Entry{Type: e.Type, Time: at, Body: b, LeafHash: sha256.Sum256(b)}); err != nil {
			return nil, err
		}
	}
	return FromState(ctx, st)
}

// checkTimes requires every retired and until time to be RFC 3339 with its
// zone: YAML would read "2026-09-01 10:00" as UTC, hours away from what an
// operator in another zone meant, and a retirement moved back in time
// refuses entries already admitted.
func checkTimes(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("bad YAML: %w", err)
	}
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value != "retired" && k.Value != "until" {
					continue
				}
				if _, err := time.Parse(time.RFC3339, v.Value); err != nil || v.Kind != yaml.ScalarNode {
					return fmt.Errorf("line %d: %s %q: want an RFC 3339 time with its zone, e.g. 2026-09-01T00:00:00Z or 2026-09-01T08:00:00+08:00", v.Line, k.Value, v.Value)
				}
			}
		}
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(&doc)
}

// Replay builds the registry from the registry log's entries, the log
// origin's, in order: each applied by the registry's rules. It does not
// check the root signatures (which a monitor does): it is for a client
// that trusts the entries because a checkpoint its policy accepts covers
// them.
func Replay(origin string, leaves [][]byte) (*Registry, error) {
	ctx := context.Background()
	st := memState{}
	d := &Domain{}
	for i, leaf := range leaves {
		s, _, _, err := govlog.ReadStatement(leaf, origin)
		if err != nil {
			return nil, fmt.Errorf("registry entry %d: %w", i, err)
		}
		e := rule.Entry{Type: s.Type, Time: s.Time, Body: s.Body, LeafHash: govlog.LeafHash(leaf)}
		if err := d.Apply(ctx, st, e); err != nil {
			return nil, fmt.Errorf("registry entry %d: %w", i, err)
		}
	}
	return FromState(ctx, st)
}
