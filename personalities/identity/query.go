package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/answer"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/record"
)

// Queries of the public read API.
const (
	// QueryAccesses lists the accesses to a subject's credentials
	// (`govlog identity accesses SUBJECT_ID`).
	QueryAccesses = "accesses"
	// QueryCredential shows a credential and its status (`govlog identity
	// credential CREDENTIAL`).
	QueryCredential = "credential"
)

// MaxAccessPage is the most accesses one page of an accesses query lists,
// and the number it lists when the query does not say.
const MaxAccessPage = 500

// ErrAnswerMismatch is what CheckAnswer's errors wrap: the answer says what
// its entries do not.
var ErrAnswerMismatch = errors.New("the answer does not match its entries")

var (
	_ rule.Querier     = (*Rules)(nil)
	_ rule.QueryClient = (*Rules)(nil)
)

// CredentialAnswer is the answer to a credential query.
type CredentialAnswer struct {
	ID      string `json:"credential_id"`
	Type    string `json:"type"`
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	Issued  string `json:"issued"`
	Expires string `json:"expires,omitempty"`
	// Attributes are the commitments by attribute name: a disclosed value
	// and salt are checked with CheckCommitment(Attributes[name], value,
	// salt).
	Attributes map[string]string `json:"attributes"`
	Supersedes string            `json:"supersedes,omitempty"`
	// Status is StatusValid, StatusSuperseded or StatusRevoked.
	Status string `json:"status"`
	// Issue is the entry that issued it.
	Issue IssueRef `json:"issue"`
	// SupersededBy and Revoked are the entries that superseded and revoked
	// it, if any did.
	SupersededBy *Supersession `json:"superseded_by,omitempty"`
	Revoked      *Revocation   `json:"revoked,omitempty"`
}

// IssueRef is the entry that issued a credential: its statement type,
// the event's ID for an event.
type IssueRef struct {
	Statement string `json:"statement"`
	Event     string `json:"event_id,omitempty"`
	Time      string `json:"time"`
	LeafHash  string `json:"leaf_hash"`
}

// AccessesAnswer is the answer to an accesses query: one page of the
// accesses to a subject's credentials, in log order.
type AccessesAnswer struct {
	Subject string `json:"subject"`
	// Count is the number of accesses in all.
	Count    int64        `json:"count"`
	From     int64        `json:"from"`
	Accesses []AccessView `json:"accesses"`
	// Next is the number of the access after the page; 0 if it ends the
	// list.
	Next int64 `json:"next,omitempty"`
}

// AccessView is one access, with the grant it was made under and the
// credential it looked at.
type AccessView struct {
	N          int64          `json:"n"`
	ID         string         `json:"access_id"`
	Agency     string         `json:"agency"`
	Purpose    string         `json:"purpose"`
	Time       string         `json:"time"`
	LeafHash   string         `json:"leaf_hash"`
	Grant      GrantView      `json:"grant"`
	Credential CredentialView `json:"credential"`
}

// GrantView is a grant as an access answer shows it.
type GrantView struct {
	ID             string `json:"grant_id"`
	Agency         string `json:"agency"`
	CredentialType string `json:"credential_type"`
	Purpose        string `json:"purpose"`
	Until          string `json:"until"`
	Time           string `json:"time"`
	LeafHash       string `json:"leaf_hash"`
}

// CredentialView is a credential as an access answer shows it.
type CredentialView struct {
	ID       string `json:"credential_id"`
	Type     string `json:"type"`
	Issuer   string `json:"issuer"`
	Issued   string `json:"issued"`
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
}

// Query implements [rule.Querier]. A credential query reads one key; an
// accesses page reads at most 1 + 4 × [MaxAccessPage].
func (*Rules) Query(ctx context.Context, v rule.View, name string, args map[string]string) (any, [][32]byte, error) {
	switch name {
	case QueryCredential:
		if err := answer.CheckArgs(args, "id"); err != nil {
			return nil, nil, err
		}
		a, err := CredentialStatus(ctx, v, args["id"])
		if err != nil {
			return nil, nil, err
		}
		cited, err := answer.LeafHashes(a.leafHashes())
		return a, cited, err
	case QueryAccesses:
		if err := answer.CheckArgs(args, "subject", "from", "limit"); err != nil {
			return nil, nil, err
		}
		from, limit, err := answer.Page(args, MaxAccessPage, "accesses")
		if err != nil {
			return nil, nil, err
		}
		a, err := SubjectAccesses(ctx, v, args["subject"], from, limit)
		if err != nil {
			return nil, nil, err
		}
		cited, err := answer.LeafHashes(a.leafHashes())
		return a, cited, err
	}
	return nil, nil, fmt.Errorf("%w %.64q: the %s log answers %q and %q", rule.ErrUnknownQuery, name, LogName, QueryAccesses, QueryCredential)
}

