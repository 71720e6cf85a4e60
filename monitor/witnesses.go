package monitor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/errgroup"

	"github.com/govlog/govlog"
)

// KindSplitView: a witness holds evidence that the log signed two
// checkpoints that cannot both be true: it showed different histories to
// different parties. The monitor checked the evidence itself with the log's
// key. Evidence: both checkpoints, the consistency proof that shows them
// incompatible (when their sizes differ) and the witness's evidence file,
// which `govlog check-evidence` checks.
const KindSplitView Kind = "split_view"

// Limits on what a witness's evidence costs a pass.
const (
	// WitnessTimeout is the default time a witness has to answer one
	// request (Options.WitnessClient).
	WitnessTimeout = 10 * time.Second
	// maxEvidenceList bounds a witness's GET /evidence answer.
	maxEvidenceList = 1 << 20
	// maxEvidenceFile bounds one evidence file: two checkpoints and a proof.
	maxEvidenceFile = 1 << 20
	// maxEvidencePerPoll bounds the files fetched from one witness per
	// pass; the rest wait for the next passes.
	maxEvidencePerPoll = 16
	// maxProofLines is the most hashes a consistency proof of a tree of
	// at most 2^63 leaves holds.
	maxProofLines = 63
)

// evidenceHeader is the first line of a govlog witness's evidence file
// (see witness.Evidence for the format, which the monitor parses on its
// own: it shares no code with the witnesses it checks).
const evidenceHeader = "govlog/evidence/v1"

// witnessURLs returns the witnesses whose evidence the monitor reads: those
// of opts.Witnesses and those the logs' policies give a URL, each once.
func witnessURLs(opts Options) ([]string, error) {
	var urls []string
	add := func(u string) error {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("monitor: witness URL %q is not an http:// or https:// URL", u)
		}
		if u = strings.TrimSuffix(u, "/"); !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
		return nil
	}
	for _, u := range opts.Witnesses {
		if err := add(u); err != nil {
			return nil, err
		}
	}
	for _, l := range opts.Logs {
		for _, w := range l.Policy.Witnesses() {
			if w.URL == "" {
				continue
			}
			if err := add(w.URL); err != nil {
				return nil, fmt.Errorf("log %s: policy: %w", l.Origin, err)
			}
		}
	}
	return urls, nil
}

// witnessPolls is what the monitor knows of each witness's evidence, for
// the passes (which write it) and the dashboard (which reads it).
type witnessPolls struct {
	client *http.Client
	mu     sync.Mutex
	byURL  map[string]*WitnessStatus
	// done holds the evidence IDs settled for good, by witness URL: alerted
	// on, or refused because they do not verify.
	done map[string]map[string]bool
}

// WitnessStatus is what the last poll of a witness's evidence found.
type WitnessStatus struct {
	URL string
	// Polled is when it was last asked; zero before the first pass.
	Polled time.Time
	// Unreachable is the last poll's failure, empty if it answered; since
	// when it has failed is FailingSince.
	Unreachable  string
	FailingSince time.Time
	// SplitViews counts the pieces of evidence it holds against the logs the
	// monitor follows that the monitor verified (each an alert); Refused,
	// those that did not verify.
	SplitViews, Refused int
}

func newWitnessPolls(urls []string, client *http.Client) *witnessPolls {
	if client == nil {
		client = &http.Client{Timeout: WitnessTimeout}
	}
	p := &witnessPolls{client: client, byURL: map[string]*WitnessStatus{}, done: map[string]map[string]bool{}}
	for _, u := range urls {
		p.byURL[u] = &WitnessStatus{URL: u}
		p.done[u] = map[string]bool{}
	}
	return p
}

// Witnesses returns the status of each witness whose evidence the monitor
// reads, in URL order.
func (m *Monitor) Witnesses() []WitnessStatus {
	p := m.witnesses
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []WitnessStatus
	for _, s := range p.byURL {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b WitnessStatus) int { return strings.Compare(a.URL, b.URL) })
	return out
}

// splitView is evidence a witness served that the monitor verified.
type splitView struct {
	witness, id string
	log         *Log
	first       govlog.Checkpoint
	second      govlog.Checkpoint
	ev          parsedEvidence
}

