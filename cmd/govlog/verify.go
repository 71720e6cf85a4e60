package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

// verifyFlags are govlog verify's flags.
type verifyFlags struct {
	policyPath, registryPath, registryServer string
	filePath, promisePath                    string
	timeout                                  time.Duration
	tf                                       tlsFlags
}

func newVerifyCmd() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --policy POLICY [--file DOC] [--promise PROMISE] [BUNDLE]",
		Short: "Verify offline that a bundle's entry is in the log (and a document, a promise)",
		Long: `verify checks a c2sp.org/tlog-proof@v1 bundle with no server: the checkpoint
is signed by a log of the policy and cosigned by its witness quorum, and the
inclusion proof hashes the entry carried in the bundle up to the checkpoint's
root. It prints one line per check, ✓ passed, ✗ failed, ! not checked or
ignored, then its verdict, and exits 0 only if every check passed.

A witness's cosignature that does not verify (damaged, or forged) is
ignored, and said so, when the policy's quorum holds without it.

--file DOC checks that the document is the one the entry records: its
SHA-256 must equal the document hash in the entry's body (the "sha256" field
of a disclosure, or any other SHA-256 field a domain's body carries).

--promise PROMISE (or a promise given in place of the bundle) checks a
signed promise, what submit --wait=false answers: the log's signature on it,
and by when the entry must be in the log. With a bundle too, it checks that
the bundle's entry is the promised one and is in the log.

Without --registry, who signed the statement is NOT checked. --registry
takes a YAML registry file: the signature must verify with a key the
registry lists, and that key's agency must have held the role the
statement's type needs at the statement's time (a key revoked, or retired
before that time, does not count). --registry-server reads the registry log
itself from a server instead, every entry checked against a checkpoint
--policy accepts (the policy must list the registry log), and judges by the
registry as it stands now: a key revoked for compromise after the entry was
admitted refuses it too.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, f, args)
		},
	}
	cmd.Flags().StringVar(&f.policyPath, "policy", "", "C2SP tlog-policy file: trusted logs, witnesses, quorum")
	cmd.Flags().StringVar(&f.filePath, "file", "", "a document: check that its SHA-256 is the one the entry records")
	cmd.Flags().StringVar(&f.promisePath, "promise", "", "a signed promise of the log (from submit --wait=false) to check")
	cmd.Flags().StringVar(&f.registryPath, "registry", "", "registry file, to check who signed the statement too")
	cmd.Flags().StringVar(&f.registryServer, "registry-server", "", "gRPC address of a server of the registry log, to check who signed against the registry log itself")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for --registry-server")
	f.tf.register(cmd) // for --registry-server
	return cmd
}

// runVerify runs every check the flags and arguments ask for and prints
// the verdict; its error is the verdict when a check failed.
func runVerify(cmd *cobra.Command, f verifyFlags, args []string) error {
	if f.policyPath == "" {
		return fmt.Errorf("--policy is required: the logs and witnesses you trust")
	}
	if f.registryPath != "" && f.registryServer != "" {
		return fmt.Errorf("give --registry or --registry-server, not both")
	}
	policyText, err := os.ReadFile(f.policyPath)
	if err != nil {
		return err
	}
	policy, err := govlog.ParsePolicy(policyText)
	if err != nil {
		return fmt.Errorf("policy %s: %w", f.policyPath, err)
	}
	in, err := readVerifyInputs(f, args)
	if err != nil {
		return err
	}

	c := &checklist{w: cmd.OutOrStdout()}
	var signers *registryView
	if f.registryPath != "" || f.registryServer != "" {
		signers = loadRegistry(cmd, c, f, policy)
	}
	var proved *provedEntry
	if in.bundle != nil {
		proved = checkBundle(c, in.bundle, policy, signers)
	}
	if in.promise != nil {
		checkPromise(c, in.promise, policy, in.bundle != nil, proved)
	}
	switch {
	case proved != nil && proved.entry != nil:
		if f.filePath != "" {
			checkDocument(c, f.filePath, proved.entry)
		}
		checkAgency(c, signers, proved)
	case f.filePath != "":
		c.warn("document "+f.filePath, "NOT checked: the bundle does not prove its entry")
	}
	what := in.bundlePath
	if what == "" {
		what = in.promisePath
	}
	return c.verdict(what, proved, f.filePath)
}

// verifyInputs are the files verify checks: a bundle, a promise, or both.
type verifyInputs struct {
	bundlePath, promisePath string
	bundle, promise         []byte // nil: not given
}

// readVerifyInputs reads the bundle argument and --promise; a promise
// given in place of the bundle is read as one.
func readVerifyInputs(f verifyFlags, args []string) (verifyInputs, error) {
	in := verifyInputs{promisePath: f.promisePath}
	var err error
	if len(args) == 1 {
		in.bundlePath = args[0]
		if in.bundle, err = os.ReadFile(in.bundlePath); err != nil {
			return in, err
		}
		if in.promisePath == "" && bytes.HasPrefix(in.bundle, []byte(govlog.PromiseFormat+"\n")) {
			in.promisePath, in.promise, in.bundlePath, in.bundle = in.bundlePath, in.bundle, "", nil
		}
	}
	if in.promisePath != "" && in.promise == nil {
		if in.promise, err = os.ReadFile(in.promisePath); err != nil {
			return in, err
		}
	}
	switch {
	case in.bundle == nil && in.promise == nil:
		return in, fmt.Errorf("give a bundle to verify (or --promise PROMISE)")
	case in.bundle == nil && f.filePath != "":
		return in, fmt.Errorf("--file needs the entry's bundle: a promise carries only the entry's leaf hash, not its document hash")
	}
	return in, nil
}

// A checklist prints one line per check, ✓ passed, ✗ failed or ! not
// checked (or ignored), and keeps why the first check failed for the
// verdict.
type checklist struct {
	w         io.Writer
	firstFail string          // "" while every check passed
	promised  *govlog.Promise // the promise whose signature held, for the verdict
}

func (c *checklist) pass(check, format string, args ...any) {
	fmt.Fprintf(c.w, "✓ %s: %s\n", check, fmt.Sprintf(format, args...))
}

func (c *checklist) fail(check, format string, args ...any) {
	why := fmt.Sprintf(format, args...)
	fmt.Fprintf(c.w, "✗ %s: %s\n", check, why)
	if c.firstFail == "" {
		c.firstFail = check + ": " + why
	}
}

func (c *checklist) warn(check, format string, args ...any) {
	fmt.Fprintf(c.w, "! %s: %s\n", check, fmt.Sprintf(format, args...))
}

// verdict prints the one-line verdict if every check passed, or returns it
// as the error.
func (c *checklist) verdict(what string, proved *provedEntry, filePath string) error {
	if c.firstFail != "" {
		return fmt.Errorf("%s does NOT verify: %s", what, c.firstFail)
	}
	switch {
	case proved != nil:
		cp := proved.checkpoint
		msg := fmt.Sprintf("OK: entry %d of %s is in the log, proved at tree size %d (root %x)", proved.index, cp.Origin, cp.Size, cp.Hash)
		if filePath != "" {
			msg += fmt.Sprintf("; %s is the document it records", filePath)
		}
		fmt.Fprintln(c.w, msg)
	case c.promised != nil:
		fmt.Fprintf(c.w, "OK: %s promised to include the entry with leaf hash %x by %s\n",
			c.promised.Origin, c.promised.LeafHash, c.promised.Deadline.Format(time.RFC3339))
	}
	return nil
}

// A provedEntry is what the bundle checks established: entry is nil unless
// the inclusion proof held, and the checkpoint is the policy's.
type provedEntry struct {
	checkpoint govlog.Checkpoint
	index      uint64
	entry      []byte
	witnesses  []string
	cosignedAt []time.Time
}

// checkBundle checks the bundle's checkpoint (the log's signature, the
// witnesses' cosignatures, the quorum) and its inclusion proof. It returns
// nil if the checkpoint is not one the policy accepts.
func checkBundle(c *checklist, data []byte, policy *govlog.Policy, signers *registryView) *provedEntry {
	b, err := govlog.ParseBundle(data)
	if err != nil {
		c.fail("bundle", "not a readable proof bundle (c2sp.org/tlog-proof): %v", err)
		return nil
	}
	if len(b.Extra) == 0 {
		c.fail("bundle", "it carries no entry (no extra line)")
		return nil
	}
	describeStatement(c.w, b.Extra)
	v, err := policy.VerifyCheckpoint(b.Checkpoint)
	if v == nil {
		checkpointFailure(c, b.Checkpoint, err)
		return nil
	}
	cp := v.Checkpoint
	c.pass("log signature", "the checkpoint of %s at tree size %d is signed by the log's key in the policy", cp.Origin, cp.Size)
	reportWitnesses(c, v, err)
	p := &provedEntry{checkpoint: cp, index: b.Index, witnesses: v.Witnesses, cosignedAt: v.CosignedAt}
	if checkInclusion(c, b, cp, signers) {
		p.entry = b.Extra
	}
	return p
}

// checkpointFailure says why the policy refused the checkpoint itself.
func checkpointFailure(c *checklist, checkpoint []byte, err error) {
	origin := unverifiedOrigin(checkpoint)
	switch {
	case errors.Is(err, govlog.ErrUnknownLog):
		c.fail("log signature", "the checkpoint is from the log %s, which the policy does not list: it does not trust that log", printable(origin))
	case errors.Is(err, govlog.ErrCheckpointSignature):
		c.fail("log signature", "the checkpoint is NOT validly signed by the key the policy lists for %s: it was changed after signing, or signed by another key (%v)", printable(origin), err)
	default:
		c.fail("checkpoint", "%v", err)
	}
}

// unverifiedOrigin returns the first line of a note's text, unverified,
// to name the log in a message.
func unverifiedOrigin(signed []byte) string {
	_, err := note.Open(signed, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return "(unreadable)"
	}
	origin, _, _ := strings.Cut(unverified.Note.Text, "\n")
	return origin
}

// reportWitnesses says which witnesses counted, which signature lines did
// not and why, and whether the quorum holds (quorumErr nil).
func reportWitnesses(c *checklist, v *govlog.CheckpointVerification, quorumErr error) {
	held, heldThem := "the quorum holds without it", "the quorum holds without them"
	if quorumErr != nil {
		held, heldThem = "not counted", "not counted"
	}
	for _, nc := range v.NotCounted {
		what := "its cosignature does NOT verify with its key in the policy (damaged, or forged in its name)"
		if errors.Is(nc.Err, govlog.ErrCosignatureTime) {
			what = fmt.Sprintf("its cosignature does not count: %v", nc.Err)
		}
		c.warn("witness "+printable(nc.Witness), "%s; ignored: %s", what, held)
	}
	if len(v.Ignored) > 0 {
		c.warn("ignored", "%d signature line(s) by no key of the policy (%s): damaged, or by witnesses it does not list; %s",
			len(v.Ignored), printable(strings.Join(v.Ignored, ", ")), heldThem)
	}
	switch {
	case quorumErr != nil:
		counted := "no witness"
		if len(v.Witnesses) > 0 {
			counted = "only " + strings.Join(v.Witnesses, ", ")
		}
		c.fail("witnesses", "the policy's quorum is NOT met: %s counted (%v)", counted, quorumErr)
	case len(v.Witnesses) == 0:
		c.pass("witnesses", "none required by the policy")
	default:
		c.pass("witnesses", "cosigned by %s: the policy's quorum is met", strings.Join(v.Witnesses, ", "))
	}
}

// checkInclusion checks that the entry and the proof hash up to the
// checkpoint's root, and on a mismatch says which part is to blame when
// it can tell: an entry that is no statement for the log, or, with a
// registry, whose agency's signature does or does not verify.
func checkInclusion(c *checklist, b *govlog.Bundle, cp govlog.Checkpoint, signers *registryView) bool {
	err := b.VerifyInclusion(cp)
	var mismatch *govlog.RootMismatchError
	switch {
	case err == nil:
		c.pass("inclusion proof", "entry %d is in the log's tree of size %d: the entry (leaf hash %x) and the proof hash to the checkpoint's root %x",
			b.Index, cp.Size, govlog.LeafHash(b.Extra), cp.Hash)
		return true
	case !errors.As(err, &mismatch):
		c.fail("inclusion proof", "%v", err)
		return false
	}
	roots := fmt.Sprintf("with the proof they hash to root %x, but the checkpoint's root is %x", mismatch.Computed, mismatch.Checkpoint)
	switch signedAsIs(b.Extra, cp.Origin, signers) {
	case entryChanged:
		c.fail("entry", "its bytes were changed after it was signed: its signature does NOT verify with %s (%s)", signers.where, roots)
	case entryIntact:
		c.pass("entry", "its signature verifies with %s: its bytes are as its signer signed them", signers.where)
		c.fail("inclusion proof", "the entry and the proof hash to root %x, but the checkpoint's root is %x: the proof or its index was changed after the log made this bundle",
			mismatch.Computed, mismatch.Checkpoint)
	default:
		if statementOrigin(b.Extra) != cp.Origin {
			// An entry of a govlog log is always a statement for that log.
			c.fail("entry", "its bytes are not a well-formed statement for %s: changed after the log made this bundle (%s)", cp.Origin, roots)
			return false
		}
		c.fail("inclusion proof", "the entry and the proof hash to root %x, but the checkpoint's root is %x: the entry, its index or the proof was changed after the log made this bundle",
			mismatch.Computed, mismatch.Checkpoint)
	}
	return false
}

// What the registry says of an entry's bytes.
const (
	entryUnknown = iota // no registry, or no registry key signed it
	entryIntact         // a registry key's signature verifies
	entryChanged        // a registry key's signature does not verify
)

// signedAsIs tells, with the registry of verify --registry, whether an
// entry's bytes are as its agency signed them.
func signedAsIs(entry []byte, origin string, signers *registryView) int {
	if signers == nil || signers.reg == nil {
		return entryUnknown
	}
	d, err := newDomain(path.Base(origin))
	if err != nil {
		return entryUnknown
	}
	opened, err := signers.reg.Open(entry, origin, d)
	switch {
	case errors.Is(err, govlog.ErrBadSignature):
		return entryChanged
	case err == nil && len(opened.Sigs) > 0:
		return entryIntact
	}
	return entryUnknown
}

// statementOrigin returns the origin line of a well-formed statement's
// text, or "".
func statementOrigin(entry []byte) string {
	lines, ok := statementLines(entry)
	if !ok {
		return ""
	}
	var st map[string]json.RawMessage
	if json.Unmarshal([]byte(lines[2]), &st) != nil {
		return ""
	}
	return lines[1]
}

// statementLines returns the three lines of a statement's text, unverified.
func statementLines(entry []byte) ([]string, bool) {
	text, _, ok := bytes.Cut(entry, []byte("\n\n"))
	lines := strings.Split(string(text), "\n")
	if !ok || len(lines) != 3 || lines[0] != govlog.StatementFormat {
		return nil, false
	}
	return lines, true
}

// checkPromise checks a signed promise: the log's signature, what it
// promises, and, given a bundle (withBundle) and what it proved, that it
// is the promised entry and in the log.
func checkPromise(c *checklist, data []byte, policy *govlog.Policy, withBundle bool, proved *provedEntry) {
	p, ok := openPromise(c, data, policy)
	if !ok {
		return
	}
	c.promised = &p
	deadline := p.Deadline.Format(time.RFC3339)
	c.pass("promise", "%s promised to include the entry with leaf hash %x in the log by %s", p.Origin, p.LeafHash, deadline)
	if !withBundle {
		c.warn("promise kept", "NOT checked: the promise alone does not show the entry is in the log; get its bundle (govlog prove --server ADDR --log %s --hash %s --out entry.bundle) and give it too",
			path.Base(p.Origin), base64.StdEncoding.EncodeToString(p.LeafHash[:]))
		if time.Now().After(p.Deadline) {
			c.warn("promise deadline", "passed at %s: if the log does not hold the entry now, this signed promise is public evidence that it broke its word", deadline)
		}
		return
	}
	if proved == nil || proved.entry == nil {
		c.fail("promise kept", "NOT shown: the bundle does not prove its entry")
		return
	}
	if leaf := govlog.LeafHash(proved.entry); leaf != p.LeafHash || proved.checkpoint.Origin != p.Origin {
		c.fail("entry", "the bundle's entry (leaf hash %x in %s) is NOT the promised one (leaf hash %x in %s): another entry, or its bytes were changed",
			leaf, proved.checkpoint.Origin, p.LeafHash, p.Origin)
		return
	}
	c.pass("promise kept", "the promised entry is in the log, entry %d", proved.index)
	reportPromiseTime(c, p, proved)
}

// openPromise checks the log's signature on a promise with the policy's
// key for its log.
func openPromise(c *checklist, data []byte, policy *govlog.Policy) (govlog.Promise, bool) {
	origin := ""
	if lines := strings.SplitN(string(data), "\n", 3); len(lines) == 3 && lines[0] == govlog.PromiseFormat {
		origin = lines[1]
	} else {
		c.fail("promise", "not a signed promise (%s)", govlog.PromiseFormat)
		return govlog.Promise{}, false
	}
	var lastErr error
	for _, v := range policy.Logs() {
		if v.Name() != origin {
			continue
		}
		p, err := govlog.OpenPromise(data, v)
		if err == nil {
			c.pass("promise signature", "signed by the key the policy lists for %s", origin)
			return p, true
		}
		lastErr = err
	}
	switch {
	case lastErr == nil:
		c.fail("promise signature", "the promise is from the log %s, which the policy does not list: it does not trust that log", printable(origin))
	case errors.Is(lastErr, govlog.ErrPromiseSignature):
		c.fail("promise signature", "the promise is NOT validly signed by the key the policy lists for %s: it was changed after signing, or signed by another key", printable(origin))
	default:
		c.fail("promise", "%v", lastErr)
	}
	return govlog.Promise{}, false
}

// reportPromiseTime says whether the bundle shows the entry was in the
// log by the promise's deadline: a witness cosigned a checkpoint holding
// it by then.
func reportPromiseTime(c *checklist, p govlog.Promise, proved *provedEntry) {
	if len(proved.cosignedAt) == 0 {
		c.warn("promise deadline", "NOT checked: the bundle's checkpoint carries no witness's cosignature time")
		return
	}
	first := slices.MinFunc(proved.cosignedAt, func(a, b time.Time) int { return a.Compare(b) })
	w := proved.witnesses[slices.IndexFunc(proved.cosignedAt, first.Equal)]
	if !first.After(p.Deadline) {
		c.pass("promise deadline", "kept: %s cosigned a checkpoint holding the entry at %s, by the deadline %s",
			w, first.Format(time.RFC3339), p.Deadline.Format(time.RFC3339))
		return
	}
	c.warn("promise deadline", "NOT shown: this bundle's checkpoint was first cosigned at %s, after the deadline %s; a bundle from an earlier checkpoint may show it was in time",
		first.Format(time.RFC3339), p.Deadline.Format(time.RFC3339))
}

// checkDocument checks that the file's SHA-256 is a document hash the
// entry's body records.
func checkDocument(c *checklist, filePath string, entry []byte) {
	check := "document " + filePath
	data, err := os.ReadFile(filePath)
	if err != nil {
		c.fail(check, "can't be read: %v", err)
		return
	}
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	fields := documentHashes(entry)
	if len(fields) == 0 {
		c.fail(check, "its SHA-256 is %s, but the entry records no document SHA-256 to check it against", got)
		return
	}
	for _, f := range fields {
		if f.hash == got {
			c.pass(check, "its SHA-256 %s matches the entry's %s: it is the document the entry records", got, f.path)
			return
		}
	}
	var recorded []string
	for _, f := range fields {
		recorded = append(recorded, fmt.Sprintf("%s %s", f.path, f.hash))
	}
	c.fail(check, "does NOT match: its SHA-256 is %s, but the entry records %s: this is not the document the entry records (or it was changed)",
		got, strings.Join(recorded, ", "))
}

// A hashField is a SHA-256 in a statement's body and where it is.
type hashField struct{ path, hash string }

// documentHashes returns the SHA-256 values (64 lowercase hex digits) in
// the statement's body, at any depth, fields named "sha256" first. Domains
// name a document's hash as they see fit ("sha256" in disclosures, a
// ruleset's field name such as "site_plan" in approvals), so every such
// field is a candidate; the message names the one that matched.
func documentHashes(entry []byte) []hashField {
	lines, ok := statementLines(entry)
	if !ok {
		return nil
	}
	var st struct {
		Body any `json:"body"`
	}
	if json.Unmarshal([]byte(lines[2]), &st) != nil {
		return nil
	}
	var out []hashField
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case string:
			if body.ValidSHA256(v) {
				out = append(out, hashField{path: path, hash: v})
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(strings.TrimPrefix(path+"."+k, "."), v[k])
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", st.Body)
	sort.SliceStable(out, func(i, j int) bool {
		return lastName(out[i].path) == "sha256" && lastName(out[j].path) != "sha256"
	})
	return out
}

// lastName is the last member name of a path such as "a.b[2].c".
func lastName(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		path = path[i+1:]
	}
	return path
}

// A registryView is the registry verify --registry or --registry-server
// judges signers by: reg, read from where, or why it could not be read.
type registryView struct {
	reg   *registry.Registry
	where string
	err   error
}

// loadRegistry reads the registry of --registry or --registry-server.
func loadRegistry(cmd *cobra.Command, c *checklist, f verifyFlags, policy *govlog.Policy) *registryView {
	if f.registryPath != "" {
		reg, err := registry.Load(f.registryPath)
		if err != nil {
			return &registryView{err: fmt.Errorf("NOT checked: the registry %s can't be read: %w", f.registryPath, err)}
		}
		return &registryView{reg: reg, where: f.registryPath}
	}
	d, err := f.tf.dialer()
	if err != nil {
		return &registryView{err: fmt.Errorf("NOT checked: %w", err)}
	}
	reg, where, err := readRegistryLog(cmd, d, f.registryServer, policy, f.timeout)
	if err != nil {
		return &registryView{err: fmt.Errorf("the entry is in the log, but the registry could not be read: %w", err)}
	}
	fmt.Fprintf(c.w, "registry: %s\n", where)
	return &registryView{reg: reg, where: where}
}

// checkAgency checks who signed the statement against the registry of
// --registry or --registry-server, or says that it was not checked.
func checkAgency(c *checklist, signers *registryView, proved *provedEntry) {
	switch {
	case signers == nil:
		c.warn("agency signature", "NOT checked: this says the entry is in the log, not who signed it; to check that the agency's key signed it and held the role, add --registry REGISTRY.yaml (or --registry-server ADDR)")
	case signers.err != nil:
		c.fail("agency signature", "%v", signers.err)
	default:
		checkSigner(c, proved, signers.reg, signers.where)
	}
}

// describeStatement prints what a statement says, without vouching for its
// signature (verify --registry does that).
func describeStatement(w io.Writer, entry []byte) {
	lines, ok := statementLines(entry)
	if !ok {
		fmt.Fprintln(w, "entry: not a govlog statement")
		return
	}
	var st struct {
		Type string          `json:"type"`
		Time string          `json:"time"`
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &st); err != nil {
		fmt.Fprintln(w, "entry: unreadable statement JSON")
		return
	}
	fmt.Fprintf(w, "statement: %s at %s\nbody: %s\n", printable(st.Type), printable(st.Time), printable(string(st.Body)))
}

// printable escapes, as \uXXXX, what a terminal would not show as it is:
// control characters and the bidirectional formatting characters that
// reorder text on screen, so that a bundle prints what it holds.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || body.IsBidiControl(r) || !unicode.IsPrint(r) && r != ' ' {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// signerNames lists the key names of sigs, or of lines.
func signerNames(sigs []note.Signature, lines []rule.Signature) string {
	var names []string
	for _, s := range sigs {
		names = append(names, s.Name)
	}
	for _, l := range lines {
		names = append(names, fmt.Sprintf("%s+%08x", l.Name, l.KeyHash))
	}
	return strings.Join(names, ", ")
}

// checkSigner checks, for verify --registry, that the registry authorizes
// the signer of the proved entry as the log's admission server did: its
// key, not revoked nor retired by the statement's time, and its agency's
// role then.
func checkSigner(c *checklist, proved *provedEntry, reg *registry.Registry, registryPath string) {
	origin := proved.checkpoint.Origin
	d, err := newDomain(path.Base(origin))
	if err != nil {
		c.fail("agency signature", "the entry is in the log, but who may sign it is unknown: log %s: %v", origin, err)
		return
	}
	opened, err := reg.Open(proved.entry, origin, d)
	if err != nil {
		c.fail("agency signature", "the entry is in the log, but its signature does NOT verify with %s: %v", registryPath, err)
		return
	}
	e := opened.Entry
	role, err := d.RequiredRole(e.Type)
	if err != nil {
		c.fail("agency signature", "the entry is in the log, but %v", err)
		return
	}
	if role == rule.SelfSigned {
		c.warn("signer", "%s, a key of the signer's own that the %s rules check; the registry lists none",
			signerNames(nil, e.Signatures), d.Log())
		return
	}
	c.pass("agency signature", "valid, by %s", signerNames(opened.Sigs, nil))
	at := e.Time.UTC().Format(time.RFC3339)
	signers, err := reg.AuthorizeAt(reg.Size(), opened.Sigs, role, e.Time)
	if err != nil {
		c.fail("authorized", "the entry is in the log, but %s does NOT authorize its signer for %s at %s: %v", registryPath, e.Type, at, err)
		return
	}
	c.pass("authorized", "%s held the role %s at %s", signers.Agency, role, at)
	for _, o := range signers.Officials {
		fmt.Fprintf(c.w, "official: %s, a registered official of %s, co-signed\n", o, signers.Agency)
	}
}

// readRegistryLog reads the registry log from server, checked against a
// checkpoint policy accepts, and replays it.
func readRegistryLog(cmd *cobra.Command, d client.Dialer, server string, policy *govlog.Policy, timeout time.Duration) (*registry.Registry, string, error) {
	c, err := d.Dial(server)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	cp, entries, err := c.AllEntries(ctx, policy, registry.LogName)
	if err != nil {
		return nil, "", err
	}
	reg, err := registry.Replay(cp.Origin, entries)
	if err != nil {
		return nil, "", err
	}
	return reg, fmt.Sprintf("the registry log %s (%d entries, proved by its checkpoint)", cp.Origin, cp.Size), nil
}
