package portal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule/money"
)

// The funds views read the answers of a log that answers the "account" and
// "payment" queries (the funds log's, personalities/funds): they decode
// the answers' public JSON, the same the API and `govlog funds` print,
// rather than import the domain, which only cmd/govlog names.

// fundsAccount is the JSON of an account query's answer.
type fundsAccount struct {
	ID       string `json:"id"`
	Currency string `json:"currency"`
	Account  struct {
		LeafHash   string `json:"leaf_hash"`
		Controller string `json:"controller"`
		OwnerKind  string `json:"owner_kind"`
		Owner      string `json:"owner"`
		Kind       string `json:"kind"`
		Balance    int64  `json:"balance"`
		Lines      int64  `json:"lines"`
		In         int64  `json:"in"`
		Out        int64  `json:"out"`
	} `json:"account"`
	Lines []struct {
		N            int64  `json:"n"`
		LeafHash     string `json:"leaf_hash"`
		Kind         string `json:"kind"`
		Ref          string `json:"ref"`
		Counterparty string `json:"counterparty"`
		Amount       int64  `json:"amount"`
		Balance      int64  `json:"balance"`
	} `json:"lines"`
	Next int64 `json:"next"`
}

// fundsTrace is the JSON of a payment query's answer.
type fundsTrace struct {
	Ref      string `json:"ref"`
	Currency string `json:"currency"`
	Hops     []struct {
		Ref        string `json:"ref"`
		Depth      int    `json:"depth"`
		Attributed int64  `json:"attributed"`
		Kind       string `json:"kind"`
		LeafHash   string `json:"leaf_hash"`
		Agency     string `json:"agency"`
		From       string `json:"from"`
		To         string `json:"to"`
		Amount     int64  `json:"amount"`
		Contract   string `json:"contract"`
	} `json:"hops"`
}

// fundsPage is the data of the funds pages.
type fundsPage struct {
	Log     string // the log answering the queries; empty if none
	Account string
	Ref     string
	Error   string
	Ledger  *fundsAccount
	Trace   *fundsTrace
	// Indexes are the log indexes of the entries the answer cites, by hex
	// leaf hash, read from the answer's bundles, to link each line to its
	// entry.
	Indexes map[string]string
	Money   func(minor int64) string
	Next    string
}

// fundsLog finds the log that answers the account and payment queries.
func fundsLog(logs []LogInfo) string {
	for _, l := range logs {
		if answers(l, "account") && answers(l, "payment") {
			return l.Name
		}
	}
	return ""
}

func (p *Pages) funds(w http.ResponseWriter, r *http.Request) {
	l := chooseLang(w, r)
	logs, ok := p.logs(w, r, l)
	if !ok {
		return
	}
	p.render(w, r, l, http.StatusOK, "funds", "funds", l.t("funds.title"), fundsPage{Log: fundsLog(logs)})
}

func (p *Pages) fundsAccount(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	args := map[string]string{"id": id}
	if from := r.URL.Query().Get("from"); from != "" {
		args["from"] = from
	}
	p.fundsQuery(w, r, "account", args, func(data *fundsPage, result []byte) error {
		data.Account = id
		data.Ledger = &fundsAccount{}
		if err := json.Unmarshal(result, data.Ledger); err != nil {
			return err
		}
		if data.Ledger.Next > 0 {
			data.Next = "/money/account?id=" + url.QueryEscape(id) + "&from=" + strconv.FormatInt(data.Ledger.Next, 10)
		}
		data.Money = moneyIn(data.Ledger.Currency)
		return nil
	})
}

func (p *Pages) fundsPayment(w http.ResponseWriter, r *http.Request) {
	ref := strings.TrimSpace(r.URL.Query().Get("ref"))
	p.fundsQuery(w, r, "payment", map[string]string{"ref": ref}, func(data *fundsPage, result []byte) error {
		data.Ref = ref
		data.Trace = &fundsTrace{}
		if err := json.Unmarshal(result, data.Trace); err != nil {
			return err
		}
		data.Money = moneyIn(data.Trace.Currency)
		return nil
	})
}

// fundsQuery asks the funds log query name with args and renders the
// answer that fill decodes.
func (p *Pages) fundsQuery(w http.ResponseWriter, r *http.Request, name string, args map[string]string, fill func(*fundsPage, []byte) error) {
	l := chooseLang(w, r)
	logs, ok := p.logs(w, r, l)
	if !ok {
		return
	}
	data := fundsPage{Log: fundsLog(logs), Account: args["id"], Ref: args["ref"]}
	status := http.StatusOK
	for _, v := range args {
		if v == "" {
			p.render(w, r, l, http.StatusOK, "funds", "funds", l.t("funds.title"), data)
			return
		}
	}
	if data.Log == "" {
		p.render(w, r, l, http.StatusNotFound, "funds", "funds", l.t("funds.title"), data)
		return
	}
	ans, err := p.opts.Source.Query(r.Context(), data.Log, name, args)
	if err != nil {
		var msg string
		status, msg = sourceErrorStatus(l, err)
		if status == http.StatusInternalServerError {
			p.opts.Logger.Error("portal: funds query failed", "err", err, "query", name)
		} else if status == http.StatusNotFound || status == http.StatusBadRequest {
			msg = err.Error()
		}
		data.Error = l.t("funds.error", msg)
		p.render(w, r, l, status, "funds", "funds", l.t("funds.title"), data)
		return
	}
	if err := fill(&data, ans.Result); err != nil {
		p.fail(w, fmt.Errorf("couldn't read the %s answer: %w", name, err))
		return
	}
	data.Indexes = map[string]string{}
	for _, b := range ans.Bundles {
		if pb, err := govlog.ParseBundle(b); err == nil {
			data.Indexes[fmt.Sprintf("%x", govlog.LeafHash(pb.Extra))] = strconv.FormatUint(pb.Index, 10)
		}
	}
	p.render(w, r, l, status, "funds", "funds", l.t("funds.title"), data)
}

// moneyIn formats minor units (two decimal places) in currency, with
// thousands separators: "1,234,567.89 CNY".
func moneyIn(currency string) func(int64) string {
	return func(minor int64) string { return money.Format(minor, currency) }
}
