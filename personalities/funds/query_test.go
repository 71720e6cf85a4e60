package funds_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

// memView is a rule.View over a ruletest.State and the entries applied to it,
// with their leaves as the log would prove them.
type memView struct {
	ruletest.State
	entries map[[32]byte]rule.Entry
	proved  map[[32]byte]*govlog.VerifiedBundle
}

var _ rule.View = memView{}

func (v memView) Entry(_ context.Context, h [32]byte) (rule.Entry, bool, error) {
	e, ok := v.entries[h]
	e.Agency = ""
	return e, ok, nil
}

// viewOf applies entries, signed as the log would hold them ([signed]),
// at log indexes 0, 1, ...
func viewOf(t testing.TB, entries []rule.Entry) memView {
	t.Helper()
	v := memView{ruletest.State{}, map[[32]byte]rule.Entry{}, map[[32]byte]*govlog.VerifiedBundle{}}
	var logged []rule.Entry
	for i, e := range entries {
		e, leaf := signed(t, e)
		logged = append(logged, e)
		v.entries[e.LeafHash] = e
		v.proved[e.LeafHash] = &govlog.VerifiedBundle{Index: uint64(i), Entry: leaf, Checkpoint: govlog.Checkpoint{Origin: testOrigin}}
	}
	applyAll(t, v.State, logged)
	return v
}

// bundles returns the proved entries of an answer citing these.
func (v memView) bundles(cited [][32]byte) []*govlog.VerifiedBundle {
	var out []*govlog.VerifiedBundle
	for _, h := range cited {
		out = append(out, v.proved[h])
	}
	return out
}

// checkHonest: the answer Query gave passes CheckAnswer.
func checkHonest(t testing.TB, v memView, name string, args map[string]string, res any, cited [][32]byte) {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAnswer(name, args, b, v.bundles(cited)); err != nil {
		t.Errorf("CheckAnswer of an honest answer: %v", err)
	}
}

// money is a small world for tracing: budget-1 is funded by a-1 (1,000)
// and a-2 (2,000), budget-2 by a-3 (5,000); both pay co-1 under works
// contracts; co-1 pays alice and bob their wages of 2,000 each.
func money() []rule.Entry {
	return []rule.Entry{
		open(bureau, "budget-1", funds.OwnerAgency, bureau, funds.KindBudget),
		open(bureau, "budget-2", funds.OwnerAgency, bureau, funds.KindBudget),
		open(bureau, "co-1", funds.OwnerCompany, "91130600MA0C000001", funds.KindCompany),
		open(bureau, "w-alice", funds.OwnerPerson, alice, funds.KindWorker),
		open(bureau, "w-bob", funds.OwnerPerson, bob, funds.KindWorker),
		alloc("a-1", "budget-1", 1_000),
		alloc("a-2", "budget-1", 2_000),
		alloc("a-3", "budget-2", 5_000),
		works(bureau, "c-1", "budget-1", "co-1", 10_000),
		works(bureau, "c-2", "budget-2", "co-1", 10_000),
		xfer(bureau, "t-1", "budget-1", "co-1", 1_500, "c-1"), // a-1 1,000 + a-2 500
		xfer(bureau, "t-2", "budget-2", "co-1", 1_000, "c-2"), // a-3 1,000
		labour(bureau, "c-lab", "co-1", 8_000, 2_000, []string{alice, bob},
			funds.PayPeriod{Period: "2026-03", PayDeadline: "2026-04-10"}),
		wage("w-1", "c-lab", alice, "2026-03", 2_000, "co-1", "w-alice"),      // t-1 1,500 + t-2 500
		xfer(bureau, "t-3", "budget-1", "co-1", 1_500, "c-1"),                 // a-2 1,500
		wage("w-2", "c-lab", bob, "2026-03", 2_000, "co-1", "w-bob"),          // t-2 500 + t-3 1,500
		xfer(bureau, "t-4", "budget-2", "co-1", 4_000, "c-2"),                 // a-3 4,000
		open(civil, "budget-aid", funds.OwnerAgency, civil, funds.KindBudget), // after the others: a later account
		alloc("a-4", "budget-aid", 10_000),
		grade(civil, "dibao", 1_200),
		open(civil, "b-dave", funds.OwnerPerson, dave, funds.KindBeneficiary),
		benef(civil, "ben-dave", dave, "dibao", "b-dave"),
		aid(civil, "aid-1", "ben-dave", "dibao", "2026-03", "budget-aid", "b-dave", 1_200),
	}
}

