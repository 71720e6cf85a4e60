package funds

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/govlog/govlog/personalities/rule"
)

// change is the effect of one statement while Apply checks it: records are
// read through it and modified in memory, and nothing reaches the State
// until commit, which Apply calls only once every rule has passed. So a
// refused statement writes nothing, whatever State it is given.
type change struct {
	ctx  context.Context
	st   rule.State
	e    rule.Entry
	leaf string

	accounts map[string]*AccountRecord
	dirty    []string // accounts to write, in the order first changed
	puts     []staged

	duePeriods *[]string
	dueLists   map[string]*[]DueItem
}

type staged struct {
	key   string
	value any
}

func newChange(ctx context.Context, st rule.State, e rule.Entry) *change {
	return &change{
		ctx:      ctx,
		st:       st,
		e:        e,
		leaf:     hex.EncodeToString(e.LeafHash[:]),
		accounts: map[string]*AccountRecord{},
		dueLists: map[string]*[]DueItem{},
	}
}

func (c *change) get(key string, v any) (bool, error) {
	return getJSON(c.ctx, c.st, key, v)
}

// mustGet reads a record the state must hold because another record
// points at it; its absence is corruption, not the statement's fault.
func (c *change) mustGet(key string, v any) error {
	ok, err := c.get(key, v)
	if err == nil && !ok {
		err = fmt.Errorf("corrupt state: %s is missing", key)
	}
	return err
}

// unused fails with ErrAlreadyExists if key holds a record. what names the
// business ID for the message.
func (c *change) unused(key, what string) error {
	_, ok, err := c.st.Get(c.ctx, key)
	if err != nil {
		return fmt.Errorf("couldn't read %s: %w", key, err)
	}
	if ok {
		return fmt.Errorf("%w: %s", rule.ErrAlreadyExists, what)
	}
	return nil
}

// account returns the account, which the statement needs to exist, from
// the change's own copy so that later changes in the same statement see
// earlier ones.
func (c *change) account(id string) (*AccountRecord, error) {
	if a, ok := c.accounts[id]; ok {
		return a, nil
	}
	a := new(AccountRecord)
	ok, err := c.get(AccountKey(id), a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: account %s does not exist", rule.ErrRuleViolation, id)
	}
	c.accounts[id] = a
	return a, nil
}

// controlled returns an account money is to leave, which the signer must
// control.
func (c *change) controlled(id string) (*AccountRecord, error) {
	a, err := c.account(id)
	if err != nil {
		return nil, err
	}
	if a.Controller != c.e.Agency {
		return nil, fmt.Errorf("%w: account %s is controlled by %s, not by %s", ErrNotController, id, a.Controller, c.e.Agency)
	}
	return a, nil
}

func requireKind(id string, a *AccountRecord, kinds ...AccountKind) error {
	if !slices.Contains(kinds, a.Kind) {
		return fmt.Errorf("%w: account %s is of kind %s, not %s", rule.ErrRuleViolation, id, a.Kind, kindList(kinds))
	}
	return nil
}

func kindList(kinds []AccountKind) string {
	s := ""
	for i, k := range kinds {
		switch {
		case i == 0:
		case i == len(kinds)-1:
			s += " or "
		default:
			s += ", "
		}
		s += string(k)
	}
	return s
}

// move moves amount from one account to another, in double entry: both
// balances change and each account gets a ledger line. ref is the state
// key of the movement's record. An amount of 0 moves nothing.
func (c *change) move(kind MovementKind, ref, from, to string, amount int64) (fromLine int64, err error) {
	if from == to {
		// The parsers refuse this; Apply must still never credit an
		// account with its own money.
		return 0, fmt.Errorf("%w: a movement from account %s to itself", rule.ErrRuleViolation, from)
	}
	src, err := c.account(from)
	if err != nil {
		return 0, err
	}
	dst, err := c.account(to)
	if err != nil {
		return 0, err
	}
	if amount == 0 {
		return 0, nil
	}
	if src.Balance < amount {
		return 0, fmt.Errorf("%w: account %s holds %d, less than %d", ErrBalanceTooLow, from, src.Balance, amount)
	}
	if dst.Balance > math.MaxInt64-amount {
		return 0, fmt.Errorf("%w: account %s holds %d; %d more would overflow", ErrOverflow, to, dst.Balance, amount)
	}
	src.Balance -= amount
	dst.Balance += amount
	fromLine, toLine := src.Lines+1, dst.Lines+1
	c.line(from, src, LedgerLine{Kind: kind, Ref: ref, Counterparty: to, CounterLine: toLine, Amount: -amount})
	c.line(to, dst, LedgerLine{Kind: kind, Ref: ref, Counterparty: from, CounterLine: fromLine, Amount: amount})
	return fromLine, nil
}

