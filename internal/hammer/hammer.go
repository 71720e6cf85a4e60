// Package hammer drives a running govlog deployment with a seeded mix of
// valid, invalid, duplicate and conflicting statements, keeps every
// receipt, and afterwards checks what the log promised and proved: every
// promise kept by its deadline, every bundle verifying under the policy,
// every refused statement absent, every duplicate answered with the same
// leaf, every conflict won exactly once, and every checkpoint seen part of
// one growing, cosigned history. It is the govlog counterpart of ct_hammer.
package hammer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
)

// The logs the hammer drives.
const (
	LogDisclosures = "disclosures"
	LogFunds       = "funds"
	LogDonations   = "donations"
	LogApprovals   = "approvals"
	LogIdentity    = "identity"
	LogVotes       = "votes"
)

// Logs lists them in the order of the final table.
var Logs = []string{LogDisclosures, LogFunds, LogDonations, LogApprovals, LogIdentity, LogVotes}

// DemoCampaign is the donations campaign `govlog dev` opens.
const DemoCampaign = "flood-relief"

// DemoPaymentKind is the approvals kind `govlog dev` publishes, owned by
// the demo agency and decided by its rules alone: each application
// admitted is followed in the log by the log's own approvals.decide.
const DemoPaymentKind = "contract-payment"

// subjectKeyName is the name of every identity subject's key.
const subjectKeyName = "subject"

// subjectID is the identity log's ID of the subject whose key is vkey:
// "s-" and the first 32 hex digits of its SHA-256 (identity.SubjectID,
// spelled out here: only cmd/govlog's registration list imports a domain).
func subjectID(vkey string) string {
	h := sha256.Sum256([]byte(vkey))
	return "s-" + hex.EncodeToString(h[:16])
}

// The identity grant the hammer's accesses rest on.
const (
	grantPurpose = "hiring"
	grantType    = "diploma"
)

// API is what the hammer needs of a server; *client.Client has it.
type API interface {
	Submit(ctx context.Context, log string, statement []byte, wait bool) (*client.Submitted, error)
	Checkpoint(ctx context.Context, log string) ([]byte, error)
	BundleByHash(ctx context.Context, log string, leafHash [32]byte) ([]byte, error)
	ConsistencyProof(ctx context.Context, log string, from, to uint64) ([][]byte, error)
}

// Kind says what a submission was meant to be.
type Kind string

// The kinds of submission.
const (
	KindSetup       Kind = "setup" // the run's accounts and contracts: must be admitted
	KindValid       Kind = "valid" // must be admitted
	KindBadSig      Kind = "bad-signature"
	KindOrigin      Kind = "wrong-origin"
	KindMalformed   Kind = "malformed"
	KindDupDoc      Kind = "repeated-doc-id"
	KindCeiling     Kind = "over-ceiling"
	KindOverdraw    Kind = "over-remainder"
	KindNoKind      Kind = "unknown-kind"        // approvals: an application of a kind never published
	KindFieldType   Kind = "wrong-field-type"    // approvals: a field of another type than its kind's
	KindPurpose     Kind = "other-purpose"       // identity: an access for a purpose the grant does not name
	KindNotOwner    Kind = "not-subjects-key"    // identity: a grant signed by a key not the subject's
	KindBadToken    Kind = "bad-token"           // votes: a token by another issuer key, or its signature altered
	KindNoOption    Kind = "not-an-option"       // votes: a choice the election does not offer
	KindWrongSigner Kind = "wrong-ballot-signer" // votes: a valid token, the ballot signed by another key
	KindDuplicate   Kind = "duplicate"           // same bytes as an admitted statement
	KindConflict    Kind = "conflict"            // one of two spends of one balance
)

// invalidKinds rotate, one after the other, through the invalid
// submissions, each with the code it must be refused with.
var invalidKinds = []struct {
	kind Kind
	code codes.Code
}{
	{KindBadSig, codes.Unauthenticated},
	{KindOrigin, codes.InvalidArgument},
	{KindMalformed, codes.InvalidArgument},
	{KindDupDoc, codes.AlreadyExists},
	{KindCeiling, codes.FailedPrecondition},
	{KindOverdraw, codes.FailedPrecondition},
	{KindNoKind, codes.InvalidArgument},
	{KindFieldType, codes.InvalidArgument},
	{KindPurpose, codes.FailedPrecondition},
	{KindNotOwner, codes.Unauthenticated},
	{KindBadToken, codes.Unauthenticated},
	{KindNoOption, codes.InvalidArgument},
	// The ballot's one signature line is not by the token's key: the votes
	// rules answer rule.ErrNotAuthorized (identity, for a grant not signed
	// by its subject, answers UNAUTHENTICATED).
	{KindWrongSigner, codes.PermissionDenied},
}

