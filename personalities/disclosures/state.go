package disclosures

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
	"github.com/govlog/govlog/personalities/rule/body"
)

// Status is where a document version stands.
type Status string

const (
	// StatusPublished: the current version of its document.
	StatusPublished Status = "published"
	// StatusSuperseded: a correction replaced it; see Record.SupersededBy.
	StatusSuperseded Status = "superseded"
	// StatusRetracted: withdrawn by a disclosure.retract statement.
	StatusRetracted Status = "retracted"
)

// Record is what the state holds for one document version, at
// [DocumentKey]. It is small on purpose: the title and the rest are in the
// entry, which LeafHash finds; the record holds only what the rules need and
// what a reader needs to walk a document's history.
type Record struct {
	// LeafHash is the hex RFC 6962 leaf hash of the entry that created this
	// version (publish or correct).
	LeafHash string `json:"leaf_hash"`
	// SHA256 is the document's hash as disclosed, so a monitor can match a
	// blob to its record without fetching the entry.
	SHA256 string `json:"sha256"`
	// Status is published, superseded or retracted.
	Status Status `json:"status"`
	// Corrects is the doc_id this version corrected, if it was created by
	// disclosure.correct; with SupersededBy it links the history both ways.
	Corrects string `json:"corrects,omitempty"`
	// SupersededBy is the doc_id of the correction that replaced this
	// version, set when Status is superseded.
	SupersededBy string `json:"superseded_by,omitempty"`
	// RetractedBy is the hex leaf hash of the retraction, set when Status is
	// retracted.
	RetractedBy string `json:"retracted_by,omitempty"`
}

// DocumentKeyPrefix begins every key made by [DocumentKey], so a reader of
// the state can ask for the documents alone.
const DocumentKeyPrefix = "doc/"

// DocumentKey returns the state key of a document version,
// "doc/<agency>/<doc_id>". It is unambiguous because an agency ID never
// contains "/" (see the package doc); docID may.
func DocumentKey(agency, docID string) string {
	return DocumentKeyPrefix + agency + "/" + docID
}

// ParseDocumentKey splits a key made by [DocumentKey], for a monitor or
// dashboard walking a dump of the state. ok is false for any other key.
func ParseDocumentKey(key string) (agency, docID string, ok bool) {
	rest, ok := strings.CutPrefix(key, DocumentKeyPrefix)
	if !ok {
		return "", "", false
	}
	agency, docID, ok = strings.Cut(rest, "/")
	if !ok || !body.ValidAgencyID(agency) || !docIDSyntax.Valid(docID) {
		return "", "", false
	}
	return agency, docID, true
}

// Document returns the record of one document version. ok is false if the
// agency never used docID (or either ID is malformed, so nothing can exist
// under it). A non-nil error is a failure of st or a corrupt record.
func Document(ctx context.Context, st rule.State, agency, docID string) (rec Record, ok bool, err error) {
	if !body.ValidAgencyID(agency) || !docIDSyntax.Valid(docID) {
		// Also keeps a malformed agency from reading another agency's key.
		return Record{}, false, nil
	}
	key := DocumentKey(agency, docID)
	v, ok, err := st.Get(ctx, key)
	if err != nil {
		return Record{}, false, fmt.Errorf("couldn't read %s: %w", key, err)
	}
	if !ok {
		return Record{}, false, nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return Record{}, false, fmt.Errorf("couldn't decode the record at %s: %w", key, err)
	}
	return rec, true, nil
}

// Latest follows the supersession chain from docID to the latest version of
// the document and returns that version's doc_id and record (docID itself if
// it was never corrected). The latest version is published or retracted.
// ok is false if docID does not exist.
//
// It costs one read per correction after docID; Apply uses it only to word
// a refusal, never on the path of a statement that is admitted.
func Latest(ctx context.Context, st rule.State, agency, docID string) (latest string, rec Record, ok bool, err error) {
	rec, ok, err = Document(ctx, st, agency, docID)
	if err != nil || !ok {
		return "", Record{}, false, err
	}
	seen := map[string]bool{docID: true}
	for rec.Status == StatusSuperseded {
		next := rec.SupersededBy
		if seen[next] {
			return "", Record{}, false, fmt.Errorf("corrupt state: supersession cycle through document %s of agency %s", next, agency)
		}
		seen[next] = true
		rec, ok, err = Document(ctx, st, agency, next)
		if err != nil {
			return "", Record{}, false, err
		}
		if !ok {
			return "", Record{}, false, fmt.Errorf("corrupt state: document %s of agency %s is superseded by %q, which does not exist", docID, agency, next)
		}
		docID = next
	}
	return docID, rec, true, nil
}

func putRecord(ctx context.Context, st rule.State, agency, docID string, rec Record) error {
	// json.Marshal of a struct is deterministic, so replaying the log yields
	// byte-identical state, which is what monitors compare.
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("couldn't encode the record of document %s of agency %s: %w", docID, agency, err)
	}
	key := DocumentKey(agency, docID)
	if err := st.Put(ctx, key, v); err != nil {
		return fmt.Errorf("couldn't write %s: %w", key, err)
	}
	return nil
}
