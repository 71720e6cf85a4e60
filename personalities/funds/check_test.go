package funds_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/rule"
)

const testOrigin = "gov.example/funds"

var (
	signersMu sync.Mutex
	signers   = map[string]note.Signer{}
)

// agencyKey returns the key of an agency, named after its ID as registry
// keys are, and the same in every run so that an entry's leaf is.
func agencyKey(t testing.TB, agency string) note.Signer {
	t.Helper()
	signersMu.Lock()
	defer signersMu.Unlock()
	if s, ok := signers[agency]; ok {
		return s
	}
	seed := sha256.Sum256([]byte("test key of " + agency))
	skey, _, err := note.GenerateKey(bytes.NewReader(seed[:]), agency)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	signers[agency] = s
	return s
}

// signed returns e as the log holds it: a statement signed by its agency's
// key, with its canonical body and the leaf hash of the leaf it returns.
func signed(t testing.TB, e rule.Entry) (rule.Entry, []byte) {
	t.Helper()
	s, err := govlog.NewStatement(testOrigin, e.Type, e.Time, e.Body)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := s.Sign(agencyKey(t, e.Agency))
	if err != nil {
		t.Fatal(err)
	}
	e.Body, e.LeafHash = s.Body, govlog.LeafHash(leaf)
	return e, leaf
}

// answer asks v a query and returns the answer and the proved entries a
// server could send with it: the ones it cites, and every other entry, so
// that a lie can cite any entry of the log.
func answer(t *testing.T, v memView, name string, args map[string]string) (any, []*govlog.VerifiedBundle) {
	t.Helper()
	res, cited, err := funds.New().Query(context.Background(), v, name, args)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	proved := v.bundles(cited)
	for _, b := range v.proved {
		proved = append(proved, b)
	}
	return res, proved
}