// A Receipt is one submission and the server's answer to it.
type Receipt struct {
	Log      string
	Kind     Kind
	WantCode codes.Code // codes.OK for what must be admitted; ignored for conflicts
	Signed   []byte
	LeafHash [32]byte
	Wait     bool
	Sent     time.Time

	Code      codes.Code // codes.OK: admitted
	Err       string
	Duplicate bool
	// Resent counts the times the same bytes were sent again after an
	// answer that left the outcome unknown (the server unreachable or
	// restarting): the last answer may then say duplicate, as the first
	// sending was admitted.
	Resent  int
	Promise []byte // wait=false
	Bundle  []byte // wait=true
	Index   uint64

	DupOf *Receipt // KindDuplicate: the admitted receipt whose bytes were sent again
	Pair  int      // KindConflict: the pair's number, from 1
}

// Admitted reports whether the server accepted the submission.
func (r *Receipt) Admitted() bool { return r.Code == codes.OK }

// Config is a hammer run.
type Config struct {
	API      API
	Policy   *govlog.Policy
	Signer   note.Signer // the demo agency's key, which holds every role
	Duration time.Duration
	Clients  int
	Seed     int64
	// Prefix makes the run's IDs unique, so that runs can follow each
	// other on the same logs; lowercase letters, digits and '-'.
	Prefix string
	// Progress, if set, gets a line of counts every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
	// CallTimeout bounds each call; 0: one minute.
	CallTimeout time.Duration
	// RetryFor is how long a submission whose answer left its outcome
	// unknown (UNAVAILABLE, DEADLINE_EXCEEDED, a dropped connection: the
	// server or its database restarting) is sent again, the same bytes, as
	// a client must; 0: not sent again, and the unknown outcome is a
	// problem of the run.
	RetryFor time.Duration
}

// Hammer is a run in progress.
type Hammer struct {
	cfg     Config
	origins map[string]string
	bad     note.Signer // a fresh key no registry knows

	// The identity subject of the run: its key, registered at setup, its
	// diploma, and its grant to the demo agency for grantPurpose.
	subject      note.Signer
	subjectVKey  string
	credentialID string
	grantID      string

	votes *votes // the run's election and tokens

	retries atomic.Int64 // submissions sent again after RESOURCE_EXHAUSTED
	resends atomic.Int64 // submissions sent again after an unknown outcome

	mu       sync.Mutex
	receipts []*Receipt
	admitted map[string][]*Receipt // per log, fresh admitted statements, for duplicates
	docIDs   []string              // admitted disclosure doc_ids
	pairs    int
	cps      map[string][][]byte   // per log, the checkpoints polled, in order
	seen     map[string][]seenSize // per log, when each size polled was first seen

	seq atomic.Int64 // for unique IDs

	fundsMu   sync.Mutex // one funds conflict at a time
	confFunds int64      // the conflict account's balance as admitted

	start time.Time
}

