// Package registry says which agencies may sign which statements, and is
// the rules of the registry log that says so (DESIGN.md, Domains):
// agencies, their officials (pseudonymous staff IDs with keys of their
// own), their verifier keys (signed-note vkeys) and their roles, each
// change an entry of the registry log signed by k of the n root keys that
// the configuration names, so that no single operator key can add an
// agency or a key.
//
// # Genesis
//
// The YAML file of before (see [File]) is the genesis: on first start the
// server writes it into the empty registry log as entries ([Genesis]),
// signed by k root keys; afterwards the log is the only truth. A change is
// an entry submitted like any other statement (`govlog registry prepare`,
// `sign` on each root holder's machine, `submit`).
//
// # Positions
//
// Every change records the index of the registry entry that made it, so a
// [Registry] built from the state answers as the registry stood after any
// number n of entries ([Registry.AuthorizeAt]). Each other log records
// which n it authorizes against: before it admits the first statement
// under a registry that changed, the admission server writes into that log
// an entry of type [ViewType], signed by the log's own key, naming n and
// the leaf hash of registry entry n-1 ([Anchor]). A change therefore takes
// effect on every log at a known position, with no restart, and a monitor
// replaying a log checks each entry against the registry as it stood when
// the entry was admitted.
//
// # Retired and revoked keys
//
// A retired key was rotated out in good order: it signs nothing dated at
// or after its retirement, and what it signed before stays valid. The
// registry refuses a retirement dated before the latest statement the key
// signed that a log admitted.
//
// A revoked key was compromised: nothing it signed dated at or after the
// revocation's from time counts (no from time: nothing at all). The
// admission servers refuse its statements as soon as the revocation is in
// the registry log; entries it signed that were admitted before (the
// registry stood otherwise then) stay in the logs, and a monitor names
// them in an alert.
//
// "Dated" is the statement's own signed time. The admission server
// authorizes at that time and at the later of it and its clock, and
// requires both to credit the same agency ([Registry.AuthorizeAdmission]),
// so whatever it admitted, a replay at the statement's time admits too.
//
// A withdrawn role is held for statements dated before its withdrawal's at
// time.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/internal/edverify"
	"github.com/govlog/govlog/personalities/rule"
)

// Errors of Authorize; the admission server maps them to gRPC codes.
var (
	// ErrKeyRevoked: the only known keys that signed are revoked, or
	// retired by the time of authorization.
	ErrKeyRevoked = errors.New("signing key revoked or retired")
	// ErrRoleMissing: a known key signed, but its agency lacks the role.
	ErrRoleMissing = errors.New("agency lacks the role")
)

type keyID struct {
	name string
	hash uint32
}

func (k keyID) String() string { return fmt.Sprintf("%s+%08x", k.name, k.hash) }

// keyRef is where a key is in the state.
type keyRef struct {
	agency *agencyRecord
	key    *keyRecord
	// staff is the official the key is of; empty for an agency key.
	staff string
}

// Registry is the registry as it stands after Size entries, with the
// history of every key and role, so it also answers as it stood after
// fewer. It is immutable.
type Registry struct {
	size      uint64
	leaves    [][32]byte
	agencies  map[string]*agencyRecord
	keys      map[keyID]keyRef
	verifiers note.Verifiers
}

