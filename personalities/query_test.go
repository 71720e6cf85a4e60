package personalities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/disclosures"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
)

// TestFundsQuery: the public read API of the funds log, end to end on
// SQLite and MariaDB. Statements are admitted without waiting, so the
// first queries cite entries no checkpoint includes yet and must wait for
// one; every answer's bundles verify against the log key's policy, at one
// checkpoint, and prove every entry the answer names.
func TestFundsQuery(t *testing.T) {
	t.Parallel()
	const fundsOrigin = "gov.example/funds"
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		logKey := logtest.NewLogKey(t, fundsOrigin)
		l := b.OpenLog(t, logKey, testMMD)
		disclosuresLog := b.OpenLog(t, logtest.NewLogKey(t, origin), testMMD)
		agency := newSigner(t, cityA)
		reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
			ID: cityA, Roles: []string{funds.RoleTreasury, funds.RoleFundManager, funds.RolePayroll},
			Keys: []registry.Key{{VKey: agency.vkey}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		fl := &freezableLog{Log: l}
		srv, err := personalities.NewServer(personalities.Options{
			Store: b.Store, Registry: reg,
			Personalities: map[string]personalities.Personality{
				funds.LogName:       {Domain: funds.New(), Log: fl},
				disclosures.LogName: {Domain: disclosures.New(), Log: disclosuresLog},
			},
			WaitTimeout: 20 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		client, stop := startServer(t, srv)
		defer stop()
		text, err := govlog.FormatPolicy([]string{logKey.VKey}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		policy, err := govlog.ParsePolicy(text)
		if err != nil {
			t.Fatal(err)
		}

		leaves := map[string][32]byte{} // by business ID
		submit := func(t *testing.T, id, typ string, body any) {
			t.Helper()
			stmt := statementFor(t, fundsOrigin, typ, time.Now(), body, agency)
			if _, err := client.Submit(t.Context(), &api.SubmitRequest{Log: funds.LogName, Statement: stmt}); err != nil {
				t.Fatalf("%s %s: %v", typ, id, err)
			}
			leaves[id] = govlog.LeafHash(stmt)
		}
		li := commitment("li")
		for _, s := range []struct {
			id, typ string
			body    any
		}{
			{"budget", funds.TypeAccountOpen, map[string]any{"account_id": "budget", "owner_kind": "agency", "owner": cityA, "kind": "budget"}},
			{"acme", funds.TypeAccountOpen, map[string]any{"account_id": "acme", "owner_kind": "company", "owner": "acme", "kind": "company"}},
			{"w-li", funds.TypeAccountOpen, map[string]any{"account_id": "w-li", "owner_kind": "person", "owner": li, "kind": "worker"}},
			{"a1", funds.TypeAllocate, map[string]any{"allocation_id": "a1", "to": "budget", "amount": 600, "budget_line": "roads"}},
			{"a2", funds.TypeAllocate, map[string]any{"allocation_id": "a2", "to": "budget", "amount": 600, "budget_line": "bridges"}},
			{"c1", funds.TypeContractRegister, map[string]any{"contract_id": "c1", "kind": "works", "payer": "budget", "payee": "acme", "ceiling": 100000}},
			{"t1", funds.TypeTransfer, map[string]any{"transfer_id": "t1", "from": "budget", "to": "acme", "amount": 1000, "contract_id": "c1"}},
			{"crew", funds.TypeContractRegister, map[string]any{"contract_id": "crew", "kind": "labour", "payer": "acme", "ceiling": 700,
				"workers": []string{li}, "wage_per_period": 700, "schedule": []map[string]string{{"period": "2030-01", "pay_deadline": "2030-02-10"}}}},
			{"p1", funds.TypeWagePay, map[string]any{"payment_id": "p1", "contract_id": "crew", "worker": li, "period": "2030-01", "amount": 700, "from": "acme", "to": "w-li"}},
		} {
			submit(t, s.id, s.typ, s.body)
		}

		query := func(t *testing.T, name string, args map[string]string) map[string]any {
			t.Helper()
			resp, err := client.Query(t.Context(), &api.QueryRequest{Log: funds.LogName, Query: name, Args: args})
			if err != nil {
				t.Fatalf("Query(%s, %v): %v", name, args, err)
			}
			proved := verifyAnswer(t, policy, resp)
			var result map[string]any
			if err := json.Unmarshal(resp.ResultJson, &result); err != nil {
				t.Fatalf("result: %v", err)
			}
			for _, h := range namedLeafHashes(result) {
				if !proved[h] {
					t.Errorf("the answer names entry %s but proves no such entry", h)
				}
			}
			return result
		}
		hexOf := func(id string) string { h := leaves[id]; return hex.EncodeToString(h[:]) }

		t.Run("account", func(t *testing.T) {
			res := query(t, funds.QueryAccount, map[string]string{"id": "acme"})
			var a funds.AccountView
			remarshal(t, res, &a)
			if a.Account.Balance != 300 || len(a.Lines) != 2 || a.Account.LeafHash != hexOf("acme") {
				t.Fatalf("account %+v", a)
			}
			if a.Lines[0].LeafHash != hexOf("t1") || a.Lines[0].Amount != 1000 || a.Lines[1].LeafHash != hexOf("p1") || a.Lines[1].Amount != -700 {
				t.Errorf("lines %+v", a.Lines)
			}
		})
		t.Run("payment", func(t *testing.T) {
			for _, args := range []map[string]string{{"ref": "payment/p1"}, {"leaf_hash": hexOf("p1")}} {
				var p funds.PaymentTrace
				remarshal(t, query(t, funds.QueryPayment, args), &p)
				var got []string
				for _, h := range p.Hops {
					got = append(got, fmt.Sprintf("%d %s %d %s", h.Depth, h.Ref, h.Attributed, h.LeafHash))
				}
				want := []string{
					"0 payment/p1 700 " + hexOf("p1"),
					"1 transfer/t1 700 " + hexOf("t1"),
					"2 allocation/a1 600 " + hexOf("a1"),
					"2 allocation/a2 100 " + hexOf("a2"),
				}
				if !slices.Equal(got, want) {
					t.Errorf("hops %v, want %v", got, want)
				}
				if p.Contracts["crew"].LeafHash != hexOf("crew") || p.Contracts["c1"].LeafHash != hexOf("c1") {
					t.Errorf("contracts %+v", p.Contracts)
				}
			}
		})
		t.Run("refused", func(t *testing.T) {
			manyArgs := map[string]string{}
			for i := range 17 {
				manyArgs[fmt.Sprint(i)] = "x"
			}
			for _, tt := range []struct {
				name string
				req  *api.QueryRequest
				want codes.Code
			}{
				{"unknown log", &api.QueryRequest{Log: "ledger", Query: "account", Args: map[string]string{"id": "acme"}}, codes.InvalidArgument},
				{"a log without queries", &api.QueryRequest{Log: disclosures.LogName, Query: "account", Args: map[string]string{"id": "acme"}}, codes.InvalidArgument},
				{"unknown query", &api.QueryRequest{Log: funds.LogName, Query: "balances"}, codes.InvalidArgument},
				{"no query", &api.QueryRequest{Log: funds.LogName}, codes.InvalidArgument},
				{"too many arguments", &api.QueryRequest{Log: funds.LogName, Query: "account", Args: manyArgs}, codes.InvalidArgument},
				{"too long an argument", &api.QueryRequest{Log: funds.LogName, Query: "account", Args: map[string]string{"id": strings.Repeat("a", 1025)}}, codes.InvalidArgument},
				{"bad arguments", &api.QueryRequest{Log: funds.LogName, Query: "account", Args: map[string]string{"id": "acme", "limit": "1000"}}, codes.InvalidArgument},
				{"missing argument", &api.QueryRequest{Log: funds.LogName, Query: "payment"}, codes.InvalidArgument},
				{"unknown account", &api.QueryRequest{Log: funds.LogName, Query: "account", Args: map[string]string{"id": "nobody"}}, codes.NotFound},
				{"unknown payment", &api.QueryRequest{Log: funds.LogName, Query: "payment", Args: map[string]string{"ref": "transfer/t9"}}, codes.NotFound},
				{"unknown leaf hash", &api.QueryRequest{Log: funds.LogName, Query: "payment", Args: map[string]string{"leaf_hash": strings.Repeat("0", 64)}}, codes.NotFound},
			} {
				_, err := client.Query(t.Context(), tt.req)
				wantCode(t, tt.name, err, tt.want)
			}
		})
		t.Run("too large", func(t *testing.T) {
			// A transfer funded by more allocations than a path may hold.
			submit(t, "big", funds.TypeAccountOpen, map[string]any{"account_id": "big", "owner_kind": "agency", "owner": cityA, "kind": "budget"})
			submit(t, "c2", funds.TypeContractRegister, map[string]any{"contract_id": "c2", "kind": "works", "payer": "big", "payee": "acme", "ceiling": 100000})
			var wg sync.WaitGroup
			for i := range funds.MaxTraceHops {
				wg.Go(func() {
					id := fmt.Sprintf("s%03d", i)
					stmt := statementFor(t, fundsOrigin, funds.TypeAllocate, time.Now(), map[string]any{"allocation_id": id, "to": "big", "amount": 1, "budget_line": "small"}, agency)
					if _, err := client.Submit(t.Context(), &api.SubmitRequest{Log: funds.LogName, Statement: stmt}); err != nil {
						t.Errorf("allocation %s: %v", id, err)
					}
				})
			}
			wg.Wait()
			submit(t, "t2", funds.TypeTransfer, map[string]any{"transfer_id": "t2", "from": "big", "to": "acme", "amount": funds.MaxTraceHops, "contract_id": "c2"})
			_, err := client.Query(t.Context(), &api.QueryRequest{Log: funds.LogName, Query: "payment", Args: map[string]string{"ref": "transfer/t2"}})
			wantCode(t, "a path past MaxTraceHops", err, codes.ResourceExhausted)
			// The account query pages instead: every page is proved.
			res := query(t, funds.QueryAccount, map[string]string{"id": "big", "from": "101"})
			if lines := res["lines"].([]any); len(lines) != 100 || res["next"].(float64) != 201 {
				t.Errorf("page of %d lines, next %v", len(lines), res["next"])
			}
		})
		t.Run("not yet included", func(t *testing.T) {
			fl.freeze()
			defer fl.thaw()
			_, frozen := fl.Checkpoint()
			// Entries the checkpoint includes are proved at it.
			resp, err := client.Query(t.Context(), &api.QueryRequest{Log: funds.LogName, Query: "account", Args: map[string]string{"id": "acme", "limit": "1"}})
			if err != nil {
				t.Fatal(err)
			}
			vb, err := govlog.VerifyBundle(resp.Bundles[0], policy)
			if err != nil || vb.Checkpoint.Size != frozen.Size {
				t.Errorf("bundle at size %d, want the latest, %d: %v", vb.Checkpoint.Size, frozen.Size, err)
			}
			// One that no checkpoint includes yet: retry later.
			submit(t, "late", funds.TypeAccountOpen, map[string]any{"account_id": "late", "owner_kind": "company", "owner": "late", "kind": "company"})
			_, err = client.Query(t.Context(), &api.QueryRequest{Log: funds.LogName, Query: "account", Args: map[string]string{"id": "late"}})
			wantCode(t, "an answer citing an entry not yet included", err, codes.DeadlineExceeded)
			if !strings.Contains(err.Error(), "no checkpoint includes yet; retry") {
				t.Errorf("error %q does not say to retry", err)
			}
		})
	})
}

// freezableLog is a log whose checkpoint stops growing while frozen, and
// whose waits for inclusion then time out at once.
type freezableLog struct {
	personalities.Log
	mu     sync.Mutex
	frozen bool
	signed []byte
	cp     govlog.Checkpoint
}

func (l *freezableLog) freeze() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.signed, l.cp = l.Log.Checkpoint()
	l.frozen = true
}

func (l *freezableLog) thaw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frozen = false
}