// reencode returns v as JSON, as a server would send it.
func reencode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckAccountView(t *testing.T) {
	entries := money()
	v := viewOf(t, entries)
	t1 := leafOf(t, entries, `"transfer_id":"t-1"`)
	// co-1's ledger: +t-1 1,500, +t-2 1,000, -w-1 2,000, +t-3 1,500,
	// -w-2 2,000, +t-4 4,000; balance 4,000.
	whole := map[string]string{"id": "co-1"}
	rv := viewOf(t, after(release(afterMarch, bothShort)))
	tests := []struct {
		name  string
		view  *memView // v if nil
		args  map[string]string
		edit  func(a *funds.AccountView)
		asked map[string]string // what the answer is checked against, if not args
		want  string
	}{
		{name: "honest, whole ledger", args: whole},
		{name: "honest, a page in the middle", args: map[string]string{"id": "co-1", "from": "2", "limit": "3"}},
		{name: "honest, past the end", args: map[string]string{"id": "co-1", "from": "7"}},
		{name: "honest, no lines", args: map[string]string{"id": "b-dave"}},
		{name: "honest, one release paying two workers from escrow", view: &rv, args: map[string]string{"id": "escrow-1"}},
		{
			name: "amount changed, balances made to follow", args: whole,
			edit: func(a *funds.AccountView) {
				a.Lines[2].Amount += 500
				for i := 2; i < len(a.Lines); i++ {
					a.Lines[i].Balance += 500
				}
				a.Account.Balance += 500
			},
			want: "line 3: wage of -15.00 CNY, but entry",
		},
		{
			name: "counterparty changed", args: whole,
			edit: func(a *funds.AccountView) { a.Lines[0].Counterparty = "budget-2" },
			want: "moves transfer/t-1 from budget-1 to co-1, not from budget-2 to co-1",
		},
		{
			name: "direction flipped", args: whole,
			edit: func(a *funds.AccountView) { a.Lines[0].Amount = -a.Lines[0].Amount },
			want: "not from co-1 to budget-1",
		},
		{
			name: "ref changed", args: whole,
			edit: func(a *funds.AccountView) { a.Lines[1].Ref = "transfer/t-9" },
			want: "records no movement transfer/t-9",
		},
		{
			name: "kind changed", args: whole,
			edit: func(a *funds.AccountView) { a.Lines[1].Kind = funds.MoveAid },
			want: "line 2: aid of 10.00 CNY, but entry",
		},
		{
			name: "balance changed", args: whole,
			edit: func(a *funds.AccountView) { a.Lines[3].Balance += 100 },
			want: "line 4: balance 21.00 CNY after 15.00 CNY, but 5.00 CNY before it",
		},
		{
			name: "first balance changed", args: whole,
			edit: func(a *funds.AccountView) {
				for i := range a.Lines {
					a.Lines[i].Balance += 100
				}
				a.Account.Balance += 100
			},
			want: "line 1: balance 16.00 CNY after 15.00 CNY, but 0 before it",
		},
		{
			name: "account balance changed", args: whole,
			edit: func(a *funds.AccountView) { a.Account.Balance += 1 },
			want: "balance 40.01 CNY, but its last line leaves 40.00 CNY",
		},
		{
			name: "a line dropped in the middle", args: whole,
			edit: func(a *funds.AccountView) { a.Lines = slices.Delete(a.Lines, 2, 3) },
			want: "line 3 of the page is numbered 4, not 3",
		},
		{
			name: "a line dropped in the middle and the rest renumbered", args: whole,
			edit: func(a *funds.AccountView) {
				a.Lines = slices.Delete(a.Lines, 2, 3)
				for i := range a.Lines {
					a.Lines[i].N = int64(i) + 1
				}
				a.Account.Lines--
			},
			want: "line 3: balance 20.00 CNY after 15.00 CNY, but 25.00 CNY before it",
		},
		{
			name: "a release's line to one worker twice", view: &rv, args: map[string]string{"id": "escrow-1"},
			edit: func(a *funds.AccountView) { a.Lines[2].Counterparty = a.Lines[1].Counterparty },
			want: "line 3: the movement of line 2 again",
		},
		{
			name: "lines out of log order", args: whole,
			edit: func(a *funds.AccountView) {
				a.Lines[0].LedgerLine, a.Lines[1].LedgerLine = a.Lines[1].LedgerLine, a.Lines[0].LedgerLine
				a.Lines[0].Balance, a.Lines[1].Balance = 1_000, 2_500
				a.Lines[0].In, a.Lines[1].In = 1_000, 2_500
			},
			want: "is not after the line before it",
		},
		{
			name: "running totals changed", args: whole,
			edit: func(a *funds.AccountView) { a.Lines[1].In += 100; a.Lines[1].Out += 100 },
			want: "in and",
		},
		{
			name: "a line's entry swapped for another proved entry", args: whole,
			edit: func(a *funds.AccountView) { a.Lines[1].LeafHash = t1 },
			want: "records no movement transfer/t-2",
		},
		{
			name: "the account's entry swapped for a line's", args: whole,
			edit: func(a *funds.AccountView) { a.Account.LeafHash = t1 },
			want: "is a funds.transfer, not a funds.account.open",
		},
		{
			name: "an entry not proved", args: whole,
			edit: func(a *funds.AccountView) { a.Lines[1].LeafHash = strings.Repeat("ab", 32) },
			want: "not among the proved entries",
		},
		{
			name: "controller changed", args: whole,
			edit: func(a *funds.AccountView) { a.Account.Controller = civil },
			want: "says guiyang-ca controls it, but its entry is signed by xiongan-fb",
		},
		{
			name: "owner changed", args: whole,
			edit: func(a *funds.AccountView) { a.Account.Owner = "91130600MA0C000002" },
			want: "of company 91130600MA0C000002, its entry a company account of company 91130600MA0C000001",
		},
		{
			name: "the ledger cut short", args: whole,
			edit: func(a *funds.AccountView) { a.Lines = a.Lines[:4] },
			want: "the page ends at line 4, but the account has 6",
		},
		{
			name: "a page without its lines", args: map[string]string{"id": "co-1", "from": "2", "limit": "3"},
			edit: func(a *funds.AccountView) { a.Lines = a.Lines[:0]; a.Next = 0 },
			want: "no line from line 2, but the account has 6",
		},
		{
			name: "a page of another account", args: map[string]string{"id": "budget-1"}, asked: whole,
			want: `about account "budget-1"`,
		},
		{
			name: "a page from another line", args: map[string]string{"id": "co-1", "from": "3", "limit": "3"},
			asked: map[string]string{"id": "co-1", "from": "2", "limit": "3"},
			want:  "numbered 3, not 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view := v
			if tt.view != nil {
				view = *tt.view
			}
			res, proved := answer(t, view, funds.QueryAccount, tt.args)
			a := res.(*funds.AccountView)
			if tt.edit != nil {
				tt.edit(a)
			}
			result := reencode(t, a)
			asked := tt.args
			if tt.asked != nil {
				asked = tt.asked
			}
			err := checkAnswer(funds.QueryAccount, asked, result, proved)
			checkErr(t, err, tt.want)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("CheckAnswer: %v", err)
		}
		return
	}
	if !errors.Is(err, funds.ErrAnswerMismatch) || !strings.Contains(err.Error(), want) {
		t.Fatalf("CheckAnswer = %v, want ErrAnswerMismatch saying %q", err, want)
	}
}

