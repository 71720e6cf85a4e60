package govlog

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Errors about witness policies and checkpoints verified against them, each
// wrapped with detail.
var (
	// ErrMalformedPolicy means a policy file breaks a rule of tlog-policy.
	ErrMalformedPolicy = errors.New("malformed policy")
	// ErrUnknownLog means the checkpoint's origin is not a log of the policy.
	ErrUnknownLog = errors.New("checkpoint from a log not in the policy")
	// ErrQuorumNotMet means too few of the policy's witnesses cosigned.
	ErrQuorumNotMet = errors.New("witness quorum not met")
	// ErrCosignatureTime means a witness's cosignature was not counted
	// because of its timestamp: dated more than the allowed skew in the
	// future, or older than a maximum age set with [WithMaxCosignatureAge].
	// [Policy.Verify] returns it, beside [ErrQuorumNotMet], only when the
	// quorum then fails; the message names each such witness and why.
	ErrCosignatureTime = errors.New("cosignature time not accepted")
	// ErrInvalidCosignature means a witness's cosignature line does not
	// verify with the witness's key in the policy: damaged, or forged. It
	// does not count; [Policy.Verify] returns it, beside
	// [ErrQuorumNotMet], only when the quorum then fails.
	ErrInvalidCosignature = errors.New("cosignature does not verify")
)

// DefaultCosignatureSkew is how far in the future of the verifier's clock a
// cosignature's timestamp may be and still count toward a quorum, unless
// [WithCosignatureSkew] says otherwise. It absorbs clock differences between
// witnesses and verifiers.
const DefaultCosignatureSkew = 10 * time.Minute

// A VerifyOption changes how [Policy.Verify] and [VerifyBundle] judge
// cosignature timestamps.
//
// Policy files say nothing about time: tlog-policy has no keyword for a
// maximum cosignature age, and a line such as "max-cosignature-age 48h"
// would make the file unreadable by every other tlog-policy parser (this
// one included, which refuses unknown keywords). So the checks on time are
// options of the verifier, and policy files stay standard C2SP, portable
// between verifiers.
type VerifyOption func(*verifyOptions)

type verifyOptions struct {
	now    func() time.Time
	skew   time.Duration
	maxAge time.Duration // 0: no maximum
}

// WithClock makes Verify read the time from now instead of [time.Now].
func WithClock(now func() time.Time) VerifyOption {
	return func(o *verifyOptions) {
		if now != nil {
			o.now = now
		}
	}
}

// WithCosignatureSkew replaces [DefaultCosignatureSkew]: a cosignature
// dated more than skew after the clock does not count. A negative skew is
// taken as 0.
func WithCosignatureSkew(skew time.Duration) VerifyOption {
	return func(o *verifyOptions) { o.skew = max(skew, 0) }
}

// WithMaxCosignatureAge makes a cosignature dated more than maxAge before
// the clock not count, for verifiers that want recent witness views (a
// client checking a log's latest checkpoint, rather than an archived
// bundle). By default, and for a maxAge of 0 or less, cosignatures may be
// of any age.
func WithMaxCosignatureAge(maxAge time.Duration) VerifyOption {
	return func(o *verifyOptions) { o.maxAge = max(maxAge, 0) }
}

