package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/record"
)

// Subject is a registered subject, the JSON value of its [SubjectKey].
type Subject struct {
	ID string `json:"subject"`
	// Key is the subject's verifier key.
	Key       string `json:"key"`
	Registrar string `json:"registrar"`
	Time      string `json:"time"`
	LeafHash  string `json:"leaf_hash"`
	// Credentials counts the credentials issued to the subject.
	Credentials int64 `json:"credentials"`
	// Accesses counts the accesses to its credentials, listed at
	// [SubjectAccessKey].
	Accesses int64 `json:"accesses"`
}

// Credential is a credential, the JSON value of its [CredentialKey]. What
// was issued never changes; its status does.
type Credential struct {
	ID      string `json:"credential_id"`
	Type    string `json:"type"`
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	Issued  string `json:"issued"`
	Expires string `json:"expires,omitempty"`
	// Attributes are commitments by name.
	Attributes map[string]string `json:"attributes"`
	Supersedes string            `json:"supersedes,omitempty"`
	// Statement is the type of the entry that issued it, and Event its
	// event ID if it was an event's.
	Statement string `json:"statement"`
	Event     string `json:"event_id,omitempty"`
	Time      string `json:"time"`
	LeafHash  string `json:"leaf_hash"`
	// SupersededBy is the credential that superseded it, if one did.
	SupersededBy *Supersession `json:"superseded_by,omitempty"`
	// Revoked is its revocation, if it was revoked.
	Revoked *Revocation `json:"revoked,omitempty"`
	// Incidents counts the incidents citing it, listed at
	// [WorkerIncidentKey].
	Incidents int64 `json:"incidents,omitempty"`
}

// Status is where a credential stands: [StatusRevoked] if it was revoked,
// else [StatusSuperseded] if another superseded it, else [StatusValid].
// Whether it has expired is read from its Expires date.
func (c Credential) Status() string {
	switch {
	case c.Revoked != nil:
		return StatusRevoked
	case c.SupersededBy != nil:
		return StatusSuperseded
	}
	return StatusValid
}

// Credential statuses.
const (
	StatusValid      = "valid"
	StatusSuperseded = "superseded"
	StatusRevoked    = "revoked"
)

// Supersession names the credential that superseded another, and its
// issue entry.
type Supersession struct {
	CredentialID string `json:"credential_id"`
	Time         string `json:"time"`
	LeafHash     string `json:"leaf_hash"`
}

// Revocation is a credential's revocation.
type Revocation struct {
	Reason   string `json:"reason"`
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
}

// Grant is a subject's grant, the JSON value of its [GrantKey].
type Grant struct {
	ID string `json:"grant_id"`
	// Subject is the subject's ID, Key its verifier key.
	Subject        string `json:"subject"`
	Key            string `json:"key"`
	Agency         string `json:"agency"`
	CredentialType string `json:"credential_type"`
	Purpose        string `json:"purpose"`
	Until          string `json:"until"`
	Time           string `json:"time"`
	LeafHash       string `json:"leaf_hash"`
	// Withdrawn is the withdrawal's entry, once withdrawn.
	Withdrawn *EntryRef `json:"withdrawn,omitempty"`
	// Accesses counts the accesses made under it.
	Accesses int64 `json:"accesses"`
}

// EntryRef is an entry: when it was made and its leaf hash.
type EntryRef struct {
	Time     string `json:"time"`
	LeafHash string `json:"leaf_hash"`
}

// Access is an agency's access to a credential, the JSON value of its
// [AccessKey].
type Access struct {
	ID           string `json:"access_id"`
	Agency       string `json:"agency"`
	Subject      string `json:"subject"`
	GrantID      string `json:"grant_id"`
	CredentialID string `json:"credential_id"`
	Purpose      string `json:"purpose"`
	Time         string `json:"time"`
	LeafHash     string `json:"leaf_hash"`
	// N numbers it among the accesses to the subject's credentials.
	N int64 `json:"n"`
}

// Incident is a regulator's incident, the JSON value of its [IncidentKey].
type Incident struct {
	ID           string `json:"incident_id"`
	CredentialID string `json:"credential_id"`
	Subject      string `json:"subject"`
	Regulator    string `json:"regulator"`
	Summary      string `json:"summary"`
	Time         string `json:"time"`
	LeafHash     string `json:"leaf_hash"`
	// N numbers it among the incidents citing the credential.
	N int64 `json:"n"`
}

// Event is an event, the JSON value of its [EventKey].
type Event struct {
	ID          string   `json:"event_id"`
	Type        string   `json:"type"`
	Agency      string   `json:"agency"`
	Credentials []string `json:"credentials"`
	Time        string   `json:"time"`
	LeafHash    string   `json:"leaf_hash"`
}

// PublicGrant is the latest public grant ("*") of a subject for a
// credential type, the JSON value of its [PublicKey].
type PublicGrant struct {
	GrantID   string `json:"grant_id"`
	Until     string `json:"until"`
	Withdrawn bool   `json:"withdrawn,omitempty"`
}

