package registry

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog/internal/edverify"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/notesig"
)

// LogName is the registry log's name.
const LogName = "registry"

// Statement types of the registry log. Every one is signed by a quorum of
// root keys.
const (
	TypeAgencyRegister   = "agency.register"
	TypeOfficialRegister = "official.register"
	TypeKeyAdd           = "key.add"
	TypeKeyRetire        = "key.retire"
	TypeKeyRevoke        = "key.revoke"
	TypeRoleGrant        = "role.grant"
	TypeRoleWithdraw     = "role.withdraw"
)

const maxNameLen = 128

// Roots are the root keys and how many of them must sign each registry
// entry.
type Roots struct {
	verifiers map[keyID]note.Verifier
	quorum    int
	names     []string
}

// NewRoots checks the root verifier keys and the quorum: at least 2 (no
// single key may change the registry) and at most the number of keys.
func NewRoots(vkeys []string, quorum int) (*Roots, error) {
	r := &Roots{verifiers: map[keyID]note.Verifier{}, quorum: quorum}
	pubs := map[string]bool{}
	for _, vk := range vkeys {
		v, err := edverify.NewVerifier(vk)
		if err != nil {
			return nil, fmt.Errorf("bad root key %.80q: %w", vk, err)
		}
		id := keyID{v.Name(), v.KeyHash()}
		if _, dup := r.verifiers[id]; dup || pubs[publicKey(vk)] {
			return nil, fmt.Errorf("root key %s listed twice", id)
		}
		pubs[publicKey(vk)] = true
		r.verifiers[id] = v
		r.names = append(r.names, id.String())
	}
	switch {
	case len(vkeys) < 2:
		return nil, fmt.Errorf("%d root keys: name at least 2, so that no single key can change the registry", len(vkeys))
	case quorum < 2 || quorum > len(vkeys):
		return nil, fmt.Errorf("root quorum %d: want at least 2 and at most the %d root keys", quorum, len(vkeys))
	}
	return r, nil
}

// Quorum is how many root keys must sign.
func (r *Roots) Quorum() int { return r.quorum }

// Keys names the root keys ("name+hash").
func (r *Roots) Keys() []string { return slices.Clone(r.names) }

// publicKey returns the key material of a vkey (name+hash+base64), which
// note.NewVerifier has already checked: what follows the second '+' (the
// name and hash hold none; the base64 may).
func publicKey(vkey string) string {
	_, rest, _ := strings.Cut(vkey, "+")
	_, key, _ := strings.Cut(rest, "+")
	return key
}

// Domain is the registry log's rules.
type Domain struct {
	roots *Roots
	// LastUse, if set, returns the signed time of the latest statement by
	// the key ("name+hash") that any log admitted, ok=false if none: a
	// retirement must not be dated at or before it. The admission server
	// sets it; a replay has no view of the other logs and relies on the
	// positions instead (see the package doc).
	LastUse func(ctx context.Context, key string) (t time.Time, ok bool, err error)
}

// NewDomain returns the registry log's rules with these roots (nil: a
// domain that only answers and checks queries).
func NewDomain(roots *Roots) *Domain { return &Domain{roots: roots} }

var _ rule.Authenticator = (*Domain)(nil)

// Log implements rule.Domain.
func (d *Domain) Log() string { return LogName }

var types = []rule.TypeInfo{
	{Type: TypeAgencyRegister, Role: rule.SelfSigned, Summary: "an agency is registered: its ID and name"},
	{Type: TypeOfficialRegister, Role: rule.SelfSigned, Summary: "an official of an agency is registered by a pseudonymous staff ID, with a key of their own"},
	{Type: TypeKeyAdd, Role: rule.SelfSigned, Summary: "a key is added to an agency or one of its officials"},
	{Type: TypeKeyRetire, Role: rule.SelfSigned, Summary: "a key is retired (rotated out): it signs nothing dated at or after a time"},
	{Type: TypeKeyRevoke, Role: rule.SelfSigned, Summary: "a key is revoked (compromised): nothing it signed from a time counts"},
	{Type: TypeRoleGrant, Role: rule.SelfSigned, Summary: "an agency is granted a role"},
	{Type: TypeRoleWithdraw, Role: rule.SelfSigned, Summary: "an agency's role is withdrawn for statements dated at or after a time"},
}

