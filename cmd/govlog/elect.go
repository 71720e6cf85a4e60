package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/govlog/govlog/api"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/log-server/election"
	"github.com/govlog/govlog/personalities"
)

// electionConfig is serve's election block: several serve processes on one
// MariaDB, of which etcd elects the one that admits and signs.
type electionConfig struct {
	// Etcd are the etcd endpoints ("http://10.0.0.1:2379", ...).
	Etcd []string `yaml:"etcd"`
	// Prefix is the election's key prefix, the same in every process of
	// one deployment. Default "/govlog".
	Prefix string `yaml:"prefix"`
	// Advertise is the host:port at which the other serve processes reach
	// this one's gRPC listener, to forward Submit calls while it is elected.
	// ${NAME} in it is replaced by the environment variable NAME, which
	// must be set: "${POD_IP}:7000" where Kubernetes gives each pod its
	// address (write "[${POD_IP}]:7000" for IPv6 addresses).
	Advertise string `yaml:"advertise"`
	// TTL is the etcd lease: how long after the elected process dies
	// another is elected (whole seconds, at least 1s). Default 5s.
	TTL time.Duration `yaml:"ttl"`
	// PeersTLS is how this process dials the elected one when the gRPC
	// listeners speak TLS (a CA, and a client certificate if Submit
	// requires one). Nil: plaintext.
	PeersTLS *tlsClientConfig `yaml:"peers_tls"`
	// EtcdTLS checks etcd's certificate (https:// endpoints) and presents
	// this process's, if etcd requires client certificates. Nil: the
	// system's roots for https:// endpoints.
	EtcdTLS *tlsClientConfig `yaml:"etcd_tls"`
}

// check checks the block, after putting the environment into advertise.
func (c *electionConfig) check() error {
	advertise, err := expandEnv(c.Advertise, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("election: advertise %q: %w", c.Advertise, err)
	}
	c.Advertise = advertise
	switch {
	case len(c.Etcd) == 0:
		return errors.New("election: etcd (the endpoints) is required")
	case c.Advertise == "":
		return errors.New("election: advertise (the host:port at which the other serve processes reach this one) is required")
	case c.TTL < 0:
		return errors.New("election: ttl must be positive")
	}
	if _, _, err := net.SplitHostPort(c.Advertise); err != nil {
		return fmt.Errorf("election: advertise %q: %w", c.Advertise, err)
	}
	if c.Prefix != "" && !strings.HasPrefix(c.Prefix, "/") {
		return fmt.Errorf("election: prefix %q must begin with /", c.Prefix)
	}
	return nil
}

