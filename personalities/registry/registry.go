// Package registry says which agencies may sign which statements: their
// verifier keys (signed-note vkeys), whether a key is revoked, and the roles
// each agency holds. Until the registry log exists (DESIGN.md: a log signed
// by a root authority), the registry is a YAML file the operator keeps:
//
// Each key is named after its agency's ID (keygen --name ministry-of-finance)
// and no public key is listed twice.
//
//	agencies:
//	  - id: ministry-of-finance          # [a-z0-9-]+, unique
//	    name: Ministry of Finance
//	    roles: [discloser]
//	    keys:
//	      - vkey: ministry-of-finance+1a2b3c4d+AX...
//	      - vkey: ministry-of-finance+9f8e7d6c+AY...
//	        revoked: true                 # signatures by it are refused
//
// The admission server authenticates with it. The file has no history: a
// key revoked (or a role removed) today would also fail the entries it
// signed before, so a replay must use the registry as it was when each
// entry was admitted. That history is what the registry log (DESIGN.md)
// will keep; until then, keep old versions of this file.
package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"gopkg.in/yaml.v3"
)

// Errors of Authorize; the admission server maps them to gRPC codes.
var (
	// ErrKeyRevoked: the only known keys that signed are revoked.
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
	// Keys are the agency's signing keys.
	Keys []Key `yaml:"keys"`
}

// Key is one verifier key of an agency.
type Key struct {
	VKey    string `yaml:"vkey"`
	Revoked bool   `yaml:"revoked,omitempty"`
}

type keyID struct {
	name string
	hash uint32
}

type keyInfo struct {
	agency  *Agency
	revoked bool
}

// Registry is a parsed, validated registry.
type Registry struct {
	agencies  map[string]*Agency
	keys      map[keyID]keyInfo
	verifiers note.Verifiers
}

var agencyIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

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
	return New(f)
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
			r.keys[id] = keyInfo{agency: a, revoked: k.Revoked}
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

// Authorize returns the agency of the first verified signature whose key is
// unrevoked and whose agency holds role.
func (r *Registry) Authorize(sigs []note.Signature, role string) (string, error) {
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
		for _, have := range k.agency.Roles {
			if have == role {
				return k.agency.ID, nil
			}
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
