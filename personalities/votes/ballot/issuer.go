// Package ballot is the off-log side of the votes log: the token issuer's
// server, the voter's client and their commands (govlog votes issuer,
// issuer-key, token, cast).
//
// A voter on an election's voter list asks the election's token issuer for
// a blind signature over a one-time note key (personalities/rule/blindtoken),
// signing the request with their long-term note key. The issuer refuses a
// second request from one voter, writes to the votes log how many tokens it
// signs in each batch ("votes.tokens"), and only then answers the batch. The
// voter unblinds the token and later signs a ballot ("votes.ballot") with
// the one-time key, carrying the token: the log sees a ballot from somebody
// the issuer gave a token to, and the issuer cannot tell whose.
package ballot

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/rule/blindtoken"
)

// LogName is the name of the votes log on its server.
const LogName = "votes"

// Statement types this package writes.
const (
	TypeTokens = "votes.tokens"
	TypeBallot = "votes.ballot"
)

// RequestFormat begins the text a voter signs to ask for a token.
const RequestFormat = "govlog/votes/token-request/v1"

// Batching defaults: a batch closes after DefaultBatchWait or with
// DefaultBatchMax requests, whichever comes first.
const (
	DefaultBatchWait = 200 * time.Millisecond
	DefaultBatchMax  = 100
)

// maxRequestBody bounds a token request.
const maxRequestBody = 64 << 10

// Logger submits a signed statement to a log: a *client.Client, or a fake.
type Logger interface {
	Submit(ctx context.Context, log string, statement []byte, wait bool) (*client.Submitted, error)
}

// Election is one election an Issuer serves.
type Election struct {
	ID string
	// Key is the election's token issuer key; its public half is the
	// election body's issuer_key.
	Key *rsa.PrivateKey
	// Voters are the eligible voters: voter ID -> their long-term note
	// verifier key, which signs their token request.
	Voters map[string]note.Verifier
}

// Config configures an Issuer.
type Config struct {
	Elections []Election
	// Log takes the votes.tokens statements; LogName names the log on it
	// (default "votes") and Origin is the log's origin.
	Log     Logger
	LogName string
	Origin  string
	// AgencyKey is the issuer agency's registry key (role token-issuer),
	// which signs votes.tokens.
	AgencyKey note.Signer
	// DB is the path of the issuer's SQLite store.
	DB string
	// BatchWait and BatchMax bound a batch (defaults DefaultBatchWait,
	// DefaultBatchMax).
	BatchWait time.Duration
	BatchMax  int
	// SubmitTimeout bounds one submission to the log (default 30s).
	SubmitTimeout time.Duration
	// Logf logs each batch (default log.Printf). It is never given a
	// voter ID.
	Logf func(format string, args ...any)
	// Now is the clock of the statements (default time.Now).
	Now func() time.Time
}

