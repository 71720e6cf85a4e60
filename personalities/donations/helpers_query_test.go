package donations

// Helpers of the query, summary and late tests. They are of the package
// itself (so the tests reach the summary's clock), and named with a q so
// they do not meet the helpers of the other tests.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

const (
	qOrigin  = "gov.example/donations"
	qCharity = "city-a"
	qPartner = "partner-charity"
	qR1      = exampleRecipient
	qR2      = "2c624232cdd221771294dfbb310aca000a0df6ac8b66b696d90ef06fdefb64a3"
	qR3      = "19581e27de7ced00ff1ce50b2047e7a567c76b1cbaebabe5ef03f7c3017bb5b7"
	qCode1   = exampleCode
	qCode2   = "second-code-2222"
	qCode3   = "third-code-3333"
)

// qT0 is when the tests' campaigns open; flood-2027 must be handed on by
// the end of 2027-06-30, UTC.
var qT0 = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

// qView is a rule.View over a test log's state and entries.
type qView struct {
	ruletest.State
	entries map[[32]byte]rule.Entry
}

var _ rule.View = qView{}

func (v qView) Entry(_ context.Context, h [32]byte) (rule.Entry, bool, error) {
	e, ok := v.entries[h]
	e.Agency = ""
	return e, ok, nil
}

// qKey is a final recipient's key pair.
type qKey struct {
	note.Signer
	vkey string
}

// qLog is a donations log in memory: its state and every entry admitted.
type qLog struct {
	t       testing.TB
	r       *Rules
	st      ruletest.State
	entries map[[32]byte]rule.Entry
	next    uint64
	seq     int
	rkey    qKey
}

func newQLog(t testing.TB) *qLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, RecipientKeyName)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &qLog{t: t, r: New(), st: ruletest.State{}, entries: map[[32]byte]rule.Entry{}, rkey: qKey{s, vkey}}
}

func (l *qLog) view() qView { return qView{l.st, l.entries} }

// submit admits e as the next entry of the log.
func (l *qLog) submit(e rule.Entry) (rule.Entry, error) {
	e.Index = l.next
	got, err := ruletest.Admit(context.Background(), l.r, l.st, e, nil)
	if err != nil {
		return got, err
	}
	l.next++
	l.entries[got.LeafHash] = got
	return got, nil
}

func (l *qLog) must(e rule.Entry) rule.Entry {
	l.t.Helper()
	got, err := l.submit(e)
	if err != nil {
		l.t.Fatalf("%s %s: %v", e.Type, e.Body, err)
	}
	return got
}

// by admits a statement of agency, signed by its key.
func (l *qLog) by(agency, typ string, at time.Time, body any) rule.Entry {
	l.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		l.t.Fatal(err)
	}
	l.seq++
	e := rule.Entry{Type: typ, Time: at, Body: b, Agency: agency, Signatures: []rule.Signature{{Name: agency}}}
	e.LeafHash = sha256.Sum256(fmt.Appendf(nil, "%d %s %s", l.seq, typ, b))
	return l.must(e)
}

// feedback admits a final recipient's feedback, signed by l.rkey.
func (l *qLog) feedback(at time.Time, handover, code, received string, amount int64) rule.Entry {
	l.t.Helper()
	body := map[string]any{"handover_id": handover, "code": code, "received": received, "signer": l.rkey.vkey}
	if received == Short {
		body["amount"] = amount
	}
	b, err := json.Marshal(body)
	if err != nil {
		l.t.Fatal(err)
	}
	st, err := govlog.NewStatement(qOrigin, TypeFeedback, at, b)
	if err != nil {
		l.t.Fatal(err)
	}
	signed, err := st.Sign(l.rkey.Signer)
	if err != nil {
		l.t.Fatal(err)
	}
	e := rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, LeafHash: govlog.LeafHash(signed)}
	if e.Text, e.Signatures, err = ruletest.SplitNote(signed); err != nil {
		l.t.Fatal(err)
	}
	return l.must(e)
}