func newVerifyOptions(opts []VerifyOption) verifyOptions {
	o := verifyOptions{now: time.Now, skew: DefaultCosignatureSkew}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// cosignatureTimeProblem says why a cosignature dated t does not count at
// time now, or returns "" if it does.
func (o *verifyOptions) cosignatureTimeProblem(t, now time.Time) string {
	// SPEC: tlog-cosignature: verifiers MAY reject cosignatures with
	// timestamps in the future.
	if ahead := t.Sub(now); ahead > o.skew {
		return fmt.Sprintf("cosigned %s in the future (at %s), beyond the %s of clock skew allowed",
			approxDuration(ahead), t.UTC().Format(time.RFC3339), approxDuration(o.skew))
	}
	if age := now.Sub(t); o.maxAge > 0 && age > o.maxAge {
		return fmt.Sprintf("cosigned %s ago (at %s), older than the maximum age of %s",
			approxDuration(age), t.UTC().Format(time.RFC3339), approxDuration(o.maxAge))
	}
	return ""
}

// noneQuorum marks the predefined quorum "none".
const noneQuorum = -1

// A Policy says which logs a verifier accepts, which witnesses it trusts,
// and how many of them must have cosigned a checkpoint, per C2SP tlog-policy.
// The zero Policy accepts nothing; use [ParsePolicy].
type Policy struct {
	logs      []policyKey
	witnesses []policyKey
	// nodes are the witnesses and groups, in the order they were defined,
	// so members always come before the groups that list them.
	nodes  []quorumNode
	quorum int // index into nodes, or noneQuorum
}

type policyKey struct {
	name     string // policy name; empty for logs
	vkey     string
	url      string
	verifier note.Verifier
}

// quorumNode is a witness (witness >= 0) or a group of k of members.
type quorumNode struct {
	name    string
	witness int
	k       int
	members []int
}

// A PolicyWitness is a witness line of a policy.
type PolicyWitness struct {
	// Name is the witness's name within the policy file.
	Name string
	// VKey is its Ed25519 cosignature/v1 verifier key (type 0x04).
	VKey string
	// URL is its tlog-witness submission prefix; optional.
	URL string
}

// ParsePolicy parses a tlog-policy file. Logs must have Ed25519 note keys
// (type 0x01), named after their origin; witnesses must have Ed25519
// cosignature/v1 keys (type 0x04). Beyond the spec, it rejects a public key
// used both as a log and a witness key (a log must not witness itself) and
// group thresholds with leading zeroes. A last line without its newline is
// accepted.
func ParsePolicy(text []byte) (*Policy, error) {
	// SPEC: tlog-policy: the only allowed octets are 0x09, 0x0A, 0x20-0x7E
	// and 0x80-0xFF.
	for i, b := range text {
		if b < 0x20 && b != '\t' && b != '\n' || b == 0x7f {
			return nil, fmt.Errorf("%w: forbidden octet 0x%02x at offset %d", ErrMalformedPolicy, b, i)
		}
	}
	p := &Policy{quorum: noneQuorum}
	names := map[string]int{}      // name -> index into p.nodes
	pubKeys := map[string]string{} // raw public key -> line that defined it
	keyIDs := map[string]string{}  // name+ID -> line that defined it
	haveQuorum := false
	for i, line := range strings.Split(string(text), "\n") {
		lineNo := i + 1
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: line %d: %s", ErrMalformedPolicy, lineNo, fmt.Sprintf(format, args...))
		}
		// SPEC: tlog-policy: items are separated by ASCII space and tab only.
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
		// SPEC: tlog-policy: empty lines and lines starting with "#",
		// possibly after whitespace, are ignored.
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		addKey := func(vkey string, typ byte) (note.Verifier, error) {
			name, id, key, err := splitKey(vkey)
			if err != nil {
				return nil, fail("malformed vkey %.128q: %v", vkey, err)
			}
			if key[0] != typ {
				return nil, fail("vkey %.128q has signature type 0x%02x, want 0x%02x", vkey, key[0], typ)
			}
			var v note.Verifier
			if typ == ed25519Type {
				v, err = note.NewVerifier(vkey)
			} else {
				v, err = NewCosignatureVerifier(vkey)
			}
			if err != nil {
				return nil, fail("vkey %.128q: %v", vkey, err)
			}
			// SPEC: tlog-policy: duplicate logs and duplicate witnesses (the
			// same underlying public key) are not allowed.
			if prev, ok := pubKeys[string(key[1:])]; ok {
				return nil, fail("public key already used on %s", prev)
			}
			pubKeys[string(key[1:])] = fmt.Sprintf("line %d", lineNo)
			// Two keys with one name and ID would make note.Open ambiguous.
			nameID := name + "+" + strconv.FormatUint(uint64(id), 16)
			if prev, ok := keyIDs[nameID]; ok {
				return nil, fail("key name and ID already used on %s", prev)
			}
			keyIDs[nameID] = fmt.Sprintf("line %d", lineNo)
			return v, nil
		}
		define := func(name string) error {
			// SPEC: tlog-policy: witnesses and groups share one namespace,
			// and "none" is predefined.
			if name == "none" {
				return fail("the name none is reserved")
			}
			if _, ok := names[name]; ok {
				return fail("name %.128q already defined", name)
			}
			names[name] = len(p.nodes)
			return nil
		}
		switch fields[0] {
		case "log":
			if len(fields) < 2 || len(fields) > 3 {
				return nil, fail("want: log <vkey> [<url>]")
			}
			v, err := addKey(fields[1], ed25519Type)
			if err != nil {
				return nil, err
			}
			k := policyKey{vkey: fields[1], verifier: v}
			if len(fields) == 3 {
				k.url = fields[2]
			}
			p.logs = append(p.logs, k)
		case "witness":
			if len(fields) < 3 || len(fields) > 4 {
				return nil, fail("want: witness <name> <vkey> [<url>]")
			}
			if err := define(fields[1]); err != nil {
				return nil, err
			}
			v, err := addKey(fields[2], cosignatureV1Type)
			if err != nil {
				return nil, err
			}
			k := policyKey{name: fields[1], vkey: fields[2], verifier: v}
			if len(fields) == 4 {
				k.url = fields[3]
			}
			p.nodes = append(p.nodes, quorumNode{name: k.name, witness: len(p.witnesses)})
			p.witnesses = append(p.witnesses, k)
		case "group":
			// SPEC: tlog-policy: at least one member must be listed.
			if len(fields) < 4 {
				return nil, fail("want: group <name> <all|any|k> <name>...")
			}
			g := quorumNode{name: fields[1], witness: -1}
			seen := map[int]bool{}
			for _, m := range fields[3:] {
				// SPEC: tlog-policy: a group can only reference names
				// defined on preceding lines; none is not a valid member.
				idx, ok := names[m]
				if !ok {
					return nil, fail("group member %.128q is not defined on an earlier line", m)
				}
				// SPEC: tlog-policy: each name is listed as a member at most once.
				if seen[idx] {
					return nil, fail("group member %.128q listed twice", m)
				}
				seen[idx] = true
				g.members = append(g.members, idx)
			}
			n := len(g.members)
			switch fields[2] {
			case "all":
				g.k = n
			case "any":
				g.k = 1
			default:
				// SPEC: tlog-policy: k is decimal, with 1 <= k <= n.
				k, err := parseDecimal(fields[2])
				if err != nil || k < 1 || k > uint64(n) {
					return nil, fail("threshold %.32q is not all, any or a decimal from 1 to %d", fields[2], n)
				}
				g.k = int(k)
			}
			if err := define(g.name); err != nil {
				return nil, err
			}
			p.nodes = append(p.nodes, g)
		case "quorum":
			if len(fields) != 2 {
				return nil, fail("want: quorum <name>")
			}
			// SPEC: tlog-policy: a policy file must include exactly one
			// quorum line.
			if haveQuorum {
				return nil, fail("second quorum line")
			}
			haveQuorum = true
			if fields[1] == "none" {
				break
			}
			// SPEC: tlog-policy: the quorum names a witness or group
			// defined earlier.
			idx, ok := names[fields[1]]
			if !ok {
				return nil, fail("quorum %.128q is not defined on an earlier line", fields[1])
			}
			p.quorum = idx
		default:
			return nil, fail("unknown keyword %.32q", fields[0])
		}
	}
	if !haveQuorum {
		return nil, fmt.Errorf("%w: no quorum line", ErrMalformedPolicy)
	}
	return p, nil
}

