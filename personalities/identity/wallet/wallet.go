// Package wallet is the holder's side of the identity log's credentials:
// the wallet file that keeps a credential's attribute values and their
// salts, the disclosure of one attribute to a verifier, and the verifier's
// check of a disclosure against the credential as the log proves it.
//
// On the log, a credential's attributes are salted commitments only,
// {name: client.Commit(value, salt)}, each with a fresh 32-byte salt. The
// issuer makes them with `govlog identity attributes`, which writes the
// values and salts to a wallet file for the holder and prints the
// commitments for the credential's body. The holder shows one attribute
// at a time (`govlog identity disclose`): its value and salt, nothing of
// the others. The verifier (`govlog identity check`) asks the log for the
// credential, proved against a policy, and checks that the commitment
// opens to the disclosed value and that the credential is still valid.
//
// The package does not import the identity domain: `govlog identity`
// passes it in as a rule.QueryClient.
package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/govlog/govlog/client"
)

// LogName is the name of the identity log on a server, and QueryCredential
// its query that answers a credential by its ID (argument QueryArg).
const (
	LogName         = "identity"
	QueryCredential = "credential"
	QueryArg        = "id"
)

// Statuses of a credential, as the log's credential query says them.
// Anything but StatusValid is not valid.
const (
	StatusValid      = "valid"
	StatusSuperseded = "superseded"
	StatusRevoked    = "revoked"
)

// Errors of a disclosure that does not check, each wrapped with detail.
var (
	// ErrMismatch means the disclosed value and salt do not open the
	// credential's commitment to the attribute.
	ErrMismatch = errors.New("the disclosed value does NOT match the credential's commitment")
	// ErrNoAttribute means the credential has no attribute of that name.
	ErrNoAttribute = errors.New("no such attribute")
	// ErrNotValid means the credential is revoked, superseded or
	// expired: the log no longer vouches for it.
	ErrNotValid = errors.New("the credential is not valid")
	// ErrWrongCredential means the log answered about another credential
	// than the disclosure's.
	ErrWrongCredential = errors.New("the answer is about another credential")
)

// Wallet is the holder's wallet file: one credential's attribute values
// and the salts of their commitments. It is secret (mode 0600): anyone
// holding it can disclose any of the attributes.
type Wallet struct {
	CredentialID string               `json:"credential_id"`
	Type         string               `json:"type"`
	Attributes   map[string]Attribute `json:"attributes"`
}

// Attribute is one attribute in a wallet: its value and the salt of its
// commitment, in hex.
type Attribute struct {
	Value string `json:"value"`
	Salt  string `json:"salt"`
}

// Disclosure is what a holder hands a verifier: one attribute of one
// credential, with the salt that opens its commitment.
type Disclosure struct {
	CredentialID string `json:"credential_id"`
	Attribute    string `json:"attribute"`
	Value        string `json:"value"`
	Salt         string `json:"salt"`
}

// NewWallet commits to each of values with a fresh salt and returns the
// wallet that keeps them and the commitments, {name: commitment}, for the
// credential's "attributes".
func NewWallet(credentialID, typ string, values map[string]string) (*Wallet, map[string]string, error) {
	if credentialID == "" {
		return nil, nil, errors.New("a wallet needs the credential's ID")
	}
	if typ == "" {
		return nil, nil, errors.New("a wallet needs the credential's type")
	}
	if len(values) == 0 {
		return nil, nil, errors.New("no attributes to commit to")
	}
	if len(values) > MaxAttributes {
		return nil, nil, fmt.Errorf("%d attributes: a credential has at most %d", len(values), MaxAttributes)
	}
	w := &Wallet{CredentialID: credentialID, Type: typ, Attributes: map[string]Attribute{}}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if err := checkName(name); err != nil {
			return nil, nil, err
		}
		if values[name] == "" {
			return nil, nil, fmt.Errorf("attribute %q has an empty value: a commitment needs something to commit to", name)
		}
		salt, err := client.NewSalt()
		if err != nil {
			return nil, nil, fmt.Errorf("couldn't make a salt: %w", err)
		}
		w.Attributes[name] = Attribute{Value: values[name], Salt: hex.EncodeToString(salt)}
	}
	commitments, err := w.Commitments()
	if err != nil {
		return nil, nil, err
	}
	return w, commitments, nil
}

// MaxAttributes and MaxAttributeName are the identity log's limits on a
// credential's attributes: 1 to MaxAttributes of them, each named by 1 to
// MaxAttributeName of a-z, 0-9 and _. NewWallet holds to them, so that
// the log takes the commitments it makes.
const (
	MaxAttributes    = 32
	MaxAttributeName = 32
)