// CredentialStatus returns the credential id as a credential query
// answers it. A malformed ID is rule.ErrInvalidQuery, an unknown one
// rule.ErrNotFound.
func CredentialStatus(ctx context.Context, v rule.Reader, id string) (*CredentialAnswer, error) {
	if !body.ID.Valid(id) {
		return nil, fmt.Errorf("%w: %.80q is not a credential ID", rule.ErrInvalidQuery, id)
	}
	c, ok, err := ReadCredential(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: there is no credential %s", rule.ErrNotFound, id)
	}
	return &CredentialAnswer{ID: c.ID, Type: c.Type, Issuer: c.Issuer, Subject: c.Subject, Issued: c.Issued, Expires: c.Expires,
		Attributes: c.Attributes, Supersedes: c.Supersedes, Status: c.Status(),
		Issue:        IssueRef{Statement: c.Statement, Event: c.Event, Time: c.Time, LeafHash: c.LeafHash},
		SupersededBy: c.SupersededBy, Revoked: c.Revoked}, nil
}

func (a *CredentialAnswer) leafHashes() []string {
	out := []string{a.Issue.LeafHash}
	if a.SupersededBy != nil {
		out = append(out, a.SupersededBy.LeafHash)
	}
	if a.Revoked != nil {
		out = append(out, a.Revoked.LeafHash)
	}
	return out
}

// SubjectAccesses returns up to limit of the accesses to the subject's
// credentials, from the from-th (the first is 1). A malformed subject ID is
// rule.ErrInvalidQuery, an unregistered subject rule.ErrNotFound.
func SubjectAccesses(ctx context.Context, v rule.Reader, subject string, from, limit int64) (*AccessesAnswer, error) {
	if !ValidSubjectID(subject) {
		return nil, fmt.Errorf("%w: %.80q is not a subject ID (s- and 32 lowercase hex digits)", rule.ErrInvalidQuery, subject)
	}
	s, ok, err := ReadSubject(ctx, v, subject)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: subject %s is not registered", rule.ErrNotFound, subject)
	}
	out := &AccessesAnswer{Subject: subject, Count: s.Accesses, From: from, Accesses: []AccessView{}}
	last := min(s.Accesses, from+limit-1)
	for n := from; n <= last; n++ {
		av, err := accessAt(ctx, v, subject, n)
		if err != nil {
			return nil, err
		}
		out.Accesses = append(out.Accesses, av)
	}
	if last < s.Accesses {
		out.Next = last + 1
	}
	return out, nil
}

// accessAt reads the n-th access to the subject's credentials, with its
// grant and credential.
func accessAt(ctx context.Context, v rule.Reader, subject string, n int64) (AccessView, error) {
	var id string
	var acc Access
	var g Grant
	var c Credential
	read := func(key string, into any) error {
		ok, err := record.Get(ctx, v, key, into)
		if err == nil && !ok {
			err = fmt.Errorf("corrupt state: subject %s counts an access %d, but %s is missing", subject, n, key)
		}
		return err
	}
	if err := read(SubjectAccessKey(subject, n), &id); err != nil {
		return AccessView{}, err
	}
	if err := read(AccessKey(id), &acc); err != nil {
		return AccessView{}, err
	}
	if err := read(GrantKey(acc.GrantID), &g); err != nil {
		return AccessView{}, err
	}
	if err := read(CredentialKey(acc.CredentialID), &c); err != nil {
		return AccessView{}, err
	}
	return AccessView{N: n, ID: acc.ID, Agency: acc.Agency, Purpose: acc.Purpose, Time: acc.Time, LeafHash: acc.LeafHash,
		Grant:      GrantView{ID: g.ID, Agency: g.Agency, CredentialType: g.CredentialType, Purpose: g.Purpose, Until: g.Until, Time: g.Time, LeafHash: g.LeafHash},
		Credential: CredentialView{ID: c.ID, Type: c.Type, Issuer: c.Issuer, Issued: c.Issued, Time: c.Time, LeafHash: c.LeafHash},
	}, nil
}