func TestCheckPaymentTrace(t *testing.T) {
	entries := money()
	v := viewOf(t, entries)
	released := after(release(afterMarch, bothShort))
	rv := viewOf(t, released)
	// Three allocations of 100 into one budget, of which a transfer of 250
	// takes 100, 100 and 50, first in, first out.
	three := []rule.Entry{
		open(bureau, "budget-1", funds.OwnerAgency, bureau, funds.KindBudget),
		open(bureau, "co-1", funds.OwnerCompany, "91130600MA0C000001", funds.KindCompany),
		works(bureau, "c-1", "budget-1", "co-1", 1_000),
		alloc("a-1", "budget-1", 100),
		alloc("a-2", "budget-1", 100),
		alloc("a-3", "budget-1", 100),
		xfer(bureau, "t-1", "budget-1", "co-1", 250, "c-1"),
	}
	tv := viewOf(t, three)
	a1 := leafOf(t, entries, `"allocation_id":"a-1"`)
	t4 := leafOf(t, entries, `"transfer_id":"t-4"`)
	// payment/w-1: hop 0 the wage of 2,000 from co-1; hop 1 t-1 1,500/1,500
	// funds 0; hop 2 a-1 1,000/1,000 and hop 3 a-2 500/2,000 fund 1; hop 4
	// t-2 500/1,000 funds 0; hop 5 a-3 500/5,000 funds 4.
	w1 := map[string]string{"ref": "payment/w-1"}
	tests := []struct {
		name  string
		view  memView
		args  map[string]string
		edit  func(p *funds.PaymentTrace)
		asked map[string]string
		want  string
	}{
		{name: "honest", view: v, args: w1},
		{name: "honest, a release", view: rv, args: map[string]string{"ref": "period/c-lab/2026-03", "to": "w-bob"}},
		{name: "honest, three inflows", view: tv, args: map[string]string{"ref": "transfer/t-1"}},
		{
			name: "amount changed", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[1].Amount = 1_600; p.Hops[1].Attributed = 1_600 },
			want: "hop 1 (transfer/t-1): the answer says transfer of 16.00 CNY from budget-1 to co-1",
		},
		{
			name: "counterparty changed", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[1].From = "budget-2" },
			want: "not from budget-2 to co-1",
		},
		{
			name: "contract changed", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[1].Contract = "c-2" },
			want: `contract "c-2"`,
		},
		{
			name: "budget line changed", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[2].BudgetLine = "schools" },
			want: `budget line "schools"`,
		},
		{
			name: "signer changed", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[1].Agency = civil },
			want: "says guiyang-ca signed it",
		},
		{
			name: "a release's amount changed", view: rv, args: map[string]string{"ref": "period/c-lab/2026-03", "to": "w-bob"},
			edit: func(p *funds.PaymentTrace) {
				for i := range p.Hops {
					p.Hops[i].Amount += 1_000
					p.Hops[i].Attributed += 1_000
				}
			},
			want: "hop 0 (period/c-lab/2026-03): the answer says release of 40.00 CNY",
		},
		{
			name: "attribution inflated", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[4].Attributed = 600 },
			want: "hop 0 (payment/w-1): 20.00 CNY of it is attributed to the payment, but the hops funding it add up to 21.00 CNY",
		},
		{
			name: "attribution past the amount", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[2].Attributed = 1_100; p.Hops[3].Attributed = 400 },
			want: "hop 2 (allocation/a-1): 11.00 CNY of its 10.00 CNY attributed",
		},
		{
			name: "the payment only partly attributed", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[0].Attributed = 1_500 },
			want: "hop 0, the payment",
		},
		{
			name: "a hop funding the wrong account", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[5].Funds = 1 },
			want: "hop 5 (allocation/a-3) pays budget-2, not budget-1, the payer of hop 1",
		},
		{
			name: "a hop funding a later hop", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[4].Funds = 5 },
			want: "hop 4 (transfer/t-2) funds hop 5, not an earlier one",
		},
		{
			name: "a hop funded by a later movement", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) {
				h := &p.Hops[4]
				h.Ref, h.LeafHash, h.Amount = "transfer/t-4", t4, 4_000
			},
			want: "hop 4 (transfer/t-4) funds hop 0 (payment/w-1), but its entry is not earlier in the log",
		},
		{
			name: "a hop listed under another than it funds", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) {
				h := p.Hops
				h[5].Funds = 2
				p.Hops = []funds.Hop{h[0], h[1], h[4], h[2], h[3], h[5]}
			},
			want: "hop 3 (allocation/a-1) at depth 2 funds hop 1 at depth 1, not the hop it is listed under",
		},
		{
			name: "an allocation funded", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[3].Funds = 2 },
			want: "funds hop 2, an allocation",
		},
		{
			name: "a hop's entry swapped for another proved entry", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { p.Hops[3].LeafHash = a1 },
			want: "records no movement allocation/a-2",
		},
		{
			name: "inflows out of log order", view: tv, args: map[string]string{"ref": "transfer/t-1"},
			edit: func(p *funds.PaymentTrace) { p.Hops[1], p.Hops[2] = p.Hops[2], p.Hops[1] },
			want: "first in, first out takes inflows in log order",
		},
		{
			name: "an inflow in the middle partly spent", view: tv, args: map[string]string{"ref": "transfer/t-1"},
			edit: func(p *funds.PaymentTrace) { p.Hops[2].Attributed = 50; p.Hops[3].Attributed = 100 },
			want: "hop 2 (allocation/a-2) funds hop 0 with 0.50 CNY of its 1.00 CNY between two other inflows",
		},
		{
			name: "a contract's ceiling changed", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { k := p.Contracts["c-1"]; k.Ceiling++; p.Contracts["c-1"] = k },
			want: "contract c-1: ceiling 100.01 CNY, but its entry",
		},
		{
			name: "a labour contract's workers changed", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) {
				k := p.Contracts["c-lab"]
				k.Workers = k.Workers[:1]
				p.Contracts["c-lab"] = k
			},
			want: "contract c-lab: workers",
		},
		{
			name: "a contract's entry swapped for another", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) {
				k := p.Contracts["c-1"]
				k.LeafHash = p.Contracts["c-2"].LeafHash
				p.Contracts["c-1"] = k
			},
			want: "contract c-1: ID c-1, but its entry",
		},
		{
			name: "a contract left out", view: v, args: w1,
			edit: func(p *funds.PaymentTrace) { delete(p.Contracts, "c-2") },
			want: "paid under contract c-2, whose terms the answer does not give",
		},
		{
			name: "a contract no hop was paid under", view: v, args: map[string]string{"ref": "transfer/t-1"},
			edit: func(p *funds.PaymentTrace) { p.Contracts["c-2"] = p.Contracts["c-1"] },
			want: "contract c-2: ID c-2, but its entry",
		},
		{
			name: "another payment's path", view: v, args: map[string]string{"ref": "payment/w-2"}, asked: w1,
			want: `the answer traces "payment/w-2"`,
		},
		{
			name: "another release's worker", view: rv, args: map[string]string{"ref": "period/c-lab/2026-03", "to": "w-bob"},
			asked: map[string]string{"ref": "period/c-lab/2026-03", "to": "w-alice"},
			want:  "to \"w-bob\", not w-alice",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, proved := answer(t, tt.view, funds.QueryPayment, tt.args)
			p := res.(*funds.PaymentTrace)
			if tt.edit != nil {
				tt.edit(p)
			}
			asked := tt.args
			if tt.asked != nil {
				asked = tt.asked
			}
			err := checkAnswer(funds.QueryPayment, asked, reencode(t, p), proved)
			checkErr(t, err, tt.want)
		})
	}
}