// expandEnv replaces each ${NAME} in s by the variable NAME of the
// environment (lookup), which must be set and not empty: an address half
// made is refused rather than advertised.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	var missing []string
	out := os.Expand(s, func(name string) string {
		v, ok := lookup(name)
		if !ok || v == "" {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("the environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

// elected is what runNode needs of an election: the Elector, and the
// forwarder that carries Submit calls to the elected process.
type elected struct {
	etcd      *clientv3.Client
	elector   *election.Elector
	forwarder *forwarder
	id        string // this process's advertised address
}

func startElection(cfg *electionConfig, logger *slog.Logger) (*elected, error) {
	etcdCfg := clientv3.Config{
		Endpoints: cfg.Etcd, DialTimeout: 5 * time.Second,
		// Without keepalives a dead etcd is noticed only when a call
		// times out.
		DialKeepAliveTime: 2 * time.Second, DialKeepAliveTimeout: 2 * time.Second,
		// The client's own retries would log a line a second while etcd
		// is down; the election says what matters in govlog's log.
		Logger: zap.NewNop(),
	}
	if cfg.EtcdTLS != nil || slices.ContainsFunc(cfg.Etcd, func(e string) bool { return strings.HasPrefix(e, "https://") }) {
		c, err := cfg.EtcdTLS.client(logger)
		if err != nil {
			return nil, fmt.Errorf("election: etcd_tls: %w", err)
		}
		etcdCfg.TLS = c.Config()
	}
	etcd, err := clientv3.New(etcdCfg)
	if err != nil {
		return nil, fmt.Errorf("couldn't reach etcd at %s: %w", strings.Join(cfg.Etcd, ","), err)
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = "/govlog"
	}
	el, err := election.New(election.Options{Client: etcd, Prefix: prefix, ID: cfg.Advertise, TTL: cfg.TTL, Logger: logger})
	if err != nil {
		etcd.Close()
		return nil, err
	}
	var creds credentials.TransportCredentials = insecure.NewCredentials()
	if cfg.PeersTLS != nil {
		c, err := cfg.PeersTLS.client(logger)
		if err != nil {
			etcd.Close()
			return nil, fmt.Errorf("election: peers_tls: %w", err)
		}
		creds = c.GRPCCredentials()
	}
	f := &forwarder{el: el, creds: creds, conns: map[string]*grpc.ClientConn{}}
	return &elected{etcd: etcd, elector: el, forwarder: f, id: cfg.Advertise}, nil
}

func (e *elected) close() {
	e.forwarder.close()
	e.etcd.Close()
}

// run takes part in the election until ctx is done; each term, after
// taking the store's fence with the term's token, it runs Trillian's
// sequencer, every log's signing and the admission server (with the search
// index), until the term ends or any of them stops (fenced out, or failed).
func (e *elected) run(ctx context.Context, fence func(context.Context, int64, string) error, trill *logserver.Trillian, logs []*logserver.Log, srv *personalities.Server, logger *slog.Logger) error {
	go e.elector.Watch(ctx)
	if _, err := e.elector.ForwardKey(ctx); err != nil {
		// Read again when first needed.
		logger.Warn("couldn't read the forward key yet", "err", err)
	}
	return e.elector.Run(ctx, func(term context.Context, token int64) error {
		start := time.Now()
		if err := fence(term, token, e.id); err != nil {
			return fmt.Errorf("couldn't take the fence: %w", err)
		}
		term, end := context.WithCancel(term)
		defer end()
		g, term := errgroup.WithContext(term)
		// Whichever part stops first ends the term for all.
		part := func(f func(context.Context) error) {
			g.Go(func() error { defer end(); return f(term) })
		}
		part(func(ctx context.Context) error { trill.RunSequencer(ctx); return nil })
		for _, l := range logs {
			part(l.Lead)
		}
		part(srv.Lead)
		logger.Info("elected: admitting and signing", "token", token, "took", time.Since(start))
		return g.Wait()
	})
}

// forwardKeyHeader carries the deployment's forward key on a forwarded
// Submit.
const forwardKeyHeader = "govlog-forward-key"

// forwarder implements personalities.Forwarder over gRPC, to the process
// the election says leads.
type forwarder struct {
	el    *election.Elector
	creds credentials.TransportCredentials
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

var _ personalities.Forwarder = (*forwarder)(nil)

func (f *forwarder) Forward(ctx context.Context, req *api.SubmitRequest) (*api.SubmitResponse, error) {
	id, self := f.el.Leader()
	if id == "" || self {
		return nil, personalities.ErrNotAdmitting
	}
	key, err := f.el.ForwardKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", personalities.ErrNotAdmitting, err)
	}
	conn, err := f.conn(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", personalities.ErrNotAdmitting, err)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, forwardKeyHeader, hex.EncodeToString(key))
	return api.NewLogClient(conn).Submit(ctx, req)
}

func (f *forwarder) Forwarded(ctx context.Context) bool {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok || len(md.Get(forwardKeyHeader)) != 1 {
		return false
	}
	got, err := hex.DecodeString(md.Get(forwardKeyHeader)[0])
	if err != nil {
		return false
	}
	key, err := f.el.ForwardKey(ctx)
	return err == nil && election.SameKey(got, key)
}

func (f *forwarder) conn(addr string) (*grpc.ClientConn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.conns[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(f.creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, err
	}
	f.conns[addr] = c
	return c, nil
}

func (f *forwarder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

// sharedStore is the MariaDB store's side that several processes share:
// the fence and the published checkpoints (sqlstore's Store).
type sharedStore interface {
	logserver.SharedCheckpoints
	TakeFence(ctx context.Context, token int64, holder string) error
}

// startTrillian starts Trillian in this process, or, with a trillian
// block, dials the deployment it names.
func startTrillian(remote *trillianConfig, topts logserver.TrillianOptions, logger *slog.Logger) (*logserver.Trillian, error) {
	if remote == nil {
		return logserver.StartTrillian(topts)
	}
	ropts := logserver.RemoteOptions{Address: remote.Address, TileCacheBytes: topts.TileCacheBytes, CreateTrees: topts.CreateTrees, Logger: logger}
	if remote.TLS != nil {
		c, err := remote.TLS.client(logger)
		if err != nil {
			return nil, fmt.Errorf("trillian: tls: %w", err)
		}
		ropts.Credentials = c.GRPCCredentials()
	}
	return logserver.DialTrillian(ropts)
}