// Run drives the deployment for cfg.Duration, then checks everything it
// kept. It returns an error only when it could not run; what went wrong
// with the log is in the Report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Clients <= 0 {
		cfg.Clients = 1
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = time.Minute
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 3 * time.Second
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "h" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	h := &Hammer{cfg: cfg, origins: map[string]string{}, admitted: map[string][]*Receipt{}, cps: map[string][][]byte{}, seen: map[string][]seenSize{}}
	// A key by the agency's name that no registry knows: a signature by it
	// must be refused as by an unknown key.
	skey, _, err := note.GenerateKey(nil, cfg.Signer.Name())
	if err != nil {
		return nil, err
	}
	if h.bad, err = note.NewSigner(skey); err != nil {
		return nil, err
	}
	skey, h.subjectVKey, err = note.GenerateKey(nil, subjectKeyName)
	if err != nil {
		return nil, err
	}
	if h.subject, err = note.NewSigner(skey); err != nil {
		return nil, err
	}
	for _, l := range Logs {
		cctx, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
		signed, err := cfg.API.Checkpoint(cctx, l)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s: checkpoint: %w", l, err)
		}
		cp, _, err := cfg.Policy.Verify(signed)
		if err != nil {
			return nil, fmt.Errorf("%s: the checkpoint does not satisfy the policy: %w", l, err)
		}
		h.origins[l] = cp.Origin
		h.cps[l] = append(h.cps[l], signed)
		h.seen[l] = append(h.seen[l], seenSize{cp.Size, time.Now()})
	}
	if err := h.setup(ctx); err != nil {
		return nil, err
	}
	h.start = time.Now()

	pollCtx, stopPoll := context.WithCancel(ctx)
	var pollWG sync.WaitGroup
	for _, l := range Logs {
		pollWG.Add(1)
		go func() { defer pollWG.Done(); h.poll(pollCtx, l) }()
	}
	if cfg.Progress != nil {
		pollWG.Add(1)
		go func() {
			defer pollWG.Done()
			t := time.NewTicker(cfg.ProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-pollCtx.Done():
					return
				case <-t.C:
					fmt.Fprintln(cfg.Progress, h.progress())
				}
			}
		}()
	}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	var wg sync.WaitGroup
	for i := 0; i < cfg.Clients; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); h.worker(runCtx, ctx, i) }()
	}
	wg.Wait()
	cancel()
	if cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress, h.progress())
		fmt.Fprintf(cfg.Progress, "hammer: submissions done (%d sent again after RESOURCE_EXHAUSTED, %d after an unknown outcome); checking promises, bundles, refusals and checkpoints\n", h.retries.Load(), h.resends.Load())
	}
	rep := Check(ctx, CheckInput{
		API: cfg.API, Policy: cfg.Policy, Receipts: h.snapshot(), Origins: h.origins,
		Polled: h.polled(), SeenAt: h.seenAt, CallTimeout: cfg.CallTimeout, Progress: cfg.Progress,
	})
	stopPoll()
	pollWG.Wait()
	return rep, nil
}

func (h *Hammer) snapshot() []*Receipt {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*Receipt(nil), h.receipts...)
}

func (h *Hammer) polled() map[string][][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := map[string][][]byte{}
	for l, cps := range h.cps {
		m[l] = append([][]byte(nil), cps...)
	}
	return m
}

// seenSize is a checkpoint size polled, and when it was first seen.
type seenSize struct {
	size uint64
	at   time.Time
}

// seenAt returns when the hammer first polled a checkpoint of log that
// includes index (the poller runs on through the checks).
func (h *Hammer) seenAt(log string, index uint64) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.seen[log] {
		if s.size > index {
			return s.at, true
		}
	}
	return time.Time{}, false
}

// poll reads each log's checkpoint every half second, keeping each new one.
func (h *Hammer) poll(ctx context.Context, log string) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
		signed, err := h.cfg.API.Checkpoint(cctx, log)
		cancel()
		if err != nil {
			continue
		}
		now := time.Now()
		h.mu.Lock()
		if cps := h.cps[log]; string(cps[len(cps)-1]) != string(signed) {
			h.cps[log] = append(cps, signed)
			if cp, _, err := h.cfg.Policy.Verify(signed); err == nil {
				h.seen[log] = append(h.seen[log], seenSize{cp.Size, now})
			}
		}
		h.mu.Unlock()
	}
}

// ids for this run.
func (h *Hammer) id(what string) string {
	return fmt.Sprintf("%s-%s-%d", h.cfg.Prefix, what, h.seq.Add(1))
}

func (h *Hammer) account(what string) string { return h.cfg.Prefix + "-" + what }

