package personalities_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/funds"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/storage"
)

// stuckAfter is how long these tests let a call run before they take it to
// be waiting for something that will not end: a deadlock check, not a
// timing bound (the calls take milliseconds).
const stuckAfter = 20 * time.Second

// queryFixture is a funds log with a few accounts, a transfer and a
// payment, all included in a checkpoint, behind a Server on store.
type queryFixture struct {
	srv    *personalities.Server
	client api.LogClient
	policy *govlog.Policy
	agency key
	at     time.Time           // every statement's time, so that equal bodies make equal leaves
	leaves map[string][32]byte // by business ID
}

const queryFixtureOrigin = "gov.example/funds"

func newQueryFixture(t *testing.T, b *logtest.Backend, store storage.AdmissionStore) *queryFixture {
	t.Helper()
	logKey := logtest.NewLogKey(t, queryFixtureOrigin)
	l := b.OpenLog(t, logKey, testMMD)
	f := &queryFixture{agency: newSigner(t, cityA), at: time.Now(), leaves: map[string][32]byte{}}
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{{
		ID: cityA, Roles: []string{funds.RoleTreasury, funds.RoleFundManager},
		Keys: []registry.Key{{VKey: f.agency.vkey}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = personalities.NewServer(personalities.Options{
		Store: store, Registry: reg,
		// Not store, which counts the queries' reads: the search index's.
		SearchStore:   b.Store,
		Personalities: map[string]personalities.Personality{funds.LogName: {Domain: funds.New(), Log: l}},
		WaitTimeout:   stuckAfter,
	})
	if err != nil {
		t.Fatal(err)
	}
	var stop func()
	f.client, stop = startServer(t, f.srv)
	t.Cleanup(stop)
	text, err := govlog.FormatPolicy([]string{logKey.VKey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.policy, err = govlog.ParsePolicy(text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		id, typ string
		body    any
	}{
		{"budget", funds.TypeAccountOpen, map[string]any{"account_id": "budget", "owner_kind": "agency", "owner": cityA, "kind": "budget"}},
		{"acme", funds.TypeAccountOpen, map[string]any{"account_id": "acme", "owner_kind": "company", "owner": "acme", "kind": "company"}},
		{"a1", funds.TypeAllocate, map[string]any{"allocation_id": "a1", "to": "budget", "amount": 1000, "budget_line": "roads"}},
		{"c1", funds.TypeContractRegister, map[string]any{"contract_id": "c1", "kind": "works", "payer": "budget", "payee": "acme", "ceiling": 100000}},
		{"t1", funds.TypeTransfer, map[string]any{"transfer_id": "t1", "from": "budget", "to": "acme", "amount": 400, "contract_id": "c1"}},
	} {
		if err := f.submit(t.Context(), t, s.typ, s.body, s.id == "t1"); err != nil {
			t.Fatalf("%s: %v", s.id, err)
		}
		f.leaves[s.id] = govlog.LeafHash(f.statement(t, s.typ, s.body))
	}
	return f
}

// statement is the signed statement of typ and body.
func (f *queryFixture) statement(t testing.TB, typ string, body any) []byte {
	return statementFor(t, queryFixtureOrigin, typ, f.at, body, f.agency)
}

func (f *queryFixture) submit(ctx context.Context, t testing.TB, typ string, body any, wait bool) error {
	_, err := f.client.Submit(ctx, &api.SubmitRequest{Log: funds.LogName, Statement: f.statement(t, typ, body), Wait: wait})
	return err
}

func unmarshalAnswer(resp *api.QueryResponse, v any) error {
	if err := json.Unmarshal(resp.ResultJson, v); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	return nil
}

// checkAccount checks an answer to the account query for acme: the
// fixture's one transfer into it, proved.
func (f *queryFixture) checkAccount(resp *api.QueryResponse, err error) error {
	if err != nil {
		return err
	}
	var a funds.AccountView
	if err := unmarshalAnswer(resp, &a); err != nil {
		return err
	}
	t1 := f.leaves["t1"]
	if a.Account.Balance != 400 || len(a.Lines) != 1 || a.Lines[0].LeafHash != hex.EncodeToString(t1[:]) {
		return fmt.Errorf("account %+v", a)
	}
	proved, err := f.proved(resp)
	if err != nil {
		return err
	}
	for _, id := range []string{"acme", "t1"} {
		h := f.leaves[id]
		if !slices.Contains(proved, h) {
			return fmt.Errorf("the answer does not prove %s", id)
		}
	}
	return nil
}

// proved verifies every bundle of resp, all at one checkpoint, and returns
// the leaf hashes they prove.
func (f *queryFixture) proved(resp *api.QueryResponse) ([][32]byte, error) {
	var hashes [][32]byte
	var size uint64
	for i, b := range resp.Bundles {
		vb, err := govlog.VerifyBundle(b, f.policy)
		if err != nil {
			return nil, fmt.Errorf("bundle %d: %w", i, err)
		}
		if i > 0 && vb.Checkpoint.Size != size {
			return nil, fmt.Errorf("bundle %d at size %d, bundle 0 at %d", i, vb.Checkpoint.Size, size)
		}
		size = vb.Checkpoint.Size
		hashes = append(hashes, govlog.LeafHash(vb.Entry))
	}
	return hashes, nil
}

// TestConcurrentQueries: many more concurrent Query calls than run at
// once all answer, correctly, while admissions go on beside them.
func TestConcurrentQueries(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		f := newQueryFixture(t, b, b.Store)
		ctx, cancel := context.WithTimeout(t.Context(), stuckAfter)
		defer cancel()

		const callers = 8 * personalities.MaxConcurrentQueries
		admitted := make(chan struct{})
		var queries atomic.Int64
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				// Until the admissions are done, and at least twice.
				for n := 0; ; n++ {
					select {
					case <-admitted:
						if n >= 2 {
							return
						}
					default:
					}
					var err error
					if i%2 == 0 {
						err = f.checkAccount(f.client.Query(ctx, &api.QueryRequest{Log: funds.LogName, Query: funds.QueryAccount, Args: map[string]string{"id": "acme"}}))
					} else {
						err = f.checkPayment(f.client.Query(ctx, &api.QueryRequest{Log: funds.LogName, Query: funds.QueryPayment, Args: map[string]string{"ref": "transfer/t1"}}))
					}
					if err != nil {
						t.Errorf("caller %d, query %d: %v", i, n, err)
						return
					}
					queries.Add(1)
				}
			})
		}

		const admissions = 20
		var admitting sync.WaitGroup
		for i := range admissions {
			admitting.Go(func() {
				id := fmt.Sprintf("x%02d", i)
				if err := f.submit(ctx, t, funds.TypeAccountOpen, map[string]any{"account_id": id, "owner_kind": "company", "owner": id, "kind": "company"}, false); err != nil {
					t.Errorf("admission %s beside the queries: %v", id, err)
				}
			})
		}
		admitting.Wait()
		close(admitted)
		wg.Wait()
		if n := queries.Load(); n < 2*callers {
			t.Errorf("%d queries answered, want at least %d", n, 2*callers)
		}
	})
}

