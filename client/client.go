// Package client is the Go client of govlog for agencies, journalists and
// auditors: submit signed statements and read checkpoints, entries and
// proofs over gRPC. What it returns is as the server sent it: check bundles,
// checkpoints and promises with the root package (govlog.VerifyBundle,
// Policy.Verify, OpenPromise) before trusting them, as the govlog command
// does with --policy. The one exception is Query, which verifies every
// proof of its answer against the policy it is given before returning it.
//
// A connection is plaintext unless a Dialer gives it TLS credentials. A
// call whose connection failed says why when it can tell: the server
// speaks TLS and the client did not (found with a TLS handshake that
// checks and sends nothing), or the reverse, or a client certificate the
// server wanted.
package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/internal/tlsfiles"
)

// Client talks to one govlog personality server.
type Client struct {
	conn *grpc.ClientConn
	api  api.LogClient
}

// Dial connects to addr ("host:port") in plaintext. The connection is made
// lazily: the first call reports an unreachable server.
func Dial(addr string) (*Client, error) { return Dialer{}.Dial(addr) }

// A Dialer says how to connect to a server. The zero Dialer connects in
// plaintext.
type Dialer struct {
	// Credentials, if set, secure the connection: TLS is
	// credentials.NewTLS(&tls.Config{RootCAs: ...}), the system's roots
	// with an empty tls.Config, plus a client certificate for a server
	// that requires one on Submit. govlog's commands use internal/tlsfiles,
	// whose credentials also say plainly why a handshake failed.
	Credentials credentials.TransportCredentials
}

// ErrServerSpeaksTLS is a plaintext client's error when the server it
// could not talk to answers TLS handshakes: give the Dialer credentials.
var ErrServerSpeaksTLS = errors.New("the server speaks TLS, and this client connected without it")

// ErrServerWithoutTLS is a TLS client's error when the server answered its
// handshake in plaintext.
var ErrServerWithoutTLS = errors.New("the server does not speak TLS, and this client connected with it")

// ErrClientCertRequired and ErrClientCertRefused are a TLS client's errors
// when the server wants a client certificate (mutual TLS) and got none, or
// one it does not take.
var (
	ErrClientCertRequired = errors.New("the server requires a client certificate, and this client gave none")
	ErrClientCertRefused  = errors.New("the server refused this client's certificate: expired, or issued by a CA it does not trust")
)

// Dial connects to addr ("host:port"). The connection is made lazily: the
// first call reports an unreachable server, a TLS mismatch
// (ErrServerSpeaksTLS, ErrServerWithoutTLS), a certificate refused, or a
// client certificate wanted (ErrClientCertRequired, ErrClientCertRefused).
func (d Dialer) Dial(addr string) (*Client, error) {
	creds := d.Credentials
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)),
		grpc.WithUnaryInterceptor(explainTransportErrors(addr, d.Credentials != nil)))
	if err != nil {
		return nil, fmt.Errorf("couldn't dial %s: %w", addr, err)
	}
	return &Client{conn: conn, api: api.NewLogClient(conn)}, nil
}

// explainTransportErrors turns a call's failed connection into an error
// that says why, when it can tell: a plaintext client to a TLS server
// (which gRPC reports as an EOF before the server's preface), a TLS client
// to a plaintext one, or a client certificate the server wanted. Calls that
// reached the server are left alone.
func explainTransportErrors(addr string, secure bool) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		st, ok := status.FromError(err)
		if err == nil || !ok || st.Code() != codes.Unavailable || !strings.HasPrefix(st.Message(), "connection error") {
			return err
		}
		msg := st.Message()
		switch {
		case secure && strings.Contains(msg, tlsfiles.ErrPlaintextServer.Error()):
			return fmt.Errorf("%s: %w: %w", addr, ErrServerWithoutTLS, err)
		case strings.Contains(msg, "remote error: tls: certificate required"):
			return fmt.Errorf("%s: %w: %w", addr, ErrClientCertRequired, err)
		case strings.Contains(msg, "remote error: tls: bad certificate"),
			strings.Contains(msg, "remote error: tls: unknown certificate authority"),
			strings.Contains(msg, "remote error: tls: expired certificate"):
			// With TLS 1.3 the server judges the client's certificate
			// after the client's handshake is done: its alert comes with
			// the first read.
			return fmt.Errorf("%s: %w: %w", addr, ErrClientCertRefused, err)
		case !secure && tlsfiles.SpeaksTLS(ctx, addr):
			return fmt.Errorf("%s: %w: %w", addr, ErrServerSpeaksTLS, err)
		}
		return err
	}
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Submitted is the server's answer to a submission.
type Submitted struct {
	LeafHash  [32]byte
	Duplicate bool
	// Bundle and Index are set when the caller waited for inclusion.
	Bundle []byte
	Index  uint64
	// Promise is set when the caller did not wait.
	Promise []byte
}

// Submit sends a signed statement to log. With wait it returns once the
// statement is in a checkpoint, with its bundle; without, at once with a
// promise signed by the log.
func (c *Client) Submit(ctx context.Context, log string, statement []byte, wait bool) (*Submitted, error) {
	resp, err := c.api.Submit(ctx, &api.SubmitRequest{Log: log, Statement: statement, Wait: wait})
	if err != nil {
		return nil, err
	}
	if len(resp.LeafHash) != 32 {
		return nil, fmt.Errorf("server returned a %d-byte leaf hash", len(resp.LeafHash))
	}
	if want := govlog.LeafHash(statement); [32]byte(resp.LeafHash) != want {
		return nil, errors.New("server returned the leaf hash of another statement")
	}
	return &Submitted{
		LeafHash: [32]byte(resp.LeafHash), Duplicate: resp.Duplicate,
		Bundle: resp.Bundle, Index: uint64(resp.Index), Promise: resp.Promise,
	}, nil
}

