package govlog

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

const logOrigin = "gov.example/funds"

func testCheckpoint() Checkpoint {
	return Checkpoint{Origin: logOrigin, Size: 20852163, Hash: [32]byte{1, 2, 3}}
}

func TestParseCheckpoint(t *testing.T) {
	hash := "AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	tests := []struct {
		name    string
		text    string
		want    Checkpoint
		wantErr error
	}{
		{name: "valid", text: logOrigin + "\n20852163\n" + hash + "\n", want: testCheckpoint()},
		{name: "empty tree", text: "o\n0\n" + hash + "\n", want: Checkpoint{Origin: "o", Hash: [32]byte{1, 2, 3}}},
		{name: "origin with space", text: "a b\n1\n" + hash + "\n", want: Checkpoint{Origin: "a b", Size: 1, Hash: [32]byte{1, 2, 3}}},
		{name: "extensions", text: "o\n1\n" + hash + "\next one\ntwo\n", want: Checkpoint{Origin: "o", Size: 1, Hash: [32]byte{1, 2, 3}, Extensions: []string{"ext one", "two"}}},
		{name: "max size", text: "o\n18446744073709551615\n" + hash + "\n", want: Checkpoint{Origin: "o", Size: 1<<64 - 1, Hash: [32]byte{1, 2, 3}}},
		{name: "empty", text: "", wantErr: ErrMalformedCheckpoint},
		{name: "two lines", text: "o\n1\n", wantErr: ErrMalformedCheckpoint},
		{name: "no final newline", text: "o\n1\n" + hash, wantErr: ErrMalformedCheckpoint},
		{name: "empty origin", text: "\n1\n" + hash + "\n", wantErr: ErrMalformedCheckpoint},
		{name: "empty extension", text: "o\n1\n" + hash + "\n\n", wantErr: ErrMalformedCheckpoint},
		{name: "empty extension between", text: "o\n1\n" + hash + "\na\n\nb\n", wantErr: ErrMalformedCheckpoint},
		{name: "leading zero", text: "o\n01\n" + hash + "\n", wantErr: ErrMalformedCheckpoint},
		{name: "plus sign", text: "o\n+1\n" + hash + "\n", wantErr: ErrMalformedCheckpoint},
		{name: "negative", text: "o\n-1\n" + hash + "\n", wantErr: ErrMalformedCheckpoint},
		{name: "size overflow", text: "o\n18446744073709551616\n" + hash + "\n", wantErr: ErrMalformedCheckpoint},
		{name: "size with space", text: "o\n 1\n" + hash + "\n", wantErr: ErrMalformedCheckpoint},
		{name: "short hash", text: "o\n1\nAQID\n", wantErr: ErrMalformedCheckpoint},
		{name: "hash without padding", text: "o\n1\n" + strings.TrimSuffix(hash, "=") + "\n", wantErr: ErrMalformedCheckpoint},
		{name: "hash padding bits", text: "o\n1\nAQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", wantErr: ErrMalformedCheckpoint},
		{name: "hash URL encoding", text: "o\n1\n-_8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", wantErr: ErrMalformedCheckpoint},
		{name: "carriage return", text: "o\r\n1\n" + hash + "\n", wantErr: ErrMalformedCheckpoint},
		{name: "invalid UTF-8", text: "o\xff\n1\n" + hash + "\n", wantErr: ErrMalformedCheckpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCheckpoint([]byte(tt.text))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseCheckpoint() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCheckpoint() = %+v, want %+v", got, tt.want)
			}
			if string(got.Text()) != tt.text {
				t.Errorf("Text() = %q, want %q", got.Text(), tt.text)
			}
		})
	}
}

func TestOpenCheckpoint(t *testing.T) {
	logKey, logV := testSigner(t, logOrigin, 10)
	otherKey, otherV := testSigner(t, "gov.example/votes", 11)
	_, impostorV := testSigner(t, logOrigin, 12) // same name, other key
	witness, _ := testWitness(t, "witness.example/w1", 20)

	signed, err := SignCheckpoint(testCheckpoint(), logKey)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := cosign(t, signed, witness)
	misnamed := signText(t, string(testCheckpoint().Text()), otherKey)
	flipped := bytes.Clone(signed)
	flipped[len(flipped)-10] ^= 0x01 // stays base64, changes the signature

	tests := []struct {
		name       string
		signed     []byte
		key        note.Verifier
		wantCosigs int
		wantErr    error
	}{
		{name: "valid", signed: signed, key: logV},
		{name: "cosigned", signed: cosigned, key: logV, wantCosigs: 1},
		{name: "other log's key", signed: signed, key: otherV, wantErr: ErrCheckpointSignature},
		{name: "same name other key", signed: signed, key: impostorV, wantErr: ErrCheckpointSignature},
		{name: "key name is not the origin", signed: misnamed, key: otherV, wantErr: ErrCheckpointSignature},
		{name: "bad signature", signed: flipped, key: logV, wantErr: ErrCheckpointSignature},
		{name: "truncated", signed: signed[:len(signed)-1], key: logV, wantErr: ErrMalformedCheckpoint},
		{name: "malformed text", signed: signText(t, logOrigin+"\n01\nAA==\n", logKey), key: logV, wantErr: ErrMalformedCheckpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n, err := OpenCheckpoint(tt.signed, tt.key)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("OpenCheckpoint() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(c, testCheckpoint()) {
				t.Errorf("checkpoint = %+v", c)
			}
			if len(n.UnverifiedSigs) != tt.wantCosigs {
				t.Errorf("%d unverified signatures, want %d", len(n.UnverifiedSigs), tt.wantCosigs)
			}
		})
	}
}

func TestSignCheckpoint(t *testing.T) {
	logKey, _ := testSigner(t, logOrigin, 10)
	if _, err := SignCheckpoint(Checkpoint{Origin: "gov.example/votes"}, logKey); err == nil {
		t.Error("signed a checkpoint for another origin")
	}
	if _, err := SignCheckpoint(Checkpoint{Origin: logOrigin, Extensions: []string{""}}, logKey); !errors.Is(err, ErrMalformedCheckpoint) {
		t.Errorf("signing an empty extension: %v", err)
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add(testCheckpoint().Text())
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n"))
	f.Add([]byte("o\n01\nAA==\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := ParseCheckpoint(text)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Text(), text) {
			t.Fatalf("Text() = %q, want %q", c.Text(), text)
		}
	})
}