// setup opens the run's accounts and contracts on the funds log,
// registers the run's subject on the identity log, issues it a diploma and
// has it grant the demo agency access to it, and opens the run's election
// on the votes log; each waited for.
func (h *Hammer) setup(ctx context.Context) error {
	p := h.cfg.Prefix
	steps := []struct {
		typ  string
		body any
	}{
		{"funds.account.open", map[string]any{"account_id": p + "-main", "owner_kind": "agency", "owner": h.cfg.Signer.Name(), "kind": "budget"}},
		{"funds.account.open", map[string]any{"account_id": p + "-conf", "owner_kind": "agency", "owner": h.cfg.Signer.Name(), "kind": "budget"}},
		{"funds.account.open", map[string]any{"account_id": p + "-payee", "owner_kind": "company", "owner": p + "-co", "kind": "company"}},
		{"funds.allocate", map[string]any{"allocation_id": p + "-alloc", "to": p + "-main", "amount": int64(1_000_000_000_000), "budget_line": "hammer"}},
		{"funds.contract.register", map[string]any{"contract_id": p + "-big", "kind": "works", "payer": p + "-main", "payee": p + "-payee", "ceiling": int64(1_000_000_000_000)}},
		{"funds.contract.register", map[string]any{"contract_id": p + "-small", "kind": "works", "payer": p + "-main", "payee": p + "-payee", "ceiling": int64(100)}},
		{"funds.contract.register", map[string]any{"contract_id": p + "-conf", "kind": "works", "payer": p + "-conf", "payee": p + "-payee", "ceiling": int64(1_000_000_000_000)}},
	}
	for _, s := range steps {
		r := h.submit(ctx, LogFunds, KindSetup, codes.OK, h.sign(LogFunds, s.typ, s.body), true)
		if !r.Admitted() {
			return fmt.Errorf("setup: %s %v refused: %s %s", s.typ, s.body, r.Code, r.Err)
		}
	}
	h.credentialID, h.grantID = p+"-diploma", p+"-grant"
	degree := sha256.Sum256([]byte(p + " degree"))
	ids := []struct {
		typ    string
		body   any
		signer note.Signer
	}{
		{"identity.subject.register", map[string]any{"subject": h.subjectVKey}, h.cfg.Signer},
		{"identity.credential.issue.education", map[string]any{"credential_id": h.credentialID, "subject": subjectID(h.subjectVKey),
			"type": grantType, "issued": "2024-07-01", "attributes": map[string]any{"degree": hex.EncodeToString(degree[:])}}, h.cfg.Signer},
		{"identity.grant", h.grantBody(h.grantID), h.subject},
	}
	for _, s := range ids {
		r := h.submit(ctx, LogIdentity, KindSetup, codes.OK, h.signAs(h.origins[LogIdentity], s.typ, s.body, s.signer), true)
		if !r.Admitted() {
			return fmt.Errorf("setup: %s %v refused: %s %s", s.typ, s.body, r.Code, r.Err)
		}
	}
	return h.setupVotes(ctx)
}

// grantBody is a grant by the run's subject to the demo agency.
func (h *Hammer) grantBody(id string) map[string]any {
	return map[string]any{"grant_id": id, "subject": h.subjectVKey, "agency": h.cfg.Signer.Name(),
		"credential_type": grantType, "purpose": grantPurpose, "until": "2099-12-31"}
}

// sign makes a statement for log signed by the agency.
func (h *Hammer) sign(log, typ string, body any) []byte {
	return h.signAs(h.origins[log], typ, body, h.cfg.Signer)
}

func (h *Hammer) signAs(origin, typ string, body any, signer note.Signer) []byte {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	st, err := govlog.NewStatement(origin, typ, time.Now(), b)
	if err != nil {
		panic(fmt.Sprintf("hammer built an invalid statement: %v", err))
	}
	signed, err := st.Sign(signer)
	if err != nil {
		panic(err)
	}
	return signed
}

// submit sends signed and keeps the receipt.
func (h *Hammer) submit(ctx context.Context, log string, kind Kind, want codes.Code, signed []byte, wait bool) *Receipt {
	r := &Receipt{Log: log, Kind: kind, WantCode: want, Signed: signed, LeafHash: govlog.LeafHash(signed), Wait: wait, Sent: time.Now()}
	h.send(ctx, r)
	h.keep(r)
	return r
}

// maxQuotaRetries bounds how often one submission is sent again after
// RESOURCE_EXHAUSTED.
const maxQuotaRetries = 50

// outcomeUnknown reports whether an answer leaves a submission's outcome
// unknown: the server was unreachable, restarting, or did not answer in
// time; the same bytes must be sent again to learn it.
func outcomeUnknown(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}

