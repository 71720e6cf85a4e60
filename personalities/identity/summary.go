package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/record"
)

// MaxSummaryRows is the most rows each table of the dashboard summary
// lists.
const MaxSummaryRows = 100

// maxShownHeld is the most credentials of one public grant the service
// workers table lists, the latest issued.
const maxShownHeld = 8

var (
	_ rule.Summarizer = (*Rules)(nil)
	_ rule.Watcher    = (*Rules)(nil)
)

// errEnough stops a Scan that has listed MaxSummaryRows rows.
var errEnough = errors.New("enough rows")

// StatusExpired is how the dashboard shows a valid credential past the
// end of its expiry date.
const StatusExpired = "expired"

// Summary implements [rule.Summarizer]: the credentials each agency issued
// and revoked, by type; the accesses and incidents each agency recorded;
// and the service workers: every subject's credentials of a type they made
// public (a live "*" grant), with their status and the incidents citing
// them.
func (r *Rules) Summary(ctx context.Context, st rule.Scanner, agency func(id string) string) ([]rule.Table, error) {
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	issued, checks, err := agencyTables(ctx, st, agency)
	if err != nil {
		return nil, err
	}
	workers, err := workerTable(ctx, st, agency, now.UTC())
	if err != nil {
		return nil, err
	}
	return []rule.Table{issued, checks, workers}, nil
}

func agencyTables(ctx context.Context, st rule.Scanner, agency func(id string) string) (rule.Table, rule.Table, error) {
	issued := rule.Table{
		Caption: "Credentials issued",
		Columns: []rule.Column{{Name: "Agency"}, {Name: "Credential type"}, {Name: "Issued", Numeric: true}, {Name: "Revoked", Numeric: true}},
		Empty:   "No credential has been issued.",
		Note:    "Every credential's attributes are salted commitments: the log shows who issued what to which subject key, never a name or a number.",
	}
	checks := rule.Table{
		Caption: "Checks and incidents",
		Columns: []rule.Column{{Name: "Agency"}, {Name: "Credential checks", Numeric: true}, {Name: "Incidents recorded", Numeric: true}},
		Empty:   "No agency has checked a credential or recorded an incident.",
		Note:    "A check is an identity.access: made under a grant the subject signed, for that agency (or anyone), credential type and purpose.",
	}
	var nIssued, nRevoked, nChecks, nIncidents int64
	err := st.Scan(ctx, agencyPrefix, func(key string, value []byte) error {
		var a AgencyStats
		if err := json.Unmarshal(value, &a); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		id := strings.TrimPrefix(key, agencyPrefix)
		for _, typ := range slices.Sorted(maps.Keys(a.Issued)) {
			if len(issued.Rows) < MaxSummaryRows {
				issued.Rows = append(issued.Rows, []string{agency(id), typ, strconv.FormatInt(a.Issued[typ], 10), strconv.FormatInt(a.Revoked[typ], 10)})
			}
			nIssued += a.Issued[typ]
			nRevoked += a.Revoked[typ]
		}
		if (a.Accesses > 0 || a.Incidents > 0) && len(checks.Rows) < MaxSummaryRows {
			checks.Rows = append(checks.Rows, []string{agency(id), strconv.FormatInt(a.Accesses, 10), strconv.FormatInt(a.Incidents, 10)})
		}
		nChecks += a.Accesses
		nIncidents += a.Incidents
		return nil
	})
	if err != nil {
		return issued, checks, fmt.Errorf("couldn't list agencies: %w", err)
	}
	if len(issued.Rows) > 0 {
		issued.Total = []string{"Total", "", strconv.FormatInt(nIssued, 10), strconv.FormatInt(nRevoked, 10)}
	}
	if len(checks.Rows) > 0 {
		checks.Total = []string{"Total", strconv.FormatInt(nChecks, 10), strconv.FormatInt(nIncidents, 10)}
	}
	return issued, checks, nil
}

func workerTable(ctx context.Context, st rule.Scanner, agency func(id string) string, now time.Time) (rule.Table, error) {
	t := rule.Table{
		Caption: "Service workers",
		Columns: []rule.Column{{Name: "Subject"}, {Name: "Credential type"}, {Name: "Credential"}, {Name: "Issuer"},
			{Name: "Issued"}, {Name: "Expires"}, {Name: "Status"}, {Name: "Incidents", Numeric: true}, {Name: "Public until"}},
		Empty: "No subject has made a credential public.",
		Note: fmt.Sprintf("The credentials of each type a subject made public with a live grant to anyone (\"*\"), at most %d per grant, the latest first, "+
			"with the incidents regulators recorded citing them. Look one up with govlog identity credential ID.", maxShownHeld),
	}
	err := st.Scan(ctx, publicPrefix, func(key string, value []byte) error {
		if len(t.Rows) >= MaxSummaryRows {
			return errEnough
		}
		var p PublicGrant
		if err := json.Unmarshal(value, &p); err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		end, err := endOfDay(p.Until)
		if err != nil {
			return fmt.Errorf("corrupt state at %s: %v", key, err)
		}
		if p.Withdrawn || !now.Before(end) {
			return nil
		}
		subject, typ, ok := strings.Cut(strings.TrimPrefix(key, publicPrefix), "/")
		if !ok {
			return fmt.Errorf("corrupt state: key %s", key)
		}
		var held []string
		if _, err := record.Get(ctx, st, HoldingKey(subject, typ), &held); err != nil {
			return err
		}
		for i := len(held) - 1; i >= 0 && i >= len(held)-maxShownHeld && len(t.Rows) < MaxSummaryRows; i-- {
			c, ok, err := ReadCredential(ctx, st, held[i])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("corrupt state: subject %s holds credential %s, which is missing", subject, held[i])
			}
			status := c.Status()
			if exp, err := endOfDay(c.Expires); status == StatusValid && err == nil && !now.Before(exp) {
				status = StatusExpired
			}
			t.Rows = append(t.Rows, []string{subject, typ, c.ID, agency(c.Issuer), c.Issued, orDash(c.Expires), status,
				strconv.FormatInt(c.Incidents, 10), p.Until})
		}
		return nil
	})
	switch {
	case errors.Is(err, errEnough):
		t.Caption = fmt.Sprintf("Service workers (the first %d rows)", MaxSummaryRows)
	case err != nil:
		return t, fmt.Errorf("couldn't list public grants: %w", err)
	}
	return t, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WatchKinds implements [rule.Watcher].
func (*Rules) WatchKinds() []rule.WatchKind {
	return []rule.WatchKind{{
		Name:   "subject",
		Fields: []string{"subject", "child", "employee"},
		Doc: "a subject's ID (s-...): the credentials issued to them, alone or in an event. " +
			"Their registration, grants and withdrawals name their key, which can be watched as well, and accesses name the grant and credential only",
	}, {
		Name:   "credential",
		Fields: []string{"credential_id", "supersedes"},
		Doc:    "a credential's ID: its issue, the credential that supersedes it, its revocation, the accesses to it and the incidents citing it",
	}}
}
