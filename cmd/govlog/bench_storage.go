package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/search"
	"github.com/govlog/govlog/storage/sqlite"
)

func newBenchStorageCmd() *cobra.Command {
	var (
		mysqlServer string
		n, conc     int
	)
	cmd := &cobra.Command{
		Use:   "storage [--mysql 'root@tcp(127.0.0.1:3306)/']",
		Short: "Measure the bytes on disk per entry, by part of the store",
		Long: `bench storage fills a fresh SQLite store and, with --mysql, a fresh
MySQL/MariaDB database with --n disclosures publications (Submit with
wait=false, --concurrency clients), waits until a signed checkpoint includes
them all and the outbox has let go of what it no longer needs, stops the node
and prints the bytes on disk per entry: Trillian's tables, the domain state
and the outbox, each as data and as secondary indexes, the whole store, and
how many entries a terabyte holds. SQLite is measured page by page (the dbstat
table); MariaDB by information_schema after ANALYZE TABLE, and its tablespace
files. The stores are removed afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			quietTrillian(false)
			b := &bench{out: cmd.OutOrStdout(), server: mysqlServer, n: n, conc: conc, seq: 0}
			return b.runStorage(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&mysqlServer, "mysql", "", "MySQL/MariaDB server DSN without a database name; bench creates and drops its own database (default: SQLite only)")
	cmd.Flags().IntVar(&n, "n", 100_000, "disclosures entries to write")
	cmd.Flags().IntVar(&conc, "concurrency", 32, "concurrent clients")
	return cmd
}

// storagePart is what one table or index of the store holds.
type storagePart string

const (
	partTrillian storagePart = "Trillian"
	partState    storagePart = "domain state"
	partOutbox   storagePart = "outbox"
	partSearch   storagePart = "search index"
	partOther    storagePart = "other"
)

// partOf names the part of the store a table belongs to: Trillian's
// tables (trillian_* on SQLite, Trillian's own names on MySQL), govlog's
// state, govlog's outbox and admitted-leaf index, or the rest (schema rows).
func partOf(table string) storagePart {
	switch {
	case strings.HasPrefix(table, "trillian_"):
		return partTrillian
	case table == "govlog_state":
		return partState
	case strings.HasPrefix(table, "govlog_outbox") || table == "govlog_leaves":
		return partOutbox
	}
	switch table {
	case "Trees", "TreeControl", "Subtree", "TreeHead", "LeafData", "SequencedLeafData", "Unsequenced":
		return partTrillian
	}
	return partOther
}

// storageSize is a store's bytes by part, as data and as secondary
// indexes, and its files' total.
type storageSize struct {
	data, index map[storagePart]int64
	// tables lists each table's data and index bytes, for the detail.
	tables []tableSize
	files  int64
	// outboxRows are the rows left in the outbox when it was measured.
	outboxRows int64
}

type tableSize struct {
	name        string
	data, index int64
}

func (b *bench) runStorage(ctx context.Context) error {
	fmt.Fprintf(b.out, "govlog bench storage: %d disclosures entries, %d clients\n", b.n, b.conc)
	type result struct {
		name    string
		entries uint64
		size    storageSize
	}
	var results []result
	backends := []string{"sqlite"}
	if b.server != "" {
		backends = append(backends, "mysql")
	}
	for _, name := range backends {
		fmt.Fprintf(b.out, "== %s\n", name)
		entries, size, err := b.fillAndMeasure(ctx, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		printStorage(b.out, name, entries, size)
		results = append(results, result{name, entries, size})
	}
	var line []string
	for _, r := range results {
		perEntry := float64(r.size.files) / float64(r.entries)
		line = append(line, fmt.Sprintf("%s %.0f B (%.2f billion entries/TB)", r.name, perEntry, 1e12/perEntry/1e9))
	}
	fmt.Fprintf(b.out, "bytes on disk per entry: %s\n", strings.Join(line, ", "))
	return nil
}

func printStorage(out io.Writer, name string, entries uint64, s storageSize) {
	per := func(v int64) float64 { return float64(v) / float64(entries) }
	fmt.Fprintf(out, "\n%s: %d entries in the disclosures log, %d rows left in the outbox\n", name, entries, s.outboxRows)
	fmt.Fprintf(out, "%-14s %14s %14s %14s\n", "part", "data B/entry", "index B/entry", "total B/entry")
	var data, index int64
	for _, p := range []storagePart{partTrillian, partState, partOutbox, partSearch, partOther} {
		fmt.Fprintf(out, "%-14s %14.1f %14.1f %14.1f\n", p, per(s.data[p]), per(s.index[p]), per(s.data[p]+s.index[p]))
		data += s.data[p]
		index += s.index[p]
	}
	fmt.Fprintf(out, "%-14s %14.1f %14.1f %14.1f\n", "all tables", per(data), per(index), per(data+index))
	fmt.Fprintf(out, "%-14s %44.1f\n", "files on disk", per(s.files))
	fmt.Fprintf(out, "entries per terabyte (files): %.0f million\n", 1e12/per(s.files)/1e6)
	fmt.Fprintf(out, "by table (B/entry, data + index):")
	for _, t := range s.tables {
		if t.data+t.index >= int64(entries) { // at least 1 B/entry
			fmt.Fprintf(out, " %s %.1f+%.1f;", t.name, per(t.data), per(t.index))
		}
	}
	fmt.Fprintln(out)
}

// fillAndMeasure writes b.n entries into a fresh store of the named
// backend through a node, stops it, and measures the store. It returns the
// disclosures log's size.
func (b *bench) fillAndMeasure(ctx context.Context, backend string) (uint64, storageSize, error) {
	cfg := nodeConfig{Listen: "127.0.0.1:0", MMD: time.Hour}
	var measure func(ctx context.Context) (storageSize, error)
	var countOutbox func(ctx context.Context) (int64, error)
	var indexed func(ctx context.Context) (uint64, error)
	switch backend {
	case "sqlite":
		dir, err := os.MkdirTemp("", "govlog-bench-storage-")
		if err != nil {
			return 0, storageSize{}, err
		}
		defer os.RemoveAll(dir)
		cfg.SQLitePath = filepath.Join(dir, "govlog.db")
		measure = func(ctx context.Context) (storageSize, error) { return measureSQLite(ctx, cfg.SQLitePath) }
		countOutbox = func(ctx context.Context) (int64, error) {
			db, err := sql.Open("sqlite", "file:"+cfg.SQLitePath+"?mode=ro")
			if err != nil {
				return 0, err
			}
			defer db.Close()
			return countRows(ctx, db, "govlog_outbox")
		}
		indexed = func(ctx context.Context) (uint64, error) {
			db, err := sql.Open("sqlite", "file:"+sqlite.SearchPath(cfg.SQLitePath)+"?mode=ro")
			if err != nil {
				return 0, err
			}
			defer db.Close()
			return searchNext(ctx, db)
		}
	case "mysql":
		dsn, drop, err := b.freshDB(ctx, "storage")
		if err != nil {
			return 0, storageSize{}, err
		}
		defer drop()
		cfg.MySQL = dsn
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return 0, storageSize{}, err
		}
		defer db.Close()
		measure = func(ctx context.Context) (storageSize, error) { return measureMySQL(ctx, db) }
		countOutbox = func(ctx context.Context) (int64, error) { return countRows(ctx, db, "govlog_outbox") }
		indexed = func(ctx context.Context) (uint64, error) { return searchNext(ctx, db) }
	default:
		return 0, storageSize{}, fmt.Errorf("no backend %q", backend)
	}

	size, err := b.fillNode(ctx, cfg, countOutbox, indexed)
	if err != nil {
		return 0, storageSize{}, err
	}
	s, err := measure(ctx)
	if err != nil {
		return 0, storageSize{}, fmt.Errorf("couldn't measure the store: %w", err)
	}
	if s.outboxRows, err = countOutbox(ctx); err != nil {
		return 0, storageSize{}, err
	}
	return size, s, nil
}

// searchNext returns how many of the disclosures log's entries the search
// index in db holds (search.Follow's place), 0 before its first batch.
func searchNext(ctx context.Context, db *sql.DB) (uint64, error) {
	var v string
	err := db.QueryRowContext(ctx, "SELECT v FROM govlog_state WHERE log = 'disclosures' AND k = ?", search.Prefix+"next").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(v, 10, 64)
}

func countRows(ctx context.Context, db *sql.DB, table string) (int64, error) {
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("couldn't count %s: %w", table, err)
	}
	return n, nil
}

// fillNode runs a node on cfg's store with a registry log and a
// disclosures log, submits b.n publications, waits until a checkpoint
// includes them and the outbox is down to at most one row per log (or
// outboxWait passed), and stops the node. It returns the disclosures log's
// size.
func (b *bench) fillNode(ctx context.Context, cfg nodeConfig, countOutbox func(context.Context) (int64, error), indexed func(context.Context) (uint64, error)) (uint64, error) {
	n, err := b.startNode(ctx, cfg, b.conc)
	if err != nil {
		return 0, err
	}
	size, err := b.fill(ctx, n)
	if err != nil {
		n.stop()
		return 0, err
	}
	// The search index follows the log: measure it whole.
	for deadline := time.Now().Add(5 * time.Minute); ; {
		next, err := indexed(ctx)
		if err != nil {
			n.stop()
			return 0, fmt.Errorf("couldn't read how far the search index is: %w", err)
		}
		if next >= size {
			break
		}
		if time.Now().After(deadline) {
			n.stop()
			return 0, fmt.Errorf("the search index holds %d of %d entries after 5 minutes", next, size)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The outbox lets go of integrated leaves in the background: give it
	// a little time, and measure what is there either way.
	deadline := time.Now().Add(outboxWait)
	for {
		rows, err := countOutbox(ctx)
		if err != nil {
			n.stop()
			return 0, err
		}
		if rows <= int64(len(n.cfg.Logs)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return size, n.stop()
}

// fill submits b.n publications to the node with wait=false from b.conc
// clients and waits until a checkpoint includes them all. It returns the
// disclosures log's size.
func (b *bench) fill(ctx context.Context, n *benchNode) (uint64, error) {
	statements, err := n.statements(0, b.n)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(b.out, "filling with Submit wait=false:\n")
	if _, err := b.parallel("Submit", b.n, b.conc, func(i int) error {
		_, err := n.client(i).Submit(ctx, "disclosures", statements[i], false)
		return err
	}); err != nil {
		return 0, err
	}
	size, err := waitIntegrated(ctx, n.clients[0], uint64(b.n))
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(b.out, "  a signed checkpoint includes all %d entries\n", size)
	return size, nil
}

// outboxWait bounds how long fillNode waits for the outbox to let go of
// integrated leaves.
const outboxWait = 20 * time.Second

// waitIntegrated waits until the disclosures log's checkpoint holds at
// least n entries and has stopped growing (the registry view entries the
// log writes itself count too), and returns its size.
func waitIntegrated(ctx context.Context, c *client.Client, n uint64) (uint64, error) {
	var last uint64
	stable := 0
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); {
		signed, err := c.Checkpoint(ctx, "disclosures")
		if err != nil {
			return 0, err
		}
		text, _, _ := strings.Cut(string(signed), "\n\n")
		cp, err := govlog.ParseCheckpoint([]byte(text + "\n"))
		if err != nil {
			return 0, err
		}
		if cp.Size >= n && cp.Size == last {
			if stable++; stable == 3 {
				return cp.Size, nil
			}
		} else {
			stable = 0
		}
		last = cp.Size
		time.Sleep(300 * time.Millisecond)
	}
	return 0, fmt.Errorf("no checkpoint of %d entries after 5 minutes (last %d)", n, last)
}

// measureSQLite measures the SQLite file at path, closed, page by page:
// each table's and index's pages (dbstat), and the file.
func measureSQLite(ctx context.Context, path string) (storageSize, error) {
	s := storageSize{data: map[storagePart]int64{}, index: map[storagePart]int64{}}
	// The store's own file, its Trillian trees' and its search index's.
	for _, f := range []string{path, sqlite.TrillianPath(path), sqlite.SearchPath(path)} {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if fi, err := os.Stat(f + suffix); err == nil {
				s.files += fi.Size()
			}
		}
		byTable, err := sqliteTables(ctx, f)
		if err != nil {
			return s, err
		}
		if f == sqlite.SearchPath(path) {
			s.addAs(partSearch, byTable)
		} else {
			s.add(byTable)
		}
	}
	return s, nil
}

// sqliteTables measures each table of the SQLite file at path, page by
// page.
func sqliteTables(ctx context.Context, path string) (map[string]*tableSize, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// name is a table's or an index's B-tree; tbl_name its table. A
	// WITHOUT ROWID table's B-tree is its primary key, counted as data;
	// an autoindex (a rowid table's PRIMARY KEY or UNIQUE) as an index.
	rows, err := db.QueryContext(ctx, `SELECT m.type, m.tbl_name, SUM(d.pgsize)
		FROM dbstat d JOIN sqlite_schema m ON m.name = d.name
		GROUP BY d.name ORDER BY m.tbl_name`)
	if err != nil {
		return nil, fmt.Errorf("couldn't read dbstat of %s: %w", path, err)
	}
	defer rows.Close()
	byTable := map[string]*tableSize{}
	for rows.Next() {
		var typ, table string
		var bytes int64
		if err := rows.Scan(&typ, &table, &bytes); err != nil {
			return nil, err
		}
		t := byTable[table]
		if t == nil {
			t = &tableSize{name: filepath.Base(path) + ":" + table}
			byTable[table] = t
		}
		if typ == "index" {
			t.index += bytes
		} else {
			t.data += bytes
		}
	}
	return byTable, rows.Err()
}

// measureMySQL measures the database db is connected to: each table's
// data (clustered index) and secondary indexes from information_schema
// after ANALYZE TABLE, and the tablespace files' allocated bytes.
func measureMySQL(ctx context.Context, db *sql.DB) (storageSize, error) {
	s := storageSize{data: map[storagePart]int64{}, index: map[storagePart]int64{}}
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&schema); err != nil {
		return s, err
	}
	tables, err := queryStrings(ctx, db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", schema)
	if err != nil {
		return s, err
	}
	for _, t := range tables {
		// The statistics that information_schema shows are estimates
		// until the table is analysed. The table name comes from the
		// server's own catalogue.
		rows, err := db.QueryContext(ctx, "ANALYZE TABLE `"+t+"`")
		if err != nil {
			return s, fmt.Errorf("couldn't analyze %s: %w", t, err)
		}
		rows.Close()
	}
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, DATA_LENGTH, INDEX_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`, schema)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	byTable := map[string]*tableSize{}
	for rows.Next() {
		t := &tableSize{}
		if err := rows.Scan(&t.name, &t.data, &t.index); err != nil {
			return s, err
		}
		byTable[t.name] = t
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	// The search index is rows of govlog_state: its share of the table is
	// estimated by its rows' share of the table's bytes.
	if st := byTable["govlog_state"]; st != nil {
		var searchBytes, allBytes int64
		err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN k LIKE 'govlog.search/%' THEN LENGTH(log)+LENGTH(k)+LENGTH(v) ELSE 0 END), 0),
			COALESCE(SUM(LENGTH(log)+LENGTH(k)+LENGTH(v)), 0) FROM govlog_state`).Scan(&searchBytes, &allBytes)
		if err != nil {
			return s, fmt.Errorf("couldn't measure the search index's rows: %w", err)
		}
		if allBytes > 0 {
			idx := &tableSize{name: "govlog_state (search index rows, by their share of its bytes)",
				data: st.data * searchBytes / allBytes, index: st.index * searchBytes / allBytes}
			st.data -= idx.data
			st.index -= idx.index
			st.name = "govlog_state (the rest)"
			s.addAs(partSearch, map[string]*tableSize{idx.name: idx})
		}
	}
	s.add(byTable)
	// The files: one tablespace per table (innodb_file_per_table).
	err = db.QueryRowContext(ctx, `SELECT COALESCE(SUM(ALLOCATED_SIZE), 0) FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME LIKE ?`,
		strings.ReplaceAll(schema, "_", `\_`)+"/%").Scan(&s.files)
	if err != nil {
		return s, fmt.Errorf("couldn't read the tablespaces' sizes: %w", err)
	}
	return s, nil
}

func (s *storageSize) add(byTable map[string]*tableSize) {
	s.addAs("", byTable)
}

// addAs adds byTable's tables to part, or each to its own (partOf) if
// part is "".
func (s *storageSize) addAs(part storagePart, byTable map[string]*tableSize) {
	for name, t := range byTable {
		p := part
		if p == "" {
			p = partOf(name)
		}
		s.data[p] += t.data
		s.index[p] += t.index
		s.tables = append(s.tables, *t)
	}
	slices.SortFunc(s.tables, func(a, b tableSize) int { return cmp.Compare(b.data+b.index, a.data+a.index) })
}

func queryStrings(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