// Logs returns the verifiers of the policy's logs. A log's key name is its
// origin, so callers find a log's key by Name.
func (p *Policy) Logs() []note.Verifier {
	vs := make([]note.Verifier, len(p.logs))
	for i, l := range p.logs {
		vs[i] = l.verifier
	}
	return vs
}

// Witnesses returns the policy's witnesses, for example for a log that
// pushes checkpoints to their URLs.
func (p *Policy) Witnesses() []PolicyWitness {
	ws := make([]PolicyWitness, len(p.witnesses))
	for i, w := range p.witnesses {
		ws[i] = PolicyWitness{Name: w.name, VKey: w.vkey, URL: w.url}
	}
	return ws
}

// Verify checks that signed is a checkpoint signed by one of the policy's
// logs and cosigned by enough of its witnesses. It returns the checkpoint and
// the names of the witnesses whose cosignatures verified and counted, in
// policy order. Signatures by other keys are ignored. An invalid signature
// by a key of the log rejects the whole checkpoint; an invalid cosignature
// by a witness of the policy only does not count, so the checkpoint
// verifies if the quorum holds without it ([Policy.VerifyCheckpoint] says
// which witness it was).
//
// A valid cosignature does not count toward the quorum if its timestamp is
// more than [DefaultCosignatureSkew] (or [WithCosignatureSkew]) ahead of the
// clock ([time.Now], or [WithClock]), or, with [WithMaxCosignatureAge],
// older than that age. If the quorum then fails, the error wraps both
// [ErrQuorumNotMet] and [ErrCosignatureTime] and names each such witness
// with its reason. Without a maximum age, a checkpoint that verifies keeps
// verifying as the clock advances, so archived bundles stay verifiable
// offline. A witness's cosignature lines after its first are ignored, as
// note.Open ignores them.
func (p *Policy) Verify(signed []byte, opts ...VerifyOption) (Checkpoint, []string, error) {
	v, err := p.VerifyCheckpoint(signed, opts...)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	return v.Checkpoint, v.Witnesses, nil
}

