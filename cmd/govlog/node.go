package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/api"
	"github.com/govlog/govlog/internal/tlsfiles"
	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/log-server/tiles"
	"github.com/govlog/govlog/log-server/tiles/s3mirror"
	"github.com/govlog/govlog/personalities"
	"github.com/govlog/govlog/personalities/registry"
	"github.com/govlog/govlog/portal"
	"github.com/govlog/govlog/storage"
	"github.com/govlog/govlog/storage/mysql"
	"github.com/govlog/govlog/storage/sqlite"
)

// nodeConfig is what dev and serve both run: Trillian, the logs and their
// personalities behind one gRPC address.
type nodeConfig struct {
	Listen        string
	MySQL         string // MySQL/MariaDB DSN; empty: SQLite at SQLitePath
	MySQLMaxConns int
	SQLitePath    string
	// Roots are the registry log's root keys; Genesis is the registry the
	// log starts from, signed by GenesisSigners (k root keys) if the
	// registry log is empty.
	Roots          *registry.Roots
	Genesis        registry.File
	GenesisSigners []note.Signer
	// Logs are the logs, the registry log among them.
	Logs []nodeLog
	// SequencerInterval, MMD and ScheduleInterval (how often the
	// statements the logs write themselves are looked for once due) are
	// left, when zero, to the defaults of logserver and personalities.
	SequencerInterval time.Duration
	MMD               time.Duration
	ScheduleInterval  time.Duration
	// AgencyQuota limits each agency's statements, AddressQuota each
	// client address's self-signed ones; zero: no limit.
	AgencyQuota, AddressQuota personalities.Quota
	// Policy, if set, is every log's witness policy: checkpoints are
	// published once its quorum of witnesses has cosigned them.
	Policy *govlog.Policy
	// PolicyText is Policy's file as published: the portal serves it at
	// /policy and checks bundles against it in the reader's browser.
	PolicyText []byte
	// CheckpointDir keeps each log's last signed checkpoint, outside the
	// database, so a rolled-back database stops the log instead of forking
	// it. Empty: no such guard across restarts.
	CheckpointDir string
	// TilesDir keeps each log's C2SP tlog-tiles, in a folder per log.
	// Empty: in memory, made again from the database on each start.
	TilesDir string
	// HTTPListen is the address of the read path over HTTP: each log's
	// tiles below /<log>/. Empty: none.
	HTTPListen string
	// TLS, if set, makes Listen and HTTPListen speak TLS only; with
	// SubmitRequiresClientCert, Submit answers UNAUTHENTICATED to a caller
	// without a verified client certificate.
	TLS                      *tlsServerConfig
	SubmitRequiresClientCert bool
	// WitnessTLS checks the policy's https:// witnesses; nil: the
	// system's roots.
	WitnessTLS *tlsClientConfig
	// AdminListen is the address of /metrics, /healthz and /readyz.
	// Empty: none.
	AdminListen string
	// admin, if set, is the admin server to use instead of one on
	// AdminListen (dev serves the witnesses' and monitor's metrics on it
	// too); runNode marks it ready.
	admin *adminServer
	// Election, if set, makes this one of several processes serving the
	// logs from one MariaDB, of which etcd elects the one that admits and
	// signs; the others serve reads and forward Submit to it.
	Election *electionConfig
	// Trillian, if set, is a Trillian deployment reached over gRPC that
	// keeps the trees, instead of the one in this process.
	Trillian *trillianConfig
	// TilesMirror, if set, is the object store each log's tiles are
	// copied to, below <log>/. Nil: none.
	TilesMirror *s3mirror.Mirror
	// onHTTP is told the read path's URL (http:// or https://) once it
	// listens (dev prints it).
	onHTTP func(url string)
	// monitors are the monitors' dashboards the portal's status page
	// links to (dev's own).
	monitors []string
	// logVKeys are the logs' verifier keys, in Logs' order (dev only).
	logVKeys []string
	// warnings are what dev found odd in its data folder, or serve in its
	// config.
	warnings []string
}

type nodeLog struct {
	Name   string
	Origin string
	Signer note.Signer
	// TreeID names the log's tree in Trillian (0: found by origin).
	TreeID int64
	// RuleKey signs the statements the log writes itself
	// (rule.TypeInfo.ByLog); nil if none.
	RuleKey note.Signer
}

