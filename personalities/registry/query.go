package registry

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

// QueryAgency is the registry log's one query: an agency's keys, officials
// and roles with their history, every change citing its registry entry.
const QueryAgency = "agency"

var _ rule.Querier = (*Domain)(nil)
var _ rule.QueryClient = (*Domain)(nil)

// Queries implements rule.QueryClient.
func (d *Domain) Queries() []rule.QueryInfo {
	return []rule.QueryInfo{{
		Name: QueryAgency, Verb: "show", Arg: "agency", ArgName: "AGENCY",
		Summary: "Print an agency's keys, officials and roles with their history, each change proved",
		Doc: `show prints what the registry log says of an agency: its keys (of the agency
and of its officials) with when each was added, retired or revoked, its
officials, and its roles with when each was granted or withdrawn. Every change
cites the registry entry that made it, proved in the log against --policy; the
entry's index, time, type and body are checked against what the answer says.`,
	}}
}

// AgencyAnswer is the answer to QueryAgency.
type AgencyAnswer struct {
	Agency     string          `json:"agency"`
	Name       string          `json:"name"`
	Registered Cited           `json:"registered"`
	Officials  []OfficialState `json:"officials"`
	Keys       []KeyState      `json:"keys"`
	Roles      []RoleState     `json:"roles"`
}

// Cited is a change and the registry entry that made it.
type Cited struct {
	Index    uint64    `json:"index"`
	Time     time.Time `json:"time"`
	LeafHash string    `json:"leaf_hash"`
}

// CitedUntil is a change that ends something for statements dated at or
// after At.
type CitedUntil struct {
	At time.Time `json:"at"`
	Cited
}

// OfficialState is an official in an AgencyAnswer.
type OfficialState struct {
	Staff      string `json:"staff"`
	Registered Cited  `json:"registered"`
}

// KeyState is a key in an AgencyAnswer.
type KeyState struct {
	Key     string      `json:"key"`
	VKey    string      `json:"vkey"`
	Added   Cited       `json:"added"`
	Retired *CitedUntil `json:"retired,omitempty"`
	Revoked *CitedUntil `json:"revoked,omitempty"`
}

// RoleState is a grant of a role in an AgencyAnswer.
type RoleState struct {
	Role      string      `json:"role"`
	Granted   Cited       `json:"granted"`
	Withdrawn *CitedUntil `json:"withdrawn,omitempty"`
}

