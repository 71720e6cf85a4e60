package votes_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/blindtoken"
	"github.com/govlog/govlog/personalities/rule/ruletest"
	"github.com/govlog/govlog/personalities/votes"
)

const (
	origin    = "gov.example/votes"
	authority = "city-a"
	issuer    = "city-issuer"
	engine    = "votes-log"
	election  = "e1"
)

// exampleIssuerPrivate is the issuer key (PKCS #8, base64) whose public key
// is the example election's issuer_key in types.go; the tests' elections
// use it too.
const exampleIssuerPrivate = "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC7p+kRau8ls5QrKdAnQnPgLk0VR8TCRfeGySFwbXMca6RaipZhKHmFD8HUq8jTiNN16n8Tdk3ExTIQXRkzg9bX4EoYUDO1NAFR2Dtg07VvVyq7OENc5HfM4Y930qijMkSOpil4kWcwoTWRQpN+fny1qvi47AZUlAbvMzmjamnpC8in8eso83BVHE1D+RKozX7dJUXhVOOvXfcmpLJf6wA3/AGeIqEo/07Plyy6tpRH9f5V4Af2BpGYJnTtelKwoDf+qBgDDlop71xAkKH9VnL6ttHUrF0lh2jtvf9UnihEhhSOr2VmZTOFJyGJZFa2sx7G6eNQjQq6cDJvLiy+rRtLAgMBAAECggEAEyp3mfFPgozATdZD7baSSivAcLN3S5ZEzS3erfJnxtfRnfO4nyy4mJf+5n8zEDPR0SHFn9G96KJxVg2EJOhKuZqtRqVuWov4tIi+q8mDpt8CvMNm0eZ9u92vvv+zfJOGQAGFi8xh+ywD4hWoJcu6Zf2T0KM+lEXYHXcgZGnablQ6YpmCKSFwsARGiAy8LHgbcjwaO5D+H51OstDjtvw8ayWjsjZCTjEzzTvnzhiis9BXsaLR0EvoWpCfeIWRrdAo7ZgNkMihNkn2HHJUF/u9NQz0n+4nnsX40zrLtbZ0mCCQtSjfWPvTkQL7B5TSfKJi3jP2YN95+mgwhP77xIE5bQKBgQDrxsKlMdFFnA9NGlcBjZtHZpJxoy379okm8VTeUvOPm531qQYdHWCTmh0q2t26kf660V+JHquCb61Rlkh/6tlWH9N17o9F893bdYdv6nC2562ykoTLTxWxdxx/g839oMW7lSo/pYX7ybt4LaNEwZWy1U2JLm4p8sNVP+uEVFi8jQKBgQDLwIHpv7EjOnBJGsOoTeFs0o2vrE+mKgXtrA/+lcZMIOgowy7Q3U3DvX2jotPnv8FRP615iiqsFS3PojGRKnwj6WMhwGyRaay/Z8oqIDajDOQS93fsN0K1Xwwre5g4Tzix8g8ervJvNta61aGDuNgP9WdSIIUTxDUjNL+iyys9NwKBgQCJO/2bra2DeNynIke2TbguDRP8NODVIaCfHCUr6th9pDSDAsjeNXU7NJ75jL82kzfTgX68DzABEgOt022LlyS9rnSk1iBqtRFTZctZZvoIXD2MDSBiPjwAObZKumsxz1yIXMBkn3GnJrqJrvazVIJPvzwMNwxEOltbyYLKWVX1GQKBgFpJjwf2wtb6gWFTs9nz0O25C8IJ2C2ot4HPWjMVSY7Ykifl/evd9STE5lTJxZ8PUOnhDs0p1aj1pZw5oj9SlToQpLYDH9j7++nBY0txhOSRxMtGz+RjxHK8kJcAKL7jFBt+SQbuvU1c/qBCJFVLZqsDsuoosO/GZUmZiUXpQ9rXAoGBAK+w6qZmNqegKg3d9OI8NATrRWs6Nyv4I8BI11D/lw5XJ50hyIAtFqt/UsX7i6XYPX0di/oztN39B3HKm2x7mvCe8R1kTewE63mBKjCBJSvsW7V+RWRpYaj4mFINmkxzEKk1jDXvK0CgN1vi6Nf9q2Hw4JmT3KVZW7Bi/y3Dm5B5"

// exampleVoterKey signs the example ballot in types.go, whose token is for
// its verifier key.
const exampleVoterKey = "PRIVATE+KEY+voter+95ac06db+AdXq6Hb3a47SQUfTme5ytb5XN2h/l2pPl/Rnt/YzyOd/"

// The test elections open at t0 and close at t1.
var (
	t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
)

