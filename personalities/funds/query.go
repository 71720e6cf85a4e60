package funds

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/money"
)

// Queries of the public read API; see "Queries" in the package doc.
const (
	QueryAccount = "account"
	QueryPayment = "payment"
)

// Bounds of the queries' work.
const (
	// MaxHistoryPage is the most ledger lines one account query returns,
	// and the number it returns when the query does not say.
	MaxHistoryPage = 100
	// MaxTraceHops is the most movements one payment query returns: the
	// payment and the movements that funded it.
	MaxTraceHops = 200
	// MaxTraceLines is the most ledger lines one payment query reads to
	// find them.
	MaxTraceLines = 10_000
)

var _ rule.Querier = (*Rules)(nil)

// AccountView is the answer to an account query: the account and one page
// of its ledger.
type AccountView struct {
	ID       string `json:"id"`
	Currency string `json:"currency"`
	// Account is the account's record: its balance and number of lines
	// now, and the leaf hash of its funds.account.open.
	Account AccountRecord `json:"account"`
	// Lines is the page asked for, oldest first.
	Lines []NumberedLine `json:"lines"`
	// Next is the number of the line after the page, to ask for the next
	// one; 0 when the page ends the ledger.
	Next int64 `json:"next,omitempty"`
}

// NumberedLine is a ledger line with its number in the account's ledger
// (from 1), the n of its [LedgerKey].
type NumberedLine struct {
	N int64 `json:"n"`
	LedgerLine
}

// PaymentTrace is the answer to a payment query: the full path of one
// payment, from the treasury's allocations to its destination.
type PaymentTrace struct {
	// Ref is the state key of the payment's record: "transfer/<id>", ...,
	// or "period/<contract>/<period>" for a guarantee release.
	Ref      string `json:"ref"`
	Currency string `json:"currency"`
	// Hops[0] is the payment itself. Every other hop is a movement into
	// the payer of the hop it funds, with the part of its amount that
	// first in, first out attributes to the payment; they are listed
	// depth first, each followed by what funded it, in log order.
	Hops []Hop `json:"hops"`
	// Contracts are the terms of the contracts the hops were paid under,
	// by contract ID.
	Contracts map[string]ContractRecord `json:"contracts,omitempty"`
}

// Hop is one movement on a payment's path.
type Hop struct {
	// Ref is the state key of the movement's record, as in [LedgerLine].
	Ref string `json:"ref"`
	// Funds is the index in Hops of the hop this movement's money went on
	// to pay for; -1 for the payment itself.
	Funds int `json:"funds"`
	// Depth is 0 for the payment, 1 for what funded it, and so on.
	Depth int `json:"depth"`
	// Attributed is the part of Amount that ended up in the payment, in
	// minor units: all of it for the payment itself.
	Attributed int64 `json:"attributed"`
	// Movement is the movement as recorded. A guarantee release has no
	// record per worker; its hop is built from the ledger, with Agency
	// empty (the log's own rule key signed it).
	Movement
}

// Query implements [rule.Querier]: the account and payment queries of the
// package doc.
func (r *Rules) Query(ctx context.Context, v rule.View, name string, args map[string]string) (any, [][32]byte, error) {
	switch name {
	case QueryAccount:
		if err := checkArgs(args, []string{"id"}, "from", "limit"); err != nil {
			return nil, nil, err
		}
		from, err := intArg(args, "from", 1, 1, 1<<62)
		if err != nil {
			return nil, nil, err
		}
		limit, err := intArg(args, "limit", MaxHistoryPage, 1, MaxHistoryPage)
		if err != nil {
			return nil, nil, err
		}
		a, err := ReadAccount(ctx, v, args["id"], from, int(limit))
		if err != nil {
			return nil, nil, err
		}
		cited, err := a.cited()
		return a, cited, err
	case QueryPayment:
		args = paymentArgs(args)
		if err := checkArgs(args, nil, "ref", "leaf_hash", "to"); err != nil {
			return nil, nil, err
		}
		ref, leaf := args["ref"], args["leaf_hash"]
		if (ref == "") == (leaf == "") {
			return nil, nil, fmt.Errorf("%w: give the payment's ref (e.g. transfer/<id>) or its leaf_hash", rule.ErrInvalidQuery)
		}
		to := args["to"]
		if leaf != "" {
			var err error
			if ref, to, err = refOfEntry(ctx, v, leaf, to); err != nil {
				return nil, nil, err
			}
		}
		p, err := TracePayment(ctx, v, ref, to)
		if err != nil {
			return nil, nil, err
		}
		if leaf != "" && p.Hops[0].LeafHash != strings.ToLower(leaf) {
			return nil, nil, fmt.Errorf("corrupt state: %s records entry %s, not %s", ref, p.Hops[0].LeafHash, leaf)
		}
		cited, err := p.cited()
		return p, cited, err
	}
	return nil, nil, fmt.Errorf("%w %q: the %s log answers %q and %q", rule.ErrUnknownQuery, name, LogName, QueryAccount, QueryPayment)
}

