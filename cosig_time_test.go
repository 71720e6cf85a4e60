package govlog

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// twoOfThree is a policy where any two of X1, X2 and X3 make the quorum.
const twoOfThree = "log {log}\nwitness X1 {X1}\nwitness X2 {X2}\nwitness X3 {X3}\ngroup g 2 X1 X2 X3\nquorum g\n"

// cosignerAt returns the policy fixture's witness name (X1...Y3) as a
// cosigner whose clock reads at.
func cosignerAt(t testing.TB, name string, at time.Time) note.Signer {
	t.Helper()
	i := strings.Index("X1X2X3Y1Y2Y3", name) / 2
	skey, _, err := GenerateCosignerKey(bytes.NewReader(bytes.Repeat([]byte{byte(30 + i)}, 32)), "witness.example/"+strings.ToLower(name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewCosigner(skey, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// at maps witness names to how far from fixedTime they date their
// cosignatures.
type at map[string]time.Duration

// cosignedAt returns the fixture's checkpoint cosigned by each witness of
// offsets, in name order, at fixedTime plus its offset.
func (f *policyFixture) cosignedAt(t testing.TB, offsets at) []byte {
	t.Helper()
	var signers []note.Signer
	for _, name := range []string{"X1", "X2", "X3", "Y1", "Y2", "Y3"} {
		if d, ok := offsets[name]; ok {
			signers = append(signers, cosignerAt(t, name, fixedTime().Add(d)))
		}
	}
	return cosign(t, f.checkpnt, signers...)
}

func TestPolicyVerifyCosignatureTime(t *testing.T) {
	f := newPolicyFixture(t)
	clock := WithClock(fixedTime)
	const day = 24 * time.Hour
	tests := []struct {
		name          string
		policy        string // twoOfThree if empty
		offsets       at
		opts          []VerifyOption
		wantWitnesses []string
		wantErr       bool
		wantMsg       []string // in the error
	}{
		{name: "all now", offsets: at{"X1": 0, "X2": 0, "X3": 0}, opts: []VerifyOption{clock},
			wantWitnesses: []string{"X1", "X2", "X3"}},
		{name: "one from the future", offsets: at{"X1": 0, "X2": 0, "X3": 3 * time.Hour}, opts: []VerifyOption{clock},
			wantWitnesses: []string{"X1", "X2"}},
		{name: "two from the future", offsets: at{"X1": 0, "X2": 3 * time.Hour, "X3": 50 * time.Hour}, opts: []VerifyOption{clock},
			wantErr: true, wantMsg: []string{
				`group "g" has 1 of 3 members satisfied, needs 2`,
				`witness "X2" cosigned 3 hours in the future (at 2026-01-01T03:00:00Z), beyond the 10 minutes of clock skew allowed`,
				`witness "X3" cosigned 2 days 2 hours in the future`,
			}},
		{name: "within the skew", offsets: at{"X1": 0, "X2": 9*time.Minute + 59*time.Second, "X3": DefaultCosignatureSkew}, opts: []VerifyOption{clock},
			wantWitnesses: []string{"X1", "X2", "X3"}},
		{name: "a second beyond the skew", offsets: at{"X1": 0, "X2": DefaultCosignatureSkew + time.Second, "X3": DefaultCosignatureSkew + time.Second}, opts: []VerifyOption{clock},
			wantErr: true, wantMsg: []string{`witness "X2" cosigned 10 minutes 1 second in the future`, `witness "X3" cosigned 10 minutes 1 second`}},
		{name: "wider skew", offsets: at{"X1": 0, "X2": 3 * time.Hour}, opts: []VerifyOption{clock, WithCosignatureSkew(4 * time.Hour)},
			wantWitnesses: []string{"X1", "X2"}},
		{name: "no skew", offsets: at{"X1": 0, "X2": time.Second}, opts: []VerifyOption{clock, WithCosignatureSkew(0)},
			wantErr: true, wantMsg: []string{`witness "X2" cosigned 1 second in the future (at 2026-01-01T00:00:01Z), beyond the 0 seconds of clock skew allowed`}},
		{name: "negative skew is no skew", offsets: at{"X1": 0, "X2": 0}, opts: []VerifyOption{clock, WithCosignatureSkew(-time.Hour)},
			wantWitnesses: []string{"X1", "X2"}},
		{name: "old, no max age", offsets: at{"X1": -3650 * day, "X2": -day}, opts: []VerifyOption{clock},
			wantWitnesses: []string{"X1", "X2"}},
		{name: "max age, one too old", offsets: at{"X1": -72 * time.Hour, "X2": -time.Hour, "X3": 0}, opts: []VerifyOption{clock, WithMaxCosignatureAge(48 * time.Hour)},
			wantWitnesses: []string{"X2", "X3"}},
		{name: "max age, two too old", offsets: at{"X1": -72 * time.Hour, "X2": -48*time.Hour - time.Second, "X3": 0}, opts: []VerifyOption{clock, WithMaxCosignatureAge(48 * time.Hour)},
			wantErr: true, wantMsg: []string{
				`witness "X1" cosigned 3 days ago (at 2025-12-29T00:00:00Z), older than the maximum age of 2 days`,
				`witness "X2" cosigned 2 days 1 second ago`,
			}},
		{name: "max age, exactly as old", offsets: at{"X1": -48 * time.Hour, "X2": 0}, opts: []VerifyOption{clock, WithMaxCosignatureAge(48 * time.Hour)},
			wantWitnesses: []string{"X1", "X2"}},
		{name: "max age and the future", offsets: at{"X1": -72 * time.Hour, "X2": time.Hour, "X3": 0}, opts: []VerifyOption{clock, WithMaxCosignatureAge(48 * time.Hour)},
			wantErr: true, wantMsg: []string{`witness "X1" cosigned 3 days ago`, `witness "X2" cosigned 1 hour in the future`}},
		{name: "zero max age is none", offsets: at{"X1": -3650 * day, "X2": 0}, opts: []VerifyOption{clock, WithMaxCosignatureAge(0)},
			wantWitnesses: []string{"X1", "X2"}},
		{name: "later clock", offsets: at{"X1": 0, "X2": 3 * time.Hour}, opts: []VerifyOption{WithClock(func() time.Time { return fixedTime().Add(3 * time.Hour) })},
			wantWitnesses: []string{"X1", "X2"}},
		{name: "nil options and clock", offsets: at{"X1": 0, "X2": 0}, opts: []VerifyOption{nil, WithClock(nil)},
			wantWitnesses: []string{"X1", "X2"}},
		{name: "quorum none, future not listed", policy: "log {log}\nwitness X1 {X1}\nwitness X2 {X2}\nquorum none\n", offsets: at{"X1": 0, "X2": time.Hour}, opts: []VerifyOption{clock},
			wantWitnesses: []string{"X1"}},
		{name: "single witness from the future", policy: "log {log}\nwitness X1 {X1}\nquorum X1\n", offsets: at{"X1": time.Hour}, opts: []VerifyOption{clock},
			wantErr: true, wantMsg: []string{`no cosignature from witness "X1"`, `witness "X1" cosigned 1 hour in the future`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := tt.policy
			if policy == "" {
				policy = twoOfThree
			}
			p, err := ParsePolicy([]byte(f.expand(policy)))
			if err != nil {
				t.Fatal(err)
			}
			c, witnesses, err := p.Verify(f.cosignedAt(t, tt.offsets), tt.opts...)
			if tt.wantErr {
				if !errors.Is(err, ErrQuorumNotMet) || !errors.Is(err, ErrCosignatureTime) {
					t.Fatalf("Verify() error = %v, want %v and %v", err, ErrQuorumNotMet, ErrCosignatureTime)
				}
				for _, want := range tt.wantMsg {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q doesn't say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify() error = %v", err)
			}
			if c.Origin != logOrigin || !reflect.DeepEqual(witnesses, tt.wantWitnesses) {
				t.Errorf("Verify() = %+v, %q; want witnesses %q", c, witnesses, tt.wantWitnesses)
			}
		})
	}
}

// TestPolicyVerifyCosignatureTimeDefaults checks what existing callers, who
// pass no option, get: time.Now as the clock, the default skew, no max age.
func TestPolicyVerifyCosignatureTimeDefaults(t *testing.T) {
	f := newPolicyFixture(t)
	p, err := ParsePolicy([]byte(f.expand(twoOfThree)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cosigned := func(offsets at) []byte {
		var signers []note.Signer
		for _, name := range []string{"X1", "X2", "X3"} {
			if d, ok := offsets[name]; ok {
				signers = append(signers, cosignerAt(t, name, now.Add(d)))
			}
		}
		return cosign(t, f.checkpnt, signers...)
	}
	// Old cosignatures count, however old: the fixture's are dated 2026-01-01.
	if _, ws, err := p.Verify(f.cosigned(t, "X1", "X2")); err != nil || len(ws) != 2 {
		t.Errorf("Verify(old cosignatures) = %q, %v", ws, err)
	}
	if _, ws, err := p.Verify(cosigned(at{"X1": -3650 * 24 * time.Hour, "X2": 0})); err != nil || len(ws) != 2 {
		t.Errorf("Verify(ten years old) = %q, %v", ws, err)
	}
	// Within the default skew (a minute of margin for a slow test).
	if _, ws, err := p.Verify(cosigned(at{"X1": 0, "X2": DefaultCosignatureSkew - time.Minute, "X3": 0})); err != nil || len(ws) != 3 {
		t.Errorf("Verify(within the skew) = %q, %v", ws, err)
	}
	if _, ws, err := p.Verify(cosigned(at{"X1": 0, "X2": 0, "X3": 3 * time.Hour})); err != nil || !reflect.DeepEqual(ws, []string{"X1", "X2"}) {
		t.Errorf("Verify(one from the future) = %q, %v; want X1, X2", ws, err)
	}
	_, _, err = p.Verify(cosigned(at{"X1": 0, "X2": 3 * time.Hour, "X3": 3 * time.Hour}))
	if !errors.Is(err, ErrQuorumNotMet) || !errors.Is(err, ErrCosignatureTime) ||
		!strings.Contains(err.Error(), `witness "X2" cosigned 2 hours 59 minutes in the future`) && !strings.Contains(err.Error(), `witness "X2" cosigned 3 hours in the future`) {
		t.Errorf("Verify(two from the future) = %v", err)
	}
}

func TestVerifyBundleCosignatureTime(t *testing.T) {
	f := newPolicyFixture(t)
	bf := newBundleFixture(t, 5, "X1", "X2", "X3")
	signed, err := SignCheckpoint(Checkpoint{Origin: logOrigin, Size: bf.tree.Size(), Hash: [32]byte(bf.tree.Hash())}, f.logKey)
	if err != nil {
		t.Fatal(err)
	}
	if bf.policy, err = ParsePolicy([]byte(f.expand(twoOfThree))); err != nil {
		t.Fatal(err)
	}
	bundleAt := func(offsets at) []byte {
		f.checkpnt = signed
		bf.checkpoint = f.cosignedAt(t, offsets)
		return bf.bundle(t, 2).Marshal()
	}
	clock := WithClock(fixedTime)

	vb, err := VerifyBundle(bundleAt(at{"X1": 0, "X2": -time.Hour, "X3": 3 * time.Hour}), bf.policy, clock)
	if err != nil || !reflect.DeepEqual(vb.Witnesses, []string{"X1", "X2"}) || !bytes.Equal(vb.Entry, bf.entries[2]) {
		t.Fatalf("VerifyBundle(one from the future) = %+v, %v", vb, err)
	}

	_, err = VerifyBundle(bundleAt(at{"X1": 0, "X2": 3 * time.Hour, "X3": 3 * time.Hour}), bf.policy, clock)
	if !errors.Is(err, ErrQuorumNotMet) || !errors.Is(err, ErrCosignatureTime) {
		t.Fatalf("VerifyBundle(two from the future) = %v", err)
	}
	for _, want := range []string{`witness "X2" cosigned 3 hours in the future`, `witness "X3" cosigned 3 hours in the future`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q doesn't say %q", err, want)
		}
	}

	// The max age reaches VerifyBundle too.
	old := bundleAt(at{"X1": -72 * time.Hour, "X2": -time.Hour, "X3": 0})
	if vb, err := VerifyBundle(old, bf.policy, clock); err != nil || len(vb.Witnesses) != 3 {
		t.Errorf("VerifyBundle(no max age) = %+v, %v", vb, err)
	}
	if vb, err := VerifyBundle(old, bf.policy, clock, WithMaxCosignatureAge(48*time.Hour)); err != nil || !reflect.DeepEqual(vb.Witnesses, []string{"X2", "X3"}) {
		t.Errorf("VerifyBundle(max age 48h) = %+v, %v", vb, err)
	}
	if _, err := VerifyBundle(old, bf.policy, clock, WithMaxCosignatureAge(30*time.Minute)); !errors.Is(err, ErrCosignatureTime) ||
		!strings.Contains(err.Error(), `witness "X2" cosigned 1 hour ago (at 2025-12-31T23:00:00Z), older than the maximum age of 30 minutes`) {
		t.Errorf("VerifyBundle(max age 30m) = %v", err)
	}
}

func TestApproxDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 seconds"},
		{999 * time.Millisecond, "0 seconds"},
		{time.Second, "1 second"},
		{59 * time.Second, "59 seconds"},
		{10 * time.Minute, "10 minutes"},
		{10*time.Minute + 1500*time.Millisecond, "10 minutes 1 second"},
		{time.Hour + 30*time.Second, "1 hour 30 seconds"},
		{3 * time.Hour, "3 hours"},
		{3*time.Hour + time.Minute, "3 hours 1 minute"},
		{50 * time.Hour, "2 days 2 hours"},
		{48*time.Hour + time.Second, "2 days 1 second"},
		{time.Hour + 59*time.Minute + 59*time.Second, "1 hour 59 minutes"},
		{time.Duration(-1 << 63), "106751 days 23 hours"},
		{24 * time.Hour, "1 day"},
		{-3 * time.Hour, "3 hours"},
	} {
		if got := approxDuration(tt.d); got != tt.want {
			t.Errorf("approxDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
