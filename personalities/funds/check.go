package funds

import (
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/answer"
)

// ErrAnswerMismatch means an answer to a query says something about the
// entries it cites that those entries contradict, or that does not add up:
// the server's reading of the log is false. See "Checking an answer" in
// the package doc.
var ErrAnswerMismatch = errors.New("the answer does not match its entries")

// CheckAnswer checks the answer result to the query name with args against
// entries, the proved entries it cites (client.ProvedEntries reads them
// from the verified bundles of client.Query), as far as those entries alone can tell; see "Checking
// an answer" in the package doc. It trusts the entries' proofs, which it
// does not check again, and reads who signed an entry from its signature
// lines' key names, which it does not verify: the log checked them when it
// admitted the entry, and a monitor checks them again. It returns what it
// established. A false answer is [ErrAnswerMismatch]; a query this package
// does not answer [rule.ErrUnknownQuery], and a from or limit Query would
// refuse [rule.ErrInvalidQuery].
func CheckAnswer(name string, args map[string]string, result []byte, entries []rule.ProvedEntry) (checked string, err error) {
	proved := provedEntries{}
	for _, e := range entries {
		if _, ok := proved[e.LeafHash]; !ok {
			proved[e.LeafHash] = &provedEntry{index: e.Index, typ: e.Type, body: e.Body, signers: e.Signers}
		}
	}
	switch name {
	case QueryAccount:
		var v AccountView
		if err := decodeAnswer(result, &v); err != nil {
			return "", err
		}
		if err := checkAccountView(&v, args, proved); err != nil {
			return "", err
		}
		return accountChecked(&v), nil
	case QueryPayment:
		var p PaymentTrace
		if err := decodeAnswer(result, &p); err != nil {
			return "", err
		}
		if err := checkPaymentTrace(&p, paymentArgs(args), proved); err != nil {
			return "", err
		}
		return "every hop and contract matches its entry, and what funds each hop adds up to it " +
			"(which inflows first in, first out takes is the server's reading of the payers' ledgers)", nil
	}
	return "", fmt.Errorf("%w %q: the %s log answers %q and %q", rule.ErrUnknownQuery, name, LogName, QueryAccount, QueryPayment)
}

// accountChecked says what CheckAnswer established about an account page:
// balances add up from 0 only on a page from line 1.
func accountChecked(v *AccountView) string {
	switch {
	case len(v.Lines) == 0:
		return "the account matches its entry"
	case v.Lines[0].N > 1:
		return fmt.Sprintf("the account and every line match their entries, balances add up within the page "+
			"(the balance before line %d is the server's word)", v.Lines[0].N)
	case v.Next == 0:
		return "the account and every line match their entries, balances add up from 0 to the account's balance"
	}
	return "the account and every line match their entries, balances add up from 0"
}

// decodeAnswer reads an answer strictly: a member this package does not
// know would be shown (by --json) without having been checked.
func decodeAnswer(result []byte, v any) error {
	if err := answer.Decode(result, v, fmt.Sprintf("a %T", v)); err != nil {
		return fmt.Errorf("%w: the answer is %v", ErrAnswerMismatch, err)
	}
	return nil
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAnswerMismatch, fmt.Sprintf(format, args...))
}

// provedEntries are an answer's proved entries by leaf hash.
type provedEntries map[[32]byte]*provedEntry

type provedEntry struct {
	index   uint64
	typ     string
	body    []byte
	signers []string
}

// get returns the proved entry an answer cites by hex leaf hash. Its errors,
// and those of the provedEntry methods, are the answer's fault; callers
// wrap them with [ErrAnswerMismatch] and say where the answer cites it.
func (p provedEntries) get(leafHex string) (*provedEntry, error) {
	b, err := hex.DecodeString(leafHex)
	var e *provedEntry
	if err == nil && len(b) == 32 && leafHex == strings.ToLower(leafHex) {
		e = p[[32]byte(b)]
	}
	if e == nil {
		return nil, fmt.Errorf("entry %.64q is not among the proved entries", leafHex)
	}
	return e, nil
}

