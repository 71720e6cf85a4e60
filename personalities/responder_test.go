package personalities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/log-server/logtest"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/storage"
)

// echo is a toy domain whose log answers every echo.say with an echo.back
// of the same text (rule.Responder); its rules refuse an echo.back of
// "refuse", so a statement whose answer the rules refuse is refused too.
type echo struct{}

var echoTypes = []rule.TypeInfo{
	{Type: "echo.say", Role: "speaker", Summary: "say something"},
	{Type: "echo.back", Role: "echo-engine", ByLog: true, Summary: "the log says it back"},
}

func (echo) Log() string                             { return "echo" }
func (echo) Types() []rule.TypeInfo                  { return echoTypes }
func (echo) RequiredRole(typ string) (string, error) { return rule.RoleOf("echo", echoTypes, typ) }
func (echo) Respond(_ context.Context, _ rule.Reader, e rule.Entry) ([]rule.Response, error) {
	if e.Type != "echo.say" {
		return nil, nil
	}
	return []rule.Response{{Type: "echo.back", Body: json.RawMessage(e.Body)}}, nil
}

func (echo) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	var b struct{ Text string }
	if err := json.Unmarshal(e.Body, &b); err != nil {
		return fmt.Errorf("%w: %v", rule.ErrInvalidBody, err)
	}
	owed, _, err := st.Get(ctx, "owed")
	if err != nil {
		return err
	}
	switch {
	case e.Type == "echo.say" && len(owed) > 0:
		return fmt.Errorf("%w: an echo is owed", rule.ErrRuleViolation)
	case e.Type == "echo.say":
		return st.Put(ctx, "owed", []byte(b.Text))
	case string(owed) != b.Text || b.Text == "refuse":
		return fmt.Errorf("%w: not the echo owed", rule.ErrRuleViolation)
	}
	// The index is the one the entry gets in the log.
	if err := st.Put(ctx, fmt.Sprintf("at/%d", e.Index), []byte(b.Text)); err != nil {
		return err
	}
	return st.Put(ctx, "owed", []byte{})
}

// TestResponder: the log's answer follows each statement in the log, at the
// next index, signed by the log's rule key, in the same transaction; a
// statement whose answer the rules refuse is refused (FAILED_PRECONDITION)
// and the statements batched with it are admitted all the same.
func TestResponder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const origin = "gov.example/echo"
	be := logtest.SQLite(t, logtest.Options{})
	l := be.OpenLog(t, logtest.NewLogKey(t, origin), time.Hour)
	speaker := newSigner(t, "city-speaker")
	engine := newSigner(t, "echo-rules")
	reg, err := registry.New(registry.File{Agencies: []registry.Agency{
		{ID: "city-speaker", Roles: []string{"speaker"}, Keys: []registry.Key{{VKey: speaker.vkey}}},
		{ID: "echo-rules", Roles: []string{"echo-engine"}, Keys: []registry.Key{{VKey: engine.vkey}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := personalities.NewServer(personalities.Options{Store: be.Store, Registry: reg,
		Personalities: map[string]personalities.Personality{"echo": {Domain: echo{}, Log: l}}}); err == nil {
		t.Fatal("a Responder log without a rule key was accepted")
	}
	srv, err := personalities.NewServer(personalities.Options{Store: be.Store, Registry: reg,
		Personalities: map[string]personalities.Personality{"echo": {Domain: echo{}, Log: l, RuleKey: engine}}})
	if err != nil {
		t.Fatal(err)
	}
	client, stop := startServer(t, srv)
	defer stop()
	engineVerifier, err := note.NewVerifier(engine.vkey)
	if err != nil {
		t.Fatal(err)
	}

	// Many at once, so that batches hold several, one of them refused.
	texts := []string{"a", "b", "refuse", "c", "d", "e", "f", "g"}
	codesOf := make([]codes.Code, len(texts))
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Go(func() {
			stmt := statementFor(t, origin, "echo.say", time.Now(), map[string]string{"text": text}, speaker)
			_, err := client.Submit(ctx, &api.SubmitRequest{Log: "echo", Statement: stmt})
			codesOf[i] = status.Code(err)
		})
	}
	wg.Wait()
	for i, text := range texts {
		want := codes.OK
		if text == "refuse" {
			want = codes.FailedPrecondition
		}
		if codesOf[i] != want {
			t.Errorf("%q: %v, want %v", text, codesOf[i], want)
		}
	}
	// Wait for the 14 entries: 7 statements, each with its answer.
	var entries [][]byte
	for deadline := time.Now().Add(30 * time.Second); len(entries) < 14 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := client.GetEntries(ctx, &api.GetEntriesRequest{Log: "echo", Start: 0, Count: 100})
		if err == nil {
			entries = resp.Entries
		}
	}
	if len(entries) != 14 {
		t.Fatalf("the log holds %d entries, want 14", len(entries))
	}
	for i := 0; i < len(entries); i += 2 {
		say, _, _, err := govlog.ReadStatement(entries[i], origin)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := govlog.ParseStatement(entries[i+1], origin, note.VerifierList(engineVerifier))
		if err != nil {
			t.Fatalf("entry %d is not the log's answer signed by its rule key: %v", i+1, err)
		}
		if say.Type != "echo.say" || back.Type != "echo.back" || string(say.Body) != string(back.Body) || back.Time.Before(say.Time) {
			t.Errorf("entries %d, %d = %s %s, %s %s", i, i+1, say.Type, say.Body, back.Type, back.Body)
		}
	}
	// The rules saw each answer at the index it got.
	err = be.Store.Read(ctx, "echo", func(ctx context.Context, tx storage.ReadTx) error {
		for i := 1; i < 14; i += 2 {
			v, ok, err := tx.Get(ctx, fmt.Sprintf("at/%d", i))
			if err != nil {
				return err
			}
			if !ok || len(v) == 0 {
				t.Errorf("no answer was applied at index %d", i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