// Issuer is an election's token issuer: an http.Handler serving
// POST /token.
type Issuer struct {
	cfg       Config
	elections map[string]*Election
	store     *store
	queue     chan *pending

	mu       sync.Mutex
	inflight map[[2]string]bool // (election, voter) with a request under way

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// pending is one request waiting for its batch.
type pending struct {
	election, voter string
	result          chan error
}

// NewIssuer opens the store and starts the batcher. Close stops it.
func NewIssuer(cfg Config) (*Issuer, error) {
	if len(cfg.Elections) == 0 {
		return nil, errors.New("the issuer serves no election: give at least one")
	}
	if cfg.Log == nil {
		return nil, errors.New("the issuer needs the votes log to write its batches to")
	}
	if cfg.AgencyKey == nil {
		return nil, errors.New("the issuer needs the agency's signing key (role token-issuer)")
	}
	if cfg.Origin == "" {
		return nil, errors.New("the issuer needs the votes log's origin")
	}
	if cfg.DB == "" {
		return nil, errors.New("the issuer needs a store file")
	}
	if cfg.LogName == "" {
		cfg.LogName = LogName
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = DefaultBatchWait
	}
	if cfg.BatchMax <= 0 {
		cfg.BatchMax = DefaultBatchMax
	}
	if cfg.SubmitTimeout <= 0 {
		cfg.SubmitTimeout = 30 * time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	is := &Issuer{
		cfg:       cfg,
		elections: map[string]*Election{},
		queue:     make(chan *pending, 4*cfg.BatchMax),
		inflight:  map[[2]string]bool{},
		done:      make(chan struct{}),
	}
	for i := range cfg.Elections {
		e := &cfg.Elections[i]
		if err := checkID("election ID", e.ID); err != nil {
			return nil, err
		}
		if is.elections[e.ID] != nil {
			return nil, fmt.Errorf("election %s is given twice", e.ID)
		}
		if e.Key == nil {
			return nil, fmt.Errorf("election %s has no issuer key", e.ID)
		}
		if _, err := blindtoken.EncodeIssuerKey(&e.Key.PublicKey); err != nil {
			return nil, fmt.Errorf("election %s: %w", e.ID, err)
		}
		if len(e.Voters) == 0 {
			return nil, fmt.Errorf("election %s has no voters", e.ID)
		}
		for id := range e.Voters {
			if err := checkID("voter ID", id); err != nil {
				return nil, fmt.Errorf("election %s: %w", e.ID, err)
			}
		}
		is.elections[e.ID] = e
	}
	st, err := openStore(cfg.DB)
	if err != nil {
		return nil, err
	}
	is.store = st
	is.ctx, is.cancel = context.WithCancel(context.Background())
	go is.batcher()
	return is, nil
}

// Close stops the batcher, failing requests still waiting, and closes the
// store.
func (is *Issuer) Close() error {
	is.cancel()
	<-is.done
	return is.store.close()
}

// checkID accepts 1 to 128 printable characters without spaces: what fits
// a line of the voters file and of the signed request.
func checkID(what, id string) error {
	if id == "" || len(id) > 128 || !utf8.ValidString(id) {
		return fmt.Errorf("%s %.64q: want 1 to 128 printable characters, no spaces", what, id)
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("%s %.64q: want 1 to 128 printable characters, no spaces", what, id)
		}
	}
	return nil
}

// TokenRequest is the body of POST /token.
type TokenRequest struct {
	ElectionID string `json:"election_id"`
	VoterID    string `json:"voter_id"`
	// Blinded is the blinded token message, standard base64.
	Blinded string `json:"blinded"`
	// Signature is the voter's signature of RequestText, as the voter's
	// long-term note key signs it: the standard base64 on its signature
	// line (the key hash's 4 bytes, then the Ed25519 signature).
	Signature string `json:"signature"`
}

// TokenResponse is the answer to a granted request.
type TokenResponse struct {
	BlindSignature string `json:"blind_signature"`
}

// errorResponse is the answer to a refused one.
type errorResponse struct {
	Error string `json:"error"`
}

// RequestText is the note text a voter signs to ask for a token:
//
//	govlog/votes/token-request/v1
//	<election ID>
//	<voter ID>
//	<standard base64 of the blinded message>
//
// with a final newline, as every signed note's text ends. It binds the
// request to the issuer's election and voter, and to this blinded message:
// nobody else can spend a voter's right to a token.
func RequestText(electionID, voterID string, blinded []byte) string {
	return RequestFormat + "\n" + electionID + "\n" + voterID + "\n" + base64.StdEncoding.EncodeToString(blinded) + "\n"
}

// SignRequest signs the request text with the voter's long-term key and
// returns the TokenRequest.Signature value.
func SignRequest(voterKey note.Signer, electionID, voterID string, blinded []byte) (string, error) {
	msg, err := note.Sign(&note.Note{Text: RequestText(electionID, voterID, blinded)}, voterKey)
	if err != nil {
		return "", fmt.Errorf("couldn't sign the token request: %w", err)
	}
	// The signed note ends with "— <name> <base64>\n"; keep the base64.
	_, sigs, ok := strings.Cut(string(msg), "\n\n")
	if !ok {
		return "", errors.New("couldn't sign the token request: no signature line")
	}
	line := strings.TrimSuffix(sigs, "\n")
	i := strings.LastIndexByte(line, ' ')
	if i < 0 || strings.Contains(line, "\n") {
		return "", errors.New("couldn't sign the token request: unexpected signature lines")
	}
	return line[i+1:], nil
}

// verifyRequest checks sig, a TokenRequest.Signature, by the voter's key.
func verifyRequest(v note.Verifier, electionID, voterID string, blinded []byte, sig string) error {
	if len(sig) > 1024 || strings.ContainsAny(sig, " \n") {
		return errors.New("malformed signature")
	}
	msg := RequestText(electionID, voterID, blinded) + "\n\u2014 " + v.Name() + " " + sig + "\n"
	if _, err := note.Open([]byte(msg), note.VerifierList(v)); err != nil {
		return err
	}
	return nil
}

// httpError is a refusal with its HTTP status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func refuse(status int, format string, args ...any) error {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// ServeHTTP serves POST /token.
func (is *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/token" {
		writeJSON(w, http.StatusNotFound, errorResponse{"not found: the issuer serves POST /token"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, errorResponse{"use POST /token"})
		return
	}
	sig, err := is.token(r)
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			he = &httpError{http.StatusInternalServerError, "the issuer failed: " + err.Error()}
		}
		if he.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
		writeJSON(w, he.status, errorResponse{he.msg})
		return
	}
	writeJSON(w, http.StatusOK, TokenResponse{BlindSignature: base64.StdEncoding.EncodeToString(sig)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// token checks a request and returns the blind signature once its batch is
// on the log.
func (is *Issuer) token(r *http.Request) ([]byte, error) {
	var req TokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, refuse(http.StatusBadRequest, "the request is not a token request (JSON with election_id, voter_id, blinded, signature): %v", err)
	}
	e := is.elections[req.ElectionID]
	if e == nil {
		return nil, refuse(http.StatusNotFound, "this issuer serves no election %.64q; check --election", req.ElectionID)
	}
	voterKey, ok := e.Voters[req.VoterID]
	if !ok {
		return nil, refuse(http.StatusForbidden, "voter %.64q is not on the voter list of election %s", req.VoterID, e.ID)
	}
	size := e.Key.Size()
	blinded, err := base64.StdEncoding.Strict().DecodeString(req.Blinded)
	if err != nil || len(blinded) != size {
		return nil, refuse(http.StatusBadRequest, "blinded must be the standard base64 of %d bytes (a message blinded for election %s's issuer key)", size, e.ID)
	}
	if err := verifyRequest(voterKey, e.ID, req.VoterID, blinded, req.Signature); err != nil {
		return nil, refuse(http.StatusUnauthorized, "the request's signature does not verify with voter %s's registered key (%s): sign it with that key", req.VoterID, voterKey.Name())
	}

	// One request per voter at a time; one token per voter ever.
	k := [2]string{e.ID, req.VoterID}
	is.mu.Lock()
	busy := is.inflight[k]
	is.inflight[k] = true
	is.mu.Unlock()
	if busy {
		return nil, refuse(http.StatusConflict, "voter %s's request for a token for election %s is already under way; only one token per voter", req.VoterID, e.ID)
	}
	defer func() {
		is.mu.Lock()
		delete(is.inflight, k)
		is.mu.Unlock()
	}()
	had, err := is.store.hasToken(r.Context(), e.ID, req.VoterID)
	if err != nil {
		return nil, fmt.Errorf("reading the store: %w", err)
	}
	if had {
		return nil, refuse(http.StatusConflict, "voter %s already got a token for election %s; a voter gets one token only (use the token file you got then)", req.VoterID, e.ID)
	}

	// Sign now, answer only once the batch is on the log.
	sig, err := blindtoken.BlindSign(e.Key, blinded)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "couldn't sign the blinded message: %v", err)
	}
	p := &pending{election: e.ID, voter: req.VoterID, result: make(chan error, 1)}
	select {
	case is.queue <- p:
	case <-is.ctx.Done():
		return nil, refuse(http.StatusServiceUnavailable, "the issuer is shutting down; no token was issued, ask again later")
	}
	// Wait for the batch even if the voter hangs up: once it is on the
	// log, the voter is marked.
	var res error
	select {
	case res = <-p.result:
	case <-is.done:
		select {
		case res = <-p.result:
		default: // queued after the batcher stopped: never in a batch
			res = refuse(http.StatusServiceUnavailable, "the issuer is shutting down; no token was issued, ask again later")
		}
	}
	if res != nil {
		return nil, res
	}
	return sig, nil
}