// Query implements rule.Querier.
func (d *Domain) Query(ctx context.Context, v rule.View, name string, args map[string]string) (any, [][32]byte, error) {
	if name != QueryAgency {
		return nil, nil, fmt.Errorf("%w %.64q: the registry log answers %q", rule.ErrUnknownQuery, name, QueryAgency)
	}
	id := args["agency"]
	if len(args) != 1 || !body.ValidAgencyID(id) {
		return nil, nil, fmt.Errorf("%w: give agency=<agency ID>, and nothing else", rule.ErrInvalidQuery)
	}
	a, err := readAgency(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	if a == nil {
		return nil, nil, fmt.Errorf("%w: agency %q is not registered", rule.ErrNotFound, id)
	}
	var cited [][32]byte
	cite := func(c Change) (Cited, error) {
		raw, ok, err := v.Get(ctx, leafKey(c.Index))
		if err != nil {
			return Cited{}, err
		}
		h, perr := parseHash(string(raw))
		if !ok || perr != nil {
			return Cited{}, fmt.Errorf("corrupt registry state: no leaf hash of entry %d", c.Index)
		}
		cited = append(cited, h)
		return Cited{Index: c.Index, Time: c.Time, LeafHash: hex.EncodeToString(h[:])}, nil
	}
	citeUntil := func(u *until) (*CitedUntil, error) {
		if u == nil {
			return nil, nil
		}
		c, err := cite(u.Change)
		return &CitedUntil{At: u.At, Cited: c}, err
	}
	out := AgencyAnswer{Agency: a.ID, Name: a.Name, Officials: []OfficialState{}, Keys: []KeyState{}, Roles: []RoleState{}}
	if out.Registered, err = cite(a.Registered); err != nil {
		return nil, nil, err
	}
	for _, o := range a.Officials {
		c, err := cite(o.Registered)
		if err != nil {
			return nil, nil, err
		}
		out.Officials = append(out.Officials, OfficialState{Staff: o.Staff, Registered: c})
	}
	for _, k := range a.Keys {
		ks := KeyState{Key: vkeyID(k.VKey), VKey: k.VKey}
		if ks.Added, err = cite(k.Added); err != nil {
			return nil, nil, err
		}
		if ks.Retired, err = citeUntil(k.Retired); err != nil {
			return nil, nil, err
		}
		if ks.Revoked, err = citeUntil(k.Revoked); err != nil {
			return nil, nil, err
		}
		out.Keys = append(out.Keys, ks)
	}
	for _, g := range a.Roles {
		rs := RoleState{Role: g.Role}
		if rs.Granted, err = cite(g.Granted); err != nil {
			return nil, nil, err
		}
		if rs.Withdrawn, err = citeUntil(g.Withdrawn); err != nil {
			return nil, nil, err
		}
		out.Roles = append(out.Roles, rs)
	}
	return out, cited, nil
}

// vkeyID returns "name+hash" of a vkey the state holds.
func vkeyID(vkey string) string {
	name, rest, _ := strings.Cut(vkey, "+")
	hash, _, _ := strings.Cut(rest, "+")
	return name + "+" + hash
}

// CheckAnswer implements rule.QueryClient: each change must be the proved
// registry entry it cites, at the index and time it says, of the type and
// with the body that make that change.
func (d *Domain) CheckAnswer(query string, args map[string]string, result []byte, entries []rule.ProvedEntry) (string, error) {
	var a AgencyAnswer
	if err := json.Unmarshal(result, &a); err != nil {
		return "", fmt.Errorf("the answer is not an agency: %w", err)
	}
	if a.Agency != args["agency"] {
		return "", fmt.Errorf("asked for agency %q, the answer is about %q", args["agency"], a.Agency)
	}
	byHash := map[string]rule.ProvedEntry{}
	for _, e := range entries {
		byHash[hex.EncodeToString(e.LeafHash[:])] = e
	}
	n := 0
	check := func(what string, c Cited, typ string, want map[string]string) error {
		n++
		e, ok := byHash[c.LeafHash]
		if !ok {
			return fmt.Errorf("%s cites entry %s, which is not proved", what, c.LeafHash)
		}
		if e.Index != c.Index || !e.Time.Equal(c.Time) || e.Type != typ {
			return fmt.Errorf("%s: the answer says entry %d of %s, %s; the proved entry is %d of %s, %s", what, c.Index, c.Time.Format(time.RFC3339), typ, e.Index, e.Time.Format(time.RFC3339), e.Type)
		}
		var b map[string]any
		if err := json.Unmarshal(e.Body, &b); err != nil {
			return fmt.Errorf("%s: entry %d has no JSON body", what, e.Index)
		}
		for k, v := range want {
			if got, _ := b[k].(string); got != v {
				return fmt.Errorf("%s: entry %d says %s %q, the answer %q", what, e.Index, k, got, v)
			}
		}
		return nil
	}
	until := func(what string, u *CitedUntil, typ, field, key string) error {
		if u == nil {
			return nil
		}
		want := map[string]string{"key": key}
		if key == "" {
			want = map[string]string{"agency": a.Agency}
		}
		if err := check(what, u.Cited, typ, want); err != nil {
			return err
		}
		e := byHash[u.LeafHash]
		var b map[string]string
		json.Unmarshal(e.Body, &b)
		at := e.Time
		if s, ok := b[field]; ok {
			at, _ = time.Parse(time.RFC3339, s)
		}
		if !at.Equal(u.At) {
			return fmt.Errorf("%s: entry %d says %s, the answer %s", what, e.Index, at.Format(time.RFC3339), u.At.Format(time.RFC3339))
		}
		return nil
	}
	if err := check("registration", a.Registered, TypeAgencyRegister, map[string]string{"agency": a.Agency, "name": a.Name}); err != nil {
		return "", err
	}
	for _, o := range a.Officials {
		if err := check("official "+o.Staff, o.Registered, TypeOfficialRegister, map[string]string{"agency": a.Agency, "staff": o.Staff}); err != nil {
			return "", err
		}
	}
	for _, k := range a.Keys {
		if vkeyID(k.VKey) != k.Key {
			return "", fmt.Errorf("key %s: its vkey is %s", k.Key, k.VKey)
		}
		e, ok := byHash[k.Added.LeafHash]
		typ := TypeKeyAdd
		if ok && e.Type == TypeOfficialRegister {
			typ = TypeOfficialRegister
		}
		if err := check("key "+k.Key, k.Added, typ, map[string]string{"agency": a.Agency, "key": k.VKey}); err != nil {
			return "", err
		}
		if err := until("retirement of "+k.Key, k.Retired, TypeKeyRetire, "at", k.Key); err != nil {
			return "", err
		}
		if err := until("revocation of "+k.Key, k.Revoked, TypeKeyRevoke, "from", k.Key); err != nil {
			return "", err
		}
	}
	for _, r := range a.Roles {
		if err := check("role "+r.Role, r.Granted, TypeRoleGrant, map[string]string{"agency": a.Agency, "role": r.Role}); err != nil {
			return "", err
		}
		if err := until("withdrawal of "+r.Role, r.Withdrawn, TypeRoleWithdraw, "at", ""); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("each of the %d changes is the registry entry it cites; that no later entry changed the agency is what the checkpoint the answer came with vouches for, not something a client can check alone", n), nil
}

// FormatAnswer implements rule.QueryClient.
func (d *Domain) FormatAnswer(w io.Writer, query string, result []byte) error {
	var a AgencyAnswer
	if err := json.Unmarshal(result, &a); err != nil {
		return err
	}
	day := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	fmt.Fprintf(w, "%s (%s), registered by registry entry %d at %s\n", a.Name, a.Agency, a.Registered.Index, day(a.Registered.Time))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nKEY\tOF\tADDED\tSTATUS")
	for _, k := range a.Keys {
		of := "the agency"
		if name, _, _ := strings.Cut(k.Key, "+"); name != a.Agency {
			of = "official " + name
		}
		status := "valid"
		switch {
		case k.Revoked != nil && k.Revoked.At.IsZero():
			status = fmt.Sprintf("REVOKED (entry %d): nothing it signed counts", k.Revoked.Index)
		case k.Revoked != nil:
			status = fmt.Sprintf("REVOKED (entry %d): nothing it signed dated from %s counts", k.Revoked.Index, day(k.Revoked.At))
		case k.Retired != nil:
			status = fmt.Sprintf("retired (entry %d): signs nothing dated from %s", k.Retired.Index, day(k.Retired.At))
		}
		fmt.Fprintf(tw, "%s\t%s\tentry %d, %s\t%s\n", k.Key, of, k.Added.Index, day(k.Added.Time), status)
	}
	fmt.Fprintln(tw, "\nROLE\tGRANTED\tSTATUS")
	for _, r := range a.Roles {
		status := "held"
		if r.Withdrawn != nil {
			status = fmt.Sprintf("withdrawn (entry %d) for statements dated from %s", r.Withdrawn.Index, day(r.Withdrawn.At))
		}
		fmt.Fprintf(tw, "%s\tentry %d, %s\t%s\n", r.Role, r.Granted.Index, day(r.Granted.Time), status)
	}
	if len(a.Officials) > 0 {
		fmt.Fprintln(tw, "\nOFFICIAL (STAFF ID)\tREGISTERED")
		for _, o := range a.Officials {
			fmt.Fprintf(tw, "%s\tentry %d, %s\n", o.Staff, o.Registered.Index, day(o.Registered.Time))
		}
	}
	return tw.Flush()
}