// credit adds money from outside the log (an allocation) to an account.
func (c *change) credit(kind MovementKind, ref, to string, amount int64) error {
	dst, err := c.account(to)
	if err != nil {
		return err
	}
	if dst.Balance > math.MaxInt64-amount {
		return fmt.Errorf("%w: account %s holds %d; %d more would overflow", ErrOverflow, to, dst.Balance, amount)
	}
	dst.Balance += amount
	c.line(to, dst, LedgerLine{Kind: kind, Ref: ref, Amount: amount})
	return nil
}

func (c *change) line(id string, a *AccountRecord, l LedgerLine) {
	a.Lines++
	// In and Out only grow, and never past the money ever allocated, which
	// is at most MaxInt64: Balance = In - Out.
	if l.Amount > 0 {
		a.In += l.Amount
	} else {
		a.Out -= l.Amount
	}
	l.LeafHash = c.leaf
	l.Balance = a.Balance
	l.In, l.Out = a.In, a.Out
	c.put(LedgerKey(id, a.Lines), l)
	if !slices.Contains(c.dirty, id) {
		c.dirty = append(c.dirty, id)
	}
}

func (c *change) put(key string, value any) {
	c.puts = append(c.puts, staged{key, value})
}

// commit writes every record the statement changed. Only storage can fail
// from here on.
func (c *change) commit() error {
	for _, id := range c.dirty {
		c.put(AccountKey(id), c.accounts[id])
	}
	for _, p := range slices.Sorted(maps.Keys(c.dueLists)) {
		c.put(DueKey(p), *c.dueLists[p])
	}
	if c.duePeriods != nil {
		c.put(DuePeriodsKey, *c.duePeriods)
	}
	for _, p := range c.puts {
		// json.Marshal of these types is deterministic, so replaying the
		// log yields byte-identical state, which is what monitors compare.
		v, err := json.Marshal(p.value)
		if err != nil {
			return fmt.Errorf("couldn't encode %s: %w", p.key, err)
		}
		if err := c.st.Put(c.ctx, p.key, v); err != nil {
			return fmt.Errorf("couldn't write %s: %w", p.key, err)
		}
	}
	return nil
}

// dueList returns the pending list of a period, read once per statement.
func (c *change) dueList(period string) (*[]DueItem, error) {
	if l, ok := c.dueLists[period]; ok {
		return l, nil
	}
	l := new([]DueItem)
	if _, err := c.get(DueKey(period), l); err != nil {
		return nil, err
	}
	if *l == nil {
		*l = []DueItem{}
	}
	c.dueLists[period] = l
	return l, nil
}

func (c *change) periods() (*[]string, error) {
	if c.duePeriods != nil {
		return c.duePeriods, nil
	}
	p := new([]string)
	if _, err := c.get(DuePeriodsKey, p); err != nil {
		return nil, err
	}
	if *p == nil {
		*p = []string{}
	}
	c.duePeriods = p
	return p, nil
}

// addDue puts a contract's period on the list DueReleases reads.
func (c *change) addDue(period string, item DueItem) error {
	l, err := c.dueList(period)
	if err != nil {
		return err
	}
	i, _ := slices.BinarySearchFunc(*l, item, compareDue)
	*l = slices.Insert(*l, i, item)
	ps, err := c.periods()
	if err != nil {
		return err
	}
	if i, found := slices.BinarySearch(*ps, period); !found {
		*ps = slices.Insert(*ps, i, period)
	}
	return nil
}

// removeDue takes a contract's period off the list, once it is fully paid
// or released.
func (c *change) removeDue(period string, item DueItem) error {
	l, err := c.dueList(period)
	if err != nil {
		return err
	}
	i, found := slices.BinarySearchFunc(*l, item, compareDue)
	if !found {
		return fmt.Errorf("corrupt state: contract %s is not on %s", item.Contract, DueKey(period))
	}
	*l = slices.Delete(*l, i, i+1)
	if len(*l) > 0 {
		return nil
	}
	ps, err := c.periods()
	if err != nil {
		return err
	}
	if i, found := slices.BinarySearch(*ps, period); found {
		*ps = slices.Delete(*ps, i, i+1)
	}
	return nil
}

func compareDue(a, b DueItem) int {
	switch {
	case a.Deadline < b.Deadline:
		return -1
	case a.Deadline > b.Deadline:
		return 1
	case a.Contract < b.Contract:
		return -1
	case a.Contract > b.Contract:
		return 1
	}
	return 0
}