// Types implements rule.Domain.
func (d *Domain) Types() []rule.TypeInfo { return slices.Clone(types) }

// RequiredRole implements rule.Domain.
func (d *Domain) RequiredRole(t string) (string, error) { return rule.RoleOf(LogName, types, t) }

// Authenticate implements rule.Authenticator: every signature line must
// be a valid signature by a distinct root key, and there must be at least
// the quorum of them.
func (d *Domain) Authenticate(_ context.Context, _ rule.Reader, e rule.Entry) (string, error) {
	if d.roots == nil {
		return "", fmt.Errorf("%w: no root keys are configured", rule.ErrNotAuthorized)
	}
	var signed []string
	for _, s := range e.Signatures {
		id := keyID{s.Name, s.KeyHash}
		v, ok := d.roots.verifiers[id]
		if !ok {
			return "", fmt.Errorf("%w: signed by %.80s, which is not a root key (%s)", rule.ErrNotAuthorized, id, strings.Join(d.roots.names, ", "))
		}
		if slices.Contains(signed, id.String()) {
			return "", fmt.Errorf("%w: root key %s signed twice; each root key signs once", rule.ErrNotAuthorized, id)
		}
		if err := notesig.VerifyLine(v, e, s); err != nil {
			return "", err
		}
		signed = append(signed, id.String())
	}
	if len(signed) < d.roots.quorum {
		return "", fmt.Errorf("%w: signed by %d root key(s) (%s); a registry entry needs %d of the %d", rule.ErrNotAuthorized,
			len(signed), strings.Join(signed, ", "), d.roots.quorum, len(d.roots.names))
	}
	return "roots " + strings.Join(signed, ", "), nil
}

// Apply implements rule.Domain.
func (d *Domain) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	n, err := readSize(ctx, st)
	if err != nil {
		return err
	}
	c := Change{Index: n, Time: e.Time}
	switch e.Type {
	case TypeAgencyRegister:
		err = applyAgency(ctx, st, e, c)
	case TypeOfficialRegister:
		err = applyOfficial(ctx, st, e, c)
	case TypeKeyAdd:
		err = applyKeyAdd(ctx, st, e, c)
	case TypeKeyRetire, TypeKeyRevoke:
		err = d.applyKeyEnd(ctx, st, e, c)
	case TypeRoleGrant, TypeRoleWithdraw:
		err = applyRole(ctx, st, e, c)
	default:
		_, err = d.RequiredRole(e.Type)
	}
	if err != nil {
		return err
	}
	if err := st.Put(ctx, sizeKey, []byte(strconv.FormatUint(n+1, 10))); err != nil {
		return err
	}
	return st.Put(ctx, leafKey(n), []byte(hex.EncodeToString(e.LeafHash[:])))
}

func applyAgency(ctx context.Context, st rule.State, e rule.Entry, c Change) error {
	b, err := body.Parse(e.Body, []string{"agency", "name"}, nil)
	if err != nil {
		return err
	}
	id, err := b.AgencyID("agency")
	if err != nil {
		return err
	}
	name, err := b.Text("name", maxNameLen)
	if err != nil {
		return err
	}
	if err := claimName(ctx, st, id, id); err != nil {
		return err
	}
	return putJSON(ctx, st, agencyPrefix+id, agencyRecord{ID: id, Name: name, Registered: c})
}

// claimName reserves a key name (an agency ID or a staff ID) for agency.
func claimName(ctx context.Context, st rule.State, name, agency string) error {
	if owner, ok, err := st.Get(ctx, namePrefix+name); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: the name %q is taken (by %s)", rule.ErrAlreadyExists, name, owner)
	}
	return st.Put(ctx, namePrefix+name, []byte(agency))
}

// agencyOf reads the registered agency named in field of b.
func agencyOf(ctx context.Context, st rule.Reader, b body.Object, field string) (*agencyRecord, error) {
	id, err := b.AgencyID(field)
	if err != nil {
		return nil, err
	}
	a, err := readAgency(ctx, st, id)
	if err == nil && a == nil {
		err = fmt.Errorf("%w: agency %q is not registered", rule.ErrRuleViolation, id)
	}
	return a, err
}