func (a *AccessesAnswer) leafHashes() []string {
	var out []string
	for _, x := range a.Accesses {
		out = append(out, x.LeafHash, x.Grant.LeafHash, x.Credential.LeafHash)
	}
	return out
}

// Queries implements [rule.QueryClient].
func (*Rules) Queries() []rule.QueryInfo {
	return []rule.QueryInfo{{
		Name: QueryAccesses, Arg: "subject", ArgName: "SUBJECT_ID",
		Summary: "who checked a subject's credentials, under which grant, each entry proved",
		Doc: fmt.Sprintf(`accesses lists every access to a subject's credentials, in log order, at most
%d a page: which agency checked which credential, for what purpose, and the
grant the subject signed that allowed it. Every access, grant and
credential entry is proved against --policy and checked: the grant is the
subject's, for that agency (or anyone), that credential type and that
purpose, and was not over when the access was made.`, MaxAccessPage),
		Flags: []rule.QueryFlag{
			{Name: "from", Usage: "first access of the page, from 1 (default 1)"},
			{Name: "limit", Usage: fmt.Sprintf("accesses per page, at most %d (default %d)", MaxAccessPage, MaxAccessPage)},
		},
	}, {
		Name: QueryCredential, Arg: "id", ArgName: "CREDENTIAL",
		Summary: "a credential, its attribute commitments and its status, each entry proved",
		Doc: `credential shows a credential of the identity log: its type, the agency that
issued it, its subject, its dates, the salted commitments of its attributes
(a value and salt the subject discloses are checked against them), and its
status: valid, superseded by another credential, or revoked. The entry that
issued it, and any that superseded or revoked it, are proved against
--policy and checked against the answer.`,
	}}
}

// CheckAnswer implements [rule.QueryClient]. Errors wrap
// [ErrAnswerMismatch]; a query this log does not answer is
// rule.ErrUnknownQuery.
func (*Rules) CheckAnswer(query string, args map[string]string, result []byte, entries []rule.ProvedEntry) (string, error) {
	proved := answer.ByHash(entries)
	switch query {
	case QueryCredential:
		var a CredentialAnswer
		if err := decode(result, &a, "a credential answer"); err != nil {
			return "", err
		}
		return checkCredential(&a, args["id"], proved)
	case QueryAccesses:
		from, limit, err := answer.Page(args, MaxAccessPage, "accesses")
		if err != nil {
			return "", err
		}
		var a AccessesAnswer
		if err := decode(result, &a, "an accesses answer"); err != nil {
			return "", err
		}
		return checkAccesses(&a, args["subject"], from, limit, proved)
	}
	return "", fmt.Errorf("%w %.64q: the %s log answers %q and %q", rule.ErrUnknownQuery, query, LogName, QueryAccesses, QueryCredential)
}

func decode(result []byte, v any, noun string) error {
	if err := answer.Decode(result, v, noun); err != nil {
		return mismatch("%v", err)
	}
	return nil
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAnswerMismatch, fmt.Sprintf(format, args...))
}

// entryOf returns the proved entry of leafHex, which must be of one of
// the types.
func entryOf(proved map[[32]byte]rule.ProvedEntry, what, leafHex string, types ...string) (rule.ProvedEntry, error) {
	e, err := answer.Entry(proved, leafHex)
	if err != nil {
		return e, mismatch("%s: %v", what, err)
	}
	if !slices.Contains(types, e.Type) {
		return e, mismatch("%s: entry %s is a %.64s, not a %s", what, leafHex, e.Type, strings.Join(types, " or "))
	}
	return e, nil
}

// checkMade checks that an entry was made at the time an answer gives and
// carries a signature by a key named signer.
func checkMade(e rule.ProvedEntry, what, at, signer string) error {
	if stamp(e.Time) != at {
		return mismatch("%s: its entry was made at %s, not %.40q", what, stamp(e.Time), at)
	}
	if !slices.Contains(e.Signers, signer) {
		return mismatch("%s: its entry carries no signature by a key named %.80q", what, signer)
	}
	return nil
}