// send submits r. The hammer sends nothing over the size limits, so a
// RESOURCE_EXHAUSTED is a quota (per agency, or per client address for
// self-signed statements): "retry later", and the same bytes are sent
// again after a short sleep. An answer that leaves the outcome unknown is
// followed, for up to RetryFor, by the same bytes again. Only the last
// answer is kept.
func (h *Hammer) send(ctx context.Context, r *Receipt) {
	var res *client.Submitted
	var err error
	quota := 0
	for {
		cctx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
		res, err = h.cfg.API.Submit(cctx, r.Log, r.Signed, r.Wait)
		cancel()
		var pause time.Duration
		switch {
		case ctx.Err() != nil || err == nil:
		case status.Code(err) == codes.ResourceExhausted && quota < maxQuotaRetries:
			quota++
			h.retries.Add(1)
			pause = min(time.Duration(50*quota)*time.Millisecond, time.Second)
		case outcomeUnknown(err) && time.Since(r.Sent) < h.cfg.RetryFor:
			r.Resent++
			h.resends.Add(1)
			pause = min(time.Duration(100*r.Resent)*time.Millisecond, time.Second)
		}
		if pause == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause + time.Duration(rand.Int63n(int64(50*time.Millisecond)))):
		}
	}
	if err != nil {
		r.Code, r.Err = status.Code(err), err.Error()
		if r.Code == codes.OK { // not a gRPC status: the client's own check
			r.Code = codes.Unknown
		}
		return
	}
	r.Code, r.Duplicate, r.Promise, r.Bundle, r.Index = codes.OK, res.Duplicate, res.Promise, res.Bundle, res.Index
	if res.LeafHash != r.LeafHash {
		r.Err = "the server answered with another leaf hash"
	}
}

func (h *Hammer) keep(rs ...*Receipt) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range rs {
		h.receipts = append(h.receipts, r)
		if r.Admitted() && (!r.Duplicate || r.Resent > 0) && r.Kind != KindDuplicate {
			h.admitted[r.Log] = append(h.admitted[r.Log], r)
		}
	}
}

// worker submits until ctx ends; bg outlives ctx, for the calls in flight.
func (h *Hammer) worker(ctx, bg context.Context, n int) {
	rng := rand.New(rand.NewSource(h.cfg.Seed*1_000_003 + int64(n)))
	// Each worker starts its rotation elsewhere, spread over the whole
	// rotation, so even a short run with a few clients sends every kind.
	invalid := n * len(invalidKinds) / max(h.cfg.Clients, 1)
	for ctx.Err() == nil {
		wait := rng.Intn(2) == 0
		switch rng.Intn(10) {
		case 0:
			k := invalidKinds[invalid%len(invalidKinds)]
			invalid++
			h.invalid(bg, rng, k.kind, k.code, wait)
		case 1:
			h.duplicate(bg, rng, wait)
		case 2:
			switch rng.Intn(3) {
			case 0:
				h.fundsConflict(bg, rng)
			case 1:
				h.donationsConflict(bg, rng)
			default:
				h.votesConflict(bg, rng)
			}
		default:
			h.valid(bg, rng, wait)
		}
	}
}