// checkName accepts an attribute name as the identity log does.
func checkName(name string) error {
	if name == "" {
		return errors.New("an attribute needs a name")
	}
	ok := len(name) <= MaxAttributeName
	for _, r := range name {
		ok = ok && ('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_')
	}
	if !ok {
		return fmt.Errorf("attribute name %.40q: a name is 1 to %d of a-z, 0-9 and _ (e.g. birth_date)", name, MaxAttributeName)
	}
	return nil
}

// Commitments returns the commitments to the wallet's attributes,
// {name: commitment}, as the credential's body holds them.
func (w *Wallet) Commitments() (map[string]string, error) {
	out := make(map[string]string, len(w.Attributes))
	for name, a := range w.Attributes {
		salt, err := decodeSalt(a.Salt)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		c, err := client.Commit(a.Value, salt)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out[name] = c
	}
	return out, nil
}

// Disclose returns the disclosure of the attribute called name.
func (w *Wallet) Disclose(name string) (Disclosure, error) {
	a, ok := w.Attributes[name]
	if !ok {
		return Disclosure{}, fmt.Errorf("%w: the wallet of credential %s holds no attribute %q (it holds: %s)",
			ErrNoAttribute, w.CredentialID, name, strings.Join(slices.Sorted(maps.Keys(w.Attributes)), ", "))
	}
	return Disclosure{CredentialID: w.CredentialID, Attribute: name, Value: a.Value, Salt: a.Salt}, nil
}

// Marshal returns the wallet file's bytes: indented JSON, a final newline.
func (w *Wallet) Marshal() ([]byte, error) { return marshal(w) }

// Marshal returns the disclosure file's bytes: indented JSON, a final
// newline.
func (d Disclosure) Marshal() ([]byte, error) { return marshal(d) }

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadWallet parses a wallet file strictly: every member known, every
// attribute with a value and a 32-byte hex salt.
func ReadWallet(data []byte) (*Wallet, error) {
	var w Wallet
	if err := decodeStrict(data, &w); err != nil {
		return nil, fmt.Errorf("not a wallet file: %w", err)
	}
	if w.CredentialID == "" {
		return nil, errors.New("the wallet names no credential_id")
	}
	if len(w.Attributes) == 0 {
		return nil, errors.New("the wallet holds no attributes")
	}
	for name, a := range w.Attributes {
		if err := checkName(name); err != nil {
			return nil, err
		}
		if a.Value == "" {
			return nil, fmt.Errorf("attribute %q has no value", name)
		}
		if _, err := decodeSalt(a.Salt); err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
	}
	return &w, nil
}