// signedBy reports whether agency signed e. Registry keys are named after
// their agency's ID, so the key names on an entry's signature lines are the
// agencies that signed it; which one the registry authorized needs the
// registry.
func (e *provedEntry) signedBy(agency string) bool { return slices.Contains(e.signers, agency) }

// movement is a money movement an entry records, with the ref of its
// record (a release's is the period's: it records one per worker paid).
type movement struct {
	ref string
	Movement
}

// movements returns the money movements e records, with neither LeafHash
// nor Agency: none for a statement that moves no money.
func (e *provedEntry) movements() ([]movement, error) {
	var out []movement
	var err error
	switch e.typ {
	case TypeAllocate:
		var b AllocateBody
		if b, err = ParseAllocateBody(e.body); err == nil {
			out = append(out, movement{AllocationKey(b.AllocationID), Movement{Kind: MoveAllocation,
				To: b.To, Amount: b.Amount, BudgetLine: b.BudgetLine}})
		}
	case TypeTransfer:
		var b TransferBody
		if b, err = ParseTransferBody(e.body); err == nil {
			out = append(out, movement{TransferKey(b.TransferID), Movement{Kind: MoveTransfer,
				From: b.From, To: b.To, Amount: b.Amount, Contract: b.ContractID}})
		}
	case TypeWagePay:
		var b WagePayBody
		if b, err = ParseWagePayBody(e.body); err == nil {
			out = append(out, movement{PaymentKey(b.PaymentID), Movement{Kind: MoveWage,
				From: b.From, To: b.Account(), Amount: b.Amount, Contract: b.ContractID, Period: b.Period, Worker: b.Worker}})
		}
	case TypeAidPay:
		var b AidPayBody
		if b, err = ParseAidPayBody(e.body); err == nil {
			out = append(out, movement{PaymentKey(b.PaymentID), Movement{Kind: MoveAid,
				From: b.From, To: b.Account(), Amount: b.Amount, Period: b.Period, Beneficiary: b.BeneficiaryID, Recipient: b.Recipient}})
		}
	case TypeGuaranteeLodge:
		var b GuaranteeLodgeBody
		if b, err = ParseGuaranteeLodgeBody(e.body); err == nil {
			out = append(out, movement{GuaranteeKey(b.GuaranteeID), Movement{Kind: MoveGuarantee,
				From: b.From, To: b.Escrow, Amount: b.Amount, Contract: b.ContractID}})
		}
	case TypeGuaranteeRelease:
		var b ReleaseBody
		if b, err = ParseReleaseBody(e.body); err == nil {
			for _, p := range b.Payments {
				if p.Amount > 0 { // a share of 0 moves nothing
					out = append(out, movement{PeriodKey(b.ContractID, b.Period), Movement{Kind: MoveRelease,
						From: b.Escrow, To: p.Account(), Amount: p.Amount, Contract: b.ContractID, Period: b.Period, Worker: p.Worker}})
				}
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the body of its %s does not parse: %v", e.typ, err)
	}
	return out, nil
}

// moving returns the movement of e with this ref between from and to.
func (e *provedEntry) moving(leafHex, ref, from, to string) (Movement, error) {
	ms, err := e.movements()
	if err != nil {
		return Movement{}, err
	}
	var named []movement
	for _, m := range ms {
		if m.ref == ref {
			named = append(named, m)
		}
	}
	if len(named) == 0 {
		return Movement{}, fmt.Errorf("entry %s is a %s that records no movement %s", leafHex, e.typ, ref)
	}
	for _, m := range named {
		if m.From == from && m.To == to {
			return m.Movement, nil
		}
	}
	m := named[0]
	return Movement{}, fmt.Errorf("entry %s moves %s from %s to %s, not from %s to %s", leafHex, ref, counterpartyName(m.From), m.To, counterpartyName(from), to)
}

func counterpartyName(account string) string {
	if account == "" {
		return "the treasury"
	}
	return account
}

// checkAccountView checks an account query's answer; see "Checking an
// answer" in the package doc.
func checkAccountView(v *AccountView, args map[string]string, proved provedEntries) error {
	from, err := intArg(args, "from", 1, 1, 1<<62)
	if err != nil {
		return err
	}
	limit, err := intArg(args, "limit", MaxHistoryPage, 1, MaxHistoryPage)
	if err != nil {
		return err
	}
	id := args["id"]
	if v.ID != id || v.Currency != Currency {
		return mismatch("the answer is about account %.80q in %.8q, not %s in %s", v.ID, v.Currency, id, Currency)
	}
	a := v.Account
	open, err := proved.get(a.LeafHash)
	if err != nil {
		return mismatch("account %s: %v", id, err)
	}
	if err := checkOpening(id, a, open); err != nil {
		return err
	}
	switch {
	case a.Balance < 0 || a.Lines < 0:
		return mismatch("account %s: balance %d after %d lines", id, a.Balance, a.Lines)
	case int64(len(v.Lines)) > limit:
		return mismatch("account %s: %d lines on a page of %d", id, len(v.Lines), limit)
	}
	index := open.index
	for i, l := range v.Lines {
		if want := from + int64(i); l.N != want || l.N > a.Lines {
			return mismatch("account %s: line %d of the page is numbered %d, not %d of %d", id, i+1, l.N, want, a.Lines)
		}
		e, err := proved.get(l.LeafHash)
		if err != nil {
			return mismatch("account %s, line %d: %v", id, l.N, err)
		}
		// The ledger is in log order; only a release writes several lines
		// to one account, its escrow, one per worker paid. A one-time
		// account's first line is the payment that opened it.
		_, once := onceOwner(id)
		openedBy := once && i == 0 && l.N == 1 && l.LeafHash == a.LeafHash
		if once && l.N == 1 && !openedBy {
			return mismatch("account %s, line 1: entry %s, but the payment that opened the account is %s", id, l.LeafHash, a.LeafHash)
		}
		if e.index < index || e.index == index && !openedBy && (i == 0 || l.LeafHash != v.Lines[i-1].LeafHash) {
			return mismatch("account %s, line %d: entry %s (index %d) is not after the line before it (index %d)", id, l.N, l.LeafHash, e.index, index)
		}
		index = e.index
		if err := checkLine(id, l, e); err != nil {
			return err
		}
		for _, k := range v.Lines[:i] {
			if k.LeafHash == l.LeafHash && k.Counterparty == l.Counterparty {
				return mismatch("account %s, line %d: the movement of line %d again", id, l.N, k.N)
			}
		}
		// A page from line 1 starts at 0; a later one at a balance only
		// the lines before it show.
		if i == 0 && l.N == 1 && l.Balance != l.Amount || i > 0 && l.Balance != v.Lines[i-1].Balance+l.Amount || l.Balance < 0 {
			before := "0"
			if i > 0 {
				before = FormatAmount(v.Lines[i-1].Balance)
			}
			return mismatch("account %s, line %d: balance %s after %s, but %s before it", id, l.N, FormatAmount(l.Balance), FormatAmount(l.Amount), before)
		}
		// The running totals a trace searches move the same way.
		var inBefore, outBefore int64
		if i > 0 {
			inBefore, outBefore = v.Lines[i-1].In, v.Lines[i-1].Out
		} else if l.N > 1 {
			inBefore, outBefore = l.In-max(l.Amount, 0), l.Out-max(-l.Amount, 0)
		}
		if l.In != inBefore+max(l.Amount, 0) || l.Out != outBefore+max(-l.Amount, 0) || l.In-l.Out != l.Balance || inBefore < 0 || outBefore < 0 {
			return mismatch("account %s, line %d: %s in and %s out in all, after %s", id, l.N, FormatAmount(l.In), FormatAmount(l.Out), FormatAmount(l.Amount))
		}
	}
	next := from + int64(len(v.Lines))
	if v.Next != 0 {
		if v.Next != next || v.Next > a.Lines || int64(len(v.Lines)) != limit {
			return mismatch("account %s: %d lines from line %d of %d, then next %d", id, len(v.Lines), from, a.Lines, v.Next)
		}
		return nil
	}
	switch {
	case len(v.Lines) == 0 && from <= a.Lines:
		return mismatch("account %s: no line from line %d, but the account has %d", id, from, a.Lines)
	case len(v.Lines) > 0 && next-1 != a.Lines:
		return mismatch("account %s: the page ends at line %d, but the account has %d and the answer names no next page", id, next-1, a.Lines)
	case len(v.Lines) > 0 && a.Balance != v.Lines[len(v.Lines)-1].Balance:
		return mismatch("account %s: balance %s, but its last line leaves %s", id, FormatAmount(a.Balance), FormatAmount(v.Lines[len(v.Lines)-1].Balance))
	case len(v.Lines) > 0 && (a.In != v.Lines[len(v.Lines)-1].In || a.Out != v.Lines[len(v.Lines)-1].Out):
		return mismatch("account %s: %s in and %s out in all, but its last line says %s and %s", id,
			FormatAmount(a.In), FormatAmount(a.Out), FormatAmount(v.Lines[len(v.Lines)-1].In), FormatAmount(v.Lines[len(v.Lines)-1].Out))
	case a.Lines == 0 && (a.Balance != 0 || a.In != 0 || a.Out != 0):
		return mismatch("account %s: balance %s without a ledger line", id, FormatAmount(a.Balance))
	}
	return nil
}

// checkOpening checks an account's record against the entry that opened
// it: its funds.account.open, or for a one-time account the first payment
// to it, which opened it as a worker account (a wage or a release) or a
// beneficiary account (aid) of its commitment, controlled by nobody.
func checkOpening(id string, a AccountRecord, open *provedEntry) error {
	if owner, ok := onceOwner(id); ok {
		kind := KindWorker
		if open.typ == TypeAidPay {
			kind = KindBeneficiary
		}
		ms, err := open.movements()
		if err != nil {
			return mismatch("account %s: %v", id, err)
		}
		if !slices.ContainsFunc(ms, func(m movement) bool { return m.To == id }) {
			return mismatch("account %s: entry %s is a %s that pays nothing to it", id, a.LeafHash, open.typ)
		}
		if a.OwnerKind != OwnerPerson || a.Owner != owner || a.Kind != kind || a.Controller != "" {
			return mismatch("account %s: the answer says a %s account of %s %s controlled by %q; a one-time account opened by a %s is a %s account of person %s, controlled by nobody",
				id, a.Kind, a.OwnerKind, a.Owner, a.Controller, open.typ, kind, owner)
		}
		return nil
	}
	if open.typ != TypeAccountOpen {
		return mismatch("account %s: entry %s is a %s, not a %s", id, a.LeafHash, open.typ, TypeAccountOpen)
	}
	b, err := ParseAccountOpenBody(open.body)
	if err != nil {
		return mismatch("account %s: its %s does not parse: %v", id, TypeAccountOpen, err)
	}
	switch {
	case b.AccountID != id:
		return mismatch("account %s: entry %s opened account %s", id, a.LeafHash, b.AccountID)
	case a.OwnerKind != b.OwnerKind || a.Owner != b.Owner || a.Kind != b.Kind:
		return mismatch("account %s: the answer says a %s account of %s %s, its entry a %s account of %s %s",
			id, a.Kind, a.OwnerKind, a.Owner, b.Kind, b.OwnerKind, b.Owner)
	case !open.signedBy(a.Controller):
		return mismatch("account %s: the answer says %s controls it, but its entry is signed by %s", id, a.Controller, strings.Join(open.signers, ", "))
	}
	return nil
}

// checkLine checks that a line of account is a movement of entry e, in
// its direction, with its counterparty, amount and kind.
func checkLine(account string, l NumberedLine, e *provedEntry) error {
	from, to := l.Counterparty, account
	if l.Amount < 0 {
		from, to = account, l.Counterparty
	}
	m, err := e.moving(l.LeafHash, l.Ref, from, to)
	if err != nil {
		return mismatch("account %s, line %d: %v", account, l.N, err)
	}
	want := m.Amount
	if l.Amount < 0 {
		want = -want
	}
	if l.Amount != want || l.Kind != m.Kind {
		return mismatch("account %s, line %d: %s of %s, but entry %s records a %s of %s", account, l.N,
			l.Kind, FormatAmount(l.Amount), l.LeafHash, m.Kind, FormatAmount(want))
	}
	return nil
}

// checkPaymentTrace checks a payment query's answer; see "Checking an
// answer" in the package doc.
func checkPaymentTrace(p *PaymentTrace, args map[string]string, proved provedEntries) error {
	if len(p.Hops) == 0 || len(p.Hops) > MaxTraceHops {
		return mismatch("a path of %d movements", len(p.Hops))
	}
	pay := p.Hops[0]
	switch {
	case p.Currency != Currency:
		return mismatch("the answer is in %.8q, not %s", p.Currency, Currency)
	case p.Ref != pay.Ref:
		return mismatch("the answer traces %.80q, but its payment, hop 0, is %.80q", p.Ref, pay.Ref)
	case args["ref"] != "" && pay.Ref != args["ref"]:
		return mismatch("the answer traces %.80q, not %s", pay.Ref, args["ref"])
	case args["leaf_hash"] != "" && pay.LeafHash != strings.ToLower(args["leaf_hash"]):
		return mismatch("the answer traces entry %.64q, not %s", pay.LeafHash, args["leaf_hash"])
	case args["to"] != "" && pay.To != args["to"]:
		return mismatch("the answer traces the payment to %.80q, not %s", pay.To, args["to"])
	case pay.Funds != -1 || pay.Depth != 0 || pay.Attributed != pay.Amount:
		return mismatch("hop 0, the payment, funds hop %d at depth %d with %d of its %d", pay.Funds, pay.Depth, pay.Attributed, pay.Amount)
	}
	entries := make([]*provedEntry, len(p.Hops))
	funded := make([]int64, len(p.Hops))
	// Each unit of the payment goes back to one unit of any movement, so
	// what a movement is attributed, in all its hops, is at most its amount.
	type movementKey struct{ leaf, ref, to string }
	used := map[movementKey]int64{}
	last := map[int]int{} // the last hop at each depth so far
	for i, h := range p.Hops {
		e, err := checkHop(i, h, proved)
		if err != nil {
			return err
		}
		entries[i] = e
		if h.Attributed <= 0 || h.Attributed > h.Amount {
			return mismatch("hop %d (%s): %s of its %s attributed", i, h.Ref, FormatAmount(h.Attributed), FormatAmount(h.Amount))
		}
		k := movementKey{h.LeafHash, h.Ref, h.To}
		if used[k] += h.Attributed; used[k] > h.Amount {
			return mismatch("%s to %s is attributed %s in all, more than its %s", h.Ref, h.To, FormatAmount(used[k]), FormatAmount(h.Amount))
		}
		if h.Contract != "" {
			if _, ok := p.Contracts[h.Contract]; !ok {
				return mismatch("hop %d (%s) was paid under contract %s, whose terms the answer does not give", i, h.Ref, h.Contract)
			}
		}
		last[h.Depth] = i
		if i == 0 {
			continue
		}
		if h.Funds < 0 || h.Funds >= i {
			return mismatch("hop %d (%s) funds hop %d, not an earlier one", i, h.Ref, h.Funds)
		}
		f := p.Hops[h.Funds]
		switch {
		case f.From == "":
			return mismatch("hop %d (%s) funds hop %d, an allocation, whose money comes from the treasury", i, h.Ref, h.Funds)
		case h.To != f.From:
			return mismatch("hop %d (%s) pays %s, not %s, the payer of hop %d (%s)", i, h.Ref, h.To, f.From, h.Funds, f.Ref)
		case h.Depth != f.Depth+1 || last[f.Depth] != h.Funds:
			// Listed depth first, as printed, indented by depth: a hop
			// funds the last hop one level up.
			return mismatch("hop %d (%s) at depth %d funds hop %d at depth %d, not the hop it is listed under", i, h.Ref, h.Depth, h.Funds, f.Depth)
		case e.index >= entries[h.Funds].index:
			return mismatch("hop %d (%s) funds hop %d (%s), but its entry is not earlier in the log", i, h.Ref, h.Funds, f.Ref)
		case f.Kind == MoveRelease && (h.Kind != MoveGuarantee || h.Contract != f.Contract):
			// An escrow account holds one contract's guarantee only.
			return mismatch("hop %d (%s) funds the release of contract %s (hop %d) but is not a guarantee lodged for it", i, h.Ref, f.Contract, h.Funds)
		}
		funded[h.Funds] += h.Attributed
	}
	for i, h := range p.Hops {
		if h.From != "" && funded[i] != h.Attributed {
			return mismatch("hop %d (%s): %s of it is attributed to the payment, but the hops funding it add up to %s",
				i, h.Ref, FormatAmount(h.Attributed), FormatAmount(funded[i]))
		}
	}
	if err := checkFirstInFirstOut(p.Hops, entries); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(p.Contracts)) {
		if err := checkContract(id, p.Contracts[id], p.Hops, entries, proved); err != nil {
			return err
		}
	}
	return nil
}

// checkHop checks that hop i is a movement of the entry it cites, and
// returns the entry.
func checkHop(i int, h Hop, proved provedEntries) (*provedEntry, error) {
	e, err := proved.get(h.LeafHash)
	if err != nil {
		return nil, mismatch("hop %d (%s): %v", i, h.Ref, err)
	}
	m, err := e.moving(h.LeafHash, h.Ref, h.From, h.To)
	if err != nil {
		return nil, mismatch("hop %d: %v", i, err)
	}
	got := h.Movement
	got.LeafHash, got.Agency, got.FromLine = "", "", 0 // not in the entry
	if got != m {
		return nil, mismatch("hop %d (%s): the answer says %s, its entry %s", i, h.Ref, describe(got), describe(m))
	}
	// A release's hop is built from state that does not keep its signer.
	if !(h.Kind == MoveRelease && h.Agency == "") && !e.signedBy(h.Agency) {
		return nil, mismatch("hop %d (%s): the answer says %s signed it, but its entry is signed by %s", i, h.Ref, h.Agency, strings.Join(e.signers, ", "))
	}
	return e, nil
}

func describe(m Movement) string {
	s := fmt.Sprintf("%s of %s from %s to %s", m.Kind, FormatAmount(m.Amount), counterpartyName(m.From), m.To)
	for _, f := range []struct{ name, v string }{
		{"contract", m.Contract}, {"period", m.Period}, {"worker", m.Worker},
		{"beneficiary", m.Beneficiary}, {"recipient", m.Recipient}, {"budget line", m.BudgetLine},
	} {
		if f.v != "" {
			s += fmt.Sprintf(", %s %q", f.name, f.v)
		}
	}
	return s
}

// checkFirstInFirstOut checks what first in, first out implies without
// the payer's ledger: the hops funding one hop are inflows of one account,
// in log order, that cover one stretch of its money, so each but the first
// and the last is attributed in full.
func checkFirstInFirstOut(hops []Hop, entries []*provedEntry) error {
	funders := map[int][]int{}
	for i := 1; i < len(hops); i++ {
		funders[hops[i].Funds] = append(funders[hops[i].Funds], i)
	}
	for _, f := range slices.Sorted(maps.Keys(funders)) {
		fs := funders[f]
		for j, i := range fs {
			if j > 0 && entries[i].index <= entries[fs[j-1]].index {
				return mismatch("hop %d (%s) funds hop %d after hop %d (%s), a later entry: first in, first out takes inflows in log order",
					i, hops[i].Ref, f, fs[j-1], hops[fs[j-1]].Ref)
			}
			if j > 0 && j < len(fs)-1 && hops[i].Attributed != hops[i].Amount {
				return mismatch("hop %d (%s) funds hop %d with %s of its %s between two other inflows: first in, first out spends an inflow in between in full",
					i, hops[i].Ref, f, FormatAmount(hops[i].Attributed), FormatAmount(hops[i].Amount))
			}
		}
	}
	return nil
}

// checkContract checks a contract of a payment's answer against its
// funds.contract.register entry, and that a hop was paid under it, after
// it was registered.
func checkContract(id string, k ContractRecord, hops []Hop, entries []*provedEntry, proved provedEntries) error {
	e, err := proved.get(k.LeafHash)
	if err != nil {
		return mismatch("contract %s: %v", id, err)
	}
	if e.typ != TypeContractRegister {
		return mismatch("contract %s: entry %s is a %s, not a %s", id, k.LeafHash, e.typ, TypeContractRegister)
	}
	b, err := ParseContractRegisterBody(e.body)
	if err != nil {
		return mismatch("contract %s: its %s does not parse: %v", id, TypeContractRegister, err)
	}
	var schedule []PayPeriod
	for _, p := range b.Schedule {
		d, err := parseDeadline("", p.PayDeadline)
		if err != nil {
			return mismatch("contract %s: its %s does not parse: %v", id, TypeContractRegister, err)
		}
		schedule = append(schedule, PayPeriod{Period: p.Period, PayDeadline: d.Format(stateTimeLayout)})
	}
	for _, d := range []struct {
		field     string
		equal     bool
		got, want any
	}{
		{"ID", id == b.ContractID, id, b.ContractID},
		{"kind", k.Kind == b.Kind, k.Kind, b.Kind},
		{"payer", k.Payer == b.Payer, k.Payer, b.Payer},
		{"payee", k.Payee == b.Payee, k.Payee, b.Payee},
		{"ceiling", k.Ceiling == b.Ceiling, FormatAmount(k.Ceiling), FormatAmount(b.Ceiling)},
		{"wage per period", k.WagePerPeriod == b.WagePerPeriod, FormatAmount(k.WagePerPeriod), FormatAmount(b.WagePerPeriod)},
		{"workers", slices.Equal(k.Workers, b.Workers), k.Workers, b.Workers},
		{"schedule", slices.Equal(k.Schedule, schedule), k.Schedule, schedule},
	} {
		if !d.equal {
			return mismatch("contract %s: %s %v, but its entry %s says %v", id, d.field, d.got, k.LeafHash, d.want)
		}
	}
	if !e.signedBy(k.Agency) {
		return mismatch("contract %s: the answer says %s registered it, but its entry is signed by %s", id, k.Agency, strings.Join(e.signers, ", "))
	}
	named := false
	for i, h := range hops {
		if h.Contract == id {
			named = true
			if entries[i].index <= e.index {
				return mismatch("hop %d (%s) was paid under contract %s before it was registered", i, h.Ref, id)
			}
		}
	}
	if !named {
		return mismatch("the answer gives contract %s, which no hop was paid under", id)
	}
	return nil
}