// leafOf returns the hex leaf hash of the entry of entries whose body
// contains marker, as viewOf logs it.
func leafOf(t testing.TB, entries []rule.Entry, marker string) string {
	t.Helper()
	for _, e := range entries {
		if strings.Contains(string(e.Body), marker) {
			e, _ = signed(t, e)
			return hex.EncodeToString(e.LeafHash[:])
		}
	}
	t.Fatalf("no entry with %s", marker)
	return ""
}

// hopLines summarises a trace: depth, ref, attributed/amount, from->to.
func hopLines(p *funds.PaymentTrace) []string {
	var out []string
	for _, h := range p.Hops {
		out = append(out, fmt.Sprintf("%d %s %d/%d %s->%s", h.Depth, h.Ref, h.Attributed, h.Amount, h.From, h.To))
	}
	return out
}

func TestQueryPayment(t *testing.T) {
	ctx := context.Background()
	moneyView := viewOf(t, money())
	released := after(release(afterMarch, bothShort))
	releaseView := viewOf(t, released)
	tests := []struct {
		name      string
		view      memView
		args      map[string]string
		want      []string
		contracts []string
	}{
		{
			name: "a transfer funded by one allocation",
			view: moneyView, args: map[string]string{"ref": "transfer/t-2"},
			want: []string{
				"0 transfer/t-2 1000/1000 budget-2->co-1",
				"1 allocation/a-3 1000/5000 ->budget-2",
			},
			contracts: []string{"c-2"},
		},
		{
			name: "a transfer funded by two allocations, split first in first out",
			view: moneyView, args: map[string]string{"ref": "transfer/t-1"},
			want: []string{
				"0 transfer/t-1 1500/1500 budget-1->co-1",
				"1 allocation/a-1 1000/1000 ->budget-1",
				"1 allocation/a-2 500/2000 ->budget-1",
			},
			contracts: []string{"c-1"},
		},
		{
			name: "a later transfer takes what the earlier ones left",
			view: moneyView, args: map[string]string{"ref": "transfer/t-3"},
			want: []string{
				"0 transfer/t-3 1500/1500 budget-1->co-1",
				"1 allocation/a-2 1500/2000 ->budget-1",
			},
			contracts: []string{"c-1"},
		},
		{
			name: "a wage from a company account funded by transfers funded by allocations",
			view: moneyView, args: map[string]string{"ref": "payment/w-1"},
			want: []string{
				"0 payment/w-1 2000/2000 co-1->w-alice",
				"1 transfer/t-1 1500/1500 budget-1->co-1",
				"2 allocation/a-1 1000/1000 ->budget-1",
				"2 allocation/a-2 500/2000 ->budget-1",
				"1 transfer/t-2 500/1000 budget-2->co-1",
				"2 allocation/a-3 500/5000 ->budget-2",
			},
			contracts: []string{"c-1", "c-2", "c-lab"},
		},
		{
			name: "the second wage starts where the first ended, in the middle of t-2",
			view: moneyView, args: map[string]string{"ref": "payment/w-2"},
			want: []string{
				"0 payment/w-2 2000/2000 co-1->w-bob",
				"1 transfer/t-2 500/1000 budget-2->co-1",
				"2 allocation/a-3 500/5000 ->budget-2",
				"1 transfer/t-3 1500/1500 budget-1->co-1",
				"2 allocation/a-2 1500/2000 ->budget-1",
			},
			contracts: []string{"c-1", "c-2", "c-lab"},
		},
		{
			name: "by leaf hash",
			view: moneyView, args: map[string]string{"leaf_hash": leafOf(t, money(), `"payment_id":"w-2"`)},
			want: []string{
				"0 payment/w-2 2000/2000 co-1->w-bob",
				"1 transfer/t-2 500/1000 budget-2->co-1",
				"2 allocation/a-3 500/5000 ->budget-2",
				"1 transfer/t-3 1500/1500 budget-1->co-1",
				"2 allocation/a-2 1500/2000 ->budget-1",
			},
			contracts: []string{"c-1", "c-2", "c-lab"},
		},
		{
			name: "aid",
			view: moneyView, args: map[string]string{"ref": "payment/aid-1"},
			want: []string{
				"0 payment/aid-1 1200/1200 budget-aid->b-dave",
				"1 allocation/a-4 1200/10000 ->budget-aid",
			},
		},
		{
			name: "an allocation is its own source",
			view: moneyView, args: map[string]string{"ref": "allocation/a-2"},
			want: []string{"0 allocation/a-2 2000/2000 ->budget-1"},
		},
		{
			name: "a guarantee release, through the deposit, back to the budget",
			view: releaseView, args: map[string]string{"ref": "period/c-lab/2026-03", "to": "w-bob"},
			want: []string{
				"0 period/c-lab/2026-03 3000/3000 escrow-1->w-bob",
				"1 guarantee/g-1 3000/6000 co-1->escrow-1",
				"2 transfer/t-1 3000/200000 budget-1->co-1",
				"3 allocation/a-1 3000/1000000 ->budget-1",
			},
			contracts: []string{"c-lab", "c-works"},
		},
		{
			name: "a release by leaf hash, naming the worker account",
			view: releaseView, args: map[string]string{"leaf_hash": leafOf(t, released, `"payments":[{"worker"`), "to": "w-alice"},
			want: []string{
				"0 period/c-lab/2026-03 3000/3000 escrow-1->w-alice",
				"1 guarantee/g-1 3000/6000 co-1->escrow-1",
				"2 transfer/t-1 3000/200000 budget-1->co-1",
				"3 allocation/a-1 3000/1000000 ->budget-1",
			},
			contracts: []string{"c-lab", "c-works"},
		},
		{
			name: "a guarantee lodging",
			view: releaseView, args: map[string]string{"ref": "guarantee/g-1"},
			want: []string{
				"0 guarantee/g-1 6000/6000 co-1->escrow-1",
				"1 transfer/t-1 6000/200000 budget-1->co-1",
				"2 allocation/a-1 6000/1000000 ->budget-1",
			},
			contracts: []string{"c-lab", "c-works"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cited, err := funds.New().Query(ctx, tt.view, funds.QueryPayment, tt.args)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			p := res.(*funds.PaymentTrace)
			if got := hopLines(p); !slices.Equal(got, tt.want) {
				t.Errorf("hops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			var contracts []string
			for id := range p.Contracts {
				contracts = append(contracts, id)
			}
			slices.Sort(contracts)
			if !slices.Equal(contracts, tt.contracts) {
				t.Errorf("contracts %v, want %v", contracts, tt.contracts)
			}
			checkConserved(t, p)
			checkCited(t, res, cited, tt.view)
			checkHonest(t, tt.view, funds.QueryPayment, tt.args, res, cited)
			if p.Currency != funds.Currency || p.Ref != p.Hops[0].Ref {
				t.Errorf("currency %q, ref %q", p.Currency, p.Ref)
			}
		})
	}
}

// checkConserved: each hop's funding adds up to its attributed amount,
// and no hop is attributed more than it moved.
func checkConserved(t *testing.T, p *funds.PaymentTrace) {
	t.Helper()
	funded := make([]int64, len(p.Hops))
	for i, h := range p.Hops {
		if h.Attributed <= 0 || h.Attributed > h.Amount {
			t.Errorf("hop %d attributed %d of %d", i, h.Attributed, h.Amount)
		}
		if i == 0 {
			if h.Funds != -1 || h.Depth != 0 {
				t.Errorf("hop 0 funds %d at depth %d", h.Funds, h.Depth)
			}
			continue
		}
		if h.Funds < 0 || h.Funds >= i || p.Hops[h.Funds].Depth != h.Depth-1 || p.Hops[h.Funds].From != h.To {
			t.Errorf("hop %d (%s) funds hop %d", i, h.Ref, h.Funds)
			continue
		}
		funded[h.Funds] += h.Attributed
	}
	for i, h := range p.Hops {
		if h.From != "" && funded[i] != h.Attributed {
			t.Errorf("hop %d (%s): %d attributed, funded by %d", i, h.Ref, h.Attributed, funded[i])
		}
	}
}

// checkCited: the result names by "leaf_hash" exactly the entries cited,
// and each is an entry of the view.
func checkCited(t *testing.T, res any, cited [][32]byte, v memView) {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, y := range x {
				if s, ok := y.(string); ok && k == "leaf_hash" {
					named[s] = true
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(doc)
	got := map[string]bool{}
	for _, h := range cited {
		if _, ok := v.entries[h]; !ok {
			t.Errorf("cited %x is no entry", h)
		}
		got[hex.EncodeToString(h[:])] = true
	}
	if len(got) != len(named) {
		t.Errorf("cited %d entries, the result names %d", len(got), len(named))
	}
	for h := range named {
		if !got[h] {
			t.Errorf("the result names %s, which is not cited", h)
		}
	}
}

func TestQueryAccount(t *testing.T) {
	ctx := context.Background()
	entries := money()
	v := viewOf(t, entries)
	tests := []struct {
		name     string
		args     map[string]string
		wantRefs []string
		wantN    int64 // number of the first line
		wantNext int64
	}{
		{"whole ledger", map[string]string{"id": "budget-1"}, []string{"allocation/a-1", "allocation/a-2", "transfer/t-1", "transfer/t-3"}, 1, 0},
		{"first page", map[string]string{"id": "budget-1", "limit": "2"}, []string{"allocation/a-1", "allocation/a-2"}, 1, 3},
		{"second page", map[string]string{"id": "budget-1", "from": "3", "limit": "2"}, []string{"transfer/t-1", "transfer/t-3"}, 3, 0},
		{"middle", map[string]string{"id": "co-1", "from": "2", "limit": "3"}, []string{"transfer/t-2", "payment/w-1", "transfer/t-3"}, 2, 5},
		{"past the end", map[string]string{"id": "budget-1", "from": "9"}, nil, 9, 0},
		{"no lines", map[string]string{"id": "b-dave", "from": "2"}, nil, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cited, err := funds.New().Query(ctx, v, funds.QueryAccount, tt.args)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			a := res.(*funds.AccountView)
			var refs []string
			for i, l := range a.Lines {
				refs = append(refs, l.Ref)
				if l.N != tt.wantN+int64(i) {
					t.Errorf("line %d numbered %d", i, l.N)
				}
				var want funds.LedgerLine
				if ok, _ := getLine(v, tt.args["id"], l.N, &want); !ok || want != l.LedgerLine {
					t.Errorf("line %d = %+v, state holds %+v", l.N, l.LedgerLine, want)
				}
			}
			if !slices.Equal(refs, tt.wantRefs) || a.Next != tt.wantNext {
				t.Errorf("lines %v next %d, want %v next %d", refs, a.Next, tt.wantRefs, tt.wantNext)
			}
			want, _, _ := funds.Account(ctx, v, tt.args["id"])
			if a.Account != want || a.ID != tt.args["id"] || a.Currency != funds.Currency || a.Lines == nil {
				t.Errorf("account %+v, want %+v", a, want)
			}
			checkCited(t, res, cited, v)
			checkHonest(t, v, funds.QueryAccount, tt.args, res, cited)
		})
	}
	res, _, err := funds.New().Query(ctx, v, funds.QueryAccount, map[string]string{"id": "co-1"})
	if err != nil {
		t.Fatal(err)
	}
	if a := res.(*funds.AccountView); a.Account.Balance != 1_500+1_000+1_500+4_000-4_000 || a.Account.Lines != 6 {
		t.Errorf("co-1 balance %d, %d lines", a.Account.Balance, a.Account.Lines)
	}
}

func getLine(v memView, account string, n int64, l *funds.LedgerLine) (bool, error) {
	b, ok := v.State[funds.LedgerKey(account, n)]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, l)
}

func TestQueryRefused(t *testing.T) {
	ctx := context.Background()
	entries := after(release(afterMarch, bothShort))
	v := viewOf(t, entries)
	tests := []struct {
		name    string
		query   string
		args    map[string]string
		wantErr error
	}{
		{"unknown query", "balances", map[string]string{"id": "co-1"}, rule.ErrUnknownQuery},
		{"account: no id", funds.QueryAccount, map[string]string{}, rule.ErrInvalidQuery},
		{"account: empty id", funds.QueryAccount, map[string]string{"id": ""}, rule.ErrInvalidQuery},
		{"account: unknown argument", funds.QueryAccount, map[string]string{"id": "co-1", "to": "x"}, rule.ErrInvalidQuery},
		{"account: malformed id", funds.QueryAccount, map[string]string{"id": "co/1"}, rule.ErrInvalidQuery},
		{"account: unknown account", funds.QueryAccount, map[string]string{"id": "co-9"}, rule.ErrNotFound},
		{"account: limit 0", funds.QueryAccount, map[string]string{"id": "co-1", "limit": "0"}, rule.ErrInvalidQuery},
		{"account: limit over the page", funds.QueryAccount, map[string]string{"id": "co-1", "limit": "101"}, rule.ErrInvalidQuery},
		{"account: from 0", funds.QueryAccount, map[string]string{"id": "co-1", "from": "0"}, rule.ErrInvalidQuery},
		{"account: from not a number", funds.QueryAccount, map[string]string{"id": "co-1", "from": "1e3"}, rule.ErrInvalidQuery},
		{"payment: nothing", funds.QueryPayment, map[string]string{}, rule.ErrInvalidQuery},
		{"payment: ref and leaf hash", funds.QueryPayment, map[string]string{"ref": "transfer/t-1", "leaf_hash": leafOf(t, entries, `"transfer_id":"t-1"`)}, rule.ErrInvalidQuery},
		{"payment: unknown kind", funds.QueryPayment, map[string]string{"ref": "contract/c-lab"}, rule.ErrInvalidQuery},
		{"payment: malformed id", funds.QueryPayment, map[string]string{"ref": "transfer/../t-1"}, rule.ErrInvalidQuery},
		{"payment: unknown transfer", funds.QueryPayment, map[string]string{"ref": "transfer/t-9"}, rule.ErrNotFound},
		{"payment: to for a transfer", funds.QueryPayment, map[string]string{"ref": "transfer/t-1", "to": "co-1"}, rule.ErrInvalidQuery},
		{"payment: release without to", funds.QueryPayment, map[string]string{"ref": "period/c-lab/2026-03"}, rule.ErrInvalidQuery},
		{"payment: release to an account it did not pay", funds.QueryPayment, map[string]string{"ref": "period/c-lab/2026-03", "to": "w-carol"}, rule.ErrNotFound},
		{"payment: release to no account", funds.QueryPayment, map[string]string{"ref": "period/c-lab/2026-03", "to": "nobody"}, rule.ErrNotFound},
		{"payment: no release", funds.QueryPayment, map[string]string{"ref": "period/c-lab/2026-04", "to": "w-bob"}, rule.ErrNotFound},
		{"payment: malformed period", funds.QueryPayment, map[string]string{"ref": "period/c-lab/march", "to": "w-bob"}, rule.ErrInvalidQuery},
		{"payment: release by leaf hash paying two, without to", funds.QueryPayment, map[string]string{"leaf_hash": leafOf(t, entries, `"payments":[{"worker"`)}, rule.ErrInvalidQuery},
		{"payment: leaf hash not hex", funds.QueryPayment, map[string]string{"leaf_hash": "zz"}, rule.ErrInvalidQuery},
		{"payment: unknown leaf hash", funds.QueryPayment, map[string]string{"leaf_hash": strings.Repeat("ab", 32)}, rule.ErrNotFound},
		{"payment: an entry that moves no money", funds.QueryPayment, map[string]string{"leaf_hash": leafOf(t, entries, `"account_id":"co-1"`)}, rule.ErrInvalidQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, cited, err := funds.New().Query(ctx, v, tt.query, tt.args)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Query = %v, want %v", err, tt.wantErr)
			}
			if res != nil || cited != nil {
				t.Errorf("Query returned a result with its error")
			}
		})
	}
}

