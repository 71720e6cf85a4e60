package ballot

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule/blindtoken"
)

// TokenFile is what a voter keeps between getting a token and casting a
// ballot. OneTimeKey is a secret: whoever holds it can cast the ballot.
type TokenFile struct {
	ElectionID string `json:"election_id"`
	// OneTimeKey is the one-time note signer key (PRIVATE+KEY+voter+...),
	// whose verifier key is Token.Key.
	OneTimeKey string           `json:"one_time_key"`
	Token      blindtoken.Token `json:"token"`
}

// BallotBody is the body of a votes.ballot statement.
type BallotBody struct {
	ElectionID string           `json:"election_id"`
	Choice     string           `json:"choice"`
	Token      blindtoken.Token `json:"token"`
}

// RequestToken makes a one-time key, has the issuer at issuerURL blindly
// sign it for electionID (the request signed by voterKey, the voter's
// long-term key on the election's voter list), and returns the token, which
// it checks with issuerPub. Take issuerPub from the election's body on the
// log, never from the issuer: an issuer handing each voter its own key
// could tell their ballots apart.
func RequestToken(ctx context.Context, issuerURL, electionID, voterID string, voterKey note.Signer, issuerPub *rsa.PublicKey) (TokenFile, error) {
	if voterKey == nil {
		return TokenFile{}, errors.New("no voter key: give the long-term key on the voter list")
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, blindtoken.KeyName)
	if err != nil {
		return TokenFile{}, fmt.Errorf("couldn't make a one-time key: %w", err)
	}
	blinded, breq, err := blindtoken.Blind(issuerPub, electionID, vkey, rand.Reader)
	if err != nil {
		return TokenFile{}, err
	}
	sig, err := SignRequest(voterKey, electionID, voterID, blinded)
	if err != nil {
		return TokenFile{}, err
	}
	body, err := json.Marshal(TokenRequest{
		ElectionID: electionID, VoterID: voterID,
		Blinded: base64.StdEncoding.EncodeToString(blinded), Signature: sig,
	})
	if err != nil {
		return TokenFile{}, err
	}
	url := strings.TrimSuffix(issuerURL, "/") + "/token"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return TokenFile{}, fmt.Errorf("issuer URL %q: %w", issuerURL, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return TokenFile{}, fmt.Errorf("couldn't reach the issuer: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return TokenFile{}, fmt.Errorf("reading the issuer's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorResponse
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
		}
		return TokenFile{}, &IssuerError{Status: resp.StatusCode, Message: e.Error}
	}
	var tr TokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		return TokenFile{}, fmt.Errorf("the issuer's answer is not a token response: %w", err)
	}
	blindSig, err := base64.StdEncoding.Strict().DecodeString(tr.BlindSignature)
	if err != nil {
		return TokenFile{}, fmt.Errorf("the issuer's blind signature is not base64: %w", err)
	}
	tok, err := breq.Finalize(blindSig)
	if err != nil {
		return TokenFile{}, fmt.Errorf("the issuer's answer is not a valid signature by the election's issuer key: %w", err)
	}
	return TokenFile{ElectionID: electionID, OneTimeKey: skey, Token: tok}, nil
}

// IssuerError is the issuer's refusal of a token request.
type IssuerError struct {
	// Status is the HTTP status: 403 not on the voter list, 401 bad
	// signature, 409 already had a token, 503 try again later.
	Status  int
	Message string
}

func (e *IssuerError) Error() string {
	return fmt.Sprintf("the issuer refused (HTTP %d): %s", e.Status, e.Message)
}

// Ballot returns the votes.ballot statement for the log of origin casting
// choice in electionID with the token tf, at time at, signed by the token's
// one-time key and no other.
func Ballot(origin, electionID, choice string, tf TokenFile, at time.Time) ([]byte, error) {
	if tf.ElectionID != electionID {
		return nil, fmt.Errorf("the token is for election %q, not %q", tf.ElectionID, electionID)
	}
	if choice == "" {
		return nil, errors.New("no choice: give one of the election's options")
	}
	signer, err := note.NewSigner(tf.OneTimeKey)
	if err != nil {
		return nil, fmt.Errorf("the token file's one-time key is not a signer key: %w", err)
	}
	v, err := note.NewVerifier(tf.Token.Key)
	if err != nil {
		return nil, fmt.Errorf("the token's key is not a verifier key: %w", err)
	}
	if v.Name() != signer.Name() || v.KeyHash() != signer.KeyHash() {
		return nil, errors.New("the token file's one-time key is not the key of its token")
	}
	body, err := json.Marshal(BallotBody{ElectionID: electionID, Choice: choice, Token: tf.Token})
	if err != nil {
		return nil, err
	}
	st, err := govlog.NewStatement(origin, TypeBallot, at, body)
	if err != nil {
		return nil, err
	}
	return st.Sign(signer)
}

// ReadTokenFile parses a token file.
func ReadTokenFile(b []byte) (TokenFile, error) {
	var tf TokenFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tf); err != nil {
		return TokenFile{}, fmt.Errorf("not a token file: %w", err)
	}
	if tf.ElectionID == "" || tf.OneTimeKey == "" || tf.Token.Key == "" {
		return TokenFile{}, errors.New("not a token file: election_id, one_time_key or token missing")
	}
	return tf, nil
}

// ParseVoters reads a voters file: one line per eligible voter,
// "<voter-id> <note verifier key>"; blank lines and lines starting with #
// are skipped.
func ParseVoters(r io.Reader) (map[string]note.Verifier, error) {
	voters := map[string]note.Verifier{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want \"<voter-id> <note verifier key>\"", n)
		}
		if err := checkID("voter ID", f[0]); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if voters[f[0]] != nil {
			return nil, fmt.Errorf("line %d: voter %s is listed twice", n, f[0])
		}
		v, err := note.NewVerifier(f[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: voter %s's key is not a note verifier key: %w", n, f[0], err)
		}
		voters[f[0]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(voters) == 0 {
		return nil, errors.New("no voters in the file")
	}
	return voters, nil
}

// ParseIssuerPrivateKey reads an issuer key file: a PKCS#8 PEM ("PRIVATE
// KEY") RSA key of at least blindtoken.MinKeyBits bits.
func ParseIssuerPrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----); make one with govlog votes issuer-key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS#8 private key: %w", err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an RSA key", k)
	}
	if _, err := blindtoken.EncodeIssuerKey(&priv.PublicKey); err != nil {
		return nil, err
	}
	return priv, nil
}

// MarshalIssuerPrivateKey encodes an issuer key as ParseIssuerPrivateKey
// reads it.
func MarshalIssuerPrivateKey(priv *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
