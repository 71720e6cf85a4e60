package hammer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	mrand "math/rand"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc/codes"

	"github.com/govlog/govlog/personalities/rule/blindtoken"
)

// The votes log. The hammer is the election's authority (the demo agency
// holds election-authority and token-issuer) and its own token issuer: it
// opens an election naming an RSA key it made for the run, logs each batch
// of tokens before it mints them, and mints each token as a voter and the
// issuer would (a one-time key, blinded, signed blindly, unblinded:
// RFC 9474 through blindtoken), so every ballot carries a real token. The
// statement formats are spelled out here, as for the other logs: only
// cmd/govlog's registration list imports a domain.

// tokenBatch is how many tokens one votes.tokens batch logs.
const tokenBatch = 16

// electionOptions are the options of the run's election.
var electionOptions = []string{"yes", "no", "abstain"}

// electionGrace is how long the election stays open after the run's
// submissions end: every ballot is dated before its close, and one sent
// again after an outage still is.
const electionGrace = 2 * time.Minute

// issuerKeyBits is the size of the run's token issuer keys, the smallest
// the votes log accepts.
const issuerKeyBits = blindtoken.MinKeyBits

// A voter is a minted token and the one-time key it names.
type voter struct {
	signer note.Signer
	token  blindtoken.Token
}

// votes is the run's election and its token pool.
type votes struct {
	election string
	issuer   *rsa.PrivateKey // the key the election names
	other    *rsa.PrivateKey // a key no election names: its tokens are bad

	issueMu sync.Mutex // one batch at a time: batches are numbered in order
	batches int64      // batches admitted

	mu   sync.Mutex
	pool []voter // minted tokens whose batch is admitted, never used
}

// setupVotes makes the run's issuer keys and opens its election, waited
// for.
func (h *Hammer) setupVotes(ctx context.Context) error {
	v := &votes{election: h.cfg.Prefix + "-election"}
	var err error
	if v.issuer, err = rsa.GenerateKey(rand.Reader, issuerKeyBits); err != nil {
		return err
	}
	if v.other, err = rsa.GenerateKey(rand.Reader, issuerKeyBits); err != nil {
		return err
	}
	h.votes = v
	body, err := h.electionBody(v.election, time.Now().Add(h.cfg.Duration+electionGrace))
	if err != nil {
		return err
	}
	r := h.submit(ctx, LogVotes, KindSetup, codes.OK, h.sign(LogVotes, "votes.election.open", body), true)
	if !r.Admitted() {
		return fmt.Errorf("setup: votes.election.open %s refused: %s %s", v.election, r.Code, r.Err)
	}
	return nil
}

// electionBody opens election id, open from a minute ago until closes,
// with the run's issuer key.
func (h *Hammer) electionBody(id string, closes time.Time) (map[string]any, error) {
	key, err := blindtoken.EncodeIssuerKey(&h.votes.issuer.PublicKey)
	if err != nil {
		return nil, err
	}
	const layout = "2006-01-02T15:04:05Z"
	return map[string]any{"election_id": id, "question": "Hammer " + id + "?", "options": electionOptions,
		"opens": time.Now().Add(-time.Minute).UTC().Format(layout), "closes": closes.UTC().Format(layout), "issuer_key": key}, nil
}

// mint makes a voter's one-time key and has issuer sign it blindly for
// election, as a voter and the issuer do.
func mint(issuer *rsa.PrivateKey, election string) (voter, error) {
	skey, vkey, err := note.GenerateKey(nil, blindtoken.KeyName)
	if err != nil {
		return voter{}, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return voter{}, err
	}
	blinded, req, err := blindtoken.Blind(&issuer.PublicKey, election, vkey, nil)
	if err != nil {
		return voter{}, err
	}
	sig, err := blindtoken.BlindSign(issuer, blinded)
	if err != nil {
		return voter{}, err
	}
	// Finalize checks the token against the issuer's public key.
	tok, err := req.Finalize(sig)
	if err != nil {
		return voter{}, err
	}
	return voter{signer: signer, token: tok}, nil
}