var issuerKey = sync.OnceValue(func() *rsa.PrivateKey {
	der, err := base64.StdEncoding.DecodeString(exampleIssuerPrivate)
	if err != nil {
		panic(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		panic(err)
	}
	return k.(*rsa.PrivateKey)
})

func issuerPublic(t testing.TB) string {
	t.Helper()
	s, err := blindtoken.EncodeIssuerKey(&issuerKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// key is a signer's key pair.
type key struct {
	note.Signer
	vkey string
}

func newKey(t testing.TB, name string) key {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return key{s, vkey}
}

var agencyKey = sync.OnceValue(func() key {
	skey, vkey, err := note.GenerateKey(rand.Reader, "gov.example/agency")
	if err != nil {
		panic(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		panic(err)
	}
	return key{s, vkey}
})

// voter is a voter's one-time key and its token for an election.
type voter struct {
	key
	token blindtoken.Token
}

// tokenFor has the issuer priv sign k's key blindly for election id.
func tokenFor(t testing.TB, priv *rsa.PrivateKey, id string, k key) blindtoken.Token {
	t.Helper()
	blinded, req, err := blindtoken.Blind(&priv.PublicKey, id, k.vkey, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := blindtoken.BlindSign(priv, blinded)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := req.Finalize(sig)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newVoter(t testing.TB, id string) voter {
	t.Helper()
	k := newKey(t, votes.VoterKeyName)
	return voter{k, tokenFor(t, issuerKey(), id, k)}
}

// statement returns the entry of a statement signed by keys, as the centre
// hands it to the rules; agency is the registry's verdict on its signer,
// "" for a self-signed type.
func statement(t testing.TB, agency, typ string, at time.Time, body any, keys ...key) rule.Entry {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	st, err := govlog.NewStatement(origin, typ, at, b)
	if err != nil {
		t.Fatal(err)
	}
	var signers []note.Signer
	for _, k := range keys {
		signers = append(signers, k.Signer)
	}
	signed, err := st.Sign(signers...)
	if err != nil {
		t.Fatal(err)
	}
	e := rule.Entry{Type: st.Type, Time: st.Time, Body: st.Body, Agency: agency, LeafHash: govlog.LeafHash(signed)}
	if e.Text, e.Signatures, err = ruletest.SplitNote(signed); err != nil {
		t.Fatal(err)
	}
	return e
}

func openBody(t testing.TB, id string) map[string]any {
	return map[string]any{
		"election_id": id, "question": "Which park first?", "options": []string{"North", "South", "None"},
		"opens": t0.Format(time.RFC3339), "closes": t1.Format(time.RFC3339), "issuer_key": issuerPublic(t),
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// openAt opens an election at a time before t0.
func openE(t testing.TB, body map[string]any) rule.Entry {
	return statement(t, authority, votes.TypeOpen, t0.Add(-time.Hour), body, agencyKey())
}

func tokens(t testing.TB, id string, batch, count int64) rule.Entry {
	return statement(t, issuer, votes.TypeTokens, t0.Add(-time.Minute), map[string]any{"election_id": id, "batch": batch, "count": count}, agencyKey())
}

func ballotBody(id, choice string, tok blindtoken.Token) map[string]any {
	return map[string]any{"election_id": id, "choice": choice, "token": tok}
}

// ballotAt is v's ballot for choice at at, signed by keys (v's alone if
// none are given).
func ballotAt(t testing.TB, at time.Time, id, choice string, v voter, keys ...key) rule.Entry {
	if len(keys) == 0 {
		keys = []key{v.key}
	}
	return statement(t, "", votes.TypeBallot, at, ballotBody(id, choice, v.token), keys...)
}

func ballot(t testing.TB, choice string, v voter) rule.Entry {
	return ballotAt(t, t0.Add(time.Hour), election, choice, v)
}

// closeE is the log's close of the election with body, at t1.
func closeE(t testing.TB, body any) rule.Entry {
	return statement(t, engine, votes.TypeClose, t1, body, agencyKey())
}

// dueClose is the close the Scheduler asks for at t1 given st.
func dueClose(t testing.TB, st rule.Reader, id string) rule.Entry {
	t.Helper()
	due, err := votes.New().Due(context.Background(), st, t1)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range due {
		if d.Key == votes.ElectionKey(id) {
			return closeE(t, d.Body)
		}
	}
	t.Fatalf("no close due for %s at %s: %v", id, t1, due)
	return rule.Entry{}
}

// proved is e as a client holding its inclusion proof sees it.
func proved(e rule.Entry) rule.ProvedEntry {
	p := rule.ProvedEntry{LeafHash: e.LeafHash, Index: e.Index, Type: e.Type, Time: e.Time, Body: e.Body}
	for _, s := range e.Signatures {
		p.Signers = append(p.Signers, s.Name)
	}
	return p
}

// indexed numbers entries in order, as a log does.
func indexed(entries ...rule.Entry) []rule.Entry {
	for i := range entries {
		entries[i].Index = uint64(i)
	}
	return entries
}