// pollWitnesses reads every witness's evidence at once and raises an alert
// for each piece against a followed log that verifies. A witness that cannot
// be reached is shown as such, not alerted on, and logged when it stops or
// starts answering, not at every pass. The error is a failure to record an
// alert.
func (m *Monitor) pollWitnesses(ctx context.Context) error {
	p := m.witnesses
	found := make([][]splitView, len(p.byURL))
	var g errgroup.Group
	urls := make([]string, 0, len(p.byURL))
	for u := range p.byURL {
		urls = append(urls, u)
	}
	slices.Sort(urls)
	for i, u := range urls {
		g.Go(func() error {
			found[i] = m.pollWitness(ctx, u)
			return nil
		})
	}
	g.Wait()
	var errs []error
	for _, views := range found {
		for _, v := range views {
			a := Alert{Kind: KindSplitView, Log: v.log.Origin,
				Message: fmt.Sprintf("witness %s holds evidence that the log signed two checkpoints that cannot both be true (sizes %d and %d): it showed different histories",
					v.witness, v.first.Size, v.second.Size),
				Evidence: Evidence{Checkpoints: [][]byte{v.ev.first, v.ev.second}, Proof: v.ev.proof, SplitView: v.ev.file}.marshal()}
			if err := m.raise(ctx, a); err != nil {
				errs = append(errs, err)
				continue
			}
			p.mu.Lock()
			p.done[v.witness][v.id] = true
			p.byURL[v.witness].SplitViews++
			p.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// pollWitness reads one witness's list of evidence and the files it has not
// settled yet, and returns those that verify.
func (m *Monitor) pollWitness(ctx context.Context, witness string) []splitView {
	p := m.witnesses
	now := m.opts.Now().UTC()
	list, err := p.get(ctx, witness+"/evidence", maxEvidenceList)
	var views []splitView
	if err == nil {
		views, err = m.readEvidence(ctx, witness, list)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.byURL[witness]
	s.Polled = now
	switch {
	case err != nil && s.Unreachable == "":
		m.logger.Warn("couldn't read a witness's evidence; retried at each pass, logged again when it answers", "witness", witness, "err", err)
		s.Unreachable, s.FailingSince = firstLine(err.Error()), now
	case err != nil:
		s.Unreachable = firstLine(err.Error())
	case s.Unreachable != "":
		m.logger.Info("a witness's evidence is readable again", "witness", witness, "failing_since", s.FailingSince)
		s.Unreachable, s.FailingSince = "", time.Time{}
	}
	return views
}

// readEvidence fetches and verifies the files of list, a witness's GET
// /evidence answer ("<id> <kind> <found> <origin>" lines), that are against
// followed logs and not settled yet. An error is a failure to read.
func (m *Monitor) readEvidence(ctx context.Context, witness string, list []byte) ([]splitView, error) {
	p := m.witnesses
	var views []splitView
	fetched := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(list), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, " ", 4)
		if len(f) != 4 || !isHexID(f[0]) {
			return views, fmt.Errorf("malformed evidence list line %.128q", line)
		}
		id, origin := f[0], f[3]
		l := m.logByOrigin(origin)
		p.mu.Lock()
		done := p.done[witness][id]
		p.mu.Unlock()
		if l == nil || done {
			continue
		}
		if fetched++; fetched > maxEvidencePerPoll {
			break
		}
		file, err := p.get(ctx, witness+"/evidence/"+id, maxEvidenceFile)
		if err != nil {
			return views, err
		}
		if sum := sha256.Sum256(file); hex.EncodeToString(sum[:]) != id {
			return views, fmt.Errorf("evidence file %.16s… doesn't match its ID", id)
		}
		ev, first, second, err := verifySplitView(file, logKey(l))
		if err != nil {
			m.logger.Warn("a witness serves evidence that doesn't verify; not an alert", "witness", witness, "log", origin, "id", id, "err", err)
			p.mu.Lock()
			p.done[witness][id] = true
			p.byURL[witness].Refused++
			p.mu.Unlock()
			continue
		}
		views = append(views, splitView{witness: witness, id: id, log: l, first: first, second: second, ev: ev})
	}
	return views, nil
}

func (m *Monitor) logByOrigin(origin string) *Log {
	for i := range m.opts.Logs {
		if m.opts.Logs[i].Origin == origin {
			return &m.opts.Logs[i]
		}
	}
	return nil
}

// get reads url, which must answer 200 with at most limit bytes; a 404 for
// the list is a witness without the evidence extension, which holds none.
func (p *witnessPolls) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("GET %s: %w", u, err)
	case resp.StatusCode == http.StatusNotFound && strings.HasSuffix(u, "/evidence"):
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	case int64(len(body)) > limit:
		return nil, fmt.Errorf("GET %s: answer larger than %d bytes", u, limit)
	}
	return body, nil
}

func isHexID(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size && hex.EncodeToString(b) == s
}

