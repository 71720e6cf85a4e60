package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// writeKeyPair generates an Ed25519 note key named name and writes
// prefix.key (the signer key, mode 0600) and prefix.vkey (the verifier
// key). It refuses to overwrite an existing key.
func writeKeyPair(prefix, name string) (vkey string, err error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("couldn't generate key %q: %w", name, err)
	}
	return vkey, writeKeyFiles(prefix, skey, vkey)
}

func writeKeyFiles(prefix, skey, vkey string) error {
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(prefix+".key", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s.key already exists; not overwriting a key", prefix)
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.WriteFile(prefix+".vkey", []byte(vkey+"\n"), 0o644)
}

// readKeyFile returns the trimmed first line of a key file.
func readKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("couldn't read key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// loadSigner reads a note signer key file (as written by keygen).
func loadSigner(path string) (note.Signer, error) {
	skey, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("%s is not a signer key: %w", path, err)
	}
	warnIfShared(path)
	return s, nil
}

// warnIfShared warns, on standard error, when the secret key file at path
// can be read by others than its owner (keygen writes it 0600).
func warnIfShared(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(os.Stderr, "govlog: warning: %s is a secret key readable by others (mode %04o): chmod 600 %s\n", path, fi.Mode().Perm(), path)
	}
}
