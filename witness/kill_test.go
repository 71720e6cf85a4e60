package witness_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/witness"
	"github.com/govlog/govlog/witness/sqlstore"
	"github.com/govlog/govlog/witness/witnesstest"
)

// childEnv names the config file of a witness process run by the test
// binary itself (see TestMain).
const childEnv = "GOVLOG_WITNESS_TEST_CHILD"

// childConfig is what a witness child process runs.
type childConfig struct {
	Database string
	Key      string   // the witness's secret key
	Logs     []string // the logs' vkeys
}

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		if err := runChildWitness(path); err != nil {
			fmt.Fprintln(os.Stderr, "witness child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChildWitness serves a witness on the SQLite store of the config,
// printing "ADDR host:port" once it listens, until it is killed.
func runChildWitness(configPath string) error {
	b, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	var cfg childConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return err
	}
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	signer, err := govlog.NewCosigner(cfg.Key, nil)
	if err != nil {
		return err
	}
	logs := map[string]note.Verifier{}
	for _, vkey := range cfg.Logs {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return err
		}
		logs[v.Name()] = v
	}
	w, err := witness.New(ctx, witness.Options{Cosigner: signer, Logs: logs, Store: store, PerLogRate: -1})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("ADDR %s\n", lis.Addr())
	return http.Serve(lis, witness.NewHandler(w))
}

// TestKilledAfterAnswerKeepsState runs the witness as its own process on a
// SQLite file, has many logs push checkpoints to it at once, and kills it
// with SIGKILL right after one of its 200 answers, with other requests in
// flight. Reopened, the store holds for every log at least the largest size
// the witness answered 200 for (a cosignature never leaves before its
// checkpoint is committed), and a checkpoint the log signed and the witness
// cosigned. Several kills in a row, on the same file.
func TestKilledAfterAnswerKeepsState(t *testing.T) {
	kills, logs := 6, 8
	if raceEnabled {
		kills = 3
	}
	dir := t.TempDir()
	skey, vkey, err := govlog.GenerateCosignerKey(nil, "witness.example/killed")
	if err != nil {
		t.Fatal(err)
	}
	cosigV, err := govlog.NewCosignatureVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := childConfig{Database: filepath.Join(dir, "w.db"), Key: skey}
	var all []*testLog
	for i := range logs {
		l := witnesstest.NewLog(t, fmt.Sprintf("example.com/log%d", i))
		l.Grow(4000)
		all = append(all, l)
		cfg.Logs = append(cfg.Logs, l.VKey)
	}
	cfgPath := filepath.Join(dir, "child.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	stored := make([]uint64, logs) // each log's size in the store after the last kill
	rng := rand.New(rand.NewPCG(1, 2))
	for kill := range kills {
		addr, proc := startChildWitness(t, cfgPath)
		c := &witness.Client{URL: "http://" + addr}
		acked := make([]atomic.Uint64, logs) // largest size answered 200
		sent := make([]atomic.Uint64, logs)  // largest size sent
		killAt := int64(20 + rng.IntN(200))  // after this many 200s
		var oks atomic.Int64
		var killOnce sync.Once
		var wg sync.WaitGroup
		for i, l := range all {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(kill), uint64(i)))
				known := stored[i]
				for {
					to := known + 1 + r.Uint64N(3)
					sent[i].Store(to)
					var proof [][32]byte
					if known > 0 {
						proof = l.Proof(known, to)
					}
					_, err := c.AddCheckpoint(t.Context(), known, proof, l.Checkpoint(to))
					var conflict *witness.SizeConflictError
					switch {
					case errors.As(err, &conflict):
						known = conflict.Latest
					case err != nil:
						return // the witness is dead
					default:
						acked[i].Store(to)
						known = to
						if oks.Add(1) == killAt {
							killOnce.Do(func() { proc.Process.Kill() })
						}
					}
				}
			})
		}
		wg.Wait()
		proc.Wait()
		if oks.Load() < killAt {
			t.Fatalf("kill %d: the witness died after %d answers, before the kill", kill, oks.Load())
		}

		s, err := sqlstore.Open(t.Context(), cfg.Database)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range all {
			cp, ok, err := s.Latest(t.Context(), l.Origin)
			if err != nil || (!ok && acked[i].Load() > 0) {
				t.Fatalf("kill %d: %s: Latest: %v, %v, after 200s up to size %d", kill, l.Origin, ok, err, acked[i].Load())
			}
			if !ok {
				continue
			}
			got, _, err := govlog.OpenCheckpoint(cp, l.Verifier)
			if err != nil {
				t.Fatalf("kill %d: %s: stored checkpoint: %v", kill, l.Origin, err)
			}
			if _, err := note.Open(cp, note.VerifierList(cosigV)); err != nil {
				t.Errorf("kill %d: %s: stored checkpoint not cosigned: %v", kill, l.Origin, err)
			}
			if got.Size < acked[i].Load() || got.Size > sent[i].Load() {
				t.Errorf("kill %d: %s: stored size %d; answered 200 up to %d, sent up to %d", kill, l.Origin, got.Size, acked[i].Load(), sent[i].Load())
			}
			stored[i] = got.Size
		}
		s.Close()
		t.Logf("kill %d after %d cosignatures; sizes now %v", kill, oks.Load(), stored)
	}
}

// startChildWitness starts the test binary as a witness process and
// returns the address it serves on.
func startChildWitness(t *testing.T, cfgPath string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+cfgPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				addr <- a
			}
		}
	}()
	select {
	case a := <-addr:
		return a, cmd
	case <-time.After(30 * time.Second):
		t.Fatal("the witness process did not start within 30s")
		return "", nil
	}
}