// checkPayment checks an answer to the payment query for transfer t1:
// funded by allocation a1, under contract c1, all proved.
func (f *queryFixture) checkPayment(resp *api.QueryResponse, err error) error {
	if err != nil {
		return err
	}
	var p funds.PaymentTrace
	if err := unmarshalAnswer(resp, &p); err != nil {
		return err
	}
	if len(p.Hops) != 2 || p.Hops[0].Ref != "transfer/t1" || p.Hops[1].Ref != "allocation/a1" || p.Hops[1].Attributed != 400 {
		return fmt.Errorf("trace %+v", p)
	}
	proved, err := f.proved(resp)
	if err != nil {
		return err
	}
	for _, id := range []string{"t1", "a1", "c1"} {
		if !slices.Contains(proved, f.leaves[id]) {
			return fmt.Errorf("the answer does not prove %s", id)
		}
	}
	return nil
}

// blockingReads holds every Read open, inside its snapshot, until release
// is closed, and counts the reads in progress.
type blockingReads struct {
	storage.AdmissionStore
	release chan struct{}
	entered chan struct{}

	mu        sync.Mutex
	now, most int
}

func (s *blockingReads) Read(ctx context.Context, log string, fn func(context.Context, storage.ReadTx) error) error {
	// Counted on entry, not once a connection is got: the store's own pool
	// may be no larger than the cap.
	s.mu.Lock()
	s.now++
	s.most = max(s.most, s.now)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.now--
		s.mu.Unlock()
	}()
	return s.AdmissionStore.Read(ctx, log, func(ctx context.Context, tx storage.ReadTx) error {
		// Reading takes the snapshot before the admission below.
		if _, _, err := tx.Get(ctx, "any key"); err != nil {
			return err
		}
		s.entered <- struct{}{}
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return fn(ctx, tx)
	})
}

// TestQueryTurns: past MaxConcurrentQueries reads in progress, a Query
// waits for a turn, up to its deadline; admissions do not wait for the
// reads; the waiting queries answer once the reads end.
func TestQueryTurns(t *testing.T) {
	t.Parallel()
	logtest.Each(t, logtest.Options{}, func(t *testing.T, b *logtest.Backend) {
		reads := &blockingReads{AdmissionStore: b.Store, release: make(chan struct{}), entered: make(chan struct{}, 100)}
		released := false
		release := func() {
			if !released {
				released = true
				close(reads.release)
			}
		}
		defer release()
		// The fixture's own admissions read nothing.
		f := newQueryFixture(t, b, reads)
		ctx, cancel := context.WithTimeout(t.Context(), stuckAfter)
		defer cancel()

		const callers = 3 * personalities.MaxConcurrentQueries
		errs := make(chan error, callers)
		for range callers {
			go func() {
				errs <- f.checkAccount(f.client.Query(ctx, &api.QueryRequest{Log: funds.LogName, Query: funds.QueryAccount, Args: map[string]string{"id": "acme"}}))
			}()
		}
		for range personalities.MaxConcurrentQueries {
			select {
			case <-reads.entered:
			case err := <-errs:
				t.Fatalf("a query ended while the reads were held: %v", err)
			case <-ctx.Done():
				t.Fatalf("fewer than %d queries began to read", personalities.MaxConcurrentQueries)
			}
		}

		// The reads in progress hold no one else up.
		if err := f.submit(ctx, t, funds.TypeAccountOpen, map[string]any{"account_id": "late", "owner_kind": "company", "owner": "late", "kind": "company"}, false); err != nil {
			t.Fatalf("admission while reads are held: %v", err)
		}
		// A caller waiting for a turn stops waiting at its deadline.
		short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
		_, err := f.srv.Query(short, &api.QueryRequest{Log: funds.LogName, Query: funds.QueryAccount, Args: map[string]string{"id": "acme"}})
		cancelShort()
		wantCode(t, "a query waiting for a turn past its deadline", err, codes.DeadlineExceeded)

		release()
		for range callers {
			if err := <-errs; err != nil {
				t.Errorf("query: %v", err)
			}
		}
		reads.mu.Lock()
		defer reads.mu.Unlock()
		if reads.most > personalities.MaxConcurrentQueries {
			t.Errorf("%d reads at once, want at most %d", reads.most, personalities.MaxConcurrentQueries)
		}
	})
}