// A CheckpointVerification is what [Policy.VerifyCheckpoint] found in a
// checkpoint's signatures.
type CheckpointVerification struct {
	// Checkpoint is the checkpoint, signed by a log of the policy.
	Checkpoint Checkpoint
	// Witnesses names the witnesses whose cosignatures verified and
	// counted, in policy order, and CosignedAt holds the time each of them
	// put in its cosignature.
	Witnesses  []string
	CosignedAt []time.Time
	// NotCounted lists, in the order of the signature lines, the policy's
	// witnesses whose cosignature line is there but did not count.
	NotCounted []WitnessNotCounted
	// Ignored names ("name+hash") the signature lines by no key of the
	// policy: another witness's, or a line damaged in its key name or hash.
	Ignored []string
}

// A WitnessNotCounted is a witness of the policy whose cosignature line on
// a checkpoint did not count toward the quorum.
type WitnessNotCounted struct {
	// Witness is its name in the policy.
	Witness string
	// Err wraps [ErrInvalidCosignature] or [ErrCosignatureTime], and says
	// why.
	Err error
}

// VerifyCheckpoint is [Policy.Verify], saying also which witnesses counted,
// when they cosigned, and which did not count and why. When the log's
// signature holds but the quorum does not, it returns both the
// verification (what counted and what did not) and an error wrapping
// [ErrQuorumNotMet]; on any other error, no verification.
func (p *Policy) VerifyCheckpoint(signed []byte, opts ...VerifyOption) (*CheckpointVerification, error) {
	o := newVerifyOptions(opts)
	if p == nil {
		return nil, fmt.Errorf("%w: no policy", ErrUnknownLog)
	}
	// The text is read before verification only to pick the log's keys.
	text, err := noteTextUnverified(signed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedCheckpoint, err)
	}
	origin, _, _ := strings.Cut(text, "\n")
	var logKeys []note.Verifier
	for _, l := range p.logs {
		if l.verifier.Name() == origin {
			logKeys = append(logKeys, l.verifier)
		}
	}
	if len(logKeys) == 0 {
		return nil, fmt.Errorf("%w: origin %.256q", ErrUnknownLog, origin)
	}
	// Only the log's keys open the note: witnesses' lines stay unverified,
	// to be judged one by one below.
	n, err := note.Open(signed, note.VerifierList(logKeys...))
	if err != nil {
		return nil, checkpointNoteError(err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, err
	}
	v := &CheckpointVerification{Checkpoint: c}
	j := p.judgeCosignatures(n, o)
	for i, ok := range j.counted {
		if ok {
			v.Witnesses = append(v.Witnesses, p.witnesses[i].name)
			v.CosignedAt = append(v.CosignedAt, j.at[i])
		}
	}
	v.NotCounted, v.Ignored = j.notCounted, p.unknownSigners(signed)
	if err := p.checkQuorum(j.counted); err != nil {
		counted := "none"
		if len(v.Witnesses) > 0 {
			counted = strings.Join(v.Witnesses, ", ")
		}
		err = fmt.Errorf("%w (counted: %s)", err, counted)
		if len(j.invalid) > 0 {
			err = fmt.Errorf("%w; %w: %s", err, ErrInvalidCosignature, strings.Join(j.invalid, "; "))
		}
		if len(j.late) > 0 {
			err = fmt.Errorf("%w; %w: %s", err, ErrCosignatureTime, strings.Join(j.late, "; "))
		}
		return v, err
	}
	return v, nil
}

// cosignatureJudgement is what judgeCosignatures made of a checkpoint's
// cosignature lines.
type cosignatureJudgement struct {
	counted    []bool      // per witness of the policy
	at         []time.Time // per witness: its cosignature's time, if counted
	notCounted []WitnessNotCounted
	invalid    []string // why, for each witness whose line did not verify
	late       []string // why, for each witness whose line's time did not count
}