func randHex(rng *rand.Rand) string {
	var b [32]byte
	rng.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (h *Hammer) disclosureBody(rng *rand.Rand, docID string) map[string]any {
	return map[string]any{"doc_id": docID, "title": "Hammer document " + docID + " v" + strconv.Itoa(rng.Intn(1000)),
		"sha256": randHex(rng), "category": "hammer", "decision_date": time.Now().UTC().Format("2006-01-02")}
}

func (h *Hammer) transferBody(rng *rand.Rand, contract string, amount int64) map[string]any {
	return map[string]any{"transfer_id": h.id("t"), "from": h.account("main"), "to": h.account("payee"), "amount": amount, "contract_id": h.cfg.Prefix + "-" + contract}
}

func receiveBody(id string, amount int64) map[string]any {
	return map[string]any{"donation_id": id, "campaign_id": DemoCampaign, "kind": "money", "currency": "CNY", "amount": amount}
}

// paymentFields are the fields of a contract-payment application: valid,
// approved or returned as works_accepted says.
func paymentFields(rng *rand.Rand) map[string]any {
	return map[string]any{"contract_id": "c-" + strconv.Itoa(rng.Intn(1_000_000)), "amount": 1 + rng.Int63n(10_000_000),
		"invoice": randHex(rng), "works_accepted": rng.Intn(4) != 0}
}

func (h *Hammer) applyBody(kind string, fields map[string]any) map[string]any {
	return map[string]any{"application_id": h.id("app"), "kind": kind, "fields": fields}
}

func (h *Hammer) accessBody(purpose string) map[string]any {
	return map[string]any{"access_id": h.id("acc"), "grant_id": h.grantID, "credential_id": h.credentialID, "purpose": purpose}
}

func (h *Hammer) handoverBody(rng *rand.Rand, gift string, amount int64) map[string]any {
	code := sha256.Sum256([]byte(randHex(rng)))
	return map[string]any{"handover_id": h.id("ho"), "campaign_id": DemoCampaign, "kind": "money", "currency": "CNY",
		"draws": []map[string]any{{"donation_id": gift, "amount": amount}}, "to_recipient": randHex(rng), "code_hash": hex.EncodeToString(code[:])}
}

// simple returns a valid statement type and body for log that needs no
// state of its own.
func (h *Hammer) simple(rng *rand.Rand, log string) (string, map[string]any) {
	switch log {
	case LogDisclosures:
		return "disclosure.publish", h.disclosureBody(rng, h.id("doc"))
	case LogFunds:
		return "funds.transfer", h.transferBody(rng, "big", 1+rng.Int63n(1000))
	case LogApprovals:
		return "approvals.apply", h.applyBody(DemoPaymentKind, paymentFields(rng))
	case LogIdentity:
		return "identity.access", h.accessBody(grantPurpose)
	case LogVotes:
		// Another election (a ballot needs a token: see castValid).
		body, err := h.electionBody(h.id("election"), time.Now().Add(time.Hour))
		if err != nil {
			panic(err)
		}
		return "votes.election.open", body
	default:
		return "donations.receive", receiveBody(h.id("gift"), 1+rng.Int63n(100000))
	}
}

// valid submits a valid statement to a random log.
func (h *Hammer) valid(ctx context.Context, rng *rand.Rand, wait bool) {
	log := Logs[rng.Intn(len(Logs))]
	switch log {
	case LogVotes:
		h.castValid(ctx, rng, wait)
	case LogDonations:
		// A gift received, then part of it handed to a recipient.
		gift := h.id("gift")
		amount := 1000 + rng.Int63n(100000)
		r := h.submit(ctx, log, KindValid, codes.OK, h.sign(log, "donations.receive", receiveBody(gift, amount)), wait)
		if r.Admitted() {
			h.submit(ctx, log, KindValid, codes.OK, h.sign(log, "donations.handover", h.handoverBody(rng, gift, 1+rng.Int63n(amount))), rng.Intn(2) == 0)
		}
	default:
		typ, body := h.simple(rng, log)
		r := h.submit(ctx, log, KindValid, codes.OK, h.sign(log, typ, body), wait)
		if log == LogDisclosures && r.Admitted() {
			h.mu.Lock()
			h.docIDs = append(h.docIDs, body["doc_id"].(string))
			h.mu.Unlock()
		}
	}
}

// invalid submits a statement the log must refuse with want.
func (h *Hammer) invalid(ctx context.Context, rng *rand.Rand, kind Kind, want codes.Code, wait bool) {
	log := Logs[rng.Intn(len(Logs))]
	switch kind {
	case KindBadSig:
		typ, body := h.simple(rng, log)
		h.submit(ctx, log, kind, want, h.signAs(h.origins[log], typ, body, h.bad), wait)
	case KindOrigin:
		other := Logs[(indexOf(log)+1+rng.Intn(len(Logs)-1))%len(Logs)]
		typ, body := h.simple(rng, log)
		h.submit(ctx, log, kind, want, h.signAs(h.origins[other], typ, body, h.cfg.Signer), wait)
	case KindMalformed:
		// By hand: keys out of canonical order, a trailing comma in the
		// body; the note itself is validly signed by the agency.
		text := fmt.Sprintf("%s\n%s\n{\"type\":\"disclosure.publish\",\"time\":%q,\"body\":{\"title\":\"broken\",\"doc_id\":%q,}}\n",
			govlog.StatementFormat, h.origins[log], time.Now().UTC().Format("2006-01-02T15:04:05Z"), h.id("bad"))
		signed, err := note.Sign(&note.Note{Text: text}, h.cfg.Signer)
		if err != nil {
			panic(err)
		}
		h.submit(ctx, log, kind, want, signed, wait)
	case KindDupDoc:
		log = LogDisclosures
		h.mu.Lock()
		var doc string
		if len(h.docIDs) > 0 {
			doc = h.docIDs[rng.Intn(len(h.docIDs))]
		}
		h.mu.Unlock()
		if doc == "" {
			doc = h.id("doc")
			r := h.submit(ctx, log, KindValid, codes.OK, h.sign(log, "disclosure.publish", h.disclosureBody(rng, doc)), true)
			if !r.Admitted() {
				return
			}
		}
		// Other bytes (another title, hash and time), the same doc_id.
		h.submit(ctx, log, kind, want, h.sign(log, "disclosure.publish", h.disclosureBody(rng, doc)), wait)
	case KindCeiling:
		log = LogFunds
		h.submit(ctx, log, kind, want, h.sign(log, "funds.transfer", h.transferBody(rng, "small", 101+rng.Int63n(1000))), wait)
	case KindOverdraw:
		log = LogDonations
		gift := h.id("gift")
		amount := 1000 + rng.Int63n(1000)
		r := h.submit(ctx, log, KindValid, codes.OK, h.sign(log, "donations.receive", receiveBody(gift, amount)), rng.Intn(2) == 0)
		if r.Admitted() {
			h.submit(ctx, log, kind, want, h.sign(log, "donations.handover", h.handoverBody(rng, gift, amount+1+rng.Int63n(100))), wait)
		}
	case KindNoKind:
		log = LogApprovals
		h.submit(ctx, log, kind, want, h.sign(log, "approvals.apply", h.applyBody(h.id("nokind"), paymentFields(rng))), wait)
	case KindFieldType:
		log = LogApprovals
		fields := paymentFields(rng)
		switch rng.Intn(3) {
		case 0:
			fields["amount"] = strconv.FormatInt(fields["amount"].(int64), 10)
		case 1:
			fields["works_accepted"] = "yes"
		default:
			fields["invoice"] = rng.Intn(1000)
		}
		h.submit(ctx, log, kind, want, h.sign(log, "approvals.apply", h.applyBody(DemoPaymentKind, fields)), wait)
	case KindPurpose:
		log = LogIdentity
		h.submit(ctx, log, kind, want, h.sign(log, "identity.access", h.accessBody("marketing")), wait)
	case KindNotOwner:
		// A grant in the subject's name signed by another key named
		// "subject" (h.bad is named for the agency).
		log = LogIdentity
		skey, _, err := note.GenerateKey(nil, subjectKeyName)
		if err != nil {
			panic(err)
		}
		other, err := note.NewSigner(skey)
		if err != nil {
			panic(err)
		}
		h.submit(ctx, log, kind, want, h.signAs(h.origins[log], "identity.grant", h.grantBody(h.id("grant")), other), wait)
	case KindBadToken, KindNoOption, KindWrongSigner:
		h.castInvalid(ctx, rng, kind, want, wait)
	}
}

func indexOf(log string) int {
	for i, l := range Logs {
		if l == log {
			return i
		}
	}
	return 0
}

// duplicate submits again the bytes of a statement already admitted.
func (h *Hammer) duplicate(ctx context.Context, rng *rand.Rand, wait bool) {
	log := Logs[rng.Intn(len(Logs))]
	h.mu.Lock()
	pool := h.admitted[log]
	var orig *Receipt
	if len(pool) > 0 {
		orig = pool[rng.Intn(len(pool))]
	}
	h.mu.Unlock()
	if orig == nil {
		h.valid(ctx, rng, wait)
		return
	}
	r := &Receipt{Log: log, Kind: KindDuplicate, WantCode: codes.OK, Signed: orig.Signed, LeafHash: orig.LeafHash, Wait: wait, Sent: time.Now(), DupOf: orig}
	h.send(ctx, r)
	h.keep(r)
}

func (h *Hammer) newPair() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pairs++
	return h.pairs
}