// TestCheckAnswerEntries: what CheckAnswer makes of the proved entries
// themselves.
func TestCheckAnswerEntries(t *testing.T) {
	entries := money()
	v := viewOf(t, entries)
	args := map[string]string{"id": "budget-1"}
	res, proved := answer(t, v, funds.QueryAccount, args)
	result := reencode(t, res)
	if err := checkAnswer("balances", args, result, proved); !errors.Is(err, rule.ErrUnknownQuery) {
		t.Errorf("an unknown query: %v, want ErrUnknownQuery", err)
	}
	// A proved entry that is not a statement: a log can only prove what
	// it holds, but the client must not trust it to be well formed.
	notStatement := slices.Clone(proved)
	notStatement[0] = &govlog.VerifiedBundle{Entry: []byte("hello\n")}
	if _, err := client.ProvedEntries(notStatement); err == nil || !strings.Contains(err.Error(), "is not a statement") {
		t.Errorf("a proved entry that is not a statement: %v", err)
	}
	// A member the client does not know would be printed unchecked.
	err := checkAnswer(funds.QueryAccount, args, bytes.Replace(result, []byte("{"), []byte(`{"verified":true,`), 1), proved)
	checkErr(t, err, "not a *funds.AccountView")
	checkErr(t, checkAnswer(funds.QueryAccount, args, append(result, "{}"...), proved), "data after")
	_, cited, _ := funds.New().Query(context.Background(), v, funds.QueryAccount, args)
	checkErr(t, checkAnswer(funds.QueryAccount, args, result, v.bundles(cited[1:])), "not among the proved entries")
	// Entries proved in another log than the one they were written for.
	elsewhere := slices.Clone(proved)
	for i, b := range elsewhere {
		moved := *b
		moved.Checkpoint.Origin = "gov.example/other-funds"
		elsewhere[i] = &moved
	}
	if _, err := client.ProvedEntries(elsewhere); err == nil || !strings.Contains(err.Error(), "is not a statement of gov.example/other-funds") {
		t.Errorf("entries proved in another log: %v", err)
	}
}