func applyOfficial(ctx context.Context, st rule.State, e rule.Entry, c Change) error {
	b, err := body.Parse(e.Body, []string{"agency", "staff", "key"}, nil)
	if err != nil {
		return err
	}
	staff, err := b.AgencyID("staff")
	if err != nil {
		return err
	}
	a, err := agencyOf(ctx, st, b, "agency")
	if err != nil {
		return err
	}
	if owner, ok, err := st.Get(ctx, namePrefix+staff); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: the name %q is taken (by %s)", rule.ErrAlreadyExists, staff, owner)
	}
	// Everything is checked before the first write: a replay applies
	// straight to its state.
	a.Officials = append(a.Officials, officialRecord{Staff: staff, Registered: c})
	k, err := checkKey(ctx, st, a, b, staff, c)
	if err != nil {
		return err
	}
	if err := claimName(ctx, st, staff, a.ID); err != nil {
		return err
	}
	return addKey(ctx, st, a, k)
}

func applyKeyAdd(ctx context.Context, st rule.State, e rule.Entry, c Change) error {
	b, err := body.Parse(e.Body, []string{"agency", "key"}, nil)
	if err != nil {
		return err
	}
	a, err := agencyOf(ctx, st, b, "agency")
	if err != nil {
		return err
	}
	k, err := checkKey(ctx, st, a, b, "", c)
	if err != nil {
		return err
	}
	return addKey(ctx, st, a, k)
}

// newKey is a key checked for addition, with the change that adds it.
type newKey struct {
	keyRecord
	id keyID
}

// checkKey checks the key in b's "key" for a: named by a's ID or by one of
// its officials' staff IDs (by staff, if set). No key ID or public key is
// ever listed twice: a signature covers the text only, not the name on its
// line, so the same public key under two names would let anyone move a
// signature from one signer to another.
func checkKey(ctx context.Context, st rule.Reader, a *agencyRecord, b body.Object, staff string, c Change) (newKey, error) {
	vkey, err := b.Str("key")
	if err != nil {
		return newKey{}, err
	}
	name, hash, err := notesig.ParseVKey(vkey)
	if err != nil {
		return newKey{}, err
	}
	id := keyID{name, hash}
	switch {
	case staff != "" && name != staff:
		return newKey{}, fmt.Errorf("%w: key %s is named %q; an official's key is named by their staff ID, %q", rule.ErrInvalidBody, id, name, staff)
	case name != a.ID && !slices.ContainsFunc(a.Officials, func(o officialRecord) bool { return o.Staff == name }):
		return newKey{}, fmt.Errorf("%w: key %s is named %q; a key of agency %s is named by its ID or by one of its officials' staff IDs", rule.ErrInvalidBody, id, name, a.ID)
	}
	if owner, ok, err := st.Get(ctx, pubPrefix+publicKey(vkey)); err != nil {
		return newKey{}, err
	} else if ok {
		return newKey{}, fmt.Errorf("%w: the public key of %s is already listed, as %s", rule.ErrRuleViolation, id, owner)
	}
	for _, k := range a.Keys {
		if v, _ := note.NewVerifier(k.VKey); v != nil && v.Name() == name && v.KeyHash() == hash {
			return newKey{}, fmt.Errorf("%w: key %s is already listed", rule.ErrRuleViolation, id)
		}
	}
	return newKey{keyRecord: keyRecord{VKey: vkey, Added: c}, id: id}, nil
}

// addKey writes k, checked, into a's record.
func addKey(ctx context.Context, st rule.State, a *agencyRecord, k newKey) error {
	a.Keys = append(a.Keys, k.keyRecord)
	if err := st.Put(ctx, pubPrefix+publicKey(k.VKey), []byte(k.id.String())); err != nil {
		return err
	}
	return putJSON(ctx, st, agencyPrefix+a.ID, a)
}

// parseKeyID parses "name+hash" (8 lowercase hex digits).
func parseKeyID(s string) (keyID, bool) {
	name, h, ok := strings.Cut(s, "+")
	if !ok || name == "" || len(h) != 8 || strings.ToLower(h) != h {
		return keyID{}, false
	}
	hash, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return keyID{}, false
	}
	return keyID{name, uint32(hash)}, true
}

// parseTime reads an RFC 3339 time with its zone.
func parseTime(b body.Object, field string) (time.Time, error) {
	s, err := b.Str(field)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, body.Errorf("%s %.40q: want an RFC 3339 time with its zone, e.g. 2026-09-01T00:00:00Z", b.Field(field), s)
	}
	return t.UTC(), nil
}