// AgencyStats are an agency's counters, at [AgencyKey].
type AgencyStats struct {
	// Issued and Revoked count credentials by type.
	Issued    map[string]int64 `json:"issued,omitempty"`
	Revoked   map[string]int64 `json:"revoked,omitempty"`
	Accesses  int64            `json:"accesses,omitempty"`
	Incidents int64            `json:"incidents,omitempty"`
}

// MaxHeld is the most credentials of one type a subject holds
// ([HoldingKey]): past it an issue is rule.ErrRuleViolation.
const MaxHeld = 256

// State key prefixes.
const (
	subjectPrefix    = "subject/"
	credentialPrefix = "credential/"
	publicPrefix     = "public/"
	agencyPrefix     = "agency/"
)

// State keys. IDs, subject IDs, agency IDs and credential types never
// contain "/", so no key aliases another.
func SubjectKey(id string) string    { return subjectPrefix + id }
func CredentialKey(id string) string { return credentialPrefix + id }
func GrantKey(id string) string      { return "grant/" + id }
func AccessKey(id string) string     { return "access/" + id }
func IncidentKey(id string) string   { return "incident/" + id }
func EventKey(id string) string      { return "event/" + id }
func AgencyKey(id string) string     { return agencyPrefix + id }

// SubjectAccessKey holds the ID of the n-th access (from 1) to the
// subject's credentials.
func SubjectAccessKey(subject string, n int64) string {
	return "subject-access/" + subject + "/" + strconv.FormatInt(n, 10)
}

// WorkerIncidentKey holds the ID of the n-th incident (from 1) citing the
// credential.
func WorkerIncidentKey(credential string, n int64) string {
	return "worker-incident/" + credential + "/" + strconv.FormatInt(n, 10)
}

// PublicKey holds the subject's latest public grant for a credential type.
func PublicKey(subject, credentialType string) string {
	return publicPrefix + subject + "/" + credentialType
}

// HoldingKey holds the IDs of the subject's credentials of a type, in
// the order they were issued.
func HoldingKey(subject, credentialType string) string {
	return "holding/" + subject + "/" + credentialType
}

// ReadCredential reads the credential id, ok=false if there is none.
func ReadCredential(ctx context.Context, st rule.Reader, id string) (Credential, bool, error) {
	var c Credential
	if !body.ID.Valid(id) {
		return c, false, nil
	}
	ok, err := record.Get(ctx, st, CredentialKey(id), &c)
	return c, ok, err
}

// ReadSubject reads the subject id, ok=false if there is none.
func ReadSubject(ctx context.Context, st rule.Reader, id string) (Subject, bool, error) {
	var s Subject
	if !ValidSubjectID(id) {
		return s, false, nil
	}
	ok, err := record.Get(ctx, st, SubjectKey(id), &s)
	return s, ok, err
}

// tx buffers one statement's writes: Apply reads through it, checks every
// rule, and commits only once nothing refused the statement.
type tx struct {
	st      rule.State
	pending map[string][]byte
	order   []string
}

func newTx(st rule.State) *tx { return &tx{st: st, pending: map[string][]byte{}} }

// get reads key into v, from the writes buffered first.
func (t *tx) get(ctx context.Context, key string, v any) (bool, error) {
	if b, ok := t.pending[key]; ok {
		if err := json.Unmarshal(b, v); err != nil {
			return false, fmt.Errorf("couldn't read back %s: %v", key, err)
		}
		return true, nil
	}
	return record.Get(ctx, t.st, key, v)
}

func (t *tx) has(ctx context.Context, key string) (bool, error) {
	if _, ok := t.pending[key]; ok {
		return true, nil
	}
	_, ok, err := t.st.Get(ctx, key)
	return ok, err
}

// put buffers a write of v at key.
func (t *tx) put(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("couldn't encode %s: %w", key, err)
	}
	if _, ok := t.pending[key]; !ok {
		t.order = append(t.order, key)
	}
	t.pending[key] = b
	return nil
}

// commit writes the buffered writes, each key once, in the order first
// written.
func (t *tx) commit(ctx context.Context) error {
	for _, k := range t.order {
		if err := t.st.Put(ctx, k, t.pending[k]); err != nil {
			return err
		}
	}
	return nil
}

// agency reads an agency's counters.
func (t *tx) agency(ctx context.Context, id string) (AgencyStats, error) {
	var a AgencyStats
	if _, err := t.get(ctx, AgencyKey(id), &a); err != nil {
		return a, err
	}
	if a.Issued == nil {
		a.Issued = map[string]int64{}
	}
	if a.Revoked == nil {
		a.Revoked = map[string]int64{}
	}
	return a, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// endOfDay is the instant a day given as a date ends, UTC.
func endOfDay(date string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return time.Time{}, err
	}
	return d.AddDate(0, 0, 1), nil
}
