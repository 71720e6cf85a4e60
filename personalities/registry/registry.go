// Package registry says which agencies may sign which statements: their
// verifier keys (signed-note vkeys), whether a key is revoked or retired,
// and the roles each agency holds. Until the registry log exists
// (DESIGN.md: a log signed by a root authority), the registry is a YAML file
// the operator keeps:
//
// Each key is named after its agency's ID (keygen --name ministry-of-finance)
// and no public key is listed twice.
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
//	        retired: 2026-09-01T00:00:00Z # rotated out: see below
//	      - vkey: ministry-of-finance+9f8e7d6c+AY...
//	        revoked: true                 # compromised: never trusted
//
// # Revoked and retired keys
//
// A revoked key may be in other hands: no signature by it counts, ever, so
// a monitor replaying the log also refuses the entries it signed before it
// was revoked (and raises alerts on them: use revoked for a compromise).
//
// A retired key was rotated out in good order. It signs nothing dated at or
// after its retirement, but the entries it signed before stay valid, so a
// replay with today's registry still admits them. "Dated" is the statement's
// own signed time: a replay authorizes at that time ([Registry.Authorize]);
// the admission server at that time and at the later of it and its clock,
// and requires both to credit the same agency
// ([Registry.AuthorizeAdmission]), so whatever it admitted, a replay admits
// too, credited to the same agency. A retired role works the same way: held
// for statements dated before its until.
//
// Times are RFC 3339 with their zone. Set a retirement no earlier than
// when the file reaches both the admission server and the monitors: one
// moved back in time refuses entries already admitted, and monitors raise
// alerts on them.
//
// The file keeps no more history than that (no key or role added at a
// given time); that is what the registry log (DESIGN.md) will keep.
package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"gopkg.in/yaml.v3"

	"github.com/govlog/govlog/personalities/rule/body"
)

// Errors of Authorize; the admission server maps them to gRPC codes.
var (
	// ErrKeyRevoked: the only known keys that signed are revoked, or
	// retired by the time of authorization.
	ErrKeyRevoked = errors.New("signing key revoked")
	// ErrRoleMissing: a known key signed, but its agency lacks the role.
	ErrRoleMissing = errors.New("agency lacks the role")
)

// File is the YAML document.
type File struct {
	Agencies []Agency `yaml:"agencies"`
}

// Agency is one agency entry.
type Agency struct {
	// ID identifies the agency in state and in the log ("ministry-of-finance").
	ID string `yaml:"id"`
	// Name is for people.
	Name string `yaml:"name"`
	// Roles the agency holds, e.g. "discloser".
	Roles []string `yaml:"roles"`
	// RetiredRoles are roles the agency held until a time.
	RetiredRoles []RetiredRole `yaml:"retired_roles,omitempty"`
	// Keys are the agency's signing keys.
	Keys []Key `yaml:"keys"`
}

// RetiredRole is a role held for statements dated before Until.
type RetiredRole struct {
	Role  string    `yaml:"role"`
	Until time.Time `yaml:"until"`
}

// Key is one verifier key of an agency.
type Key struct {
	VKey string `yaml:"vkey"`
	// Revoked: no signature by the key counts, whatever its date.
	Revoked bool `yaml:"revoked,omitempty"`
	// Retired, if set: the key signs nothing dated at or after it.
	Retired time.Time `yaml:"retired,omitempty"`
}

type keyID struct {
	name string
	hash uint32
}

type keyInfo struct {
	agency  *Agency
	revoked bool
	retired time.Time // zero: not retired
}

// Registry is a parsed, validated registry.
type Registry struct {
	agencies  map[string]*Agency
	keys      map[keyID]keyInfo
	verifiers note.Verifiers
}

var agencyIDPattern = regexp.MustCompile("^" + body.AgencyIDPattern + "$")

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

// Parse parses a registry document, refusing unknown fields, duplicate
// agencies, duplicate keys and malformed vkeys.
func Parse(data []byte) (*Registry, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("bad YAML: %w", err)
	}
	if err := checkTimes(data); err != nil {
		return nil, err
	}
	return New(f)
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

