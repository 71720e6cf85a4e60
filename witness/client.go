package witness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// A Client calls a witness's HTTP API (this package's or any C2SP
// tlog-witness). Its errors wrap the same sentinels as the Witness's, so
// errors.Is and errors.As work across the wire.
type Client struct {
	// URL is the witness's prefix, for example "http://127.0.0.1:7380",
	// used for both submission and monitoring.
	URL string
	// HTTPClient makes the requests. Default http.DefaultClient.
	HTTPClient *http.Client
}

// AddCheckpoint sends an add-checkpoint request and returns the witness's
// cosignature lines, unverified: append them to the checkpoint and open it
// with the witness's key. A 409 is a *SizeConflictError.
func (c *Client) AddCheckpoint(ctx context.Context, oldSize uint64, consistency [][32]byte, signedCheckpoint []byte) ([]byte, error) {
	body := FormatAddCheckpointRequest(oldSize, consistency, signedCheckpoint)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("add-checkpoint"), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return c.do(req, 64<<10)
}

// Checkpoint returns the latest checkpoint the witness cosigned for the log
// with this origin, unverified. ErrNoCheckpoint if it has none.
func (c *Client) Checkpoint(ctx context.Context, origin string) ([]byte, error) {
	sum := sha256.Sum256([]byte(origin))
	// The spec's monitoring path, so any tlog-witness answers.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(hex.EncodeToString(sum[:])+"/checkpoint"), nil)
	if err != nil {
		return nil, err
	}
	cp, err := c.do(req, 1<<20)
	if statusIs(err, http.StatusNotFound) {
		return nil, fmt.Errorf("%w: %s at %s", ErrNoCheckpoint, origin, c.URL)
	}
	return cp, err
}

// Evidence lists the evidence the witness holds (GET /evidence, a govlog
// extension), without the files, unverified. A witness without the
// extension has none.
func (c *Client) Evidence(ctx context.Context) ([]EvidenceRecord, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("evidence"), nil)
	if err != nil {
		return nil, err
	}
	list, err := c.do(req, 1<<20)
	if statusIs(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []EvidenceRecord
	for _, line := range strings.Split(strings.TrimSuffix(string(list), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, " ", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("malformed evidence list line %.128q", line)
		}
		found, err := time.Parse(time.RFC3339, f[2])
		if err != nil {
			return nil, fmt.Errorf("malformed evidence list line %.128q", line)
		}
		out = append(out, EvidenceRecord{ID: f[0], Kind: f[1], Found: found, Origin: f[3]})
	}
	return out, nil
}

// EvidenceFile returns the evidence file with this ID (GET /evidence/<id>),
// unverified but checked against its ID.
func (c *Client) EvidenceFile(ctx context.Context, id string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("evidence/"+url.PathEscape(id)), nil)
	if err != nil {
		return nil, err
	}
	file, err := c.do(req, 1<<20)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(file); hex.EncodeToString(sum[:]) != id {
		return nil, fmt.Errorf("evidence file doesn't match its ID %.64q", id)
	}
	return file, nil
}

func (c *Client) url(path string) string { return strings.TrimSuffix(c.URL, "/") + "/" + path }

// statusError is an answer other than 200, mapped to a sentinel if one fits.
type statusError struct {
	code     int
	sentinel error
	msg      string
}

func (e *statusError) Error() string {
	if e.sentinel != nil {
		return fmt.Sprintf("%v (witness said %d: %s)", e.sentinel, e.code, e.msg)
	}
	return fmt.Sprintf("witness answered %d: %s", e.code, e.msg)
}

func (e *statusError) Unwrap() error { return e.sentinel }

func statusIs(err error, code int) bool {
	var se *statusError
	return errors.As(err, &se) && se.code == code
}

func (c *Client) do(req *http.Request, limit int64) ([]byte, error) {
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("couldn't read the witness's answer: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("witness answer longer than %d bytes", limit)
	}
	if resp.StatusCode == http.StatusOK {
		return body, nil
	}
	if resp.StatusCode == http.StatusConflict {
		size, ok := strings.CutSuffix(string(body), "\n")
		n, err := parseDecimal(size)
		if !ok || err != nil {
			return nil, fmt.Errorf("witness answered 409 with a malformed size %.32q", body)
		}
		return nil, &SizeConflictError{Latest: n}
	}
	se := &statusError{code: resp.StatusCode, msg: strings.TrimSpace(string(body))}
	switch resp.StatusCode {
	case http.StatusBadRequest:
		se.sentinel = ErrMalformedRequest
	case http.StatusForbidden:
		se.sentinel = ErrLogSignature
	case http.StatusNotFound:
		se.sentinel = ErrUnknownOrigin
	case http.StatusRequestEntityTooLarge:
		se.sentinel = ErrRequestTooLarge
	case http.StatusUnprocessableEntity:
		se.sentinel = ErrInconsistent
	}
	return nil, se
}