func qOpen(id, handOnBy string, adminShare int) map[string]any {
	return map[string]any{"campaign_id": id, "title": "Campaign " + id, "admin_share_max_percent": adminShare,
		"hand_on_by": handOnBy, "feedback_within_days": 14}
}

func qMoney(id, campaign string, amount int64, donor string) map[string]any {
	b := map[string]any{"donation_id": id, "campaign_id": campaign, "kind": Money, "currency": "CNY", "amount": amount}
	if donor != "" {
		b["donor"] = donor
	}
	return b
}

func qRice(id, campaign string, kg int64) map[string]any {
	return map[string]any{"donation_id": id, "campaign_id": campaign, "kind": Goods, "item": "rice", "unit": "kg", "amount": kg}
}

// qHandover is a hand-over body; draws alternate donation IDs and amounts.
// to is an agency, a recipient's commitment (with code) or "admin".
func qHandover(id, campaign string, u Unit, to, code string, draws ...any) map[string]any {
	b := map[string]any{"handover_id": id, "campaign_id": campaign, "kind": u.Kind}
	if u.Kind == Money {
		b["currency"] = u.Currency
	} else {
		b["item"], b["unit"] = u.Item, u.Unit
	}
	var ds []map[string]any
	for i := 0; i < len(draws); i += 2 {
		ds = append(ds, map[string]any{"donation_id": draws[i], "amount": draws[i+1]})
	}
	b["draws"] = ds
	switch {
	case to == "admin":
		b["administration"] = true
	case code != "":
		b["to_recipient"], b["code_hash"] = to, CodeHash(code)
	default:
		b["to_agency"] = to
	}
	return b
}

var (
	qCNY  = Unit{Kind: Money, Currency: "CNY"}
	qKgOf = Unit{Kind: Goods, Item: "rice", Unit: "kg"}
)

// qScenario is campaign flood-2027 of city-a:
//
//	d-1  1,000.00 CNY from exampleDonor
//	d-2  500 kg of rice, anonymous
//	d-3  500.00 CNY, anonymous
//	h-1  city-a: 300.00 CNY of d-1 to R1, confirmed in full
//	h-2  city-a: 200 kg of d-2 to partner-charity, accepted (after h-3)
//	h-3  city-a: 50.00 CNY of d-1 to administration
//	h-4  partner-charity: 150 kg of d-2 to R1, confirmed short (100 kg)
//	h-5  city-a: 200.00 CNY of d-1 and 100.00 of d-3 to R2, not confirmed
//	h-6  city-a: 100.00 CNY of d-1 to partner-charity, not accepted
func qScenario(t testing.TB) *qLog {
	l := newQLog(t)
	l.by(qCharity, TypeCampaignOpen, qT0, qOpen("flood-2027", "2027-06-30", 5))
	l.by(qCharity, TypeReceive, qT0.Add(time.Minute), qMoney("d-1", "flood-2027", 100000, exampleDonor))
	l.by(qCharity, TypeReceive, qT0.Add(2*time.Minute), qRice("d-2", "flood-2027", 500))
	l.by(qCharity, TypeReceive, qT0.Add(3*time.Minute), qMoney("d-3", "flood-2027", 50000, ""))
	l.by(qCharity, TypeHandover, qT0.Add(time.Hour), qHandover("h-1", "flood-2027", qCNY, qR1, qCode1, "d-1", 30000))
	l.by(qCharity, TypeHandover, qT0.Add(2*time.Hour), qHandover("h-2", "flood-2027", qKgOf, qPartner, "", "d-2", 200))
	l.by(qCharity, TypeHandover, qT0.Add(3*time.Hour), qHandover("h-3", "flood-2027", qCNY, "admin", "", "d-1", 5000))
	l.by(qPartner, TypeAccept, qT0.Add(4*time.Hour), map[string]any{"handover_id": "h-2"})
	l.by(qPartner, TypeHandover, qT0.Add(5*time.Hour), qHandover("h-4", "flood-2027", qKgOf, qR1, qCode2, "d-2", 150))
	l.by(qCharity, TypeHandover, qT0.Add(6*time.Hour), qHandover("h-5", "flood-2027", qCNY, qR2, qCode3, "d-1", 20000, "d-3", 10000))
	l.feedback(qT0.Add(24*time.Hour), "h-1", qCode1, InFull, 0)
	l.feedback(qT0.Add(48*time.Hour), "h-4", qCode2, Short, 100)
	l.by(qCharity, TypeHandover, qT0.Add(72*time.Hour), qHandover("h-6", "flood-2027", qCNY, qPartner, "", "d-1", 10000))
	return l
}