// Checkpoint returns log's latest signed checkpoint, unverified.
func (c *Client) Checkpoint(ctx context.Context, log string) ([]byte, error) {
	resp, err := c.api.GetCheckpoint(ctx, &api.GetCheckpointRequest{Log: log})
	if err != nil {
		return nil, err
	}
	return resp.Checkpoint, nil
}

// Origin returns log's origin line, read from its latest checkpoint.
func (c *Client) Origin(ctx context.Context, log string) (string, error) {
	signed, err := c.Checkpoint(ctx, log)
	if err != nil {
		return "", err
	}
	text, _, ok := cutNote(signed)
	if !ok {
		return "", errors.New("server returned a malformed checkpoint")
	}
	cp, err := govlog.ParseCheckpoint(text)
	if err != nil {
		return "", fmt.Errorf("server returned a malformed checkpoint: %w", err)
	}
	return cp.Origin, nil
}

// cutNote splits a signed note into its text (ending in a newline) and its
// signature block.
func cutNote(signed []byte) (text, sigs []byte, ok bool) {
	for i := 0; i+1 < len(signed); i++ {
		if signed[i] == '\n' && signed[i+1] == '\n' {
			return signed[:i+1], signed[i+2:], true
		}
	}
	return nil, nil, false
}

// Entries returns up to count entries of log from start (the server caps
// count).
func (c *Client) Entries(ctx context.Context, log string, start, count uint64) ([][]byte, error) {
	resp, err := c.api.GetEntries(ctx, &api.GetEntriesRequest{Log: log, Start: int64(start), Count: int64(count)})
	if err != nil {
		return nil, err
	}
	return resp.Entries, nil
}

// Bundle returns the tlog-proof bundle of entry index at the latest
// checkpoint, unverified.
func (c *Client) Bundle(ctx context.Context, log string, index uint64) ([]byte, error) {
	resp, err := c.api.GetInclusionProof(ctx, &api.GetInclusionProofRequest{
		Log: log, Entry: &api.GetInclusionProofRequest_Index{Index: int64(index)},
	})
	if err != nil {
		return nil, err
	}
	return resp.Bundle, nil
}

// BundleByHash returns the bundle of the entry with this leaf hash.
func (c *Client) BundleByHash(ctx context.Context, log string, leafHash [32]byte) ([]byte, error) {
	resp, err := c.api.GetInclusionProof(ctx, &api.GetInclusionProofRequest{
		Log: log, Entry: &api.GetInclusionProofRequest_LeafHash{LeafHash: leafHash[:]},
	})
	if err != nil {
		return nil, err
	}
	return resp.Bundle, nil
}

// ConsistencyProof returns the proof that size to extends size from.
func (c *Client) ConsistencyProof(ctx context.Context, log string, from, to uint64) ([][]byte, error) {
	resp, err := c.api.GetConsistencyProof(ctx, &api.GetConsistencyProofRequest{Log: log, FromSize: int64(from), ToSize: int64(to)})
	if err != nil {
		return nil, err
	}
	return resp.Hashes, nil
}

// AllEntries reads every entry of log up to its latest checkpoint and
// checks them against it: the checkpoint must satisfy policy and the
// entries must hash to its root. It is for small logs a client replays
// whole (the registry log).
func (c *Client) AllEntries(ctx context.Context, policy *govlog.Policy, log string) (govlog.Checkpoint, [][]byte, error) {
	signed, err := c.Checkpoint(ctx, log)
	if err != nil {
		return govlog.Checkpoint{}, nil, err
	}
	cp, _, err := policy.Verify(signed)
	if err != nil {
		return govlog.Checkpoint{}, nil, fmt.Errorf("the %s log's checkpoint does not satisfy the policy: %w", log, err)
	}
	if !strings.HasSuffix(cp.Origin, "/"+log) {
		return govlog.Checkpoint{}, nil, fmt.Errorf("the server answered for %s with a checkpoint of %s", log, cp.Origin)
	}
	rf := compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	rng := rf.NewEmptyRange(0)
	var entries [][]byte
	for uint64(len(entries)) < cp.Size {
		batch, err := c.Entries(ctx, log, uint64(len(entries)), min(1000, cp.Size-uint64(len(entries))))
		if err != nil {
			return govlog.Checkpoint{}, nil, err
		}
		if len(batch) == 0 {
			return govlog.Checkpoint{}, nil, fmt.Errorf("the %s log served no entry at %d of %d", log, len(entries), cp.Size)
		}
		for _, e := range batch {
			h := govlog.LeafHash(e)
			if err := rng.Append(h[:], nil); err != nil {
				return govlog.Checkpoint{}, nil, err
			}
		}
		entries = append(entries, batch...)
	}
	root := rfc6962.DefaultHasher.EmptyRoot()
	if cp.Size > 0 {
		if root, err = rng.GetRootHash(nil); err != nil {
			return govlog.Checkpoint{}, nil, err
		}
	}
	if !bytes.Equal(root, cp.Hash[:]) || uint64(len(entries)) != cp.Size {
		return govlog.Checkpoint{}, nil, fmt.Errorf("the %s log's entries do not hash to its checkpoint's root", log)
	}
	return cp, entries, nil
}