func (d *Domain) applyKeyEnd(ctx context.Context, st rule.State, e rule.Entry, c Change) error {
	field := "at"
	if e.Type == TypeKeyRevoke {
		field = "from"
	}
	b, err := body.Parse(e.Body, []string{"key"}, []string{field})
	if err != nil {
		return err
	}
	ks, err := b.Str("key")
	if err != nil {
		return err
	}
	id, ok := parseKeyID(ks)
	if !ok {
		return body.Errorf("%s %.80q: want a key ID, <name>+<8 hex digits>", b.Field("key"), ks)
	}
	var at time.Time
	if b.Has(field) || e.Type == TypeKeyRetire {
		if at, err = parseTime(b, field); err != nil {
			return err
		}
	}
	owner, ok, err := st.Get(ctx, namePrefix+id.name)
	if err != nil {
		return err
	}
	var a *agencyRecord
	if ok {
		if a, err = readAgency(ctx, st, string(owner)); err != nil {
			return err
		}
	}
	var k *keyRecord
	if a != nil {
		for i := range a.Keys {
			if v, _ := note.NewVerifier(a.Keys[i].VKey); v != nil && v.Name() == id.name && v.KeyHash() == id.hash {
				k = &a.Keys[i]
			}
		}
	}
	switch {
	case k == nil:
		return fmt.Errorf("%w: key %s is not in the registry", rule.ErrRuleViolation, id)
	case k.Revoked != nil:
		return fmt.Errorf("%w: key %s was revoked by registry entry %d", rule.ErrRuleViolation, id, k.Revoked.Index)
	case e.Type == TypeKeyRevoke:
		k.Revoked = &until{At: at, Change: c}
	case k.Retired != nil:
		return fmt.Errorf("%w: key %s was retired by registry entry %d", rule.ErrRuleViolation, id, k.Retired.Index)
	default:
		if d.LastUse != nil {
			last, ok, err := d.LastUse(ctx, id.String())
			if err != nil {
				return err
			}
			if ok && !at.After(last) {
				return fmt.Errorf("%w: the retirement at %s is not after the latest statement key %s signed that a log admitted (dated %s): it would disown it",
					rule.ErrInvalidBody, at.Format(time.RFC3339), id, last.UTC().Format(time.RFC3339))
			}
		}
		k.Retired = &until{At: at, Change: c}
	}
	return putJSON(ctx, st, agencyPrefix+a.ID, a)
}

func applyRole(ctx context.Context, st rule.State, e rule.Entry, c Change) error {
	var optional []string
	if e.Type == TypeRoleWithdraw {
		optional = []string{"at"}
	}
	b, err := body.Parse(e.Body, []string{"agency", "role"}, optional)
	if err != nil {
		return err
	}
	role, err := b.ID("role", roleSyntax)
	if err != nil {
		return err
	}
	a, err := agencyOf(ctx, st, b, "agency")
	if err != nil {
		return err
	}
	held := slices.IndexFunc(a.Roles, func(g roleRecord) bool { return g.Role == role && g.Withdrawn == nil })
	if e.Type == TypeRoleGrant {
		if held >= 0 {
			return fmt.Errorf("%w: agency %s holds the role %q since registry entry %d", rule.ErrAlreadyExists, a.ID, role, a.Roles[held].Granted.Index)
		}
		a.Roles = append(a.Roles, roleRecord{Role: role, Granted: c})
		return putJSON(ctx, st, agencyPrefix+a.ID, a)
	}
	if held < 0 {
		return fmt.Errorf("%w: agency %s does not hold the role %q", rule.ErrRuleViolation, a.ID, role)
	}
	at := e.Time
	if b.Has("at") {
		if at, err = parseTime(b, "at"); err != nil {
			return err
		}
	}
	a.Roles[held].Withdrawn = &until{At: at, Change: c}
	return putJSON(ctx, st, agencyPrefix+a.ID, a)
}

// roleSyntax is how a role is spelled ("discloser", "aid-office").
var roleSyntax = body.IDSyntax{Noun: "a role", MaxLen: 64}

func parseHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("bad leaf hash %.80q", s)
	}
	return [32]byte(b), nil
}