// countingView counts the ledger lines a query reads.
type countingView struct {
	memView
	ledgerReads *int
}

func (v countingView) Get(ctx context.Context, k string) ([]byte, bool, error) {
	if strings.HasPrefix(k, "ledger/") {
		*v.ledgerReads++
	}
	return v.memView.Get(ctx, k)
}

// TestTraceBusyAccount: tracing through an account with more ledger lines
// than MaxTraceLines reads a few dozen of them (binary search on the
// lines' running In), and still attributes first in, first out.
func TestTraceBusyAccount(t *testing.T) {
	ctx := context.Background()
	const allocs = funds.MaxTraceLines + 2_000
	entries := []rule.Entry{
		open(bureau, "budget-1", funds.OwnerAgency, bureau, funds.KindBudget),
		open(bureau, "co-1", funds.OwnerCompany, "91130600MA0C000001", funds.KindCompany),
		works(bureau, "c-1", "budget-1", "co-1", 1_000_000),
	}
	for i := range allocs {
		entries = append(entries, alloc(fmt.Sprintf("a-%d", i), "budget-1", 1))
	}
	entries = append(entries, xfer(bureau, "t-1", "budget-1", "co-1", 3, "c-1"), xfer(bureau, "t-2", "budget-1", "co-1", 2, "c-1"))
	reads := 0
	v := countingView{viewOf(t, entries), &reads}
	res, cited, err := funds.New().Query(ctx, v, funds.QueryPayment, map[string]string{"ref": "transfer/t-2"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.(*funds.PaymentTrace).Hops[1:] {
		got = append(got, fmt.Sprintf("%s:%d", h.Ref, h.Attributed))
	}
	if want := []string{"allocation/a-3:1", "allocation/a-4:1"}; !slices.Equal(got, want) {
		t.Errorf("t-2 funded by %v, want %v", got, want)
	}
	if reads > 100 {
		t.Errorf("the trace read %d ledger lines of an account of %d", reads, allocs+2)
	}
	t.Logf("traced through an account of %d lines reading %d of them", allocs+2, reads)
	checkHonest(t, v.memView, funds.QueryPayment, map[string]string{"ref": "transfer/t-2"}, res, cited)
}

// TestQueryBounds: a trace past MaxTraceHops fails with ErrQueryTooLarge
// and says why.
func TestQueryBounds(t *testing.T) {
	ctx := context.Background()
	setup := []rule.Entry{
		open(bureau, "budget-1", funds.OwnerAgency, bureau, funds.KindBudget),
		open(bureau, "co-1", funds.OwnerCompany, "91130600MA0C000001", funds.KindCompany),
		works(bureau, "c-1", "budget-1", "co-1", 1_000_000),
	}
	tests := []struct {
		name   string
		allocs int   // allocations of 1 fen before the transfer
		amount int64 // transferred
		want   string
	}{
		{"at most MaxTraceHops", funds.MaxTraceHops - 1, funds.MaxTraceHops - 1, ""},
		{"past MaxTraceHops", funds.MaxTraceHops, funds.MaxTraceHops, "more than 200 movements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := slices.Clone(setup)
			for i := range tt.allocs {
				entries = append(entries, alloc(fmt.Sprintf("a-%d", i), "budget-1", 1))
			}
			entries = append(entries, xfer(bureau, "t-1", "budget-1", "co-1", tt.amount, "c-1"))
			v := viewOf(t, entries)
			res, _, err := funds.New().Query(ctx, v, funds.QueryPayment, map[string]string{"ref": "transfer/t-1"})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				if p := res.(*funds.PaymentTrace); len(p.Hops) != int(tt.amount)+1 {
					t.Errorf("%d hops, want %d", len(p.Hops), tt.amount+1)
				}
				return
			}
			if !errors.Is(err, rule.ErrQueryTooLarge) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Query = %v, want ErrQueryTooLarge saying %q", err, tt.want)
			}
		})
	}
}