// takeVoter returns an unused token of the election, logging and minting a
// batch when none is left; false if the batch was not admitted.
func (h *Hammer) takeVoter(ctx context.Context, rng *mrand.Rand) (voter, bool) {
	v := h.votes
	if vt, ok := v.pop(); ok {
		return vt, true
	}
	v.issueMu.Lock()
	defer v.issueMu.Unlock()
	if vt, ok := v.pop(); ok { // another worker minted a batch meanwhile
		return vt, true
	}
	// Logged before its tokens exist, as an honest issuer does.
	r := h.submit(ctx, LogVotes, KindValid, codes.OK, h.sign(LogVotes, "votes.tokens",
		map[string]any{"election_id": v.election, "batch": v.batches + 1, "count": tokenBatch}), rng.Intn(2) == 0)
	if !r.Admitted() {
		return voter{}, false
	}
	v.batches++
	minted := make([]voter, 0, tokenBatch)
	for range tokenBatch {
		vt, err := mint(v.issuer, v.election)
		if err != nil {
			panic(fmt.Sprintf("hammer could not mint a token: %v", err))
		}
		minted = append(minted, vt)
	}
	v.mu.Lock()
	v.pool = append(v.pool, minted[1:]...)
	v.mu.Unlock()
	return minted[0], true
}

func (v *votes) pop() (voter, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.pool) == 0 {
		return voter{}, false
	}
	vt := v.pool[len(v.pool)-1]
	v.pool = v.pool[:len(v.pool)-1]
	return vt, true
}

// ballot is a votes.ballot for choice carrying vt's token, signed by
// signer (vt's own key, when it is valid).
func (h *Hammer) ballot(vt voter, choice string, signer note.Signer) []byte {
	return h.signAs(h.origins[LogVotes], "votes.ballot",
		map[string]any{"election_id": h.votes.election, "choice": choice, "token": vt.token}, signer)
}

// castValid casts a valid ballot with a fresh token.
func (h *Hammer) castValid(ctx context.Context, rng *mrand.Rand, wait bool) {
	vt, ok := h.takeVoter(ctx, rng)
	if !ok {
		return
	}
	h.submit(ctx, LogVotes, KindValid, codes.OK, h.ballot(vt, electionOptions[rng.Intn(len(electionOptions))], vt.signer), wait)
}

// castInvalid casts a ballot the log must refuse with want. A token it
// spends this way is not used again (the log has not spent it, but a
// refusal that turned out an admission must not make a conflict).
func (h *Hammer) castInvalid(ctx context.Context, rng *mrand.Rand, kind Kind, want codes.Code, wait bool) {
	choice := electionOptions[rng.Intn(len(electionOptions))]
	switch kind {
	case KindBadToken:
		var vt voter
		if rng.Intn(2) == 0 {
			// Signed blindly by a key the election does not name.
			var err error
			if vt, err = mint(h.votes.other, h.votes.election); err != nil {
				panic(fmt.Sprintf("hammer could not mint a token: %v", err))
			}
		} else {
			// The issuer's token with one bit of its signature flipped.
			var ok bool
			if vt, ok = h.takeVoter(ctx, rng); !ok {
				return
			}
			sig, err := base64.StdEncoding.DecodeString(vt.token.Signature)
			if err != nil {
				panic(err)
			}
			sig[rng.Intn(len(sig))] ^= 1 << rng.Intn(8)
			vt.token.Signature = base64.StdEncoding.EncodeToString(sig)
		}
		h.submit(ctx, LogVotes, kind, want, h.ballot(vt, choice, vt.signer), wait)
	case KindNoOption:
		vt, ok := h.takeVoter(ctx, rng)
		if !ok {
			return
		}
		h.submit(ctx, LogVotes, kind, want, h.ballot(vt, "maybe", vt.signer), wait)
	case KindWrongSigner:
		// A valid token, the ballot signed by another one-time key.
		vt, ok := h.takeVoter(ctx, rng)
		if !ok {
			return
		}
		skey, _, err := note.GenerateKey(nil, blindtoken.KeyName)
		if err != nil {
			panic(err)
		}
		other, err := note.NewSigner(skey)
		if err != nil {
			panic(err)
		}
		h.submit(ctx, LogVotes, kind, want, h.ballot(vt, choice, other), wait)
	}
}

// votesConflict casts two different ballots with one token at once.
func (h *Hammer) votesConflict(ctx context.Context, rng *mrand.Rand) {
	vt, ok := h.takeVoter(ctx, rng)
	if !ok {
		return
	}
	i := rng.Intn(len(electionOptions))
	h.race(ctx, rng, LogVotes,
		h.ballot(vt, electionOptions[i], vt.signer),
		h.ballot(vt, electionOptions[(i+1)%len(electionOptions)], vt.signer))
}