// checkArgs refuses a missing required argument, an empty one and any not
// listed.
func checkArgs(args map[string]string, required []string, optional ...string) error {
	for _, k := range required {
		if args[k] == "" {
			return fmt.Errorf("%w: argument %q is required", rule.ErrInvalidQuery, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(args)) {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			return fmt.Errorf("%w: unknown argument %.64q (this query takes %s)", rule.ErrInvalidQuery, k, strings.Join(append(slices.Clone(required), optional...), ", "))
		}
		if args[k] == "" {
			return fmt.Errorf("%w: argument %q is empty", rule.ErrInvalidQuery, k)
		}
	}
	return nil
}

// intArg returns the decimal argument k, def if absent, within [lo, hi].
func intArg(args map[string]string, k string, def, lo, hi int64) (int64, error) {
	s, ok := args[k]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%w: %s must be an integer from %d to %d, not %.32q", rule.ErrInvalidQuery, k, lo, hi, s)
	}
	return n, nil
}

// ReadAccount returns an account and up to limit of its ledger lines from
// line number from (the first is 1). An unknown account is
// [rule.ErrNotFound]; a malformed ID [rule.ErrInvalidQuery].
func ReadAccount(ctx context.Context, st rule.Reader, id string, from int64, limit int) (*AccountView, error) {
	if !validAccountID(id) {
		return nil, fmt.Errorf("%w: account ID %.80q is neither an ID nor @ and a one-time commitment", rule.ErrInvalidQuery, id)
	}
	a, ok, err := Account(ctx, st, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no account %s", rule.ErrNotFound, id)
	}
	lines, err := History(ctx, st, id, from, limit)
	if err != nil {
		return nil, err
	}
	v := &AccountView{ID: id, Currency: Currency, Account: a, Lines: []NumberedLine{}}
	from = max(from, 1)
	for i, l := range lines {
		v.Lines = append(v.Lines, NumberedLine{N: from + int64(i), LedgerLine: l})
	}
	if next := from + int64(len(lines)); next <= a.Lines {
		v.Next = next
	}
	return v, nil
}

func (v *AccountView) cited() ([][32]byte, error) {
	hexes := []string{v.Account.LeafHash}
	for _, l := range v.Lines {
		hexes = append(hexes, l.LeafHash)
	}
	return decodeLeafHashes(hexes)
}

func (p *PaymentTrace) cited() ([][32]byte, error) {
	var hexes []string
	for _, h := range p.Hops {
		hexes = append(hexes, h.LeafHash)
	}
	for _, id := range slices.Sorted(maps.Keys(p.Contracts)) {
		hexes = append(hexes, p.Contracts[id].LeafHash)
	}
	return decodeLeafHashes(hexes)
}

func decodeLeafHashes(hexes []string) ([][32]byte, error) {
	out := make([][32]byte, 0, len(hexes))
	for _, s := range hexes {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("corrupt state: leaf hash %q", s)
		}
		out = append(out, [32]byte(b))
	}
	return out, nil
}