func hexLeaf(leaf []byte) string {
	h := govlog.LeafHash(leaf)
	return hex.EncodeToString(h[:])
}

// FuzzCheckAnswer: whatever a server answers, CheckAnswer does not panic,
// and an answer it accepts decodes and cites only proved entries.
func FuzzCheckAnswer(f *testing.F) {
	entries := after(release(afterMarch, bothShort))
	v := viewOf(f, entries)
	var all []*govlog.VerifiedBundle
	for _, b := range v.proved {
		all = append(all, b)
	}
	for _, q := range []struct {
		name string
		args map[string]string
	}{
		{funds.QueryAccount, map[string]string{"id": "co-1"}},
		{funds.QueryAccount, map[string]string{"id": "escrow-1", "from": "2", "limit": "2"}},
		{funds.QueryPayment, map[string]string{"ref": "period/c-lab/2026-03", "to": "w-bob"}},
		{funds.QueryPayment, map[string]string{"ref": "guarantee/g-1"}},
	} {
		res, _, err := funds.New().Query(context.Background(), v, q.name, q.args)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := json.Marshal(res)
		f.Add(q.name, q.args["id"]+q.args["ref"], b)
	}
	f.Fuzz(func(t *testing.T, name, id string, result []byte) {
		args := map[string]string{"id": id}
		if name == funds.QueryPayment {
			args = map[string]string{"ref": id}
		}
		if err := checkAnswer(name, args, result, all); err != nil {
			if !errors.Is(err, funds.ErrAnswerMismatch) && !errors.Is(err, rule.ErrUnknownQuery) && !errors.Is(err, rule.ErrInvalidQuery) {
				t.Fatalf("CheckAnswer = %v, not a sentinel", err)
			}
		}
	})
}

// checkAnswer runs funds.CheckAnswer on verified bundles as the CLI does:
// read by the client as the statements they prove.
func checkAnswer(name string, args map[string]string, result []byte, vbs []*govlog.VerifiedBundle) error {
	proved, err := client.ProvedEntries(vbs)
	if err != nil {
		return err
	}
	_, err = funds.CheckAnswer(name, args, result, proved)
	return err
}
