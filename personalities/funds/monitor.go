package funds

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
)

var (
	_ rule.Summarizer = (*Rules)(nil)
	_ rule.Watcher    = (*Rules)(nil)
)

// WatchKinds: a monitor can watch for the entries about a contract, or
// that move money in or out of an account.
func (*Rules) WatchKinds() []rule.WatchKind {
	return []rule.WatchKind{
		{Name: "contract", Fields: []string{"contract_id"}, Doc: "a contract ID (contract_id)"},
		{Name: "account", Fields: []string{"account_id", "account", "from", "to", "payer", "payee", "escrow"},
			Doc: "an account ID (account_id, account, from, to, payer, payee, escrow)"},
	}
}

// Summary shows the money that entered the log and every account with its
// balance, in yuan. It reads the accounts and the supply record only, not
// the ledgers, which grow with every payment.
func (*Rules) Summary(ctx context.Context, st rule.Scanner, agency func(string) string) ([]rule.Table, error) {
	total, err := TotalSupply(ctx, st)
	if err != nil {
		return nil, err
	}
	money := rule.Table{
		Caption: "Public money",
		Columns: []rule.Column{{Name: "Total allocated by the treasury", Numeric: true}, {Name: "Allocations", Numeric: true}},
		Rows:    [][]string{{FormatAmount(total.Allocated), strconv.FormatInt(total.Allocations, 10)}},
	}
	accounts := rule.Table{
		Caption: "Accounts and their balances",
		Columns: []rule.Column{{Name: "Account"}, {Name: "Kind"}, {Name: "Owned by"}, {Name: "Owner"}, {Name: "Controlled by"}, {Name: "Balance", Numeric: true}},
		Empty:   "No accounts opened yet.",
		Note: "Amounts are in yuan. Money enters the log only when the treasury allocates it to a budget; after " +
			"that it only moves between accounts, under a registered contract, as a wage, a guarantee or aid, so the " +
			"balances of all accounts add up to the total allocated. Only the controlling agency can move money out " +
			"of an account. Workers and aid beneficiaries are never named in the log.",
	}
	var balances, onceBalances int64
	prefix := AccountKey("")
	unreadable, once := 0, 0
	err = st.Scan(ctx, prefix, func(key string, _ []byte) error {
		id, _ := strings.CutPrefix(key, prefix)
		a, ok, err := Account(ctx, st, id)
		if err != nil {
			unreadable++
			return nil
		}
		if !ok { // not an account ID: some other record under the prefix
			return nil
		}
		balances += a.Balance
		if _, ok := onceOwner(id); ok {
			// One a payment: shown together, or the table grows by one
			// row per person paid per period.
			once++
			onceBalances += a.Balance
			return nil
		}
		owner := "a person, not named in the log"
		switch a.OwnerKind {
		case OwnerAgency:
			owner = agency(a.Owner)
		case OwnerCompany:
			owner = a.Owner
		}
		accounts.Rows = append(accounts.Rows, []string{id, string(a.Kind), string(a.OwnerKind), owner, agency(a.Controller), FormatAmount(a.Balance)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if once > 0 {
		accounts.Rows = append(accounts.Rows, []string{"@…", "worker, beneficiary", string(OwnerPerson),
			plural(once, "one-time commitment") + ", not linked to anyone in the log", "nobody", FormatAmount(onceBalances)})
	}
	accounts.Total = []string{"All accounts", "", "", "", "", FormatAmount(balances)}
	if unreadable > 0 {
		accounts.Note += fmt.Sprintf(" %d account records of the replayed state could not be read.", unreadable)
	}
	return []rule.Table{money, accounts}, nil
}
