package ballot_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities/rule/blindtoken"
	"github.com/govlog/govlog/personalities/votes/ballot"
)

// grpcLog is a fake log server: it answers checkpoints and takes
// submissions, keeping them.
type grpcLog struct {
	api.UnimplementedLogServer
	key note.Signer
	mu  sync.Mutex
	got [][]byte
}

func (g *grpcLog) GetCheckpoint(ctx context.Context, req *api.GetCheckpointRequest) (*api.GetCheckpointResponse, error) {
	cp, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: testOrigin, Size: 0, Hash: [32]byte{}}, g.key)
	if err != nil {
		return nil, err
	}
	return &api.GetCheckpointResponse{Checkpoint: cp}, nil
}

func (g *grpcLog) Submit(ctx context.Context, req *api.SubmitRequest) (*api.SubmitResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if req.Log != ballot.LogName {
		return nil, fmt.Errorf("no log %q", req.Log)
	}
	g.got = append(g.got, req.Statement)
	lh := govlog.LeafHash(req.Statement)
	resp := &api.SubmitResponse{LeafHash: lh[:]}
	if req.Wait {
		resp.Bundle, resp.Index = []byte("bundle\n"), int64(len(g.got)-1)
	} else {
		resp.Promise = []byte("promise\n")
	}
	return resp, nil
}

func startGRPCLog(t *testing.T) (*grpcLog, string) {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	g := &grpcLog{key: s}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	api.RegisterLogServer(srv, g)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return g, ln.Addr().String()
}

func command(name string) *cobra.Command {
	for _, c := range ballot.Commands() {
		if c.Name() == name {
			return c
		}
	}
	panic("no command " + name)
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	cmd := command(name)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func writeNoteKey(t *testing.T, path, name string) string {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return vkey
}

// TestCommands runs issuer-key, issuer, token and cast end to end against a
// fake log server.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	g, addr := startGRPCLog(t)

	out, err := run(t, "issuer-key", "--out", filepath.Join(dir, "issuer"))
	if err != nil {
		t.Fatal(err)
	}
	issuerKey := strings.TrimSpace(out)
	if _, err := blindtoken.ParseIssuerKey(issuerKey); err != nil {
		t.Fatalf("issuer-key printed %q: %v", out, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "issuer.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("issuer.pem: %v, %v", fi, err)
	}
	if _, err := run(t, "issuer-key", "--out", filepath.Join(dir, "issuer")); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Errorf("issuer-key over an existing key: %v", err)
	}

	vkey := writeNoteKey(t, filepath.Join(dir, "voter.key"), "alice")
	writeNoteKey(t, filepath.Join(dir, "agency.key"), "issuer-agency")
	os.WriteFile(filepath.Join(dir, "voters.txt"), []byte("alice "+vkey+"\n"), 0o644)

	// The issuer, until the context ends.
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	cmd := command("issuer")
	cmd.SetOut(pw)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{"--election", testElection, "--key", filepath.Join(dir, "issuer.pem"),
		"--voters", filepath.Join(dir, "voters.txt"), "--server", addr,
		"--agency-key", filepath.Join(dir, "agency.key"), "--db", filepath.Join(dir, "issuer.db"),
		"--listen", "127.0.0.1:0", "--batch-wait", "10ms"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx); pw.Close() }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("issuer: %v", err)
		}
	}()
	sc := bufio.NewScanner(pr)
	var url string
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "http://"); i >= 0 {
			url = line[i:]
		}
		if line == "ready" {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		t.Fatalf("the issuer printed no URL: %v", <-done)
	}

	tokenPath := filepath.Join(dir, "token.json")
	tokenArgs := []string{"--issuer", url, "--election", testElection, "--voter-id", "alice",
		"--key", filepath.Join(dir, "voter.key"), "--issuer-key", issuerKey, "--out", tokenPath}
	if _, err := run(t, "token", tokenArgs...); err != nil {
		t.Fatalf("token: %v", err)
	}
	if fi, err := os.Stat(tokenPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token.json: %v, %v", fi, err)
	}
	if _, err := run(t, "token", tokenArgs...); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Errorf("token over an existing file: %v", err)
	}
	tokenArgs[len(tokenArgs)-1] = filepath.Join(dir, "token2.json")
	if _, err := run(t, "token", tokenArgs...); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("a second token: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "token2.json")); err == nil {
		t.Error("a refused token left its file behind")
	}

	out, err = run(t, "cast", "--server", addr, "--token", tokenPath, "--choice", "yes", "--out", filepath.Join(dir, "ballot.bundle"))
	if err != nil {
		t.Fatalf("cast: %v", err)
	}
	if !strings.Contains(out, "included: "+testOrigin+" entry 1") || !strings.Contains(out, "bundle written to") {
		t.Errorf("cast printed:\n%s", out)
	}
	g.mu.Lock()
	got := append([][]byte(nil), g.got...)
	g.mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("the log got %d statements, want votes.tokens and votes.ballot", len(got))
	}
	st, _, _, err := govlog.ReadStatement(got[1], testOrigin)
	if err != nil || st.Type != ballot.TypeBallot {
		t.Fatalf("the ballot: %v, %v", st, err)
	}
	var body ballot.BallotBody
	if err := decodeStrict(st.Body, &body); err != nil {
		t.Fatal(err)
	}
	pub, _ := blindtoken.ParseIssuerKey(issuerKey)
	if body.Choice != "yes" || blindtoken.Verify(pub, testElection, body.Token) != nil {
		t.Errorf("ballot body %s", st.Body)
	}
}
