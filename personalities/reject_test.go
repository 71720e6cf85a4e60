package personalities_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/disclosures"
)

// rejection is a statement the server must refuse with want, without a
// trace: no outbox row, no state change, no leaf. fix is the same statement
// corrected, which must then be admitted as the very next entry.
type rejection struct {
	name string
	// setup admits what the case needs first (optional).
	setup func(t *testing.T, h *harness)
	req   func(t *testing.T, h *harness) *api.SubmitRequest
	want  codes.Code
	// msg, if set, must be in the status message: it tells which layer
	// refused (gRPC itself, or Submit).
	msg string
	fix func(t *testing.T, h *harness) []byte
	// agency and doc name the state record the rejected statement aimed
	// at; it must be the same before and after.
	agency, doc string
}

func publishReq(stmt []byte) *api.SubmitRequest {
	return &api.SubmitRequest{Log: logName, Statement: stmt}
}

func TestSubmitRejections(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Now() }
	// ok returns the valid publish statement of doc by city-a.
	ok := func(doc string) func(t *testing.T, h *harness) []byte {
		return func(t *testing.T, h *harness) []byte {
			return statement(t, disclosures.TypePublish, publish(doc), h.keys.a)
		}
	}
	signedBy := func(doc string, k func(h *harness) note.Signer) func(t *testing.T, h *harness) *api.SubmitRequest {
		return func(t *testing.T, h *harness) *api.SubmitRequest {
			return publishReq(statement(t, disclosures.TypePublish, publish(doc), k(h)))
		}
	}
	// jsonLine returns the canonical JSON line of doc's publish statement
	// made at, and its parts.
	jsonLine := func(t *testing.T, doc string, at time.Time) (line string, body []byte, ts string) {
		b, _ := json.Marshal(publish(doc))
		st, err := govlog.NewStatement(origin, disclosures.TypePublish, at, b)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(st.Text()), "\n")
		return lines[2], st.Body, st.Time.Format(time.RFC3339)
	}
	// handSigned signs a statement note whose JSON line the case writes.
	handSigned := func(doc string, line func(t *testing.T, doc string) string) func(t *testing.T, h *harness) *api.SubmitRequest {
		return func(t *testing.T, h *harness) *api.SubmitRequest {
			return publishReq(signNote(t, govlog.StatementFormat+"\n"+origin+"\n"+line(t, doc)+"\n", h.keys.a))
		}
	}

	cases := []rejection{
		{
			name: "one byte over MaxStatementSize", want: codes.ResourceExhausted, fix: ok("too-large-1"), doc: "too-large-1",
			msg: govlog.ErrStatementTooLarge.Error(),
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(paddedStatement(t, "too-large-1", govlog.MaxStatementSize+1, h.keys.a))
			},
		},
		{
			// Over the gRPC limit: refused by gRPC itself before Submit runs.
			name: "just over the gRPC MaxMessageSize", want: codes.ResourceExhausted, fix: ok("too-large-2"), doc: "too-large-2",
			msg: "larger than max",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(paddedStatement(t, "too-large-2", personalities.MaxMessageSize, h.keys.a))
			},
		},
		{
			name: "way over the gRPC MaxMessageSize", want: codes.ResourceExhausted, fix: ok("too-large-3"), doc: "too-large-3",
			msg: "larger than max",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(paddedStatement(t, "too-large-3", 1<<20, h.keys.a))
			},
		},
		{
			// Exactly MaxStatementSize passes the size check; the padding
			// field then makes the body invalid.
			name: "exactly MaxStatementSize is parsed", want: codes.InvalidArgument, fix: ok("max-size"), doc: "max-size",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(paddedStatement(t, "max-size", govlog.MaxStatementSize, h.keys.a))
			},
		},
		{
			name: "JSON keys out of order", want: codes.InvalidArgument, fix: ok("keys-out-of-order"), doc: "keys-out-of-order",
			req: handSigned("keys-out-of-order", func(t *testing.T, doc string) string {
				_, body, ts := jsonLine(t, doc, time.Now())
				return fmt.Sprintf(`{"type":%q,"time":%q,"body":%s}`, disclosures.TypePublish, ts, body)
			}),
		},
		{
			name: "JSON with extra spaces", want: codes.InvalidArgument, fix: ok("extra-spaces"), doc: "extra-spaces",
			req: handSigned("extra-spaces", func(t *testing.T, doc string) string {
				_, body, ts := jsonLine(t, doc, time.Now())
				return fmt.Sprintf(`{"body": %s, "time": %q, "type": %q}`, body, ts, disclosures.TypePublish)
			}),
		},
		{
			name: "JSON body keys out of order", want: codes.InvalidArgument, fix: ok("body-out-of-order"), doc: "body-out-of-order",
			req: handSigned("body-out-of-order", func(t *testing.T, doc string) string {
				_, _, ts := jsonLine(t, doc, time.Now())
				body, _ := json.Marshal(publish(doc)) // struct order: doc_id before category
				return fmt.Sprintf(`{"body":%s,"time":%q,"type":%q}`, body, ts, disclosures.TypePublish)
			}),
		},
		{
			name: "JSON with a needless escape", want: codes.InvalidArgument, fix: ok("needless-escape"), doc: "needless-escape",
			req: handSigned("needless-escape", func(t *testing.T, doc string) string {
				line, _, _ := jsonLine(t, doc, time.Now())
				return strings.Replace(line, `"Minutes of`, `"\u004dinutes of`, 1)
			}),
		},
		{
			name: "a flipped bit in the signature", want: codes.Unauthenticated, fix: ok("flipped-sig"), doc: "flipped-sig",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(flipSignatureBit(t, statement(t, disclosures.TypePublish, publish("flipped-sig"), h.keys.a)))
			},
		},
		{
			name: "text changed after signing", want: codes.Unauthenticated, fix: ok("changed-text"), doc: "changed-text",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				s := statement(t, disclosures.TypePublish, publish("changed-text"), h.keys.a)
				return publishReq([]byte(strings.Replace(string(s), "Minutes of", "Minutes by", 1)))
			},
		},
		{
			name: "unknown key", want: codes.Unauthenticated, fix: ok("unknown-key"), doc: "unknown-key",
			req: signedBy("unknown-key", func(h *harness) note.Signer { return h.keys.stranger }),
		},
		{
			name: "unknown key named like a registered one", want: codes.Unauthenticated, fix: ok("impostor"), doc: "impostor",
			req: signedBy("impostor", func(h *harness) note.Signer { return h.keys.impostor }),
		},
		{
			name: "revoked key", want: codes.PermissionDenied, fix: ok("revoked"), doc: "revoked",
			req: signedBy("revoked", func(h *harness) note.Signer { return h.keys.aRevoked }),
		},
		{
			name: "key without the role", want: codes.PermissionDenied, fix: ok("no-role"), agency: auditor, doc: "no-role",
			req: signedBy("no-role", func(h *harness) note.Signer { return h.keys.auditor }),
		},
		{
			name: "statement for another origin", want: codes.InvalidArgument, fix: ok("other-origin"), doc: "other-origin",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(statementFor(t, "gov.example/funds", disclosures.TypePublish, time.Now(), publish("other-origin"), h.keys.a))
			},
		},
		{
			name: "wrong format line", want: codes.InvalidArgument, fix: ok("format-line"), doc: "format-line",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				line, _, _ := jsonLine(t, "format-line", time.Now())
				return publishReq(signNote(t, "govlog/statement/v2\n"+origin+"\n"+line+"\n", h.keys.a))
			},
		},
		{
			name: "truncated note", want: codes.InvalidArgument, fix: ok("truncated"), doc: "truncated",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				s := statement(t, disclosures.TypePublish, publish("truncated"), h.keys.a)
				return publishReq(s[:len(s)-10])
			},
		},
		{
			name: "empty statement", want: codes.InvalidArgument, fix: ok("empty"), doc: "empty",
			req: func(t *testing.T, h *harness) *api.SubmitRequest { return publishReq(nil) },
		},
		{
			name: "unknown log name", want: codes.InvalidArgument, fix: ok("unknown-log"), doc: "unknown-log",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return &api.SubmitRequest{Log: "funds", Statement: statement(t, disclosures.TypePublish, publish("unknown-log"), h.keys.a)}
			},
		},
		{
			name: "unknown statement type", want: codes.InvalidArgument, fix: ok("unknown-type"), doc: "unknown-type",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(statement(t, "disclosure.delete", publish("unknown-type"), h.keys.a))
			},
		},
		{
			name: "invalid body", want: codes.InvalidArgument, fix: ok("invalid-body"), doc: "invalid-body",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				b := publish("invalid-body")
				b.SHA256 = strings.ToUpper(b.SHA256)
				return publishReq(statement(t, disclosures.TypePublish, b, h.keys.a))
			},
		},
		{
			name: "time too far in the future", want: codes.InvalidArgument, fix: ok("future"), doc: "future",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(statementFor(t, origin, disclosures.TypePublish, now().Add(10*time.Minute), publish("future"), h.keys.a))
			},
		},
		{
			name: "time too old", want: codes.InvalidArgument, fix: ok("too-old"), doc: "too-old",
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(statementFor(t, origin, disclosures.TypePublish, now().Add(-25*time.Hour), publish("too-old"), h.keys.a))
			},
		},
		{
			// The same business ID with other bytes; the fix is a new ID.
			name: "duplicate doc_id", want: codes.AlreadyExists,
			setup: func(t *testing.T, h *harness) {
				h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("dup"), h.keys.a))
			},
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				b := publish("dup")
				b.Title = "Another document with the same ID"
				return publishReq(statement(t, disclosures.TypePublish, b, h.keys.a))
			},
			fix:    ok("dup-2"),
			agency: cityA, doc: "dup",
		},
		{
			name: "duplicate doc_id by correction", want: codes.AlreadyExists,
			setup: func(t *testing.T, h *harness) {
				h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("dupc"), h.keys.a))
				h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("dupc-other"), h.keys.a))
			},
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(statement(t, disclosures.TypeCorrect, correct("dupc", "dupc-other"), h.keys.a))
			},
			fix: func(t *testing.T, h *harness) []byte {
				return statement(t, disclosures.TypeCorrect, correct("dupc", "dupc-r1"), h.keys.a)
			},
			agency: cityA, doc: "dupc",
		},
		{
			name: "correction of a missing document", want: codes.FailedPrecondition,
			setup: func(t *testing.T, h *harness) {
				h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("exists"), h.keys.a))
			},
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(statement(t, disclosures.TypeCorrect, correct("never-published", "exists-r1"), h.keys.a))
			},
			fix: func(t *testing.T, h *harness) []byte {
				return statement(t, disclosures.TypeCorrect, correct("exists", "exists-r1"), h.keys.a)
			},
			agency: cityA, doc: "exists-r1",
		},
		{
			name: "correction of another agency's document", want: codes.FailedPrecondition,
			setup: func(t *testing.T, h *harness) {
				h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("a-owns"), h.keys.a))
			},
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				return publishReq(statement(t, disclosures.TypeCorrect, correct("a-owns", "a-owns-r1"), h.keys.b))
			},
			fix: func(t *testing.T, h *harness) []byte {
				return statement(t, disclosures.TypeCorrect, correct("a-owns", "a-owns-r1"), h.keys.a)
			},
			agency: cityA, doc: "a-owns",
		},
		{
			name: "retraction of a retracted document", want: codes.FailedPrecondition,
			setup: func(t *testing.T, h *harness) {
				h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("gone"), h.keys.a))
				h.mustAdmit(t, statement(t, disclosures.TypeRetract, retract("gone"), h.keys.a))
			},
			req: func(t *testing.T, h *harness) *api.SubmitRequest {
				r := retract("gone")
				r.Reason = "again"
				return publishReq(statement(t, disclosures.TypeRetract, r, h.keys.a))
			},
			fix:    ok("gone-2"),
			agency: cityA, doc: "gone",
		},
	}

	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if c.setup != nil {
					c.setup(t, h)
				}
				agency, doc := c.agency, c.doc
				if agency == "" {
					agency = cityA
				}
				recBefore, okBefore := h.document(t, agency, doc)
				before := h.checkpoint(t)

				req := c.req(t, h)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				resp, err := h.client.Submit(ctx, req)
				wantCode(t, "Submit", err, c.want)
				if msg := status.Convert(err).Message(); !strings.Contains(msg, c.msg) {
					t.Errorf("message %q does not say %q", msg, c.msg)
				}
				if resp != nil {
					t.Errorf("Submit answered %v with an error", resp)
				}

				// Nothing written: no outbox row, the state record as it
				// was, the log as it was.
				if h.inOutbox(t, req.Statement) {
					t.Errorf("the refused statement is in the outbox")
				}
				if recAfter, okAfter := h.document(t, agency, doc); okAfter != okBefore || recAfter != recBefore {
					t.Errorf("state of %s/%s changed: %+v (%v) -> %+v (%v)", agency, doc, recBefore, okBefore, recAfter, okAfter)
				}
				if after := h.checkpoint(t); after.Size != before.Size {
					t.Errorf("checkpoint size %d -> %d", before.Size, after.Size)
				}
				// The corrected statement is admitted, as the next entry:
				// the refused one took no index.
				if got := h.mustAdmit(t, c.fix(t, h)); uint64(got.Index) != before.Size {
					t.Errorf("corrected statement admitted at %d, want %d", got.Index, before.Size)
				}
			})
		}
	})
}

