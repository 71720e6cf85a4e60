package monitor

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Kind says what an alert is about; each kind has its own evidence.
type Kind string

// Alert kinds.
const (
	// KindCheckpointRefused: the latest checkpoint fails the policy (not
	// signed by the log's key, or too few witnesses cosigned). Evidence:
	// the checkpoint's bytes.
	KindCheckpointRefused Kind = "checkpoint_refused"
	// KindInconsistent: the log signed a checkpoint that cannot extend the
	// one the monitor verified before: the same size with another root, or
	// a consistency proof that does not verify. Evidence: both checkpoints
	// and the proof.
	KindInconsistent Kind = "inconsistent_checkpoints"
	// KindRootMismatch: the entries the log served do not hash to the root
	// of its checkpoint. Evidence: both checkpoints and the computed root.
	KindRootMismatch Kind = "root_mismatch"
	// KindEntry: an entry that the log committed to fails its signature,
	// the registry (unknown or revoked key, missing role) or a domain
	// rule. Evidence: the entry and the checkpoint that commits to it.
	KindEntry Kind = "entry_refused"
	// KindStale: no new checkpoint for longer than Options.MaxCheckpointAge.
	// Evidence: the last checkpoint.
	KindStale Kind = "stale_checkpoint"
	// KindCompromised: an entry admitted before the registry revoked its
	// key for compromise, dated at or after the revocation's from time:
	// the log did nothing wrong, but what the entry says may be a forger's.
	// Evidence: the entry and the checkpoint that commits to it.
	KindCompromised Kind = "compromised_key"
)

// An Alert is something wrong with a log that people must be told about.
type Alert struct {
	Kind Kind
	// Log is the log's origin.
	Log string
	// Index is the entry's index, for KindEntry.
	Index *uint64
	// Message says what is wrong, for people.
	Message string
	// Evidence is the JSON of an [Evidence].
	Evidence []byte
	// Time is when the monitor raised it.
	Time time.Time
}

// Evidence is what an alert carries so that others can check it. Byte
// fields are base64 in JSON.
type Evidence struct {
	// Checkpoints are signed checkpoints as the log served them: the one
	// verified before, then the new one.
	Checkpoints [][]byte `json:"checkpoints,omitempty"`
	// Proof is the consistency proof the log served between them.
	Proof [][]byte `json:"proof,omitempty"`
	// ComputedRoot is the root the monitor computed from the entries.
	ComputedRoot []byte `json:"computed_root,omitempty"`
	// Entry is the entry's bytes (the signed statement).
	Entry []byte `json:"entry,omitempty"`
	// Promise is the signed promise, for KindPromiseBroken.
	Promise []byte `json:"promise,omitempty"`
	// Due is the statement that is due, for KindOverdue: {"type", "body"}.
	Due json.RawMessage `json:"due,omitempty"`
	// Error is the verifier's error for the entry or checkpoint.
	Error string `json:"error,omitempty"`
	// SplitView is a witness's evidence file, for KindSplitView.
	SplitView []byte `json:"split_view,omitempty"`
}

func (e Evidence) marshal() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // only []byte and strings: cannot fail
	}
	return b
}

// ID identifies an alert by what it is about, not when it was raised: the
// hex SHA-256 of its kind, log, index and evidence.
func (a Alert) ID() string {
	h := sha256.New()
	h.Write([]byte(a.Kind))
	h.Write([]byte{0})
	h.Write([]byte(a.Log))
	h.Write([]byte{0})
	if a.Index != nil {
		h.Write(binary.BigEndian.AppendUint64([]byte{1}, *a.Index))
	} else {
		h.Write([]byte{0})
	}
	h.Write(a.Evidence)
	return hex.EncodeToString(h.Sum(nil))
}