// race submits two statements at once and keeps both receipts.
func (h *Hammer) race(ctx context.Context, rng *rand.Rand, log string, a, b []byte) (ra, rb *Receipt) {
	pair := h.newPair()
	ra = &Receipt{Log: log, Kind: KindConflict, Signed: a, LeafHash: govlog.LeafHash(a), Wait: rng.Intn(2) == 0, Pair: pair}
	rb = &Receipt{Log: log, Kind: KindConflict, Signed: b, LeafHash: govlog.LeafHash(b), Wait: rng.Intn(2) == 0, Pair: pair}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, r := range []*Receipt{ra, rb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r.Sent = time.Now()
			h.send(ctx, r)
		}()
	}
	close(start)
	wg.Wait()
	h.keep(ra, rb)
	return ra, rb
}

// fundsConflict tops up the conflict account, then sends two transfers
// each of its whole balance.
func (h *Hammer) fundsConflict(ctx context.Context, rng *rand.Rand) {
	h.fundsMu.Lock()
	defer h.fundsMu.Unlock()
	top := 1000 + rng.Int63n(10000)
	r := h.submit(ctx, LogFunds, KindValid, codes.OK, h.sign(LogFunds, "funds.allocate",
		map[string]any{"allocation_id": h.id("alloc"), "to": h.account("conf"), "amount": top, "budget_line": "hammer"}), rng.Intn(2) == 0)
	if !r.Admitted() {
		return
	}
	h.confFunds += top
	whole := h.confFunds
	spend := func() []byte {
		return h.sign(LogFunds, "funds.transfer", map[string]any{"transfer_id": h.id("ct"), "from": h.account("conf"),
			"to": h.account("payee"), "amount": whole, "contract_id": h.cfg.Prefix + "-conf"})
	}
	a, b := h.race(ctx, rng, LogFunds, spend(), spend())
	if a.Admitted() || b.Admitted() {
		h.confFunds -= whole
	}
}

