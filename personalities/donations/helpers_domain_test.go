package donations_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/donations"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

const (
	origin = "gov.example/donations"

	charityA = "charity-a" // runs the tests' campaigns
	charityB = "charity-b" // a partner charity
	charityC = "charity-c" // a third one

	// exampleRecipientSKey is the signer key of the verifier key that signs
	// the feedback example in types.go.
	exampleRecipientSKey = "PRIVATE+KEY+recipient+a4a2b774+AVRRRg04Gy7Pxj62seNzwosbFiLFjTlgQrEQKaRMjDOj"
	exampleRecipientVKey = "recipient+a4a2b774+AQDb5kfT59AKP9EHVJORHndl3pmb3DRwqzb3soduncCe"

	donor = "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a"
	// recip1 and recip2 are final recipients' commitments.
	recip1 = "ef2d127de37b942baad06145e54b0c619a1f22327b2ebbcfbec78f5564afe39d"
	recip2 = "e7f6c011776e8db7cd330b54174fd76f7d0216b612387a5ffcb8a3b2aee1b3d2"
	// code is the code the recipients of the tests choose.
	code = "plum-river-4821-otter"

	maxAmount = 1 << 53
)

// t0 is when the tests' campaigns open; they take donations until the end
// of handOnBy, UTC.
var t0 = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

const handOnBy = "2027-12-31"

// closed is the first instant after handOnBy.
var closed = time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)

// key is a signer's key pair.
type key struct {
	note.Signer
	vkey string
}

func newKey(t testing.TB, name string) key {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return key{s, vkey}
}

// exampleRecipient is the key of the feedback example.
func exampleRecipient(t testing.TB) key {
	t.Helper()
	s, err := note.NewSigner(exampleRecipientSKey)
	if err != nil {
		t.Fatal(err)
	}
	return key{s, exampleRecipientVKey}
}

// obj is a statement body under construction.
type obj map[string]any

// with returns a copy of o with the members of each of others set, and
// name/value pairs set after them.
func (o obj) with(others ...obj) obj {
	c := maps.Clone(o)
	for _, x := range others {
		maps.Copy(c, x)
	}
	return c
}

func (o obj) set(name string, v any) obj {
	c := maps.Clone(o)
	c[name] = v
	return c
}

func (o obj) without(names ...string) obj {
	c := maps.Clone(o)
	for _, n := range names {
		delete(c, n)
	}
	return c
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seq makes each test entry's leaf hash its own.
var seq atomic.Uint64

// entry is a statement of an agency's type as the centre hands it to the
// rules: the rules of such a type do not read the note, so it is not
// signed. body is a string, taken as it is, or marshalled.
func entry(t testing.TB, agency, typ string, at time.Time, body any) rule.Entry {
	t.Helper()
	var b []byte
	if s, ok := body.(string); ok {
		b = []byte(s)
	} else {
		b = mustJSON(t, body)
	}
	e := rule.Entry{Type: typ, Time: at, Body: b, Agency: agency}
	e.LeafHash = sha256.Sum256(fmt.Appendf(nil, "%d %s %s", seq.Add(1), typ, b))
	e.Signatures = []rule.Signature{{Name: agency}}
	return e
}

// signed is a statement of typ signed by keys, as the centre hands it to
// the rules, with no agency: for a self-signed type.
func signed(t testing.TB, typ string, at time.Time, body any, keys ...key) rule.Entry {
	t.Helper()
	st, err := govlog.NewStatement(origin, typ, at, mustJSON(t, body))
	if err != nil {
		t.Fatal(err)
	}
	var signers []note.Signer
	for _, k := range keys {
		signers = append(signers, k.Signer)
	}
	msg, err := st.Sign(signers...)
	if err != nil {
		t.Fatal(err)
	}
	e := rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, LeafHash: govlog.LeafHash(msg)}
	if e.Text, e.Signatures, err = ruletest.SplitNote(msg); err != nil {
		t.Fatal(err)
	}
	return e
}

// Units.
var (
	cny  = obj{"kind": donations.Money, "currency": "CNY"}
	usd  = obj{"kind": donations.Money, "currency": "USD"}
	rice = obj{"kind": donations.Goods, "item": "rice", "unit": "kg"}
	tons = obj{"kind": donations.Goods, "item": "rice", "unit": "t"}
)

func campaignBody(id string) obj {
	return obj{"campaign_id": id, "title": "Campaign " + id, "admin_share_max_percent": 5, "hand_on_by": handOnBy, "feedback_within_days": 14}
}

func receiveBody(id, campaign string, unit obj, amount any) obj {
	return obj{"donation_id": id, "campaign_id": campaign, "amount": amount}.with(unit)
}

// draw is one draw of a hand-over body.
func draw(donation string, amount any) obj { return obj{"donation_id": donation, "amount": amount} }

// Destinations of a hand-over.
func toAgency(a string) obj { return obj{"to_agency": a} }

func toRecipient(commitment string) obj {
	return obj{"to_recipient": commitment, "code_hash": donations.CodeHash(code)}
}

var admin = obj{"administration": true}

func handoverBody(id, campaign string, unit, dest obj, ds ...obj) obj {
	if ds == nil {
		ds = []obj{}
	}
	return obj{"handover_id": id, "campaign_id": campaign, "draws": ds}.with(unit, dest)
}

func feedbackBody(handover string, k key) obj {
	return obj{"handover_id": handover, "code": code, "received": donations.InFull, "signer": k.vkey}
}

// Entries at t0.
func openCampaign(t testing.TB, agency, id string) rule.Entry {
	return entry(t, agency, donations.TypeCampaignOpen, t0, campaignBody(id))
}

func receive(t testing.TB, agency, id, campaign string, unit obj, amount any) rule.Entry {
	return entry(t, agency, donations.TypeReceive, t0, receiveBody(id, campaign, unit, amount))
}

func handover(t testing.TB, agency, id, campaign string, unit, dest obj, ds ...obj) rule.Entry {
	return entry(t, agency, donations.TypeHandover, t0, handoverBody(id, campaign, unit, dest, ds...))
}

func accept(t testing.TB, agency, handover string) rule.Entry {
	return entry(t, agency, donations.TypeAccept, t0, obj{"handover_id": handover})
}

// feedback is k's feedback on a hand-over, signed by keys (k alone if none
// are given).
func feedback(t testing.TB, body obj, k key, keys ...key) rule.Entry {
	if len(keys) == 0 {
		keys = []key{k}
	}
	return signed(t, donations.TypeFeedback, t0.Add(time.Hour), body, keys...)
}

// commitment is a made-up commitment, the n-th.
func commitment(n int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "recipient %d", n))
	return hex.EncodeToString(h[:])
}