// batcher collects requests into batches until Close.
func (is *Issuer) batcher() {
	defer close(is.done)
	for {
		var batch []*pending
		select {
		case p := <-is.queue:
			batch = append(batch, p)
		case <-is.ctx.Done():
			is.drain()
			return
		}
		timer := time.NewTimer(is.cfg.BatchWait)
	collect:
		for len(batch) < is.cfg.BatchMax {
			select {
			case p := <-is.queue:
				batch = append(batch, p)
			case <-timer.C:
				break collect
			case <-is.ctx.Done():
				break collect
			}
		}
		timer.Stop()
		is.flush(batch)
	}
}

// drain fails the requests still queued at Close.
func (is *Issuer) drain() {
	for {
		select {
		case p := <-is.queue:
			p.result <- refuse(http.StatusServiceUnavailable, "the issuer is shutting down; no token was issued, ask again later")
		default:
			return
		}
	}
}

// flush writes one votes.tokens statement per election of the batch, and
// answers its requests.
func (is *Issuer) flush(batch []*pending) {
	var order []string
	byElection := map[string][]*pending{}
	for _, p := range batch {
		if byElection[p.election] == nil {
			order = append(order, p.election)
		}
		byElection[p.election] = append(byElection[p.election], p)
	}
	for _, election := range order {
		ps := byElection[election]
		err := is.writeBatch(election, ps)
		for _, p := range ps {
			p.result <- err
		}
	}
}

