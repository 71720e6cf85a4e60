// Package election picks, among the govlog serve processes that share one
// database, the one that admits statements and signs checkpoints, using
// etcd (go.etcd.io/etcd/client/v3/concurrency): each process campaigns
// under a common key prefix with its gRPC address as its value, on a lease
// that etcd lets expire when the process stops renewing it (it died, or
// lost etcd).
//
// The winner's election revision only grows from one winner to the next;
// it is the token with which the winner takes the database's fence
// (storage's TakeFence). Safety rests on the fence, not on the lease's
// timing: a process that has not yet noticed it lost its lease can still
// try to admit, but its transactions fail once the next winner took the
// fence, so no index is ever given twice and no checkpoint published by
// two processes.
//
// Every process also reads who leads (the campaigner with the oldest key),
// so the others can forward Submit calls to it, and they share a forward
// key, kept in etcd, with which a forwarded call proves it comes from
// another process of the deployment (its quotas were taken there).
package election

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// DefaultTTL is Options.TTL when unset: how long after a leader dies (or
// loses etcd) another can be elected.
const DefaultTTL = 5 * time.Second

// Options configures an Elector.
type Options struct {
	Client *clientv3.Client
	// Prefix is the election's key prefix in etcd, the same for every
	// process of one deployment, e.g. "/govlog/gov.example".
	Prefix string
	// ID names this process to the others: the gRPC address at which they
	// reach it.
	ID string
	// TTL is the lease's time to live, in whole seconds. Default
	// DefaultTTL.
	TTL    time.Duration
	Logger *slog.Logger
}

// Elector takes part in the election for one process.
type Elector struct {
	opts Options

	mu     sync.Mutex
	leader string // the ID of the process leading, as last read; "" if none

	// keyMu guards key apart from mu: reading the key from etcd may take
	// as long as etcd is out of reach, and who leads must stay readable.
	keyMu sync.Mutex
	key   []byte // the forward key, once read
}

// New returns an Elector; Run campaigns and Watch follows the leader.
func New(opts Options) (*Elector, error) {
	if opts.Client == nil || opts.Prefix == "" || opts.ID == "" {
		return nil, errors.New("election: an etcd client, a prefix and this process's ID are required")
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.TTL < time.Second {
		opts.TTL = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Elector{opts: opts}, nil
}

func (e *Elector) candidates() string { return e.opts.Prefix + "/leader" }

// Run campaigns until ctx is done. Each time this process wins, it calls
// lead with a context that ends when the lease is lost (or ctx is done)
// and the election's token, and waits for lead to return before it
// resigns and campaigns again. An error from lead ends the term, not Run.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, token int64) error) error {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := e.term(ctx, lead)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			e.opts.Logger.Warn("election: campaigning again", "err", err, "in", wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if err != nil {
			wait = min(2*wait, 5*time.Second)
		} else {
			wait = 100 * time.Millisecond
		}
	}
	return nil
}

func (e *Elector) term(ctx context.Context, lead func(ctx context.Context, token int64) error) error {
	// Granting the lease fails within a bound while etcd is out of reach,
	// so Run keeps trying and ctx's end is noticed.
	grantCtx, cancel := context.WithTimeout(ctx, e.opts.TTL)
	lease, err := e.opts.Client.Grant(grantCtx, int64(e.opts.TTL/time.Second))
	cancel()
	if err != nil {
		return fmt.Errorf("couldn't get an etcd lease: %w", err)
	}
	sess, err := concurrency.NewSession(e.opts.Client, concurrency.WithLease(lease.ID), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("couldn't start an etcd session: %w", err)
	}
	defer func() {
		// Let go of the lease at once, so the next winner need not wait
		// for it to expire; bounded, as etcd may be gone.
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, _ = e.opts.Client.Revoke(closeCtx, lease.ID)
		_ = sess.Close()
	}()
	el := concurrency.NewElection(sess, e.candidates())
	campaignCtx, stopCampaign := context.WithCancel(ctx)
	go func() {
		select {
		case <-sess.Done():
		case <-campaignCtx.Done():
		}
		stopCampaign()
	}()
	err = el.Campaign(campaignCtx, e.opts.ID)
	stopCampaign()
	if err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	select {
	case <-sess.Done():
		return errors.New("the etcd lease expired while campaigning")
	default:
	}
	token := el.Rev()
	e.setLeader(e.opts.ID)
	e.opts.Logger.Info("elected", "id", e.opts.ID, "token", token)
	termCtx, endTerm := context.WithCancel(ctx)
	defer endTerm()
	go func() {
		select {
		case <-sess.Done():
			e.opts.Logger.Warn("election: the etcd lease is lost; stepping down")
		case <-termCtx.Done():
		}
		endTerm()
	}()
	err = lead(termCtx, token)
	endTerm()
	e.setLeader("")
	resignCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = el.Resign(resignCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("term ended: %w", err)
	}
	return nil
}

// Leader returns the ID of the process leading, as last read ("" if none
// is known), and whether it is this one.
func (e *Elector) Leader() (id string, self bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leader, e.leader != "" && e.leader == e.opts.ID
}

func (e *Elector) setLeader(id string) {
	e.mu.Lock()
	e.leader = id
	e.mu.Unlock()
}

// watchInterval is how often Watch reads who leads.
const watchInterval = 250 * time.Millisecond

// Watch reads who leads until ctx is done: the process whose campaign key
// is the oldest. While etcd is out of reach the last leader read stays (a
// forward to it fails if it is gone, and the caller retries).
func (e *Elector) Watch(ctx context.Context) {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		readCtx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := e.opts.Client.Get(readCtx, e.candidates()+"/", clientv3.WithFirstCreate()...)
		cancel()
		if err == nil {
			id := ""
			if len(resp.Kvs) > 0 {
				id = string(resp.Kvs[0].Value)
			}
			if old, _ := e.Leader(); old != id {
				e.opts.Logger.Info("election: leader", "id", id)
			}
			e.setLeader(id)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ForwardKey returns the deployment's forward key, made by the first
// process that asks: a secret the processes share, with which one proves
// to another that a call is forwarded from inside the deployment.
func (e *Elector) ForwardKey(ctx context.Context) ([]byte, error) {
	e.keyMu.Lock()
	defer e.keyMu.Unlock()
	if e.key != nil {
		return e.key, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	name := e.opts.Prefix + "/forward-key"
	fresh := make([]byte, 32)
	rand.Read(fresh)
	resp, err := e.opts.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(name), "=", 0)).
		Then(clientv3.OpPut(name, hex.EncodeToString(fresh))).
		Else(clientv3.OpGet(name)).Commit()
	if err != nil {
		return nil, fmt.Errorf("couldn't read the forward key from etcd: %w", err)
	}
	key := fresh
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().GetKvs()
		if len(kvs) != 1 {
			return nil, errors.New("the forward key in etcd vanished")
		}
		if key, err = hex.DecodeString(string(kvs[0].Value)); err != nil || len(key) != 32 {
			return nil, fmt.Errorf("the forward key in etcd at %s is malformed", name)
		}
	}
	e.key = key
	return key, nil
}

// SameKey compares a presented forward key with the deployment's in
// constant time.
func SameKey(a, b []byte) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}
