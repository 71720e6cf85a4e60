package wallet_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities/identity/wallet"
	"github.com/govlog/govlog/personalities/rule"
)

const (
	testOrigin = "gov.example/identity"
	otherLog   = "gov.example/funds"
)

// fakeQC is the identity domain's rule.QueryClient as check uses it: it
// records what it was asked and fails if told to.
type fakeQC struct {
	mu      sync.Mutex
	queries []string
	args    []map[string]string
	entries [][]rule.ProvedEntry
	fail    error
}

func (q *fakeQC) Queries() []rule.QueryInfo { return nil }

func (q *fakeQC) CheckAnswer(query string, args map[string]string, result []byte, entries []rule.ProvedEntry) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queries = append(q.queries, query)
	q.args = append(q.args, args)
	q.entries = append(q.entries, entries)
	if q.fail != nil {
		return "", q.fail
	}
	return "the credential is the proved entry's", nil
}

func (q *fakeQC) FormatAnswer(w io.Writer, query string, result []byte) error {
	_, err := w.Write(result)
	return err
}

// testLog is a log of signed statements, with a note key named after its
// origin, that proves entries at its latest size.
type testLog struct {
	origin  string
	key     note.Signer
	vkey    string
	tree    *testonly.Tree
	entries [][]byte
}

func newTestLog(t *testing.T, origin string) *testLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{origin: origin, key: s, vkey: vkey, tree: testonly.New(rfc6962.DefaultHasher)}
}

// add appends a statement of typ with body, signed by an agency key, and
// returns its index and leaf hash in hex.
func (l *testLog) add(t *testing.T, typ string, body any) (int, string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	st, err := govlog.NewStatement(l.origin, typ, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), b)
	if err != nil {
		t.Fatal(err)
	}
	skey, _, err := note.GenerateKey(rand.Reader, "civil-registry")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	signed, err := st.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	l.entries = append(l.entries, signed)
	l.tree.AppendData(signed)
	h := govlog.LeafHash(signed)
	return len(l.entries) - 1, hex.EncodeToString(h[:])
}

// bundle returns entry i's bundle at the log's size.
func (l *testLog) bundle(t *testing.T, i int) []byte {
	t.Helper()
	size := l.tree.Size()
	proof, err := l.tree.InclusionProof(uint64(i), size)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: l.origin, Size: size, Hash: [32]byte(l.tree.Hash())}, l.key)
	if err != nil {
		t.Fatal(err)
	}
	b := govlog.Bundle{Extra: l.entries[i], Index: uint64(i), Checkpoint: signed}
	for _, h := range proof {
		b.Proof = append(b.Proof, [32]byte(h))
	}
	return b.Marshal()
}

// server is a fake identity log server: it answers Query with what the
// test set.
type server struct {
	api.UnimplementedLogServer
	mu      sync.Mutex
	result  []byte
	bundles [][]byte
	asked   []*api.QueryRequest
}

func (s *server) Query(ctx context.Context, req *api.QueryRequest) (*api.QueryResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, req)
	if req.Log != wallet.LogName || req.Query != wallet.QueryCredential {
		return nil, fmt.Errorf("no query %s of log %s", req.Query, req.Log)
	}
	return &api.QueryResponse{ResultJson: s.result, Bundles: s.bundles}, nil
}

func (s *server) answer(result []byte, bundles ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.result, s.bundles = result, bundles
}

func startServer(t *testing.T) (*server, string) {
	t.Helper()
	s := &server{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	api.RegisterLogServer(srv, s)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return s, ln.Addr().String()
}

// writePolicy writes a policy trusting the logs, no witnesses.
func writePolicy(t *testing.T, dir string, logs ...*testLog) string {
	t.Helper()
	var vkeys []string
	for _, l := range logs {
		vkeys = append(vkeys, l.vkey)
	}
	text, err := govlog.FormatPolicy(vkeys, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "policy")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func command(qc rule.QueryClient, name string) *cobra.Command {
	for _, c := range wallet.Commands(qc) {
		if c.Name() == name {
			return c
		}
	}
	panic("no command " + name)
}

// run runs a fresh command and returns its stdout and stderr.
func run(t *testing.T, qc rule.QueryClient, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := command(qc, name)
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func mustRun(t *testing.T, qc rule.QueryClient, name string, args ...string) string {
	t.Helper()
	out, _, err := run(t, qc, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func checkMode(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o, want 0600", filepath.Base(path), fi.Mode().Perm())
	}
}

func mustSalt(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func wantErr(t *testing.T, err error, sentinel error, says string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", says)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %q", err, sentinel)
	}
	if says != "" && !bytes.Contains([]byte(err.Error()), []byte(says)) {
		t.Errorf("error %q does not say %q", err, says)
	}
}