// qSplit is campaign c-big of city-a: donation d-big of 10,000.00 CNY
// handed to recipient R3 n times, 0.01 CNY each time.
func qSplit(t testing.TB, n int) *qLog {
	l := newQLog(t)
	l.by(qCharity, TypeCampaignOpen, qT0, qOpen("c-big", "2027-06-30", 0))
	l.by(qCharity, TypeReceive, qT0, qMoney("d-big", "c-big", 1000000, ""))
	for i := range n {
		l.by(qCharity, TypeHandover, qT0.Add(time.Duration(i+1)*time.Second),
			qHandover(fmt.Sprintf("h-%04d", i+1), "c-big", qCNY, qR3, fmt.Sprintf("code-%08d", i+1), "d-big", 1))
	}
	return l
}

// qAsk asks the log a query and returns the answer as a client receives
// it, the entries it cites, proved, and the leaf hashes cited.
func qAsk(t testing.TB, l *qLog, query string, args map[string]string) ([]byte, []rule.ProvedEntry, []string) {
	t.Helper()
	v := l.view()
	res, cited, err := l.r.Query(context.Background(), v, query, args)
	if err != nil {
		t.Fatalf("%s %v: %v", query, args, err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var ps []rule.ProvedEntry
	var hexes []string
	for _, h := range cited {
		e, ok, err := v.Entry(context.Background(), h)
		if err != nil || !ok {
			t.Fatalf("cited %x: %v, %v", h, ok, err)
		}
		ps = append(ps, qProved(l.entries[e.LeafHash]))
		hexes = append(hexes, fmt.Sprintf("%x", h))
	}
	return b, ps, hexes
}

// qProved is e as a client holding its inclusion proof sees it.
func qProved(e rule.Entry) rule.ProvedEntry {
	p := rule.ProvedEntry{LeafHash: e.LeafHash, Index: e.Index, Type: e.Type, Time: e.Time, Body: e.Body}
	for _, s := range e.Signatures {
		p.Signers = append(p.Signers, s.Name)
	}
	return p
}

// qLeafHashes returns the values of every "leaf_hash" member of a JSON
// document, as a client collects them.
func qLeafHashes(doc any) []string {
	var out []string
	switch x := doc.(type) {
	case map[string]any:
		for k, y := range x {
			if k == "leaf_hash" {
				out = append(out, fmt.Sprint(y))
				continue
			}
			out = append(out, qLeafHashes(y)...)
		}
	case []any:
		for _, y := range x {
			out = append(out, qLeafHashes(y)...)
		}
	}
	return out
}

// qTamper returns b with f applied to its JSON object.
func qTamper(t testing.TB, b []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// qPath walks a JSON value by member names and array indexes ("handovers.0.handover").
func qPath(m map[string]any, path string) map[string]any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case map[string]any:
			cur = x[p]
		case []any:
			var i int
			fmt.Sscan(p, &i)
			cur = x[i]
		}
	}
	return cur.(map[string]any)
}

// qSetNow sets the summary's clock and puts it back after the test.
func qSetNow(t testing.TB, at time.Time) {
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
}