// refOfEntry returns the ref of the money movement in the entry with this
// hex leaf hash, and for a guarantee release the worker account to trace:
// to, or the only account the release paid.
func refOfEntry(ctx context.Context, v rule.View, leafHex, to string) (string, string, error) {
	b, err := hex.DecodeString(leafHex)
	if err != nil || len(b) != 32 {
		return "", "", fmt.Errorf("%w: leaf_hash must be 64 hex digits", rule.ErrInvalidQuery)
	}
	e, ok, err := v.Entry(ctx, [32]byte(b))
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", fmt.Errorf("%w: no entry with leaf hash %s in the %s log", rule.ErrNotFound, strings.ToLower(leafHex), LogName)
	}
	// The entry was admitted, so its body parses; if it did not, the
	// error must not read as the caller's invalid body.
	corrupt := func(err error) error { return fmt.Errorf("corrupt entry %s: %v", leafHex, err) }
	switch e.Type {
	case TypeAllocate:
		body, err := ParseAllocateBody(e.Body)
		if err != nil {
			return "", "", corrupt(err)
		}
		return AllocationKey(body.AllocationID), to, nil
	case TypeTransfer:
		body, err := ParseTransferBody(e.Body)
		if err != nil {
			return "", "", corrupt(err)
		}
		return TransferKey(body.TransferID), to, nil
	case TypeWagePay:
		body, err := ParseWagePayBody(e.Body)
		if err != nil {
			return "", "", corrupt(err)
		}
		return PaymentKey(body.PaymentID), to, nil
	case TypeAidPay:
		body, err := ParseAidPayBody(e.Body)
		if err != nil {
			return "", "", corrupt(err)
		}
		return PaymentKey(body.PaymentID), to, nil
	case TypeGuaranteeLodge:
		body, err := ParseGuaranteeLodgeBody(e.Body)
		if err != nil {
			return "", "", corrupt(err)
		}
		return GuaranteeKey(body.GuaranteeID), to, nil
	case TypeGuaranteeRelease:
		body, err := ParseReleaseBody(e.Body)
		if err != nil {
			return "", "", corrupt(err)
		}
		if to == "" {
			var paid []string
			for _, p := range body.Payments {
				if p.Amount > 0 {
					paid = append(paid, p.Account())
				}
			}
			if len(paid) == 1 {
				to = paid[0]
			}
		}
		return PeriodKey(body.ContractID, body.Period), to, nil
	}
	return "", "", fmt.Errorf("%w: entry %s is a %s, which moves no money", rule.ErrInvalidQuery, strings.ToLower(leafHex), e.Type)
}

// TracePayment returns the full path of the payment whose record is at
// ref ([AllocationKey], [TransferKey], [PaymentKey], [GuaranteeKey]; or
// [PeriodKey] for a guarantee release, with to naming the worker account
// it paid, as a release pays several). See "Queries" in the package doc.
// Errors: [rule.ErrInvalidQuery] for a malformed ref, [rule.ErrNotFound]
// for no such payment, [rule.ErrQueryTooLarge] past [MaxTraceHops] or
// [MaxTraceLines].
func TracePayment(ctx context.Context, st rule.Reader, ref, to string) (*PaymentTrace, error) {
	m, err := paymentAt(ctx, st, ref, to)
	if err != nil {
		return nil, err
	}
	t := &tracer{ctx: ctx, st: st, ref: ref, lines: map[string]map[int64]LedgerLine{}}
	t.hops = []Hop{{Ref: ref, Funds: -1, Attributed: m.Amount, Movement: m}}
	if m.From != "" {
		if m.FromLine < 1 {
			return nil, fmt.Errorf("corrupt state: %s does not say which line of account %s paid it", ref, m.From)
		}
		if err := t.fund(0, m.From, m.FromLine, 0, m.Amount); err != nil {
			return nil, err
		}
	}
	p := &PaymentTrace{Ref: ref, Currency: Currency, Hops: t.hops}
	for _, h := range t.hops {
		if h.Contract == "" || p.Contracts[h.Contract].LeafHash != "" {
			continue
		}
		k, ok, err := Contract(ctx, st, h.Contract)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("corrupt state: %s names contract %s, which does not exist", h.Ref, h.Contract)
		}
		if p.Contracts == nil {
			p.Contracts = map[string]ContractRecord{}
		}
		p.Contracts[h.Contract] = k
	}
	return p, nil
}

// paymentAt returns the movement a payment query starts from.
func paymentAt(ctx context.Context, st rule.Reader, ref, to string) (Movement, error) {
	kind, id, _ := strings.Cut(ref, "/")
	if kind == "period" {
		contract, period, _ := strings.Cut(id, "/")
		return releaseTo(ctx, st, contract, period, to)
	}
	if to != "" {
		return Movement{}, fmt.Errorf("%w: argument to is only for a guarantee release (period/<contract>/<period>)", rule.ErrInvalidQuery)
	}
	var key func(string) string
	switch kind {
	case "allocation":
		key = AllocationKey
	case "transfer":
		key = TransferKey
	case "payment":
		key = PaymentKey
	case "guarantee":
		key = GuaranteeKey
	default:
		return Movement{}, fmt.Errorf("%w: ref %.80q is not allocation/<id>, transfer/<id>, payment/<id>, guarantee/<id> or period/<contract>/<period>", rule.ErrInvalidQuery, ref)
	}
	if !body.ID.Valid(id) {
		return Movement{}, fmt.Errorf("%w: ref %.80q: %.80q is not an ID", rule.ErrInvalidQuery, ref, id)
	}
	m, ok, err := read[Movement](ctx, st, true, key(id))
	if err != nil {
		return Movement{}, err
	}
	if !ok {
		return Movement{}, fmt.Errorf("%w: no %s %s", rule.ErrNotFound, kind, id)
	}
	return m, nil
}