// donationsConflict receives a gift, then sends two hand-overs each of
// all of it.
func (h *Hammer) donationsConflict(ctx context.Context, rng *rand.Rand) {
	gift := h.id("gift")
	amount := 1000 + rng.Int63n(10000)
	r := h.submit(ctx, LogDonations, KindValid, codes.OK, h.sign(LogDonations, "donations.receive", receiveBody(gift, amount)), rng.Intn(2) == 0)
	if !r.Admitted() {
		return
	}
	h.race(ctx, rng, LogDonations,
		h.sign(LogDonations, "donations.handover", h.handoverBody(rng, gift, amount)),
		h.sign(LogDonations, "donations.handover", h.handoverBody(rng, gift, amount)))
}

// progress is one line of counts so far.
func (h *Hammer) progress() string {
	rs := h.snapshot()
	var sent, admitted, dups, won, lost int
	refused := map[codes.Code]int{}
	for _, r := range rs {
		sent++
		switch {
		case r.Kind == KindConflict && r.Admitted():
			won++
		case r.Kind == KindConflict:
			lost++
		}
		switch {
		case r.Admitted() && r.Duplicate && (r.Kind == KindDuplicate || r.Resent == 0):
			dups++
		case r.Admitted():
			admitted++
		default:
			refused[r.Code]++
		}
	}
	el := time.Since(h.start).Truncate(time.Second)
	return fmt.Sprintf("hammer %s: sent %d, admitted %d, duplicates %d, refused %s, conflicts won %d lost %d, sent again after quota %d, after an unknown outcome %d",
		el, sent, admitted, dups, formatCodes(refused), won, lost, h.retries.Load(), h.resends.Load())
}

func formatCodes(m map[codes.Code]int) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for c, n := range m {
		parts = append(parts, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// isRefusal reports whether code is the server's judgement of the
// statement, after which it must not be in the log; other codes (a
// timeout, an unavailable back end) leave the outcome unknown.
func isRefusal(c codes.Code) bool {
	switch c {
	case codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied, codes.FailedPrecondition,
		codes.AlreadyExists, codes.NotFound, codes.ResourceExhausted, codes.OutOfRange:
		return true
	}
	return false
}