// requireClientCertOnSubmit answers UNAUTHENTICATED to a Submit whose
// caller presented no client certificate that s's client CA issued, saying
// why; every other call passes. The handshake took any certificate
// (tlsfiles.VerifyLater), so that a client with none, or a refused one,
// reads this answer instead of a broken connection, and can still read.
func requireClientCertOnSubmit(s *tlsfiles.Server) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if info.FullMethod != api.Log_Submit_FullMethodName {
			return handler(ctx, req)
		}
		err := tlsfiles.ErrNoClientCert
		if p, ok := peer.FromContext(ctx); ok {
			if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
				_, err = s.VerifyClient(ti.State)
			}
		}
		if err != nil {
			return nil, status.Errorf(codes.Unauthenticated, "Submit needs a client certificate issued by this server's client CA (mutual TLS), and %v: use --client-cert and --client-key (reads need none)", err)
		}
		return handler(ctx, req)
	}
}

// grpcServerOptions bound what one client can hold of the server: message
// size (checked before parsing), concurrent streams per connection, idle and
// aged connections, and pings more often than every 10 s.
func grpcServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(personalities.MaxMessageSize),
		grpc.MaxConcurrentStreams(128),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: 5 * time.Minute, Time: time.Minute, Timeout: 20 * time.Second,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
}

// readMux serves each log's tiles below /<name>/, the JSON read API below
// /api/, and at / the portal's pages, whose home lists the logs with their
// origins and tiles prefixes.
func readMux(cfgs []nodeLog, logs []*logserver.Log, api, pages http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	for i, l := range logs {
		prefix := "/" + cfgs[i].Name
		mux.Handle(prefix+"/", http.StripPrefix(prefix, l.Tiles()))
	}
	mux.Handle("/api/", api)
	mux.Handle("/", pages)
	return mux
}

// tilesMirrors are the loops that copy each log's tiles to
// cfg.TilesMirror, below <log>/; none without a mirror. They run beside the
// logs: a store that fails is retried, and stops neither a log nor the node.
func tilesMirrors(cfg nodeConfig, logs []*logserver.Log, logger *slog.Logger) ([]func(context.Context) error, error) {
	if cfg.TilesMirror == nil {
		return nil, nil
	}
	var runs []func(context.Context) error
	for i, l := range logs {
		tree := l.Tiles()
		m := cfg.TilesMirror.Sub(cfg.Logs[i].Name)
		opts := tiles.MirrorOptions{Logger: logger.With("log", cfg.Logs[i].Name, "mirror", m.String())}
		runs = append(runs, func(ctx context.Context) error { return tree.RunMirror(ctx, m, opts) })
	}
	logger.Info("copying the logs' tiles to an object store", "mirror", cfg.TilesMirror.String())
	return runs, nil
}