// issuingTypes are the statement types that issue credentials.
var issuingTypes = []string{TypeIssueCivil, TypeIssueEducation, TypeIssueHealth, TypeIssueLabour, TypeBirth, TypeMarriage, TypeEmployment}

// issuedIn returns the credential id as the entry e issued it.
func issuedIn(e rule.ProvedEntry, what, id string) (IssueBody, error) {
	cs, err := IssuedBy(e.Type, e.Body)
	if err != nil {
		return IssueBody{}, mismatch("%s: its entry: %v", what, err)
	}
	for _, c := range cs {
		if c.CredentialID == id {
			return c, nil
		}
	}
	return IssueBody{}, mismatch("%s: its entry does not issue credential %.80s", what, id)
}

func checkCredential(a *CredentialAnswer, id string, proved map[[32]byte]rule.ProvedEntry) (string, error) {
	if a.ID != id {
		return "", mismatch("the answer is about credential %.80q, not %.80q", a.ID, id)
	}
	what := "credential " + id
	e, err := entryOf(proved, what, a.Issue.LeafHash, issuingTypes...)
	if err != nil {
		return "", err
	}
	c, err := issuedIn(e, what, id)
	if err != nil {
		return "", err
	}
	switch {
	case e.Type != a.Issue.Statement:
		return "", mismatch("%s: its entry is a %s, not a %.64s", what, e.Type, a.Issue.Statement)
	case eventID(e.Type, e.Body) != a.Issue.Event:
		return "", mismatch("%s: its entry is event %q, not %.80q", what, eventID(e.Type, e.Body), a.Issue.Event)
	case c.Type != a.Type || c.Subject != a.Subject || c.Issued != a.Issued || c.Expires != a.Expires || c.Supersedes != a.Supersedes:
		return "", mismatch("%s: its entry issues a %s to %s on %s (expires %q, supersedes %q), not what the answer says", what, c.Type, c.Subject, c.Issued, c.Expires, c.Supersedes)
	case !maps.Equal(c.Attributes, a.Attributes):
		return "", mismatch("%s: its entry commits to other attributes than the answer shows", what)
	}
	if err := checkMade(e, what, a.Issue.Time, a.Issuer); err != nil {
		return "", err
	}
	checked := fmt.Sprintf("credential %s, a %s of subject %s issued by %s on %s, is as its entry says, with %d attribute commitments",
		id, a.Type, a.Subject, a.Issuer, a.Issued, len(a.Attributes))
	if s := a.SupersededBy; s != nil {
		w := what + ", superseded"
		se, err := entryOf(proved, w, s.LeafHash, TypeIssueCivil, TypeIssueEducation, TypeIssueHealth, TypeIssueLabour)
		if err != nil {
			return "", err
		}
		sc, err := issuedIn(se, w, s.CredentialID)
		if err != nil {
			return "", err
		}
		if sc.Supersedes != id || sc.Subject != a.Subject {
			return "", mismatch("%s: credential %s supersedes %q of subject %s", w, s.CredentialID, sc.Supersedes, sc.Subject)
		}
		if stamp(se.Time) != s.Time {
			return "", mismatch("%s: its entry was made at %s, not %.40q", w, stamp(se.Time), s.Time)
		}
		checked += fmt.Sprintf("; superseded by %s, as its entry says", s.CredentialID)
	}
	if r := a.Revoked; r != nil {
		w := what + ", revoked"
		re, err := entryOf(proved, w, r.LeafHash, TypeRevoke)
		if err != nil {
			return "", err
		}
		rb, err := ParseRevokeBody(re.Body)
		if err != nil {
			return "", mismatch("%s: its entry: %v", w, err)
		}
		if rb.CredentialID != id || rb.Reason != r.Reason {
			return "", mismatch("%s: its entry revokes %s for %q", w, rb.CredentialID, rb.Reason)
		}
		if err := checkMade(re, w, r.Time, a.Issuer); err != nil {
			return "", err
		}
		checked += "; revoked by its issuer, as the revoking entry says"
	}
	want := StatusValid
	switch {
	case a.Revoked != nil:
		want = StatusRevoked
	case a.SupersededBy != nil:
		want = StatusSuperseded
	}
	if a.Status != want {
		return "", mismatch("%s: the answer says it is %.32q, and shows it %s", what, a.Status, want)
	}
	switch want {
	case StatusValid:
		checked += "; that nothing revoked or superseded it is the log's word"
	case StatusSuperseded:
		checked += "; that nothing revoked it is the log's word"
	}
	return checked, nil
}