// TokensBody is the body of a votes.tokens statement.
type TokensBody struct {
	ElectionID string `json:"election_id"`
	Batch      int64  `json:"batch"`
	Count      int    `json:"count"`
}

// writeBatch records the batch's voters and submits its statement, in one
// store transaction that commits only if the log took the statement.
func (is *Issuer) writeBatch(election string, ps []*pending) error {
	voters := make([]string, len(ps))
	for i, p := range ps {
		voters[i] = p.voter
	}
	ctx, cancel := context.WithTimeout(is.ctx, is.cfg.SubmitTimeout)
	defer cancel()
	var leaf [32]byte
	batch, err := is.store.recordBatch(ctx, election, voters, func(batch int64) ([32]byte, error) {
		body, err := json.Marshal(TokensBody{ElectionID: election, Batch: batch, Count: len(voters)})
		if err != nil {
			return leaf, err
		}
		st, err := govlog.NewStatement(is.cfg.Origin, TypeTokens, is.cfg.Now(), body)
		if err != nil {
			return leaf, err
		}
		signed, err := st.Sign(is.cfg.AgencyKey)
		if err != nil {
			return leaf, err
		}
		res, err := is.cfg.Log.Submit(ctx, is.cfg.LogName, signed, false)
		if err != nil {
			is.cfg.Logf("votes issuer: election %s batch %d: %d tokens NOT issued: the log refused or failed: %v", election, batch, len(voters), err)
			return leaf, refuse(http.StatusServiceUnavailable, "the votes log did not take the issuer's batch statement, so no token was issued; ask again later")
		}
		leaf = res.LeafHash
		return leaf, nil
	})
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			return err
		}
		is.cfg.Logf("votes issuer: election %s: %d tokens NOT issued: %v", election, len(voters), err)
		return refuse(http.StatusServiceUnavailable, "the issuer could not record the batch, so no token was issued; ask again later")
	}
	is.cfg.Logf("votes issuer: election %s batch %d: %d tokens, statement leaf hash %s", election, batch, len(voters), hex.EncodeToString(leaf[:]))
	return nil
}