// releaseTo returns what a guarantee release paid one worker account. A
// release keeps no record per worker: the worker's wage record for the
// period names it.
func releaseTo(ctx context.Context, st rule.Reader, contract, period, to string) (Movement, error) {
	if !body.ID.Valid(contract) || !body.ValidPeriod(period) {
		return Movement{}, fmt.Errorf("%w: a release's ref is period/<contract>/<period>, with a YYYY-MM period", rule.ErrInvalidQuery)
	}
	if to == "" {
		return Movement{}, fmt.Errorf("%w: a release pays each unpaid worker of the period: name the worker account with argument to", rule.ErrInvalidQuery)
	}
	if !validAccountID(to) {
		return Movement{}, fmt.Errorf("%w: to %.80q is not an account ID", rule.ErrInvalidQuery, to)
	}
	p, ok, err := Period(ctx, st, contract, period)
	if err != nil {
		return Movement{}, err
	}
	if !ok || p.Release == nil {
		return Movement{}, fmt.Errorf("%w: no guarantee release for contract %s, period %s", rule.ErrNotFound, contract, period)
	}
	a, ok, err := Account(ctx, st, to)
	if err != nil {
		return Movement{}, err
	}
	var w WageRecord
	if ok {
		w, ok, err = Wage(ctx, st, contract, period, a.Owner)
		if err != nil {
			return Movement{}, err
		}
	}
	if !ok || w.Release != p.Release.LeafHash || w.FromGuarantee == 0 || a.Kind != KindWorker {
		return Movement{}, fmt.Errorf("%w: the release for contract %s, period %s paid nothing to account %s", rule.ErrNotFound, contract, period, to)
	}
	return Movement{
		Kind: MoveRelease, LeafHash: p.Release.LeafHash, From: p.Release.Escrow, FromLine: w.ReleaseLine, To: to, Amount: w.FromGuarantee,
		Contract: contract, Period: period, Worker: a.Owner,
	}, nil
}

// tracer follows money backwards through ledgers, first in, first out: the
// k-th fen to leave an account is the k-th fen that came in. Ledger lines
// carry the account's running In and Out, and each names its mirror line
// in the counterparty's ledger, so each step is a binary search: a trace
// reads O(hops × log lines) lines, however busy the accounts.
type tracer struct {
	ctx   context.Context
	st    rule.Reader
	ref   string                          // what is traced, for messages
	lines map[string]map[int64]LedgerLine // lines read, by account and number
	read  int                             // ledger lines read, at most MaxTraceLines
	hops  []Hop
}

// line returns line n (from 1) of account's ledger.
func (t *tracer) line(account string, n int64) (LedgerLine, error) {
	if ln, ok := t.lines[account][n]; ok {
		return ln, nil
	}
	if t.read >= MaxTraceLines {
		return LedgerLine{}, fmt.Errorf("%w: tracing %s needs more than %d ledger lines; it cannot be traced in one query",
			rule.ErrQueryTooLarge, t.ref, MaxTraceLines)
	}
	t.read++
	key := LedgerKey(account, n)
	var ln LedgerLine
	ok, err := getJSON(t.ctx, t.st, key, &ln)
	if err != nil {
		return LedgerLine{}, err
	}
	if !ok {
		return LedgerLine{}, fmt.Errorf("corrupt state: %s is missing", key)
	}
	if t.lines[account] == nil {
		t.lines[account] = map[int64]LedgerLine{}
	}
	t.lines[account][n] = ln
	return ln, nil
}