// parsedEvidence is an evidence file in its parts.
type parsedEvidence struct {
	file, first, second []byte
	// prefixRoot and proof are set when the sizes differ.
	prefixRoot []byte
	proof      [][]byte
}

// verifySplitView parses an evidence file and checks that it proves the log
// whose key is key signed two incompatible checkpoints: of one size with
// two roots, or of sizes m < n where a consistency proof from m to n
// verifies the larger root with another root at m than the smaller
// checkpoint's (a proof that merely fails proves nothing: proofs are not
// signed).
func verifySplitView(file []byte, key note.Verifier) (parsedEvidence, govlog.Checkpoint, govlog.Checkpoint, error) {
	var first, second govlog.Checkpoint
	ev, err := parseEvidence(file)
	if err != nil {
		return ev, first, second, err
	}
	if first, _, err = govlog.OpenCheckpoint(ev.first, key); err != nil {
		return ev, first, second, fmt.Errorf("first checkpoint: %w", err)
	}
	if second, _, err = govlog.OpenCheckpoint(ev.second, key); err != nil {
		return ev, first, second, fmt.Errorf("second checkpoint: %w", err)
	}
	switch {
	case first.Size > second.Size:
		return ev, first, second, errors.New("the first checkpoint is larger than the second")
	case first.Size == second.Size && ev.prefixRoot != nil:
		return ev, first, second, errors.New("a prefix section with checkpoints of one size")
	case first.Size == second.Size && first.Hash == second.Hash:
		return ev, first, second, fmt.Errorf("both checkpoints have size %d and the same root", first.Size)
	case first.Size == second.Size:
		return ev, first, second, nil
	case ev.prefixRoot == nil:
		return ev, first, second, fmt.Errorf("checkpoints of sizes %d and %d without a prefix section", first.Size, second.Size)
	case first.Size == 0:
		return ev, first, second, errors.New("every tree extends the empty tree")
	case bytes.Equal(ev.prefixRoot, first.Hash[:]):
		return ev, first, second, errors.New("the prefix root is the first checkpoint's root")
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, first.Size, second.Size, ev.proof, ev.prefixRoot, second.Hash[:]); err != nil {
		return ev, first, second, fmt.Errorf("the proof from size %d to %d doesn't verify with the prefix root: %w", first.Size, second.Size, err)
	}
	return ev, first, second, nil
}

// parseEvidence parses the format witness.Evidence documents:
//
//	govlog/evidence/v1
//	checkpoint <length in bytes>
//	<signed checkpoint>
//	checkpoint <length in bytes>
//	<signed checkpoint>
//	[prefix <base64 root>
//	<base64 hash>...]
func parseEvidence(file []byte) (parsedEvidence, error) {
	ev := parsedEvidence{file: file}
	rest, ok := bytes.CutPrefix(file, []byte(evidenceHeader+"\n"))
	if !ok {
		return ev, fmt.Errorf("not an evidence file: the first line is not %q", evidenceHeader)
	}
	for _, cp := range []*[]byte{&ev.first, &ev.second} {
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		lenText, ok := bytes.CutPrefix(line, []byte("checkpoint "))
		if !ok {
			return ev, fmt.Errorf("want a checkpoint line, got %.64q", line)
		}
		n, err := strconv.ParseUint(string(lenText), 10, 32)
		if err != nil || n == 0 || n > uint64(len(after)) {
			return ev, fmt.Errorf("bad checkpoint length %.32q", lenText)
		}
		*cp, rest = after[:n:n], after[n:]
	}
	if len(rest) == 0 {
		return ev, nil
	}
	if rest[len(rest)-1] != '\n' {
		return ev, errors.New("the last line has no newline")
	}
	lines := strings.Split(string(rest[:len(rest)-1]), "\n")
	rootText, ok := strings.CutPrefix(lines[0], "prefix ")
	if !ok {
		return ev, fmt.Errorf("want a prefix line, got %.64q", lines[0])
	}
	if len(lines)-1 > maxProofLines {
		return ev, fmt.Errorf("more than %d proof lines", maxProofLines)
	}
	var err error
	if ev.prefixRoot, err = decodeHash(rootText); err != nil {
		return ev, fmt.Errorf("prefix root: %w", err)
	}
	for i, line := range lines[1:] {
		h, err := decodeHash(line)
		if err != nil {
			return ev, fmt.Errorf("proof line %d: %w", i+1, err)
		}
		ev.proof = append(ev.proof, h)
	}
	return ev, nil
}

func decodeHash(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("not a 32-byte hash in base64")
	}
	return b, nil
}