// checkPage checks that a page of n items numbered from gotFrom, with next,
// is the page asked for of a list of count.
func checkPage(from, limit, gotFrom int64, n int, next, count int64) error {
	end := gotFrom + int64(n)
	switch {
	case gotFrom != from:
		return mismatch("the page begins at %d, not %d", gotFrom, from)
	case int64(n) > limit:
		return mismatch("%d accesses on a page of at most %d", n, limit)
	case n > 0 && end-1 > count:
		return mismatch("the page ends at %d of %d", end-1, count)
	case next != 0 && (next != end || next > count):
		return mismatch("the page of %d from %d names the next page %d, of %d", n, from, next, count)
	case next == 0 && n > 0 && end-1 != count:
		return mismatch("the page ends at %d of %d and names no next page", end-1, count)
	case next == 0 && n == 0 && from <= count:
		return mismatch("nothing from %d of %d, and no next page", from, count)
	case int64(n) < limit && end-1 < count:
		return mismatch("the page of %d from %d stops before the end (%d) with room left", n, from, count)
	}
	return nil
}

func checkAccesses(a *AccessesAnswer, subject string, from, limit int64, proved map[[32]byte]rule.ProvedEntry) (string, error) {
	if a.Subject != subject {
		return "", mismatch("the answer is about subject %.80q, not %.80q", a.Subject, subject)
	}
	if err := checkPage(from, limit, a.From, len(a.Accesses), a.Next, a.Count); err != nil {
		return "", err
	}
	var last uint64
	for i, x := range a.Accesses {
		what := fmt.Sprintf("access %d", a.From+int64(i))
		if x.N != a.From+int64(i) {
			return "", mismatch("%s is numbered %d", what, x.N)
		}
		ae, err := entryOf(proved, what, x.LeafHash, TypeAccess)
		if err != nil {
			return "", err
		}
		if i > 0 && ae.Index <= last {
			return "", mismatch("%s: its entry, at index %d, comes before the access listed before it", what, ae.Index)
		}
		last = ae.Index
		ab, err := ParseAccessBody(ae.Body)
		if err != nil {
			return "", mismatch("%s: its entry: %v", what, err)
		}
		switch {
		case ab.AccessID != x.ID || ab.GrantID != x.Grant.ID || ab.CredentialID != x.Credential.ID || ab.Purpose != x.Purpose:
			return "", mismatch("%s: its entry is access %s to %s under %s for %s", what, ab.AccessID, ab.CredentialID, ab.GrantID, ab.Purpose)
		}
		if err := checkMade(ae, what, x.Time, x.Agency); err != nil {
			return "", err
		}
		// The grant: the subject's, for this agency, type and purpose, live.
		w := what + ", grant " + x.Grant.ID
		ge, err := entryOf(proved, w, x.Grant.LeafHash, TypeGrant)
		if err != nil {
			return "", err
		}
		gb, err := ParseGrantBody(ge.Body)
		if err != nil {
			return "", mismatch("%s: its entry: %v", w, err)
		}
		g := x.Grant
		switch {
		case gb.GrantID != g.ID || gb.Agency != g.Agency || gb.CredentialType != g.CredentialType || gb.Purpose != g.Purpose || gb.Until != g.Until:
			return "", mismatch("%s: its entry grants %s a look at a %s for %s until %s", w, gb.Agency, gb.CredentialType, gb.Purpose, gb.Until)
		case SubjectID(gb.Subject) != subject:
			return "", mismatch("%s: its entry is signed by subject %s", w, SubjectID(gb.Subject))
		case g.Agency != Public && g.Agency != x.Agency:
			return "", mismatch("%s: the grant is for %s, and %s made the access", w, g.Agency, x.Agency)
		case g.Purpose != x.Purpose:
			return "", mismatch("%s: the grant is for %s, and the access for %s", w, g.Purpose, x.Purpose)
		case g.CredentialType != x.Credential.Type:
			return "", mismatch("%s: the grant is for a %s, and the credential is a %s", w, g.CredentialType, x.Credential.Type)
		}
		if err := checkMade(ge, w, g.Time, SubjectKeyName); err != nil {
			return "", err
		}
		end, _ := endOfDay(g.Until) // checked by ParseGrantBody
		if ae.Time.Before(ge.Time) || !ae.Time.Before(end) {
			return "", mismatch("%s: the access at %s is outside the grant, from %s to the end of %s", w, stamp(ae.Time), g.Time, g.Until)
		}
		// The credential: the subject's, of that type.
		w = what + ", credential " + x.Credential.ID
		ce, err := entryOf(proved, w, x.Credential.LeafHash, issuingTypes...)
		if err != nil {
			return "", err
		}
		c, err := issuedIn(ce, w, x.Credential.ID)
		if err != nil {
			return "", err
		}
		if c.Subject != subject || c.Type != x.Credential.Type || c.Issued != x.Credential.Issued {
			return "", mismatch("%s: its entry issues a %s to %s on %s", w, c.Type, c.Subject, c.Issued)
		}
		if err := checkMade(ce, w, x.Credential.Time, x.Credential.Issuer); err != nil {
			return "", err
		}
	}
	checked := fmt.Sprintf("the %d accesses shown (%d in all) to subject %s's credentials are as their entries say, each under a grant the subject signed for that agency, credential type and purpose, made before the access and not over at it",
		len(a.Accesses), a.Count, subject)
	return checked + "; that no grant was withdrawn before an access, and the count, are the log's word", nil
}

