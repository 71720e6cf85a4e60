package govlog

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

func testPromise() Promise {
	return Promise{Origin: logOrigin, LeafHash: LeafHash([]byte("entry")), Deadline: time.Unix(1767225600+86400, 0).UTC()}
}

func TestPromiseRoundTrip(t *testing.T) {
	logKey, logV := testSigner(t, logOrigin, 10)
	signed, err := testPromise().Sign(logKey)
	if err != nil {
		t.Fatal(err)
	}
	want := "govlog/promise/v1\ngov.example/funds\n" + "2cLWa1IsJSJyj1Of+fZ7hdQN7/8JX8ilKMmU9PNbs94=\n1767312000\n\n— gov.example/funds "
	if !bytes.HasPrefix(signed, []byte(want)) {
		t.Errorf("signed promise = %q, want prefix %q", signed, want)
	}
	got, err := OpenPromise(signed, logV)
	if err != nil {
		t.Fatal(err)
	}
	if got != testPromise() {
		t.Errorf("OpenPromise() = %+v, want %+v", got, testPromise())
	}
}

func TestPromiseSign(t *testing.T) {
	logKey, _ := testSigner(t, logOrigin, 10)
	p := testPromise()
	p.Origin = "gov.example/votes"
	if _, err := p.Sign(logKey); err == nil {
		t.Error("signed a promise for another origin")
	}
	p = testPromise()
	p.Deadline = time.Unix(-1, 0)
	if _, err := p.Sign(logKey); !errors.Is(err, ErrMalformedPromise) {
		t.Errorf("Sign(negative deadline) error = %v", err)
	}
	p = testPromise()
	p.Origin = "bad origin"
	if _, err := p.Sign(logKey); !errors.Is(err, ErrMalformedPromise) {
		t.Errorf("Sign(bad origin) error = %v", err)
	}
}

func TestOpenPromise(t *testing.T) {
	logKey, logV := testSigner(t, logOrigin, 10)
	otherKey, otherV := testSigner(t, "gov.example/votes", 11)
	valid, err := testPromise().Sign(logKey)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(valid)
	flipped[len(flipped)-10] ^= 0x01
	h := "2cLWa1IsJSJyj1Of+fZ7hdQN7/8JX8ilKMmU9PNbs94="
	tests := []struct {
		name    string
		signed  []byte
		key     note.Verifier
		wantErr error
	}{
		{name: "valid", signed: valid, key: logV},
		{name: "deadline zero", signed: signText(t, PromiseFormat+"\n"+logOrigin+"\n"+h+"\n0\n", logKey), key: logV},
		{name: "other key", signed: valid, key: otherV, wantErr: ErrPromiseSignature},
		{name: "bad signature", signed: flipped, key: logV, wantErr: ErrPromiseSignature},
		{name: "origin is not the key name", signed: signText(t, PromiseFormat+"\n"+logOrigin+"\n"+h+"\n1\n", otherKey), key: otherV, wantErr: ErrPromiseSignature},
		{name: "truncated", signed: valid[:len(valid)-1], key: logV, wantErr: ErrMalformedPromise},
		{name: "statement, not promise", signed: signText(t, "govlog/statement/v1\n"+logOrigin+"\n"+h+"\n1\n", logKey), key: logV, wantErr: ErrMalformedPromise},
		{name: "extra line", signed: signText(t, PromiseFormat+"\n"+logOrigin+"\n"+h+"\n1\nx\n", logKey), key: logV, wantErr: ErrMalformedPromise},
		{name: "short hash", signed: signText(t, PromiseFormat+"\n"+logOrigin+"\nAQID\n1\n", logKey), key: logV, wantErr: ErrMalformedPromise},
		{name: "deadline leading zero", signed: signText(t, PromiseFormat+"\n"+logOrigin+"\n"+h+"\n01\n", logKey), key: logV, wantErr: ErrMalformedPromise},
		{name: "deadline negative", signed: signText(t, PromiseFormat+"\n"+logOrigin+"\n"+h+"\n-1\n", logKey), key: logV, wantErr: ErrMalformedPromise},
		{name: "deadline overflow", signed: signText(t, PromiseFormat+"\n"+logOrigin+"\n"+h+"\n9223372036854775808\n", logKey), key: logV, wantErr: ErrMalformedPromise},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenPromise(tt.signed, tt.key)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("OpenPromise() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func FuzzOpenPromise(f *testing.F) {
	logKey, logV := testSigner(f, logOrigin, 10)
	valid, err := testPromise().Sign(logKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(signText(f, PromiseFormat+"\n"+logOrigin+"\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n0\n", logKey))
	f.Fuzz(func(t *testing.T, signed []byte) {
		p, err := OpenPromise(signed, logV)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(signed, p.Text()) || signed[len(p.Text())] != '\n' {
			t.Fatalf("Text() = %q doesn't match the signed note %q", p.Text(), signed)
		}
		resigned, err := p.Sign(logKey)
		if err != nil {
			t.Fatalf("re-signing an opened promise: %v", err)
		}
		if again, err := OpenPromise(resigned, logV); err != nil || again != p {
			t.Fatalf("round trip: %+v, %v", again, err)
		}
	})
}