// ReadDisclosure parses a disclosure file strictly.
func ReadDisclosure(data []byte) (Disclosure, error) {
	var d Disclosure
	if err := decodeStrict(data, &d); err != nil {
		return Disclosure{}, fmt.Errorf("not a disclosure file: %w", err)
	}
	switch {
	case d.CredentialID == "":
		return Disclosure{}, errors.New("the disclosure names no credential_id")
	case d.Attribute == "":
		return Disclosure{}, errors.New("the disclosure names no attribute")
	case d.Value == "":
		return Disclosure{}, errors.New("the disclosure has no value")
	}
	if _, err := decodeSalt(d.Salt); err != nil {
		return Disclosure{}, fmt.Errorf("the disclosure's %w", err)
	}
	return d, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// decodeSalt reads a salt: client.SaltSize bytes in lowercase hex.
func decodeSalt(s string) ([]byte, error) {
	salt, err := hex.DecodeString(s)
	if err != nil || len(salt) != client.SaltSize || hex.EncodeToString(salt) != s {
		return nil, fmt.Errorf("salt is not %d bytes in lowercase hex", client.SaltSize)
	}
	return salt, nil
}

// CheckDisclosure checks d against a credential as the log shows it: its
// attributes' commitments, {name: commitment}, and its status. The
// attribute must be one of the credential's, its commitment must open to
// d's value under d's salt, and the status must be "valid". Errors wrap
// ErrNoAttribute, ErrMismatch or ErrNotValid.
func CheckDisclosure(d Disclosure, answerAttributes map[string]string, status string) error {
	commitment, ok := answerAttributes[d.Attribute]
	if !ok {
		have := slices.Sorted(maps.Keys(answerAttributes))
		return fmt.Errorf("%w: credential %s has no attribute %q (it has: %s)", ErrNoAttribute, d.CredentialID, d.Attribute, strings.Join(have, ", "))
	}
	salt, err := decodeSalt(d.Salt)
	if err != nil {
		return fmt.Errorf("%w: the disclosure's %w", ErrMismatch, err)
	}
	if !client.CheckCommitment(commitment, d.Value, salt) {
		return fmt.Errorf("%w: credential %s commits to %s as %.64s; %q under the disclosed salt gives another commitment",
			ErrMismatch, d.CredentialID, d.Attribute, commitment, d.Value)
	}
	switch status {
	case StatusValid:
		return nil
	case StatusRevoked:
		return fmt.Errorf("%w: credential %s is REVOKED: its issuer withdrew it", ErrNotValid, d.CredentialID)
	case StatusSuperseded:
		return fmt.Errorf("%w: credential %s is SUPERSEDED: its issuer replaced it by a newer one; ask the holder for a disclosure from the current credential", ErrNotValid, d.CredentialID)
	case "":
		return fmt.Errorf("%w: the log's answer gives credential %s no status", ErrNotValid, d.CredentialID)
	default:
		return fmt.Errorf("%w: credential %s has status %.32q, not %q", ErrNotValid, d.CredentialID, status, StatusValid)
	}
}

// Credential is what the verifier reads of the log's answer to the
// credential query.
type Credential struct {
	CredentialID string            `json:"credential_id"`
	Subject      string            `json:"subject"`
	Type         string            `json:"type"`
	Issuer       string            `json:"issuer"`
	Issued       json.RawMessage   `json:"issued"`
	Expires      json.RawMessage   `json:"expires,omitempty"`
	Attributes   map[string]string `json:"attributes"`
	Status       string            `json:"status"`
}

// ParseCredential reads the answer to the credential query. Members it
// does not know (the leaf hashes, the domain's details) are ignored.
func ParseCredential(result []byte) (*Credential, error) {
	var c Credential
	if err := json.Unmarshal(result, &c); err != nil {
		return nil, fmt.Errorf("the answer is not a credential: %w", err)
	}
	if c.CredentialID == "" {
		return nil, errors.New("the answer names no credential_id")
	}
	return &c, nil
}

// CheckCredential checks d against result, the log's answer to the
// credential query (already proved and checked by the domain): the
// answer is about d's credential, CheckDisclosure passes, and the
// credential has not expired at now.
func CheckCredential(d Disclosure, result []byte, now time.Time) (*Credential, error) {
	c, err := ParseCredential(result)
	if err != nil {
		return nil, err
	}
	if c.CredentialID != d.CredentialID {
		return nil, fmt.Errorf("%w: asked for %s, the log answered about %.64q", ErrWrongCredential, d.CredentialID, c.CredentialID)
	}
	if err := CheckDisclosure(d, c.Attributes, c.Status); err != nil {
		return nil, err
	}
	if len(c.Expires) > 0 && string(c.Expires) != "null" {
		exp, err := parseWhen(c.Expires)
		if err != nil {
			return nil, fmt.Errorf("couldn't read credential %s's expiry, so can't tell whether it is still valid: %w", d.CredentialID, err)
		}
		if !now.Before(exp) {
			return nil, fmt.Errorf("%w: credential %s EXPIRED on %s", ErrNotValid, d.CredentialID, formatWhen(c.Expires))
		}
	}
	return c, nil
}

// parseWhen reads a time of the answer: RFC 3339, a date (YYYY-MM-DD,
// meaning its start, UTC) or Unix seconds.
func parseWhen(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%.40s is neither a time nor Unix seconds", raw)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%.40q is neither an RFC 3339 time nor a date", s)
}

// formatWhen writes a time of the answer as a date (UTC), or as it was
// sent if it is none.
func formatWhen(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "an unknown date"
	}
	t, err := parseWhen(raw)
	if err != nil {
		return string(raw)
	}
	return t.UTC().Format(time.DateOnly)
}

// Describe is the verifier's line for a disclosure that checked: which
// credential says what, proved where. A value that is not plain printable
// text (a newline, leading or trailing spaces) is shown quoted, so that
// it cannot pass for more of the line, or another line.
func (c *Credential) Describe(d Disclosure, origin string, size uint64) string {
	return fmt.Sprintf("OK: credential %s (%s, issued by %s on %s) says %s = %s; proved in %s at size %d",
		show(c.CredentialID), show(c.Type), show(c.Issuer), show(formatWhen(c.Issued)), show(d.Attribute), show(d.Value), origin, size)
}

// show returns s as it is if it is plain printable text, else quoted.
func show(s string) string {
	if s == "" || s != strings.TrimSpace(s) || strings.ContainsFunc(s, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

// writeNew writes data to a new file at path, mode 0600, refusing to
// overwrite one: a wallet or disclosure is never replaced.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists; not overwriting it (choose another --out, or move it away first)", path)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