// TestSubmitTruncated cuts a signed statement at every length: each prefix
// is refused as INVALID_ARGUMENT (UNAUTHENTICATED for the whole text with
// no signature), never admitted and never an internal error.
func TestSubmitTruncated(t *testing.T) {
	t.Parallel()
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		stmt := statement(t, disclosures.TypePublish, publish("cut"), h.keys.a)
		text := bytes.Index(stmt, []byte("\n\n")) + 1
		for n := range len(stmt) {
			resp, err := h.client.Submit(context.Background(), publishReq(stmt[:n]))
			want := codes.InvalidArgument
			if n == text || n == text+1 {
				want = codes.Unauthenticated // the whole text, unsigned
			}
			wantCode(t, fmt.Sprintf("Submit(first %d of %d bytes)", n, len(stmt)), err, want)
			if resp != nil {
				t.Fatalf("answer with an error: %v", resp)
			}
		}
		if got := h.mustAdmit(t, stmt); got.Index != 0 {
			t.Errorf("whole statement admitted at %d, want 0", got.Index)
		}
	})
}

// TestSubmitSeveralSigners: a statement signed by several registered keys
// is admitted for the first one that may sign it, even beside a key
// without the role, but not beside a revoked key (a leaf carries no
// signature by a key that may not sign it). A signature by an unknown key beside a good one
// is refused (govlog.ParseStatement: a leaf carries only signatures that
// verify, so nobody can make new leaf bytes for a signed statement), and the
// statement without it is then admitted.
func TestSubmitSeveralSigners(t *testing.T) {
	t.Parallel()
	eachBackend(t, harnessOptions{}, func(t *testing.T, h *harness) {
		_, err := h.client.Submit(t.Context(), publishReq(statement(t, disclosures.TypePublish, publish("multi-1"), h.keys.aRevoked, h.keys.a)))
		wantCode(t, "Submit(beside a revoked key)", err, codes.PermissionDenied)
		h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("multi-1"), h.keys.a))
		if _, ok := h.document(t, cityA, "multi-1"); !ok {
			t.Errorf("multi-1 not recorded for %s", cityA)
		}
		h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("multi-2"), h.keys.auditor, h.keys.b))
		if _, ok := h.document(t, cityB, "multi-2"); !ok {
			t.Errorf("multi-2 not recorded for %s", cityB)
		}

		stray := statement(t, disclosures.TypePublish, publish("multi-3"), h.keys.stranger, h.keys.a)
		_, err = h.submit(stray, false)
		wantCode(t, "Submit(with a stranger's signature)", err, codes.Unauthenticated)
		if h.inOutbox(t, stray) {
			t.Errorf("refused statement is in the outbox")
		}
		if got := h.mustAdmit(t, statement(t, disclosures.TypePublish, publish("multi-3"), h.keys.a)); got.Index != 2 {
			t.Errorf("admitted at %d, want 2", got.Index)
		}
	})
}