func TestFormatAmount(t *testing.T) {
	for in, want := range map[int64]string{
		0:                    "0.00 CNY",
		5:                    "0.05 CNY",
		100:                  "1.00 CNY",
		123456:               "1,234.56 CNY",
		100000000:            "1,000,000.00 CNY",
		-123456:              "-1,234.56 CNY",
		9223372036854775807:  "92,233,720,368,547,758.07 CNY",
		-9223372036854775808: "-92,233,720,368,547,758.08 CNY",
	} {
		if got := funds.FormatAmount(in); got != want {
			t.Errorf("FormatAmount(%d) = %q, want %q", in, got, want)
		}
	}
}

// FuzzQuery: whatever a caller asks, Query answers with a result that
// names only what it cites and that CheckAnswer accepts, or refuses with one of the query sentinels
// (the view never fails here), and never panics.
func FuzzQuery(f *testing.F) {
	entries := money()
	v := viewOf(f, entries)
	f.Add("account", "id", "co-1", "from", "2")
	f.Add("account", "id", "budget-1", "limit", "100")
	f.Add("payment", "ref", "transfer/t-1", "to", "")
	f.Add("payment", "ref", "period/c-lab/2026-03", "to", "w-bob")
	f.Add("payment", "leaf_hash", leafOf(f, entries, `"payment_id":"w-1"`), "", "")
	f.Fuzz(func(t *testing.T, name, k1, v1, k2, v2 string) {
		args := map[string]string{k1: v1}
		if k2 != "" {
			args[k2] = v2
		}
		res, cited, err := funds.New().Query(context.Background(), v, name, args)
		if err != nil {
			if !errors.Is(err, rule.ErrUnknownQuery) && !errors.Is(err, rule.ErrInvalidQuery) &&
				!errors.Is(err, rule.ErrNotFound) && !errors.Is(err, rule.ErrQueryTooLarge) {
				t.Fatalf("Query(%q, %q) = %v, not a query sentinel", name, args, err)
			}
			return
		}
		checkCited(t, res, cited, v)
		checkHonest(t, v, name, args, res, cited)
	})
}
