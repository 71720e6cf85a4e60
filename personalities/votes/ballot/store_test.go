package ballot_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/votes/ballot"

	_ "modernc.org/sqlite"
)

// wire records what went over the wire between voters and the issuer.
type wire struct {
	mu       sync.Mutex
	requests []ballot.TokenRequest
	answers  []string
}

func (w *wire) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req ballot.TokenRequest
		json.Unmarshal(body, &req)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: rw}
		h.ServeHTTP(rec, r)
		var resp ballot.TokenResponse
		json.Unmarshal(rec.buf.Bytes(), &resp)
		w.mu.Lock()
		w.requests = append(w.requests, req)
		w.answers = append(w.answers, resp.BlindSignature)
		w.mu.Unlock()
	})
}

type recorder struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// TestIssuerStoreCannotJoinLog: after 5 voters get tokens and cast
// ballots, nothing in the issuer's store appears in a ballot or token, and
// nothing of a ballot or token (one-time keys, prefixes, signatures, blinded
// messages, blind signatures) appears in the store, in its rows or anywhere
// in its file; and the store has no per-voter time or batch.
func TestIssuerStoreCannotJoinLog(t *testing.T) {
	w := &wire{}
	e := newEnvWrapped(t, 5, w.wrap)

	var (
		wg      sync.WaitGroup
		toks    = make([]ballot.TokenFile, len(e.voters))
		errs    = make([]error, len(e.voters))
		ballots [][]byte
	)
	// Two waves, so the store holds more than one batch.
	for _, wave := range [][]voter{e.voters[:2], e.voters[2:]} {
		for _, v := range wave {
			i := slices.IndexFunc(e.voters, func(x voter) bool { return x.id == v.id })
			wg.Go(func() { toks[i], errs[i] = e.request(context.Background(), v) })
		}
		wg.Wait()
	}
	choices := []string{"yes", "no", "yes", "blank", "no"}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("voter %d: %v", i+1, err)
		}
		b, err := ballot.Ballot(testOrigin, testElection, choices[i], toks[i], time.Date(2026, 5, 2, 9, i, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		ballots = append(ballots, b)
	}
	if n := len(e.tokensStatements(t)); n < 2 {
		t.Fatalf("%d batches; the test wants at least 2", n)
	}
	if err := e.is.Close(); err != nil {
		t.Fatal(err)
	}

	// What voters hold and the log shows, in every spelling.
	var secrets []string // strings
	var secretBytes [][]byte
	addB := func(b []byte) {
		secretBytes = append(secretBytes, b)
		secrets = append(secrets, base64.StdEncoding.EncodeToString(b), hex.EncodeToString(b))
	}
	for _, tf := range toks {
		secrets = append(secrets, tf.OneTimeKey, tf.Token.Key, tf.Token.Prefix, tf.Token.Signature)
		p, _ := hex.DecodeString(tf.Token.Prefix)
		addB(p)
		s, _ := base64.StdEncoding.DecodeString(tf.Token.Signature)
		addB(s)
		// The one-time public key, and its private key, raw.
		for _, k := range []string{tf.Token.Key, tf.OneTimeKey} {
			parts := strings.SplitN(strings.TrimPrefix(k, "PRIVATE+KEY+"), "+", 3)
			raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
			if err != nil {
				t.Fatal(err)
			}
			addB(raw[1:]) // past the algorithm byte
			secrets = append(secrets, parts[len(parts)-1], parts[len(parts)-2])
		}
	}
	w.mu.Lock()
	if len(w.requests) != 5 {
		t.Fatalf("%d requests on the wire", len(w.requests))
	}
	for i, req := range w.requests {
		secrets = append(secrets, req.Blinded, req.Signature, w.answers[i])
		b, _ := base64.StdEncoding.DecodeString(req.Blinded)
		addB(b)
		a, _ := base64.StdEncoding.DecodeString(w.answers[i])
		addB(a)
	}
	w.mu.Unlock()
	for _, b := range ballots {
		st, _, _, err := govlog.ReadStatement(b, testOrigin)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, string(b), string(st.Body))
		lh := govlog.LeafHash(b)
		addB(lh[:])
	}

	// The store, every value of every row.
	db, err := sql.Open("sqlite", "file:"+e.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := readSchema(t, db)
	type cell struct{ table, column, value string }
	var cells []cell
	for table, cols := range schema {
		rows, err := db.Query(fmt.Sprintf("SELECT %s FROM %s", strings.Join(cols, ", "), table))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				cells = append(cells, cell{table, cols[i], fmt.Sprint(v)})
			}
		}
		rows.Close()
	}
	if len(cells) == 0 {
		t.Fatal("the store is empty")
	}
	t.Logf("store: %d values in %v", len(cells), schema)

	var voterIDs, issuedIDs []string
	for _, v := range e.voters {
		voterIDs = append(voterIDs, v.id)
	}
	for _, c := range cells {
		// The store holds nothing of a ballot or a token...
		for _, s := range secrets {
			if len(s) >= 8 && strings.Contains(c.value, s) {
				t.Errorf("store %s.%s = %.40q shares a value with a ballot or token", c.table, c.column, c.value)
			}
		}
		// ...and nothing of the store is in a ballot or token.
		switch c.column {
		case "election_id":
			// Public: the election body, every ballot and batch name it.
			if c.value != testElection {
				t.Errorf("store %s.election_id = %q", c.table, c.value)
			}
		case "batch", "count":
			// Numbers: no ballot or token holds one.
		default:
			if c.table == "issued" && c.column == "voter_id" {
				issuedIDs = append(issuedIDs, c.value)
			}
			for _, tf := range toks {
				raw, _ := json.Marshal(tf)
				if strings.Contains(string(raw), c.value) {
					t.Errorf("store %s.%s = %q appears in a token file", c.table, c.column, c.value)
				}
			}
			for _, b := range ballots {
				if strings.Contains(string(b), c.value) {
					t.Errorf("store %s.%s = %q appears in a ballot", c.table, c.column, c.value)
				}
			}
		}
	}
	slices.Sort(issuedIDs)
	if !slices.Equal(issuedIDs, voterIDs) {
		t.Errorf("issued voters %v, want %v", issuedIDs, voterIDs)
	}
	// Ballots hold no number the store's batch or count could match.
	for _, b := range ballots {
		st, _, _, _ := govlog.ReadStatement(b, testOrigin)
		var body map[string]any
		json.Unmarshal(st.Body, &body)
		walk(body, func(v any) {
			if _, ok := v.(string); !ok {
				t.Errorf("a ballot holds the non-string value %v", v)
			}
		})
	}

	// The store's files, raw: no secret in any spelling.
	files, _ := filepath.Glob(e.db + "*")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if len(s) >= 8 && bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s holds %.40q of a ballot or token", filepath.Base(f), s)
			}
		}
		for _, b := range secretBytes {
			if len(b) >= 16 && bytes.Contains(raw, b) {
				t.Errorf("%s holds raw bytes of a ballot or token", filepath.Base(f))
			}
		}
	}

	// The schema: who got a token, and the batches; no time, no batch per voter.
	want := map[string][]string{
		"issued":  {"election_id", "voter_id"},
		"batches": {"batch", "count", "election_id", "leaf_hash"},
	}
	for table, cols := range schema {
		sorted := slices.Sorted(slices.Values(cols))
		if !slices.Equal(sorted, want[table]) {
			t.Errorf("table %s has columns %v, want %v", table, sorted, want[table])
		}
		for _, c := range cols {
			lc := strings.ToLower(c)
			for _, bad := range []string{"time", "date", "created", "updated", "_at", "stamp", "seen"} {
				if strings.Contains(lc, bad) {
					t.Errorf("table %s has a time column %s", table, c)
					break
				}
			}
			if table == "issued" && strings.Contains(lc, "batch") {
				t.Errorf("table issued has a batch column %s", c)
			}
		}
	}
	if len(schema) != len(want) {
		t.Errorf("the store has tables %v, want only %v", schema, want)
	}
	// No rowid: the order voters were served is not kept.
	if _, err := db.Exec("SELECT rowid FROM issued"); err == nil {
		t.Error("issued has a rowid, which records the order voters were served")
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode == "wal" {
		t.Errorf("journal mode %q (%v); a WAL keeps rows in arrival order", mode, err)
	}
}

// readSchema returns the store's tables and their columns.
func readSchema(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query(fmt.Sprintf("SELECT name FROM pragma_table_info('%s')", table))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			rows.Scan(&c)
			out[table] = append(out[table], c)
		}
		rows.Close()
	}
	return out
}

func walk(v any, leaf func(any)) {
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			walk(x, leaf)
		}
	case []any:
		for _, x := range v {
			walk(x, leaf)
		}
	default:
		leaf(v)
	}
}
