package petitions

import (
	"fmt"
	"time"

	"github.com/govlog/govlog/personalities/rule/body"
	"github.com/govlog/govlog/personalities/rule/notesig"
)

// OpenBody is the body of a petition.open.
type OpenBody struct {
	PetitionID string `json:"petition_id"`
	Title      string `json:"title"`
	Closes     string `json:"closes"`
}

// SignBody is the body of a petition.sign.
type SignBody struct {
	PetitionID string `json:"petition_id"`
	// Signer is the verifier key of the citizen who signs.
	Signer string `json:"signer"`
}

// Limits of the fields.
const maxTitleLen = 256 // characters

// ParseOpenBody parses and checks the body of a petition.open. Its errors
// wrap [rule.ErrInvalidBody].
func ParseOpenBody(data []byte) (OpenBody, error) {
	o, err := body.Parse(data, []string{"petition_id", "title", "closes"}, nil)
	if err != nil {
		return OpenBody{}, err
	}
	var b OpenBody
	if b.PetitionID, err = o.ID("petition_id", body.ID); err != nil {
		return OpenBody{}, err
	}
	if b.Title, err = o.Text("title", maxTitleLen); err != nil {
		return OpenBody{}, err
	}
	if b.Closes, err = o.Str("closes"); err != nil {
		return OpenBody{}, err
	}
	if _, err := closingTime(b.Closes); err != nil {
		return OpenBody{}, body.Errorf("field %q: %v", "closes", err)
	}
	return b, nil
}

// ParseSignBody parses and checks the body of a petition.sign. Its errors
// wrap [rule.ErrInvalidBody].
func ParseSignBody(data []byte) (SignBody, error) {
	o, err := body.Parse(data, []string{"petition_id", "signer"}, nil)
	if err != nil {
		return SignBody{}, err
	}
	var b SignBody
	if b.PetitionID, err = o.ID("petition_id", body.ID); err != nil {
		return SignBody{}, err
	}
	if b.Signer, err = o.Str("signer"); err != nil {
		return SignBody{}, err
	}
	name, _, err := notesig.ParseVKey(b.Signer)
	if err != nil {
		return SignBody{}, fmt.Errorf("%w (in %q)", err, "signer")
	}
	if name != SignerKeyName {
		return SignBody{}, body.Errorf("field %q must be a key named %q, not %.64q", "signer", SignerKeyName, name)
	}
	return b, nil
}

// SignerName names the signer of b: "citizen+<key hash>", or "" if b.Signer
// is not a verifier key.
func (b SignBody) SignerName() string {
	name, hash, err := notesig.ParseVKey(b.Signer)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%s+%08x", name, hash)
}

// closingTime returns the instant a petition closing at closes closes: the
// end of the day, UTC, for a date; the instant itself for a date-time.
func closingTime(closes string) (time.Time, error) {
	if len(closes) == len(time.DateOnly) {
		d, err := time.Parse(time.DateOnly, closes)
		if err != nil {
			return time.Time{}, fmt.Errorf("%.40q is not a date (YYYY-MM-DD)", closes)
		}
		return d.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339, closes)
	if err != nil {
		return time.Time{}, fmt.Errorf("%.40q is neither an RFC 3339 date nor a date-time", closes)
	}
	return t.UTC(), nil
}
