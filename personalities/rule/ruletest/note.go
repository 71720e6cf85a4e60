package ruletest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
)

// SplitNote splits a signed note (c2sp.org/signed-note) into what a
// [rule.Entry] holds of it: its text, which the signatures cover, and its
// signature lines, unverified. A test of a self-signed statement type uses
// it to make the entry of a statement it signed.
//
// It checks only the form of the lines, not the text, and nothing is
// verified: that is the domain's Authenticator's work.
func SplitNote(msg []byte) (text []byte, sigs []rule.Signature, err error) {
	split := bytes.LastIndex(msg, []byte("\n\n"))
	if split < 0 {
		return nil, nil, errors.New("not a signed note: no blank line before the signatures")
	}
	text, block := msg[:split+1], msg[split+2:]
	if len(block) == 0 || block[len(block)-1] != '\n' {
		return nil, nil, errors.New("not a signed note: the signatures do not end with a newline")
	}
	for i, line := range strings.Split(string(block[:len(block)-1]), "\n") {
		s, err := parseSignatureLine(line)
		if err != nil {
			return nil, nil, fmt.Errorf("signature line %d: %w", i+1, err)
		}
		sigs = append(sigs, s)
	}
	return text, sigs, nil
}

// parseSignatureLine parses "— <name> <base64(key hash || signature)>".
func parseSignatureLine(line string) (rule.Signature, error) {
	rest, ok := strings.CutPrefix(line, "— ")
	if !ok {
		return rule.Signature{}, errors.New(`does not begin with "— "`)
	}
	name, b64, ok := strings.Cut(rest, " ")
	if !ok || name == "" || strings.Contains(name, "+") {
		return rule.Signature{}, errors.New("no key name")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) < 5 {
		return rule.Signature{}, errors.New("the signature is not base64 of a key hash and a signature")
	}
	return rule.Signature{Name: name, KeyHash: binary.BigEndian.Uint32(raw), Sig: raw[4:]}, nil
}
