package donations_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/donations"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// examplesOf returns the example bodies of typ.
func examplesOf(typ string) [][]byte {
	var out [][]byte
	for _, ti := range donations.New().Types() {
		if ti.Type == typ {
			for _, ex := range ti.Examples {
				out = append(out, ex)
			}
		}
	}
	return out
}

// fuzzParse fuzzes a body parser, seeded with the examples of typ and
// seeds: it must not panic; what it refuses it refuses with
// rule.ErrInvalidBody; and what it accepts marshals (as a client would
// write it from the Go type) to a body it accepts as the same.
func fuzzParse[B any](f *testing.F, typ string, parse func([]byte) (B, error), seeds ...string) {
	for _, ex := range examplesOf(typ) {
		f.Add(ex)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"amount":1e999,"kind":[{}],"draws":null}`))
	f.Add([]byte("{\"kind\":\"money\",\"currency\":\"CN\xff\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parse(data)
		if err != nil {
			if !errors.Is(err, rule.ErrInvalidBody) {
				t.Fatalf("refused with %v, which is not rule.ErrInvalidBody", err)
			}
			return
		}
		again, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("couldn't marshal %+v: %v", b, err)
		}
		b2, err := parse(again)
		if err != nil {
			t.Fatalf("accepted %s as %+v, which marshals to %s, refused: %v", data, b, again, err)
		}
		if !reflect.DeepEqual(b, b2) {
			t.Fatalf("accepted %s as %+v; marshalled, %s, it reads %+v", data, b, again, b2)
		}
	})
}

func FuzzParseCampaignBody(f *testing.F) {
	fuzzParse(f, donations.TypeCampaignOpen, donations.ParseCampaignBody,
		`{"campaign_id":"c-1","title":"T","admin_share_max_percent":0,"hand_on_by":"2027-02-29","feedback_within_days":365}`,
		`{"campaign_id":"c-1","title":"T","admin_share_max_percent":100,"hand_on_by":"2028-02-29","feedback_within_days":1}`,
		`{"campaign_id":"c-1","title":"T","admin_share_max_percent":101,"hand_on_by":"2028-02-29","feedback_within_days":366}`,
		`{"campaign_id":"c/1","title":"<&>\u2028","admin_share_max_percent":-0,"hand_on_by":"2028-02-29T00:00:00Z","feedback_within_days":1.0}`,
	)
}

func FuzzParseReceiveBody(f *testing.F) {
	fuzzParse(f, donations.TypeReceive, donations.ParseReceiveBody,
		`{"donation_id":"d","campaign_id":"c","kind":"money","currency":"CNY","amount":9007199254740992}`,
		`{"donation_id":"d","campaign_id":"c","kind":"money","currency":"CNY","amount":9007199254740993}`,
		`{"donation_id":"d","campaign_id":"c","kind":"goods","item":"rice","unit":"kg","currency":"CNY","amount":1}`,
		`{"donation_id":"d","campaign_id":"c","kind":"goods","item":"","unit":"kg","amount":1}`,
		`{"donation_id":"d","campaign_id":"c","kind":"money","currency":"CNY","amount":1,"donor":"`+strings.ToUpper(donor)+`"}`,
		`{"donation_id":"d","campaign_id":"c","kind":"money","currency":"CNY","amount":-1}`,
		`{"donation_id":"d","campaign_id":"c","kind":"money","currency":"CNY","amount":1e3}`,
	)
}

func FuzzParseHandoverBody(f *testing.F) {
	fuzzParse(f, donations.TypeHandover, donations.ParseHandoverBody,
		`{"handover_id":"h","campaign_id":"c","kind":"money","currency":"CNY","draws":[{"donation_id":"a","amount":9007199254740992},{"donation_id":"b","amount":9007199254740992}],"administration":true}`,
		`{"handover_id":"h","campaign_id":"c","kind":"money","currency":"CNY","draws":[{"donation_id":"a","amount":1},{"donation_id":"a","amount":1}],"to_agency":"b"}`,
		`{"handover_id":"h","campaign_id":"c","kind":"goods","item":"x","unit":"y","draws":[{"donation_id":"a","amount":1}],"administration":true}`,
		`{"handover_id":"h","campaign_id":"c","kind":"money","currency":"CNY","draws":[{"donation_id":"a","amount":1}],"administration":false}`,
		`{"handover_id":"h","campaign_id":"c","kind":"money","currency":"CNY","draws":[{"donation_id":"a","amount":1}],"to_agency":"b","code_hash":"`+donations.CodeHash(code)+`"}`,
		`{"handover_id":"h","campaign_id":"c","kind":"money","currency":"CNY","draws":[{"donation_id":"a","amount":1}],"to_agency":"b","administration":true}`,
		`{"handover_id":"h","campaign_id":"c","kind":"money","currency":"CNY","draws":[],"to_agency":"b"}`,
		`{"handover_id":"h","campaign_id":"c","kind":"money","currency":"CNY","draws":[{"donation_id":"a","amount":1,"note":1}],"to_agency":"B"}`,
	)
}

func FuzzParseAcceptBody(f *testing.F) {
	fuzzParse(f, donations.TypeAccept, donations.ParseAcceptBody, `{"handover_id":""}`, `{"handover_id":"h","x":1}`)
}

func FuzzParseFeedbackBody(f *testing.F) {
	fb := func(received, amount string) string {
		s := `{"handover_id":"h-1","code":"` + code + `","received":"` + received + `","signer":"` + exampleRecipientVKey + `"`
		if amount != "" {
			s += `,"amount":` + amount
		}
		return s + "}"
	}
	fuzzParse(f, donations.TypeFeedback, donations.ParseFeedbackBody,
		fb(donations.Short, "1"), fb(donations.Short, "0"), fb(donations.Short, "-1"), fb(donations.InFull, "1"), fb("partly", ""),
		`{"handover_id":"h-1","code":"short","received":"in-full","signer":"`+exampleRecipientVKey+`"}`,
		`{"handover_id":"h-1","code":"`+code+`","received":"in-full","signer":"citizen+a4a2b774+AQDb5kfT59AKP9EHVJORHndl3pmb3DRwqzb3soduncCe"}`,
		`{"handover_id":"h-1","code":"`+code+`","received":"in-full","signer":"recipient+A4A2B774+AQDb5kfT59AKP9EHVJORHndl3pmb3DRwqzb3soduncCe"}`,
	)
}

// FuzzApply feeds arbitrary types, bodies, signers and times to the rules
// over a state with a campaign, donations and hand-overs. A feedback whose
// body makes a statement is signed by the recipient key the fuzzer picks,
// so the rules past Authenticate are reached. The rules must not panic,
// must refuse with a rule sentinel and write nothing when they refuse
// (ruletest.CheckApply), and out never exceeds in: what the donations'
// holders hold, what is in transit and what was handed on add up to what
// each campaign received.
func FuzzApply(f *testing.F) {
	keys := []key{exampleRecipient(f), newKey(f, "recipient")}
	agencies := []string{charityA, charityB, charityC}
	day := int64(24 * 60 * 60)
	fbBody := func(h string) obj {
		return obj{"handover_id": h, "code": code, "received": donations.InFull, "signer": exampleRecipientVKey}
	}
	for _, seed := range []struct {
		typ  string
		body []byte
		secs int64 // after t0
		who  uint8 // index in agencies, or in keys for a feedback
	}{
		{donations.TypeCampaignOpen, mustJSON(f, campaignBody("c-9")), 0, 1},
		{donations.TypeReceive, mustJSON(f, receiveBody("d-9", "c-1", cny, 1)), day, 0},
		{donations.TypeReceive, mustJSON(f, receiveBody("d-9", "c-1", cny, 1)), 400 * day, 0},
		{donations.TypeReceive, mustJSON(f, receiveBody("d-9", "c-1", cny, maxAmount)), day, 0},
		{donations.TypeHandover, mustJSON(f, handoverBody("h-9", "c-1", cny, toRecipient(recip2), draw("d-1", 70_000))), day, 0},
		{donations.TypeHandover, mustJSON(f, handoverBody("h-9", "c-1", cny, admin, draw("d-1", 5_000))), day, 0},
		{donations.TypeHandover, mustJSON(f, handoverBody("h-9", "c-1", rice, toAgency(charityC), draw("d-2", 100))), day, 1},
		{donations.TypeHandover, mustJSON(f, handoverBody("h-9", "c-1", rice, toAgency(charityA), draw("d-2", 100))), day, 1},
		{donations.TypeAccept, mustJSON(f, obj{"handover_id": "h-2"}), day, 1},
		{donations.TypeAccept, mustJSON(f, obj{"handover_id": "h-2"}), day, 2},
		{donations.TypeAccept, mustJSON(f, obj{"handover_id": "h-3"}), day, 1},
		{donations.TypeFeedback, mustJSON(f, fbBody("h-1")), day, 0},
		{donations.TypeFeedback, mustJSON(f, fbBody("h-1").set("received", donations.Short).set("amount", 29_999)), day, 0},
		{donations.TypeFeedback, mustJSON(f, fbBody("h-1")), day, 1},
		{donations.TypeFeedback, mustJSON(f, fbBody("h-2")), day, 0},
		{donations.TypeHandover, []byte(`{"draws":[[[[]]]]}`), 0, 0},
		{donations.TypeReceive, []byte(`{"amount":1,"amount":2}`), 0, 0},
		{"donations.refund", []byte(`{}`), 0, 0},
	} {
		f.Add(seed.typ, seed.body, seed.secs, seed.who)
	}
	r := donations.New()
	base := ruletest.State{}
	ruletest.Apply(f, r, base,
		openCampaign(f, charityA, "c-1"),
		openCampaign(f, charityB, "c-2"),
		receive(f, charityA, "d-1", "c-1", cny, 100_000),
		receive(f, charityA, "d-2", "c-1", rice, 500),
		receive(f, charityB, "d-3", "c-2", cny, 100),
		handover(f, charityA, "h-1", "c-1", cny, toRecipient(recip1), draw("d-1", 30_000)),
		handover(f, charityA, "h-2", "c-1", rice, toAgency(charityB), draw("d-2", 200)),
		handover(f, charityA, "h-3", "c-1", cny, toAgency(charityC), draw("d-1", 100)),
		accept(f, charityC, "h-3"),
	)
	f.Fuzz(func(t *testing.T, typ string, body []byte, secs int64, who uint8) {
		secs %= 400 * day // from about a year before t0 to a year after
		at := t0.Add(time.Duration(secs) * time.Second)
		e := rule.Entry{Type: typ, Time: at, Body: body, Agency: agencies[int(who)%len(agencies)], LeafHash: [32]byte{9}}
		if typ == donations.TypeFeedback && len(body) < govlog.MaxStatementSize/2 {
			e.Agency = ""
			if stmt, err := govlog.NewStatement(origin, typ, at, body); err == nil {
				e = signed(t, typ, stmt.Time, json.RawMessage(stmt.Body), keys[int(who)%len(keys)])
			}
		}
		st := base.Clone()
		if _, err := ruletest.CheckApply(t, r, st, e); err != nil {
			return
		}
		checkBooks(t, st)
	})
}

// checkBooks checks that in every campaign and unit, what the donations'
// holders hold, what is in transit and what was handed on add up to what
// was received.
func checkBooks(t *testing.T, st ruletest.State) {
	t.Helper()
	ctx := context.Background()
	held := map[string]int64{} // by campaign and unit key
	err := st.Scan(ctx, "donation/", func(key string, v []byte) error {
		var d donations.Donation
		if err := json.Unmarshal(v, &d); err != nil {
			return err
		}
		sum := d.ToRecipients
		for who, n := range d.Holders {
			if n < 0 {
				t.Errorf("%s holds %d of %s", who, n, d.ID)
			}
			held[d.Campaign+" "+d.Unit.Key()] += n
			sum += n
		}
		if sum > d.Amount {
			t.Errorf("donation %s of %d: held and to recipients %d", d.ID, d.Amount, sum)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Scan(ctx, "campaign/", func(key string, v []byte) error {
		var c donations.Campaign
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		for unit, tot := range c.Totals {
			if h := held[c.ID+" "+unit]; h+tot.InTransit+tot.HandedOn() != tot.Received || tot.InTransit < 0 {
				t.Errorf("campaign %s in %s: held %d + in transit %d + handed on %d != received %d", c.ID, unit, h, tot.InTransit, tot.HandedOn(), tot.Received)
			}
			if tot.Administration*100 > c.AdminShareMax*tot.Received {
				t.Errorf("campaign %s in %s: administration %d above %d%% of %d", c.ID, unit, tot.Administration, c.AdminShareMax, tot.Received)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