// FromState builds the Registry the registry log's state describes.
func FromState(ctx context.Context, st rule.Scanner) (*Registry, error) {
	r := &Registry{agencies: map[string]*agencyRecord{}, keys: map[keyID]keyRef{}}
	var err error
	if r.size, err = readSize(ctx, st); err != nil {
		return nil, err
	}
	err = st.Scan(ctx, leafPrefix, func(key string, value []byte) error {
		h, err := parseHash(string(value))
		if err != nil || key != leafKey(uint64(len(r.leaves))) {
			return fmt.Errorf("corrupt registry state at %s", key)
		}
		r.leaves = append(r.leaves, h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if uint64(len(r.leaves)) != r.size {
		return nil, fmt.Errorf("corrupt registry state: %d leaf hashes for size %d", len(r.leaves), r.size)
	}
	var vs []note.Verifier
	err = st.Scan(ctx, agencyPrefix, func(key string, value []byte) error {
		a := new(agencyRecord)
		if err := json.Unmarshal(value, a); err != nil {
			return fmt.Errorf("corrupt registry state: %s: %w", key, err)
		}
		r.agencies[a.ID] = a
		for i := range a.Keys {
			k := &a.Keys[i]
			v, err := edverify.NewVerifier(k.VKey)
			if err != nil {
				return fmt.Errorf("corrupt registry state: %s: %w", key, err)
			}
			ref := keyRef{agency: a, key: k}
			if v.Name() != a.ID {
				ref.staff = v.Name()
			}
			r.keys[keyID{v.Name(), v.KeyHash()}] = ref
			vs = append(vs, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.verifiers = note.VerifierList(vs...)
	return r, nil
}

// Size is how many registry entries the registry holds.
func (r *Registry) Size() uint64 { return r.size }

// LeafHash returns the leaf hash of registry entry index.
func (r *Registry) LeafHash(index uint64) ([32]byte, bool) {
	if index >= uint64(len(r.leaves)) {
		return [32]byte{}, false
	}
	return r.leaves[index], true
}

// Verifiers returns every key ever listed, revoked ones included, so that
// a signature by a revoked key is reported as revoked rather than unknown.
func (r *Registry) Verifiers() note.Verifiers { return r.verifiers }

// Name returns how the registry names the agency id.
func (r *Registry) Name(id string) (string, bool) {
	a, ok := r.agencies[id]
	if !ok {
		return "", false
	}
	return a.Name, true
}

// Roles returns the roles agency id holds now.
func (r *Registry) Roles(id string) []string {
	a, ok := r.agencies[id]
	if !ok {
		return nil
	}
	var out []string
	for _, g := range a.Roles {
		if g.Withdrawn == nil && !slices.Contains(out, g.Role) {
			out = append(out, g.Role)
		}
	}
	return out
}

// Authorize is AuthorizeAt with the registry as it stands now, naming the
// agency only.
func (r *Registry) Authorize(sigs []note.Signature, role string, at time.Time) (string, error) {
	s, err := r.AuthorizeAt(r.size, sigs, role, at)
	return s.Agency, err
}

// AuthorizeAt authorizes a statement dated at and signed with sigs (those
// that verified) for role, with the registry as it stood after its first
// n entries. No key that signed may be revoked or retired at time at
// (ErrKeyRevoked: a leaf carries no such signature). It returns the agency
// of the first signature by an agency key whose agency then held role, and
// the officials of that agency whose keys signed too.
func (r *Registry) AuthorizeAt(n uint64, sigs []note.Signature, role string, at time.Time) (rule.Signers, error) {
	var revoked, lacking []string
	// A leaf carries no signature by a key that may not sign it: not the
	// agency's, not an official's.
	for _, s := range sigs {
		k, ok := r.keys[keyID{s.Name, s.Hash}]
		if !ok || k.key.Added.Index >= n {
			continue
		}
		if why := k.key.invalid(n, at); why != "" {
			revoked = append(revoked, fmt.Sprintf("%s+%08x (%s)", s.Name, s.Hash, why))
		}
	}
	if len(revoked) > 0 {
		return rule.Signers{}, fmt.Errorf("key %s: %w; sign without it", strings.Join(revoked, ", "), ErrKeyRevoked)
	}
	var agency *agencyRecord
	for _, s := range sigs {
		k, ok := r.keys[keyID{s.Name, s.Hash}]
		if !ok || k.staff != "" || k.key.Added.Index >= n {
			continue
		}
		if k.agency.holds(n, role, at) {
			agency = k.agency
			break
		}
		lacking = append(lacking, k.agency.ID)
	}
	switch {
	case agency != nil:
	case len(lacking) > 0:
		return rule.Signers{}, fmt.Errorf("%v: %w %q", lacking, ErrRoleMissing, role)
	default:
		return rule.Signers{}, fmt.Errorf("%w: no signature by a registered agency key (an official's key signs only beside its agency's)", rule.ErrNotAuthorized)
	}
	out := rule.Signers{Agency: agency.ID}
	for _, s := range sigs {
		k, ok := r.keys[keyID{s.Name, s.Hash}]
		if ok && k.staff != "" && k.agency == agency && k.key.Added.Index < n && !slices.Contains(out.Officials, k.staff) {
			out.Officials = append(out.Officials, k.staff)
		}
	}
	slices.Sort(out.Officials)
	return out, nil
}

// AuthorizeAdmission is Authorize as the admission server must run it, for
// a statement dated signed and received at now: a replay, which has only
// the statement, authorizes at signed, so the statement is admitted only if
// it is also authorized at the later of the two times, for the same agency
// and officials. (With several signers, a key retired in between would
// otherwise credit one agency now and another on replay.)
func (r *Registry) AuthorizeAdmission(sigs []note.Signature, role string, signed, now time.Time) (rule.Signers, error) {
	atSigning, err := r.AuthorizeAt(r.size, sigs, role, signed)
	if err != nil {
		return rule.Signers{}, err
	}
	atAdmission, err := r.AuthorizeAt(r.size, sigs, role, later(signed, now))
	if err != nil {
		return rule.Signers{}, err
	}
	if atAdmission.Agency != atSigning.Agency || !slices.Equal(atAdmission.Officials, atSigning.Officials) {
		return rule.Signers{}, fmt.Errorf("the signatures counted at the statement's time (%s) but not all do now (a key or role was retired since), and a replay would credit them: %w; sign again without the key",
			atSigning, ErrKeyRevoked)
	}
	return atAdmission, nil
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// invalid says why k signs nothing dated at, with the registry as it stood
// after n entries; "" if it may sign.
func (k *keyRecord) invalid(n uint64, at time.Time) string {
	if k.Revoked != nil && k.Revoked.Index < n && !at.Before(k.Revoked.At) {
		if k.Revoked.At.IsZero() {
			return "revoked"
		}
		return "revoked from " + k.Revoked.At.UTC().Format(time.RFC3339)
	}
	if k.Retired != nil && k.Retired.Index < n && !at.Before(k.Retired.At) {
		return "retired " + k.Retired.At.UTC().Format(time.RFC3339)
	}
	return ""
}

// holds reports whether a held role for statements dated at, with the
// registry as it stood after n entries.
func (a *agencyRecord) holds(n uint64, role string, at time.Time) bool {
	for _, g := range a.Roles {
		if g.Role != role || g.Granted.Index >= n {
			continue
		}
		if g.Withdrawn == nil || g.Withdrawn.Index >= n || at.Before(g.Withdrawn.At) {
			return true
		}
	}
	return false
}

// Compromised returns, for a statement dated at and signed with sigs, the
// keys among them that the registry as it stands now revokes from a time
// at or before at, each with its revocation: what a monitor names in an
// alert for an entry admitted before the revocation.
func (r *Registry) Compromised(sigs []note.Signature, at time.Time) []string {
	var out []string
	for _, s := range sigs {
		k, ok := r.keys[keyID{s.Name, s.Hash}]
		if ok && k.key.Revoked != nil && !at.Before(k.key.Revoked.At) {
			out = append(out, fmt.Sprintf("%s+%08x (%s by registry entry %d)", s.Name, s.Hash, k.key.invalid(r.size, at), k.key.Revoked.Index))
		}
	}
	return out
}

// Revoked returns the keys ("name+hash") the registry revoked in its
// first n entries, each with the index of the registry entry that did.
func (r *Registry) Revoked(n uint64) map[string]uint64 {
	out := map[string]uint64{}
	for id, k := range r.keys {
		if k.key.Revoked != nil && k.key.Revoked.Index < n {
			out[id.String()] = k.key.Revoked.Index
		}
	}
	return out
}