// New validates f and builds a Registry from it.
func New(f File) (*Registry, error) {
	r := &Registry{agencies: map[string]*Agency{}, keys: map[keyID]keyInfo{}}
	// A signature covers the text only, not the key name on its line: the
	// same public key under two names would let anyone move a signature
	// from one agency to the other by renaming the line.
	owners := map[string]string{}
	var vs []note.Verifier
	for i := range f.Agencies {
		a := &f.Agencies[i]
		if !agencyIDPattern.MatchString(a.ID) {
			return nil, fmt.Errorf("agency %d: id %q must match %s", i+1, a.ID, agencyIDPattern)
		}
		if _, dup := r.agencies[a.ID]; dup {
			return nil, fmt.Errorf("agency %q listed twice", a.ID)
		}
		r.agencies[a.ID] = a
		for _, rr := range a.RetiredRoles {
			switch {
			case rr.Role == "" || rr.Until.IsZero():
				return nil, fmt.Errorf("agency %q: a retired role needs a role and an until time", a.ID)
			case slices.Contains(a.Roles, rr.Role):
				return nil, fmt.Errorf("agency %q: role %q is both held and retired", a.ID, rr.Role)
			}
		}
		for _, k := range a.Keys {
			v, err := note.NewVerifier(k.VKey)
			if err != nil {
				return nil, fmt.Errorf("agency %q: bad vkey %q: %w", a.ID, k.VKey, err)
			}
			if v.Name() != a.ID {
				return nil, fmt.Errorf("agency %q: key %s+%08x is named %q; an agency's keys are named after its ID", a.ID, v.Name(), v.KeyHash(), v.Name())
			}
			pub := publicKey(k.VKey)
			if other, dup := owners[pub]; dup {
				return nil, fmt.Errorf("agency %q: the public key of %s+%08x is already listed for %q", a.ID, v.Name(), v.KeyHash(), other)
			}
			owners[pub] = a.ID
			id := keyID{v.Name(), v.KeyHash()}
			if _, dup := r.keys[id]; dup {
				return nil, fmt.Errorf("agency %q: key %s+%08x listed twice", a.ID, v.Name(), v.KeyHash())
			}
			if k.Revoked && !k.Retired.IsZero() {
				return nil, fmt.Errorf("agency %q: key %s+%08x is both revoked and retired; a revoked key is never trusted", a.ID, v.Name(), v.KeyHash())
			}
			r.keys[id] = keyInfo{agency: a, revoked: k.Revoked, retired: k.Retired}
			vs = append(vs, v)
		}
	}
	r.verifiers = note.VerifierList(vs...)
	return r, nil
}

// publicKey returns the key material of a vkey (name+hash+base64), which
// note.NewVerifier has already checked.
func publicKey(vkey string) string {
	return vkey[strings.LastIndexByte(vkey, '+')+1:]
}

// Verifiers returns every listed key, revoked ones included, so that a
// signature by a revoked key is reported as revoked rather than unknown.
func (r *Registry) Verifiers() note.Verifiers { return r.verifiers }

// Agency returns the agency with this ID.
func (r *Registry) Agency(id string) (Agency, bool) {
	a, ok := r.agencies[id]
	if !ok {
		return Agency{}, false
	}
	return *a, true
}

// Authorize returns the agency of the first verified signature whose key,
// at time at, is neither revoked nor retired, and whose agency then holds
// role. The admission server passes the later of its clock and the
// statement's time; a replay, the statement's time (see the package doc).
func (r *Registry) Authorize(sigs []note.Signature, role string, at time.Time) (string, error) {
	var revoked, lacking []string
	for _, s := range sigs {
		k, ok := r.keys[keyID{s.Name, s.Hash}]
		if !ok {
			continue
		}
		if k.revoked {
			revoked = append(revoked, s.Name)
			continue
		}
		if !k.retired.IsZero() && !at.Before(k.retired) {
			revoked = append(revoked, fmt.Sprintf("%s+%08x (retired %s)", s.Name, s.Hash, k.retired.UTC().Format(time.RFC3339)))
			continue
		}
		if k.agency.holds(role, at) {
			return k.agency.ID, nil
		}
		lacking = append(lacking, k.agency.ID)
	}
	switch {
	case len(lacking) > 0:
		return "", fmt.Errorf("%v: %w %q", lacking, ErrRoleMissing, role)
	case len(revoked) > 0:
		return "", fmt.Errorf("key %v: %w", revoked, ErrKeyRevoked)
	default:
		return "", errors.New("no signature by a registered key")
	}
}

// AuthorizeAdmission is Authorize as the admission server must run it, for
// a statement dated signed and received at now: a replay, which has only
// the statement, authorizes at signed, so the statement is admitted only if
// it is also authorized at the later of the two times, for the same agency.
// (With several signers, a key retired in between would otherwise credit
// one agency now and another on replay.)
func (r *Registry) AuthorizeAdmission(sigs []note.Signature, role string, signed, now time.Time) (string, error) {
	atSigning, err := r.Authorize(sigs, role, signed)
	if err != nil {
		return "", err
	}
	at := signed
	if now.After(at) {
		at = now
	}
	atAdmission, err := r.Authorize(sigs, role, at)
	if err != nil {
		return "", err
	}
	if atAdmission != atSigning {
		return "", fmt.Errorf("the signature of %q counted at the statement's time but no longer does (its key or role was retired since), and a replay would credit %q rather than %q: %w; sign again without it",
			atSigning, atSigning, atAdmission, ErrKeyRevoked)
	}
	return atAdmission, nil
}

// holds reports whether a holds role at time at.
func (a *Agency) holds(role string, at time.Time) bool {
	if slices.Contains(a.Roles, role) {
		return true
	}
	for _, rr := range a.RetiredRoles {
		if rr.Role == role && at.Before(rr.Until) {
			return true
		}
	}
	return false
}