// inflowHolding returns the number of the line of account, before line
// end, whose inflow holds unit u of all the money that came in: the first
// line whose running In exceeds u.
func (t *tracer) inflowHolding(account string, u int64, end int64) (int64, LedgerLine, error) {
	lo, hi := int64(1), end-1 // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		ln, err := t.line(account, mid)
		if err != nil {
			return 0, LedgerLine{}, err
		}
		if ln.In > u {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo < 1 {
		return 0, LedgerLine{}, fmt.Errorf("corrupt state: account %s paid out money it never received", account)
	}
	ln, err := t.line(account, lo)
	if err != nil {
		return 0, LedgerLine{}, err
	}
	if ln.Amount <= 0 || ln.In <= u || ln.In-ln.Amount > u {
		return 0, LedgerLine{}, fmt.Errorf("corrupt state: account %s paid out money it never received", account)
	}
	return lo, ln, nil
}

// fund appends the hops that paid for n minor units of hop h's amount,
// from offset off, and recursively what paid for those. Hop h's money left
// payer at line outLine of its ledger; FIFO attributes the outflow's units,
// counted in all the money that ever left payer, to the same units counted
// in all the money that ever came in.
func (t *tracer) fund(h int, payer string, outLine, off, n int64) error {
	out, err := t.line(payer, outLine)
	if err != nil {
		return err
	}
	hop := t.hops[h]
	if out.LeafHash != hop.LeafHash || out.Amount != -hop.Amount || out.Counterparty != hop.To {
		return fmt.Errorf("corrupt state: line %d of account %s is not the payment of %d to %s in entry %s", outLine, payer, hop.Amount, hop.To, hop.LeafHash)
	}
	before := out.Out + out.Amount // what had left before this line
	lo, hi := before+off, before+off+n
	for lo < hi {
		_, ln, err := t.inflowHolding(payer, lo, outLine)
		if err != nil {
			return err
		}
		start := ln.In - ln.Amount
		part := min(ln.In, hi) - lo
		if len(t.hops) >= MaxTraceHops {
			return fmt.Errorf("%w: the path of %s has more than %d movements; it cannot be traced in one query", rule.ErrQueryTooLarge, t.ref, MaxTraceHops)
		}
		m, err := t.movement(ln, payer)
		if err != nil {
			return err
		}
		t.hops = append(t.hops, Hop{Ref: ln.Ref, Funds: h, Depth: hop.Depth + 1, Attributed: part, Movement: m})
		// A line without a counterparty is an allocation: money from the
		// treasury, where the path begins.
		if ln.Counterparty != "" {
			if err := t.fund(len(t.hops)-1, ln.Counterparty, ln.CounterLine, lo-start, part); err != nil {
				return err
			}
		}
		lo += part
	}
	return nil
}

// movement returns the movement of an inflow line of account.
func (t *tracer) movement(ln LedgerLine, account string) (Movement, error) {
	kind, _, _ := strings.Cut(ln.Ref, "/")
	switch kind {
	case "allocation", "transfer", "payment", "guarantee":
		m, ok, err := read[Movement](t.ctx, t.st, true, ln.Ref)
		if err != nil {
			return Movement{}, err
		}
		if !ok || m.LeafHash != ln.LeafHash {
			return Movement{}, fmt.Errorf("corrupt state: a line of account %s names %s, which does not record entry %s", account, ln.Ref, ln.LeafHash)
		}
		return m, nil
	}
	// A release: only worker accounts receive them, and those never pay
	// out, so no path goes through one; built from the line all the same.
	m := Movement{Kind: ln.Kind, LeafHash: ln.LeafHash, From: ln.Counterparty, FromLine: ln.CounterLine, To: account, Amount: ln.Amount}
	if rest, ok := strings.CutPrefix(ln.Ref, "period/"); ok {
		m.Contract, m.Period, _ = strings.Cut(rest, "/")
	}
	return m, nil
}

// FormatAmount writes an amount in minor units of [Currency] for people:
// yuan with thousands separators and two digits of fen, "1,234.56 CNY".
func FormatAmount(minor int64) string { return money.Format(minor, Currency) }

// paymentArgs reads a payment's ref that is a leaf hash, in hex or in
// base64 as submit prints it, as its leaf_hash (in hex). A ref is neither:
// it has a "/", which hex has not, and no "=", which ends the base64 of 32
// bytes.
func paymentArgs(args map[string]string) map[string]string {
	ref := args["ref"]
	if ref == "" || args["leaf_hash"] != "" {
		return args
	}
	b, err := hex.DecodeString(ref)
	if err != nil || len(b) != 32 {
		if b, err = base64.StdEncoding.DecodeString(ref); err != nil || len(b) != 32 {
			return args
		}
	}
	out := maps.Clone(args)
	delete(out, "ref")
	out["leaf_hash"] = hex.EncodeToString(b)
	return out
}