// judgeCosignatures checks the first cosignature line of each witness of
// the policy on n, a checkpoint note the log's signature holds.
//
// SPEC: signed-note: a signature by a known key that fails to verify
// SHOULD reject the whole note. The log's does (note.Open refuses it); a
// witness's only does not count. A cosignature line damaged in transit, or
// forged in a witness's name, says nothing about the log's checkpoint,
// which the other witnesses' cosignatures still vouch for, and the quorum
// is what a verifier trusts.
func (p *Policy) judgeCosignatures(n *note.Note, o verifyOptions) cosignatureJudgement {
	j := cosignatureJudgement{counted: make([]bool, len(p.witnesses)), at: make([]time.Time, len(p.witnesses))}
	seen := make([]bool, len(p.witnesses))
	now := o.now()
	for _, sig := range n.UnverifiedSigs {
		w := slices.IndexFunc(p.witnesses, func(k policyKey) bool {
			return k.verifier.Name() == sig.Name && k.verifier.KeyHash() == sig.Hash
		})
		// As note.Open does, only a witness's first line counts.
		if w < 0 || seen[w] {
			continue
		}
		seen[w] = true
		name := p.witnesses[w].name
		// noteTextUnverified checked the base64; note.Open, the length.
		raw, err := decodeBase64(sig.Base64)
		if err != nil || !p.witnesses[w].verifier.Verify([]byte(n.Text), raw[4:]) {
			why := fmt.Sprintf("witness %q: its cosignature does not verify with its key in the policy", name)
			j.invalid = append(j.invalid, why)
			j.notCounted = append(j.notCounted, WitnessNotCounted{Witness: name, Err: fmt.Errorf("%w: %s", ErrInvalidCosignature, why)})
			continue
		}
		t, err := CosignatureTime(sig)
		if err != nil {
			// Unreachable: the witness's verifier accepted the signature.
			why := fmt.Sprintf("witness %q: %v", name, err)
			j.invalid = append(j.invalid, why)
			j.notCounted = append(j.notCounted, WitnessNotCounted{Witness: name, Err: fmt.Errorf("%w: %s", ErrInvalidCosignature, why)})
			continue
		}
		if why := o.cosignatureTimeProblem(t, now); why != "" {
			why = fmt.Sprintf("witness %q %s", name, why)
			j.late = append(j.late, why)
			j.notCounted = append(j.notCounted, WitnessNotCounted{Witness: name, Err: fmt.Errorf("%w: %s", ErrCosignatureTime, why)})
			continue
		}
		j.counted[w], j.at[w] = true, t
	}
	return j
}

// checkQuorum evaluates the quorum given which witnesses cosigned.
func (p *Policy) checkQuorum(cosigned []bool) error {
	if p.quorum == noneQuorum {
		return nil
	}
	// Members precede their groups, so one pass in definition order works.
	ok := make([]bool, len(p.nodes))
	have := make([]int, len(p.nodes))
	for i, node := range p.nodes {
		if node.witness >= 0 {
			ok[i] = cosigned[node.witness]
			continue
		}
		for _, m := range node.members {
			if ok[m] {
				have[i]++
			}
		}
		ok[i] = have[i] >= node.k
	}
	if ok[p.quorum] {
		return nil
	}
	q := p.nodes[p.quorum]
	if q.witness >= 0 {
		return fmt.Errorf("%w: no cosignature from witness %q", ErrQuorumNotMet, q.name)
	}
	return fmt.Errorf("%w: group %q has %d of %d members satisfied, needs %d", ErrQuorumNotMet, q.name, have[p.quorum], len(q.members), q.k)
}

// FormatPolicy writes a policy file that accepts the logs with the given
// vkeys and requires threshold cosignatures among witnesses ("quorum none"
// when threshold is 0), through a group named "witnesses". Richer policies
// are written by hand.
func FormatPolicy(logVKeys []string, witnesses []PolicyWitness, threshold int) ([]byte, error) {
	for _, tok := range formatTokens(logVKeys, witnesses) {
		if tok == "" || strings.ContainsAny(tok, " \t\n") {
			return nil, fmt.Errorf("%w: %q can't be a policy item", ErrMalformedPolicy, tok)
		}
	}
	var b bytes.Buffer
	for _, vkey := range logVKeys {
		fmt.Fprintf(&b, "log %s\n", vkey)
	}
	for _, w := range witnesses {
		fmt.Fprintf(&b, "witness %s %s", w.Name, w.VKey)
		if w.URL != "" {
			fmt.Fprintf(&b, " %s", w.URL)
		}
		b.WriteString("\n")
	}
	if threshold == 0 {
		b.WriteString("quorum none\n")
	} else {
		b.WriteString("group witnesses " + strconv.Itoa(threshold))
		for _, w := range witnesses {
			b.WriteString(" " + w.Name)
		}
		b.WriteString("\nquorum witnesses\n")
	}
	// Parsing the result checks every name, key and the threshold.
	if _, err := ParsePolicy(b.Bytes()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// formatTokens lists the items FormatPolicy writes from its arguments, so
// none can smuggle in a line of its own.
func formatTokens(logVKeys []string, witnesses []PolicyWitness) []string {
	toks := append([]string(nil), logVKeys...)
	for _, w := range witnesses {
		toks = append(toks, w.Name, w.VKey)
		if w.URL != "" {
			toks = append(toks, w.URL)
		}
	}
	return toks
}