func retract(doc string) disclosures.RetractBody {
	return disclosures.RetractBody{Retracts: doc, Reason: "published by mistake"}
}

// signNote signs a hand-written note text.
func signNote(t testing.TB, text string, signers ...note.Signer) []byte {
	t.Helper()
	signed, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// paddedStatement returns a validly signed statement of exactly size bytes
// for doc: a publish body with an extra "padding" field (which the rules
// refuse), so only its size matters.
func paddedStatement(t testing.TB, doc string, size int, signer note.Signer) []byte {
	t.Helper()
	build := func(pad int) []byte {
		b := map[string]string{"padding": strings.Repeat("x", pad)}
		body, _ := json.Marshal(publish(doc))
		var fields map[string]string
		if err := json.Unmarshal(body, &fields); err != nil {
			t.Fatal(err)
		}
		for k, v := range fields {
			b[k] = v
		}
		raw, _ := json.Marshal(b)
		st, err := govlog.NewStatement(origin, disclosures.TypePublish, time.Now(), raw)
		if err != nil {
			t.Fatal(err)
		}
		return signNote(t, string(st.Text()), signer)
	}
	n := size - len(build(0))
	if n < 0 {
		t.Fatalf("can't make a statement of %d bytes", size)
	}
	s := build(n)
	if len(s) != size {
		t.Fatalf("padded statement of %d bytes, want %d", len(s), size)
	}
	return s
}

// flipSignatureBit flips one bit of the Ed25519 signature (not of the key
// hash before it) in the last signature line of a signed note.
func flipSignatureBit(t testing.TB, signed []byte) []byte {
	t.Helper()
	s := string(signed)
	i := strings.LastIndex(s, "\n— ")
	if i < 0 {
		t.Fatal("no signature line")
	}
	line := strings.TrimSuffix(s[i+1:], "\n")
	sp := strings.LastIndex(line, " ")
	sig, err := base64.StdEncoding.DecodeString(line[sp+1:])
	if err != nil || len(sig) != 4+64 {
		t.Fatalf("signature line %q: %v", line, err)
	}
	sig[4+17] ^= 0x08
	return []byte(s[:i+1] + line[:sp+1] + base64.StdEncoding.EncodeToString(sig) + "\n")
}