// runNode serves until ctx is done; ready is called with the gRPC address
// once every log is open and the server listens.
func runNode(ctx context.Context, cfg nodeConfig, logger *slog.Logger, ready func(addr string)) error {
	var (
		topts logserver.TrillianOptions
		store storage.AdmissionStore
		// searchStore keeps the search index: store, or on SQLite a file
		// of its own, so that indexing never waits for admissions' one
		// writer, nor they for it.
		searchStore storage.AdmissionStore
	)
	// The admin listener answers from the start: /healthz at once, /readyz
	// with 503 until the logs are open and the genesis admitted.
	admin := cfg.admin
	if admin == nil {
		admin = newAdminServer()
		stopAdmin, err := admin.start(cfg.AdminListen, logger)
		if err != nil {
			return err
		}
		defer stopAdmin()
	}
	clientCerts := tlsfiles.VerifyIfGiven
	if cfg.SubmitRequiresClientCert {
		clientCerts = tlsfiles.VerifyLater
	}
	tlsServer, err := cfg.TLS.server(clientCerts, logger.With("listener", "gRPC and read path"))
	if err != nil {
		return err
	}
	witnessTLS, err := cfg.WitnessTLS.client(logger)
	if err != nil {
		return fmt.Errorf("witness_tls: %w", err)
	}
	witnessClient := witnessTLS.HTTPClient(logserver.DefaultWitnessRequestTimeout)
	if cfg.MySQL != "" {
		db, err := mysql.Open(ctx, cfg.MySQL, mysql.Options{MaxOpenConns: cfg.MySQLMaxConns})
		if err != nil {
			return err
		}
		defer db.Close()
		topts.AdminStorage, topts.LogStorage = mysql.TrillianStorage(db)
		// Processes starting together (elected ones) make one tree per log.
		topts.CreateTrees = func(fn func() error) error { return mysql.Locked(ctx, db, "govlog_trees", fn) }
		store = mysql.NewAdmissionStore(db)
		searchStore = store
	} else {
		db, err := sqlite.Open(ctx, cfg.SQLitePath)
		if err != nil {
			return err
		}
		defer db.Close()
		// The public read API reads through connections of its own, so
		// that its callers never hold the one connection admissions and
		// Trillian share.
		reader, err := sqlite.OpenReader(ctx, cfg.SQLitePath)
		if err != nil {
			return err
		}
		defer reader.Close()
		tdb, closeTrillian, err := sqlite.OpenTrillian(ctx, db, cfg.SQLitePath)
		if err != nil {
			return err
		}
		defer closeTrillian()
		topts.AdminStorage, topts.LogStorage = sqlite.TrillianStorage(tdb)
		store = sqlite.NewAdmissionStore(db, reader)
		closeSearch, err := openSearchStore(ctx, cfg.SQLitePath, &searchStore)
		if err != nil {
			return err
		}
		defer closeSearch()
	}

	var elect *elected
	if cfg.Election != nil {
		if elect, err = startElection(cfg.Election, logger); err != nil {
			return err
		}
		defer elect.close()
		topts.ElectedSequencer = true
	}
	shared, _ := store.(sharedStore)
	if elect != nil && shared == nil {
		return errors.New("election: needs storage: mysql (the processes share one database)")
	}
	topts.SequencerInterval, topts.Logger = cfg.SequencerInterval, logger
	trill, err := startTrillian(cfg.Trillian, topts, logger)
	if err != nil {
		return err
	}
	defer trill.Close()

	var checkpoints logserver.CheckpointStore
	if cfg.CheckpointDir != "" {
		checkpoints = logserver.FileCheckpointStore{Dir: cfg.CheckpointDir}
	}
	ps := map[string]personalities.Personality{}
	var logs []*logserver.Log
	var genesis [][]byte
	for _, lc := range cfg.Logs {
		if lc.Name == registry.LogName && len(cfg.GenesisSigners) > 0 {
			if genesis, err = registry.Genesis(cfg.Genesis, lc.Origin, time.Now(), cfg.GenesisSigners...); err != nil {
				return fmt.Errorf("registry genesis: %w", err)
			}
		}
		domain, err := domainFor(lc.Name, cfg.Roots)
		if err != nil {
			return fmt.Errorf("log %q: %w", lc.Name, err)
		}
		var tilesDir string
		if cfg.TilesDir != "" {
			tilesDir = filepath.Join(cfg.TilesDir, lc.Name)
		}
		lopts := logserver.LogOptions{Origin: lc.Origin, Signer: lc.Signer, MMD: cfg.MMD, Policy: cfg.Policy, Checkpoints: checkpoints, TilesDir: tilesDir, Logger: logger,
			WitnessClient: witnessClient, TrillianTreeID: lc.TreeID}
		if elect != nil {
			lopts.Elected, lopts.Shared = true, shared
		}
		l, err := trill.OpenLog(ctx, lopts)
		if err != nil {
			return err
		}
		logs = append(logs, l)
		ps[lc.Name] = personalities.Personality{Domain: domain, Log: l, RuleKey: lc.RuleKey}
	}
	popts := personalities.Options{
		Store: store, SearchStore: searchStore, Genesis: genesis, Personalities: ps, Logger: logger,
		ScheduleInterval: cfg.ScheduleInterval, AgencyQuota: cfg.AgencyQuota, AddressQuota: cfg.AddressQuota,
	}
	if elect != nil {
		popts.Elected, popts.Forwarder = true, elect.forwarder
	}
	srv, err := personalities.NewServer(popts)
	if err != nil {
		return err
	}
	metrics := logMetrics{srv: srv, logs: map[string]*logserver.Log{}}
	for i, lc := range cfg.Logs {
		metrics.logs[lc.Name] = logs[i]
	}
	// Unregistered when the node stops: dev's admin server outlives it.
	if err := admin.reg.Register(metrics); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer admin.reg.Unregister(metrics)

	// The genesis, on the first start, is in the registry log before the
	// server listens: no statement is refused for want of it. (An elected
	// process admits it when first elected.)
	if elect == nil {
		if err := srv.AdmitGenesis(ctx); err != nil {
			return err
		}
	}
	mirrors, err := tilesMirrors(cfg, logs, logger)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("couldn't listen on %s: %w", cfg.Listen, err)
	}
	// Every call counted by method and code, and timed, on /metrics
	// (grpc_server_handled_total, grpc_server_handling_seconds): refused
	// ones too, so the interceptor comes first.
	rpcMetrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	if err := admin.reg.Register(rpcMetrics); err != nil {
		lis.Close()
		return fmt.Errorf("metrics: %w", err)
	}
	defer admin.reg.Unregister(rpcMetrics)
	gopts := append(grpcServerOptions(),
		grpc.ChainUnaryInterceptor(rpcMetrics.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(rpcMetrics.StreamServerInterceptor()))
	if tlsServer != nil {
		gopts = append(gopts, grpc.Creds(tlsServer.GRPCCredentials()))
	}
	if cfg.SubmitRequiresClientCert {
		gopts = append(gopts, grpc.ChainUnaryInterceptor(requireClientCertOnSubmit(tlsServer)))
	}
	gs := grpc.NewServer(gopts...)
	api.RegisterLogServer(gs, srv)
	rpcMetrics.InitializeMetrics(gs)

	g, ctx := errgroup.WithContext(ctx)
	if cfg.HTTPListen != "" {
		hlis, err := net.Listen("tcp", cfg.HTTPListen)
		if err != nil {
			lis.Close()
			return fmt.Errorf("couldn't listen on %s: %w", cfg.HTTPListen, err)
		}
		src := newPortalSource(store, searchStore, ps, srv)
		pages, err := portal.NewPages(portal.PagesOptions{Source: src, Policy: cfg.PolicyText, Monitors: cfg.monitors, Logger: logger})
		if err != nil {
			lis.Close()
			hlis.Close()
			return err
		}
		mux := readMux(cfg.Logs, logs, portal.NewAPI(src, logger), pages)
		g.Go(func() error { return serveHTTPTLS(ctx, hlis, mux, "read path", tlsServer) })
		if cfg.onHTTP != nil {
			cfg.onHTTP(httpScheme(tlsServer) + "://" + hlis.Addr().String())
		}
	}
	for _, l := range logs {
		g.Go(func() error { return l.Run(ctx) })
	}
	for _, mirror := range mirrors {
		g.Go(func() error { return mirror(ctx) })
	}
	if elect != nil {
		g.Go(func() error {
			return elect.run(ctx, shared.TakeFence, trill, logs, srv, logger)
		})
	} else {
		g.Go(func() error { return srv.Run(ctx) })
	}
	g.Go(func() error {
		if err := gs.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("gRPC server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		stopped := make(chan struct{})
		go func() { gs.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			gs.Stop()
		}
		return nil
	})
	admin.setReady()
	ready(lis.Addr().String())
	return g.Wait()
}

// openSearchStore opens the SQLite search index beside the database at
// path into *store, and returns what closes it. The index is the logs'
// entries read again (search.Follow), so a new file fills itself: a store
// from before the file kept its index among the logs' state, and
// indexes its entries anew here.
func openSearchStore(ctx context.Context, path string, store *storage.AdmissionStore) (func(), error) {
	p := sqlite.SearchPath(path)
	db, err := sqlite.Open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	reader, err := sqlite.OpenReader(ctx, p)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("search index: %w", err)
	}
	*store = sqlite.NewAdmissionStore(db, reader)
	return func() { reader.Close(); db.Close() }, nil
}
