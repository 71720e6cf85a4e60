package rule_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/govlog/govlog/personalities/rule"
)

// numbers is a domain whose bodies are decimal numbers, parsed ahead.
type numbers struct{ parses int }

func (*numbers) Log() string                                         { return "numbers" }
func (*numbers) Types() []rule.TypeInfo                              { return nil }
func (*numbers) RequiredRole(string) (string, error)                 { return "agency", nil }
func (*numbers) Apply(context.Context, rule.State, rule.Entry) error { return nil }

func (n *numbers) ParseBody(e rule.Entry) (any, error) {
	n.parses++
	return parseNumber(e.Body)
}

var errNotNumber = errors.New("not a number")

func parseNumber(b []byte) (int, error) {
	v, err := strconv.Atoi(string(b))
	if err != nil {
		return 0, errNotNumber
	}
	return v, nil
}

func TestParsedAs(t *testing.T) {
	d := &numbers{}
	e := rule.Entry{Body: []byte("42")}
	if v, err := rule.ParsedAs(e, parseNumber); v != 42 || err != nil {
		t.Fatalf("not parsed ahead: %v, %v", v, err)
	}
	rule.Parse(d, &e)
	if d.parses != 1 || e.Parsed == nil {
		t.Fatalf("Parse ran ParseBody %d times, Parsed %v", d.parses, e.Parsed)
	}
	// What ParseBody made is used, not the body: changed, it would be 7.
	e.Body = []byte("7")
	if v, err := rule.ParsedAs(e, parseNumber); v != 42 || err != nil {
		t.Fatalf("parsed ahead: %v, %v", v, err)
	}
	// An error of ParseBody is the answer too.
	bad := rule.Entry{Body: []byte("x")}
	rule.Parse(d, &bad)
	bad.Body = []byte("1")
	if _, err := rule.ParsedAs(bad, parseNumber); !errors.Is(err, errNotNumber) {
		t.Fatalf("ParseBody's error: got %v", err)
	}
	// A value of another type is not used: the body is parsed again.
	if v, err := rule.ParsedAs(e, func(b []byte) (string, error) { return string(b), nil }); v != "7" || err != nil {
		t.Fatalf("another type: %q, %v", v, err)
	}
	// A domain that parses nothing ahead leaves the entry alone.
	plain := rule.Entry{Body: []byte("1")}
	rule.Parse(struct{ rule.Domain }{d}, &plain)
	if plain.Parsed != nil {
		t.Fatal("Parse parsed for a domain that is no BodyParser")
	}
}