func (l *freezableLog) Checkpoint() ([]byte, govlog.Checkpoint) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.frozen {
		return l.signed, l.cp
	}
	return l.Log.Checkpoint()
}

func (l *freezableLog) WaitForInclusion(ctx context.Context, leaf []byte) ([]byte, uint64, error) {
	l.mu.Lock()
	frozen := l.frozen
	l.mu.Unlock()
	if frozen {
		return nil, 0, context.DeadlineExceeded
	}
	return l.Log.WaitForInclusion(ctx, leaf)
}

// verifyAnswer checks a Query response as a client must: every bundle
// verifies against the policy, all at one checkpoint. It returns the hex
// leaf hashes proved.
func verifyAnswer(t *testing.T, policy *govlog.Policy, resp *api.QueryResponse) map[string]bool {
	t.Helper()
	if len(resp.Bundles) == 0 {
		t.Fatal("an answer without bundles")
	}
	proved := map[string]bool{}
	var first govlog.Checkpoint
	for i, b := range resp.Bundles {
		vb, err := govlog.VerifyBundle(b, policy)
		if err != nil {
			t.Fatalf("bundle %d does not verify: %v", i, err)
		}
		if i == 0 {
			first = vb.Checkpoint
		} else if !bytes.Equal(vb.Checkpoint.Text(), first.Text()) {
			t.Errorf("bundle %d is at checkpoint %d, bundle 0 at %d", i, vb.Checkpoint.Size, first.Size)
		}
		h := govlog.LeafHash(vb.Entry)
		proved[hex.EncodeToString(h[:])] = true
	}
	return proved
}

// namedLeafHashes returns every "leaf_hash" member of a JSON document.
func namedLeafHashes(doc any) []string {
	var out []string
	switch x := doc.(type) {
	case map[string]any:
		for k, y := range x {
			if s, ok := y.(string); ok && k == "leaf_hash" {
				out = append(out, s)
			}
			out = append(out, namedLeafHashes(y)...)
		}
	case []any:
		for _, y := range x {
			out = append(out, namedLeafHashes(y)...)
		}
	}
	return out
}

func remarshal(t *testing.T, from, to any) {
	t.Helper()
	b, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, to); err != nil {
		t.Fatal(err)
	}
}

func commitment(name string) string {
	h := sha256.Sum256([]byte("salt:" + name))
	return hex.EncodeToString(h[:])
}
