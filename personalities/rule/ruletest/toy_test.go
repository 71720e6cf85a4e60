package ruletest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/govlog/govlog/personalities/rule"
)

// toy is a domain to test the kit with. "toy.set" stores a value under a
// new key; "toy.sloppy" writes, then refuses; "toy.panic" panics;
// "toy.noop" is admitted and writes nothing; "toy.self" is self-signed, by a signature line named "ok".
type toy struct {
	types []rule.TypeInfo
}

func newToy() *toy {
	return &toy{types: []rule.TypeInfo{
		{Type: "toy.set", Role: "setter", Summary: "set a key",
			Examples: []json.RawMessage{json.RawMessage(`{"key":"a","value":"1"}`), json.RawMessage(`{"key":"b","value":"2"}`)}},
		{Type: "toy.self", Role: rule.SelfSigned, Summary: "set a key, self-signed",
			Examples: []json.RawMessage{json.RawMessage(`{"key":"c","value":"3"}`)}},
		{Type: "toy.sloppy", Role: "setter", Summary: "write, then refuse", ByLog: true},
		{Type: "toy.panic", Role: "setter", Summary: "panic", ByLog: true},
		{Type: "toy.noop", Role: "setter", Summary: "admitted, writes nothing", ByLog: true},
	}}
}

var (
	_ rule.Domain        = (*toy)(nil)
	_ rule.Authenticator = (*toy)(nil)
)

func (*toy) Log() string { return "toy" }

func (d *toy) Types() []rule.TypeInfo { return d.types }

func (d *toy) RequiredRole(typ string) (string, error) { return rule.RoleOf(d.Log(), d.types, typ) }

type toyBody struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (d *toy) Apply(ctx context.Context, st rule.State, e rule.Entry) error {
	if _, err := d.RequiredRole(e.Type); err != nil {
		return err
	}
	var b toyBody
	if err := json.Unmarshal(e.Body, &b); err != nil || b.Key == "" {
		return fmt.Errorf("%w: %v", rule.ErrInvalidBody, err)
	}
	switch e.Type {
	case "toy.noop":
		return nil
	case "toy.panic":
		panic("toy panic")
	case "toy.sloppy":
		if err := st.Put(ctx, "kv/"+b.Key, []byte(b.Value)); err != nil {
			return err
		}
		return fmt.Errorf("%w: sloppy", rule.ErrRuleViolation)
	}
	if _, ok, err := st.Get(ctx, "kv/"+b.Key); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: key %s", rule.ErrAlreadyExists, b.Key)
	}
	if err := st.Put(ctx, "kv/"+b.Key, []byte(b.Value)); err != nil {
		return err
	}
	return st.Put(ctx, "by/"+b.Key, []byte(e.Agency+e.Signer))
}

func (*toy) Authenticate(_ context.Context, _ rule.Reader, e rule.Entry) (string, error) {
	if len(e.Signatures) != 1 || e.Signatures[0].Name != "ok" {
		return "", fmt.Errorf("%w: not signed by ok", rule.ErrNotAuthorized)
	}
	return "ok", nil
}

func set(agency, key, value string) rule.Entry {
	return rule.Entry{Type: "toy.set", Agency: agency, Body: json.RawMessage(fmt.Sprintf(`{"key":%q,"value":%q}`, key, value))}
}

// fakeT records what a kit helper reports. Fatal ends the goroutine it is
// called on, as testing.T's does; run calls the helper on one of its own.
type fakeT struct {
	testing.TB // not set: a method not overridden panics
	ctx        context.Context
	mu         sync.Mutex
	errors     []string
	logs       []string
	fatal      bool
}

func newFakeT(t *testing.T) *fakeT { return &fakeT{ctx: t.Context()} }

func (f *fakeT) Helper()                  {}
func (f *fakeT) Context() context.Context { return f.ctx }

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeT) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.mu.Lock()
	f.fatal = true
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeT) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

// run calls fn(f) on a goroutine of its own and waits for it.
func (f *fakeT) run(fn func(testing.TB)) *fakeT {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

// failed returns the failures reported, one per line.
func (f *fakeT) failed() string { return strings.Join(f.errors, "\n") }

// wantFailure checks that f reported a failure containing want, or none if
// want is "".
func wantFailure(t *testing.T, f *fakeT, want string) {
	t.Helper()
	got := f.failed()
	switch {
	case want == "" && got != "":
		t.Errorf("reported %q, want no failure", got)
	case want != "" && !strings.Contains(got, want):
		t.Errorf("reported %q, want a failure containing %q", got, want)
	}
}

var errBroken = errors.New("broken")