// FormatAnswer implements [rule.QueryClient].
func (*Rules) FormatAnswer(w io.Writer, query string, result []byte) error {
	var b strings.Builder
	switch query {
	case QueryCredential:
		var a CredentialAnswer
		if err := decode(result, &a, "a credential answer"); err != nil {
			return err
		}
		fmt.Fprintf(&b, "Credential %s: %s of subject %s\n", a.ID, a.Type, a.Subject)
		fmt.Fprintf(&b, "  issued %s by %s (%s at %s)", a.Issued, a.Issuer, a.Issue.Statement, a.Issue.Time)
		if a.Expires != "" {
			fmt.Fprintf(&b, ", expires %s", a.Expires)
		}
		b.WriteString("\n")
		if a.Supersedes != "" {
			fmt.Fprintf(&b, "  supersedes %s\n", a.Supersedes)
		}
		fmt.Fprintf(&b, "  status: %s", a.Status)
		if a.SupersededBy != nil {
			fmt.Fprintf(&b, " (superseded by %s at %s)", a.SupersededBy.CredentialID, a.SupersededBy.Time)
		}
		if a.Revoked != nil {
			fmt.Fprintf(&b, " (revoked at %s: %s)", a.Revoked.Time, a.Revoked.Reason)
		}
		b.WriteString("\n  attributes (salted commitments):\n")
		for _, k := range slices.Sorted(maps.Keys(a.Attributes)) {
			fmt.Fprintf(&b, "    %-24s %s\n", k, a.Attributes[k])
		}
	case QueryAccesses:
		var a AccessesAnswer
		if err := decode(result, &a, "an accesses answer"); err != nil {
			return err
		}
		fmt.Fprintf(&b, "Subject %s: %d accesses to their credentials", a.Subject, a.Count)
		if len(a.Accesses) > 0 && (a.From > 1 || a.Next != 0) {
			fmt.Fprintf(&b, " (%d to %d shown)", a.From, a.From+int64(len(a.Accesses))-1)
		}
		b.WriteString("\n")
		for _, x := range a.Accesses {
			fmt.Fprintf(&b, "  %4d  %s  %s checked %s %s for %s (grant %s to %s, until %s)\n",
				x.N, x.Time, x.Agency, x.Credential.Type, x.Credential.ID, x.Purpose, x.Grant.ID, x.Grant.Agency, x.Grant.Until)
		}
		if a.Next != 0 {
			fmt.Fprintf(&b, "  next page: --from %d\n", a.Next)
		}
	default:
		return fmt.Errorf("%w %.64q", rule.ErrUnknownQuery, query)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
