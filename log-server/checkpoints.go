package logserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// CheckpointStore keeps the last checkpoint each log signed, apart from
// Trillian's storage. After a restart the log proves that its tree extends
// that checkpoint before it signs anything, so a storage rollback (a
// restored backup, a failover to a lagging replica) stops the log instead
// of making it sign a fork. One process writes a log's entry.
type CheckpointStore interface {
	// Latest returns the stored checkpoint of origin; ok=false if none.
	Latest(origin string) (signed []byte, ok bool, err error)
	// Store replaces it, durably, before the checkpoint is published.
	Store(origin string, signed []byte) error
}

// FileCheckpointStore keeps one file per log in Dir, replaced atomically
// (write, fsync, rename, fsync the directory).
type FileCheckpointStore struct {
	Dir string
}

var _ CheckpointStore = FileCheckpointStore{}

func (s FileCheckpointStore) path(origin string) string {
	sum := sha256.Sum256([]byte(origin))
	return filepath.Join(s.Dir, hex.EncodeToString(sum[:8])+".checkpoint")
}

// Latest implements CheckpointStore.
func (s FileCheckpointStore) Latest(origin string) ([]byte, bool, error) {
	b, err := os.ReadFile(s.path(origin))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("couldn't read last signed checkpoint: %w", err)
	}
	return b, true, nil
}

// Store implements CheckpointStore.
func (s FileCheckpointStore) Store(origin string, signed []byte) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.Dir, ".checkpoint-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(signed); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), s.path(origin)); err != nil {
		return err
	}
	dir, err := os.Open(s.Dir)
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}
