package main

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/internal/hammer"
)

// TestHammerDev runs a short hammer against a dev server started from the
// real binary: it must find nothing wrong, and must have exercised every
// kind of submission.
func TestHammerDev(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev server")
	}
	tmp := t.TempDir()
	addr := freeAddr(t)
	data := filepath.Join(tmp, "gl")
	bin := filepath.Join(tmp, "govlog")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dev := exec.CommandContext(ctx, bin, "dev", "--data", data, "--listen", addr)
	var devOut lockedBuffer
	dev.Stdout, dev.Stderr = &devOut, &devOut
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); dev.Wait() }()
	waitReady(t, &devOut, addr)
	if err := waitGenesis(addr, filepath.Join(data, "registry.yaml"), time.Minute); err != nil {
		t.Fatalf("%v\ndev server:\n%s", err, devOut.String())
	}
	// dev says ready once it has written its demo statements (the
	// donations campaign the hammer gives to).
	for deadline := time.Now().Add(time.Minute); !strings.Contains(devOut.String(), "\nready\n"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("dev never said ready:\n%s", devOut.String())
		}
	}

	h := exec.Command(bin, "hammer", "--server", addr, "--data", data, "--duration", "5s", "--clients", "8", "--seed", "7")
	var stdout, stderr lockedBuffer
	h.Stdout, h.Stderr = &stdout, &stderr
	err := h.Run()
	t.Logf("hammer stdout:\n%s\nhammer stderr:\n%s", stdout.String(), stderr.String())
	if err != nil {
		t.Fatalf("hammer: %v", err)
	}
	m := regexp.MustCompile(`(?m)^TOTAL\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatal("hammer printed no TOTAL row")
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	sent, admitted, dups, refused, conflictsOK, conflicts, promises, bundles, lost := n(1), n(2), n(3), n(4), n(5), n(6), n(7), n(8), n(9)
	if sent == 0 || admitted == 0 || dups == 0 || refused == 0 || conflicts == 0 || promises == 0 || bundles == 0 {
		t.Errorf("the run did not exercise everything: sent %d admitted %d duplicates %d refused %d conflicts %d promises %d bundles %d",
			sent, admitted, dups, refused, conflicts, promises, bundles)
	}
	if conflictsOK != conflicts {
		t.Errorf("%d of %d conflict pairs had exactly one admitted", conflictsOK, conflicts)
	}
	if lost != 0 {
		t.Errorf("lost %d", lost)
	}
	for _, code := range []string{"Unauthenticated=", "InvalidArgument=", "AlreadyExists=", "FailedPrecondition="} {
		if !strings.Contains(stdout.String(), code) {
			t.Errorf("no refusal %s in the table", code)
		}
	}
	// Every log has its row, and each admitted and refused something:
	// approvals (an unknown kind, a field of the wrong type: both
	// InvalidArgument), identity (an access for another purpose,
	// FailedPrecondition; a grant not signed by its subject,
	// Unauthenticated) and votes included.
	for _, l := range hammer.Logs {
		row := regexp.MustCompile(`(?m)^` + l + `\s+(\d+)\s+(\d+)\s+\d+\s+(\d+)\s.*$`).FindStringSubmatch(stdout.String())
		if row == nil {
			t.Errorf("no row for %s", l)
			continue
		}
		if row[2] == "0" || row[3] == "0" {
			t.Errorf("%s: nothing admitted or nothing refused: %s", l, row[0])
		}
		switch l {
		case hammer.LogApprovals:
			if !strings.Contains(row[0], "InvalidArgument=") {
				t.Errorf("approvals refused nothing as InvalidArgument: %s", row[0])
			}
		case hammer.LogIdentity:
			for _, code := range []string{"FailedPrecondition=", "Unauthenticated="} {
				if !strings.Contains(row[0], code) {
					t.Errorf("identity refused nothing as %s: %s", code, row[0])
				}
			}
		case hammer.LogVotes:
			// A bad token (Unauthenticated), an option not in the
			// election (InvalidArgument), a ballot not signed by its
			// token's key (PermissionDenied), the losing ballot of two
			// with one token (FailedPrecondition); and the pairs.
			for _, code := range []string{"Unauthenticated=", "InvalidArgument=", "PermissionDenied=", "FailedPrecondition="} {
				if !strings.Contains(row[0], code) {
					t.Errorf("votes refused nothing as %s: %s", code, row[0])
				}
			}
			if c := regexp.MustCompile(`\s(\d+)/(\d+)\s`).FindStringSubmatch(row[0]); c == nil || c[2] == "0" || c[1] != c[2] {
				t.Errorf("votes: no conflicting ballots, or not each won once: %s", row[0])
			}
		}
	}
}

// fakeLog is a server that has no entry at all.
type fakeLog struct {
	present map[[32]byte]bool // leaf hashes BundleByHash claims to have
}

func (f *fakeLog) Submit(context.Context, string, []byte, bool) (*client.Submitted, error) {
	return nil, errors.New("not in this test")
}
func (f *fakeLog) Checkpoint(context.Context, string) ([]byte, error) {
	return nil, status.Error(codes.Unavailable, "no checkpoint")
}
func (f *fakeLog) BundleByHash(_ context.Context, _ string, h [32]byte) ([]byte, error) {
	if f.present[h] {
		return []byte("not a bundle"), nil
	}
	return nil, status.Error(codes.NotFound, "entry not found")
}
func (f *fakeLog) ConsistencyProof(context.Context, string, uint64, uint64) ([][]byte, error) {
	return nil, status.Error(codes.Unimplemented, "no")
}

// hammerTestLog makes a log key for the disclosures origin and a policy
// that trusts it.
func hammerTestLog(t *testing.T) (note.Signer, *govlog.Policy) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(nil, "gov.example/disclosures")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	text, err := govlog.FormatPolicy([]string{vkey}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := govlog.ParsePolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	return signer, policy
}

// TestHammerLostPromise: a promise, validly signed by the log, for a leaf
// the log does not have, whose deadline has passed, is a loss.
func TestHammerLostPromise(t *testing.T) {
	signer, policy := hammerTestLog(t)
	stmt := []byte("a statement never submitted")
	leaf := govlog.LeafHash(stmt)
	promise, err := govlog.Promise{Origin: "gov.example/disclosures", LeafHash: leaf, Deadline: time.Now().Add(-time.Minute)}.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	rep := hammer.Check(t.Context(), hammer.CheckInput{
		API: &fakeLog{}, Policy: policy,
		Origins: map[string]string{hammer.LogDisclosures: "gov.example/disclosures"},
		Receipts: []*hammer.Receipt{{
			Log: hammer.LogDisclosures, Kind: hammer.KindValid, WantCode: codes.OK, Signed: stmt, LeafHash: leaf,
			Code: codes.OK, Promise: promise,
		}},
		PollEvery: 10 * time.Millisecond,
	})
	if rep.OK() || rep.Lost() != 1 {
		t.Fatalf("a promise past its deadline, its leaf absent: lost %d, problems %q; want 1 lost", rep.Lost(), rep.Problems)
	}
	if !strings.Contains(strings.Join(rep.Problems, "\n"), "LOST") {
		t.Errorf("problems do not say LOST: %q", rep.Problems)
	}
	var out strings.Builder
	rep.WriteTable(&out)
	if !regexp.MustCompile(`(?m)^TOTAL(\s+\d+){3}\s+\d+\s+\d+/\d+\s+\d+\s+\d+\s+1\s`).MatchString(out.String()) {
		t.Errorf("the table does not show 1 lost:\n%s", out.String())
	}

	// The same promise with its deadline ahead is not lost yet: Check
	// waits for it, and gives up (a problem, not a loss) when its context
	// ends.
	promise, err = govlog.Promise{Origin: "gov.example/disclosures", LeafHash: leaf, Deadline: time.Now().Add(time.Hour)}.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	rep = hammer.Check(ctx, hammer.CheckInput{
		API: &fakeLog{}, Policy: policy,
		Origins:   map[string]string{hammer.LogDisclosures: "gov.example/disclosures"},
		Receipts:  []*hammer.Receipt{{Log: hammer.LogDisclosures, Kind: hammer.KindValid, Signed: stmt, LeafHash: leaf, Code: codes.OK, Promise: promise}},
		PollEvery: 10 * time.Millisecond,
	})
	if rep.Lost() != 0 || rep.OK() {
		t.Errorf("a promise not yet due: lost %d, problems %q; want 0 lost and an unchecked problem", rep.Lost(), rep.Problems)
	}
}

// TestHammerChecksRefusalsAndConflicts: a refused statement the log has
// anyway, a conflict won twice, and a duplicate not answered as one are
// each a problem.
func TestHammerChecksRefusalsAndConflicts(t *testing.T) {
	_, policy := hammerTestLog(t)
	leaf := func(s string) [32]byte { return govlog.LeafHash([]byte(s)) }
	refused := &hammer.Receipt{Log: hammer.LogDisclosures, Kind: hammer.KindBadSig, WantCode: codes.Unauthenticated,
		Signed: []byte("r"), LeafHash: leaf("r"), Code: codes.Unauthenticated}
	absent := &hammer.Receipt{Log: hammer.LogDisclosures, Kind: hammer.KindOrigin, WantCode: codes.InvalidArgument,
		Signed: []byte("a"), LeafHash: leaf("a"), Code: codes.InvalidArgument}
	// Both of a pair admitted (wait=true with no bundle: each also fails
	// its bundle check), and a pair refused twice.
	won1 := &hammer.Receipt{Log: hammer.LogFunds, Kind: hammer.KindConflict, Pair: 1, Signed: []byte("c1"), LeafHash: leaf("c1"), Code: codes.OK, Wait: true}
	won2 := &hammer.Receipt{Log: hammer.LogFunds, Kind: hammer.KindConflict, Pair: 1, Signed: []byte("c2"), LeafHash: leaf("c2"), Code: codes.OK, Wait: true}
	lost1 := &hammer.Receipt{Log: hammer.LogFunds, Kind: hammer.KindConflict, Pair: 2, Signed: []byte("c3"), LeafHash: leaf("c3"), Code: codes.FailedPrecondition}
	lost2 := &hammer.Receipt{Log: hammer.LogFunds, Kind: hammer.KindConflict, Pair: 2, Signed: []byte("c4"), LeafHash: leaf("c4"), Code: codes.FailedPrecondition}
	rep := hammer.Check(t.Context(), hammer.CheckInput{
		API: &fakeLog{present: map[[32]byte]bool{leaf("r"): true}}, Policy: policy,
		Origins:  map[string]string{hammer.LogDisclosures: "gov.example/disclosures", hammer.LogFunds: "gov.example/funds"},
		Receipts: []*hammer.Receipt{refused, absent, won1, won2, lost1, lost2},
	})
	all := strings.Join(rep.Problems, "\n")
	for _, want := range []string{
		"the refused bad-signature statement " + strings.TrimSpace(shortHash(leaf("r"))) + " (Unauthenticated) is in the log",
		"conflict pair 1 had 2 of 2 admitted",
		"conflict pair 2 had 0 of 2 admitted",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, shortHash(leaf("a"))+" (InvalidArgument) is in the log") {
		t.Errorf("an absent refusal was reported present:\n%s", all)
	}
}

func shortHash(h [32]byte) string {
	const hexdigits = "0123456789abcdef"
	var b strings.Builder
	for _, c := range h[:6] {
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}

// TestHammerDuplicateAnswers: a duplicate must get its first receipt
// again: a promise with another deadline, or a bundle at another index, is
// a problem.
func TestHammerDuplicateAnswers(t *testing.T) {
	signer, policy := hammerTestLog(t)
	stmt := []byte("a statement")
	leaf := govlog.LeafHash(stmt)
	promise := func(d time.Time) []byte {
		p, err := govlog.Promise{Origin: "gov.example/disclosures", LeafHash: leaf, Deadline: d}.Sign(signer)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	due := time.Now().Add(-time.Minute).Truncate(time.Second)
	first := &hammer.Receipt{Log: hammer.LogDisclosures, Kind: hammer.KindValid, WantCode: codes.OK, Signed: stmt, LeafHash: leaf,
		Code: codes.OK, Promise: promise(due)}
	again := &hammer.Receipt{Log: hammer.LogDisclosures, Kind: hammer.KindDuplicate, WantCode: codes.OK, Signed: stmt, LeafHash: leaf,
		Code: codes.OK, Duplicate: true, Promise: promise(due.Add(time.Second)), DupOf: first}
	same := &hammer.Receipt{Log: hammer.LogDisclosures, Kind: hammer.KindDuplicate, WantCode: codes.OK, Signed: stmt, LeafHash: leaf,
		Code: codes.OK, Duplicate: true, Promise: promise(due), DupOf: first}
	check := func(rs ...*hammer.Receipt) string {
		rep := hammer.Check(t.Context(), hammer.CheckInput{
			API: &fakeLog{}, Policy: policy, Receipts: rs, PollEvery: 10 * time.Millisecond,
			Origins: map[string]string{hammer.LogDisclosures: "gov.example/disclosures"},
		})
		return strings.Join(rep.Problems, "\n")
	}
	want := "a duplicate of " + shortHash(leaf) + " was promised by"
	if got := check(first, again); !strings.Contains(got, want) {
		t.Errorf("a duplicate promised another deadline: problems lack %q:\n%s", want, got)
	}
	if got := check(first, same); strings.Contains(got, want) {
		t.Errorf("a duplicate promised the same deadline was reported:\n%s", got)
	}
}

// bundleLog is a log whose only entry is one statement: BundleByHash
// serves its bundle.
type bundleLog struct {
	fakeLog
	bundle []byte
}

func (b *bundleLog) BundleByHash(context.Context, string, [32]byte) ([]byte, error) {
	return b.bundle, nil
}

// TestHammerPromiseSeenInTime: a promise is judged by when the hammer first
// saw a checkpoint including its entry, not by when the final check asks
// (a long run checks promises made long before); and a statement sent
// again after an unknown outcome may be answered as the duplicate of its
// own first sending.
func TestHammerPromiseSeenInTime(t *testing.T) {
	signer, policy := hammerTestLog(t)
	stmt := []byte("the one entry")
	leaf := govlog.LeafHash(stmt)
	cp, err := govlog.SignCheckpoint(govlog.Checkpoint{Origin: "gov.example/disclosures", Size: 1, Hash: leaf}, signer)
	if err != nil {
		t.Fatal(err)
	}
	api := &bundleLog{bundle: (&govlog.Bundle{Extra: stmt, Index: 0, Checkpoint: cp}).Marshal()}
	due := time.Now().Add(-time.Minute).Truncate(time.Second)
	promise, err := govlog.Promise{Origin: "gov.example/disclosures", LeafHash: leaf, Deadline: due}.Sign(signer)
	if err != nil {
		t.Fatal(err)
	}
	check := func(seenAt func(string, uint64) (time.Time, bool), r *hammer.Receipt) *hammer.Report {
		return hammer.Check(t.Context(), hammer.CheckInput{
			API: api, Policy: policy, Receipts: []*hammer.Receipt{r}, SeenAt: seenAt, PollEvery: 10 * time.Millisecond,
			Origins: map[string]string{hammer.LogDisclosures: "gov.example/disclosures"},
		})
	}
	receipt := func() *hammer.Receipt {
		return &hammer.Receipt{Log: hammer.LogDisclosures, Kind: hammer.KindValid, WantCode: codes.OK, Signed: stmt, LeafHash: leaf,
			Code: codes.OK, Promise: promise}
	}
	at := func(t time.Time) func(string, uint64) (time.Time, bool) {
		return func(string, uint64) (time.Time, bool) { return t, true }
	}
	if rep := check(at(due.Add(-time.Minute)), receipt()); !rep.OK() || rep.Logs[0].PromisesChecked != 1 {
		t.Errorf("seen a minute before its deadline: problems %q, promises checked %d; want kept", rep.Problems, rep.Logs[0].PromisesChecked)
	}
	if rep := check(at(due.Add(30*time.Second)), receipt()); rep.Lost() != 1 {
		t.Errorf("first seen 30 s after its deadline: lost %d, problems %q; want lost", rep.Lost(), rep.Problems)
	}
	if rep := check(nil, receipt()); rep.Lost() != 1 {
		t.Errorf("found only now, past its deadline: lost %d; want lost", rep.Lost())
	}

	resent := receipt()
	resent.Duplicate, resent.Resent = true, 2
	if rep := check(at(due.Add(-time.Minute)), resent); !rep.OK() || rep.Logs[0].Admitted != 1 {
		t.Errorf("sent again after an unknown outcome and answered duplicate: problems %q, admitted %d; want admitted once", rep.Problems, rep.Logs[0].Admitted)
	}
	fresh := receipt()
	fresh.Duplicate = true
	if rep := check(at(due.Add(-time.Minute)), fresh); !strings.Contains(strings.Join(rep.Problems, "\n"), "was answered as a duplicate") {
		t.Errorf("a fresh statement sent once and answered duplicate: problems %q", rep.Problems)
	}
}
