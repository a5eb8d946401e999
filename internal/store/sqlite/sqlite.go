// Package sqlite is Parley's single-node store: cc.Store on an SQLite file
// (or an in-memory database for tests and demos), through the pure-Go
// modernc.org/sqlite driver.
//
// Every connection gets the same pragmas from one place (dsn): WAL, a busy
// timeout, foreign keys and synchronous=FULL. Write transactions begin
// IMMEDIATE and are serialised inside the process, so concurrent writers wait
// for each other instead of failing; reads run concurrently on the pool.
// Open applies the embedded migrations.
//
// Every tenant-scoped query filters by tenant id, so an id of another tenant
// reads as not found. Tenants' CRM secrets are sealed with Options.Sealer
// before they are written.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/parley-cc/parley/internal/cc"
)

// MemoryPath is the path that opens a private in-memory database.
const MemoryPath = ":memory:"

// busyTimeout is how long a statement waits for another process's lock
// before it fails with SQLITE_BUSY (reported as EUNAVAILABLE).
const busyTimeout = 10 * time.Second

// Options configures a DB.
type Options struct {
	// Sealer encrypts tenants' CRM secrets at rest. Without one, a tenant
	// with secrets cannot be written or read.
	Sealer cc.Sealer
	// Logger receives migration and lifecycle messages; nil discards them.
	Logger *slog.Logger
	// Synchronous is SQLite's synchronous setting: SyncFull (the default)
	// or SyncNormal. See dsn.
	Synchronous string
}

// Synchronous settings.
const (
	SyncFull   = "full"
	SyncNormal = "normal"
)

// DB is the SQLite implementation of cc.Store. It is safe for concurrent use.
type DB struct {
	db     *sql.DB
	path   string
	sealer cc.Sealer
	log    *slog.Logger
	// writer holds one token: a write transaction takes it before BEGIN, so
	// writers of this process queue in Go rather than poll SQLite's lock.
	writer chan struct{}
}

var _ cc.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path, or a private
// in-memory database for MemoryPath, and applies pending migrations. A
// database written by a newer Parley (with migrations this one does not know)
// is refused.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, cc.Errorf(cc.EINVALID, "database path is empty: give a file path or %s", MemoryPath)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, cc.Errorf(cc.EINVALID, "database path %q: remove '?' and '#', which would be read as URI parameters", path)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sync := strings.ToLower(opts.Synchronous)
	switch sync {
	case "":
		sync = SyncFull
	case SyncFull, SyncNormal:
	default:
		return nil, cc.Errorf(cc.EINVALID, "database synchronous setting %q: use full or normal", opts.Synchronous)
	}
	sqldb, err := sql.Open("sqlite", dsn(path, sync))
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	if path == MemoryPath {
		// Each connection to ":memory:" is a database of its own: keep
		// exactly one, for ever.
		sqldb.SetMaxOpenConns(1)
		sqldb.SetMaxIdleConns(1)
		sqldb.SetConnMaxLifetime(0)
		sqldb.SetConnMaxIdleTime(0)
	} else {
		n := max(4, runtime.GOMAXPROCS(0))
		sqldb.SetMaxOpenConns(n)
		sqldb.SetMaxIdleConns(n)
	}
	s := &DB{db: sqldb, path: path, sealer: opts.Sealer, log: log, writer: make(chan struct{}, 1)}
	if err := s.Ping(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	if err := s.migrate(ctx, migrationFiles); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	return s, nil
}

// dsn is the one place that configures connections: the driver runs these
// pragmas on every connection the pool opens.
//
//   - journal_mode=WAL: readers do not block the writer, nor it them.
//   - busy_timeout: wait for another process's lock instead of failing.
//   - foreign_keys=ON: SQLite leaves them off unless asked, per connection.
//   - synchronous=FULL (the default): a committed transaction survives power
//     loss, not only a crash of the process. Interactions and their CRM-log
//     outbox items are promises to callers and to the CRM. It costs one fsync
//     of the WAL per write transaction, which bounds the call rate (see
//     docs/benchmarks.md). NORMAL syncs only at checkpoints: in WAL mode a
//     committed transaction still survives a crash of the process, but the
//     last ones may be lost to a power cut or an OS crash.
//   - _txlock=immediate: BEGIN takes the write lock at once, so a writer
//     waits under busy_timeout rather than failing with SQLITE_BUSY when it
//     would upgrade a read lock. Read-only transactions stay deferred.
func dsn(path, sync string) string {
	return path + "?" + strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(" + strings.ToUpper(sync) + ")",
		"_txlock=immediate",
	}, "&")
}

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) (err error) {
	defer wrap(&err, "ping sqlite database")
	var one int
	return s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// Close closes the database. Closing twice is not an error.
func (s *DB) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close sqlite database %s: %w", s.path, err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inTx runs fn in a write transaction and commits it when fn returns nil.
// Writers of this process run one at a time.
func (s *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.writer }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// execCount runs a statement and returns how many rows it changed.
func execCount(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// execOne runs a statement that must change a row; notFound is returned when
// it changes none.
func execOne(ctx context.Context, q querier, notFound error, query string, args ...any) error {
	n, err := execCount(ctx, q, query, args...)
	if err == nil && n == 0 {
		return notFound
	}
	return err
}

// conditions builds the WHERE clause of a filtered list.
type conditions struct {
	where []string
	args  []any
}

// add appends a condition with its arguments.
func (c *conditions) add(cond string, args ...any) {
	c.where = append(c.where, cond)
	c.args = append(c.args, args...)
}

// equal appends "col = v" unless v is empty.
func (c *conditions) equal(col, v string) {
	if v != "" {
		c.add(col+" = ?", v)
	}
}

// in appends "col IN (vs...)" unless vs is empty.
func in[T ~string](c *conditions, col string, vs []T) {
	if len(vs) == 0 {
		return
	}
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = string(v)
	}
	c.add(col+" IN ("+placeholders(len(vs))+")", args...)
}

// sql returns the conditions joined by AND.
func (c *conditions) sql() string { return strings.Join(c.where, " AND ") }

// placeholders returns n comma-separated question marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// queryOne runs a query for one row; notFound is returned when there is none.
func queryOne[T any](ctx context.Context, q querier, scan func(scanner) (*T, error), notFound error, query string, args ...any) (*T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	return v, err
}

// tenantSlug returns the slug of a tenant for messages, or its id when the
// tenant cannot be read.
func tenantSlug(ctx context.Context, q querier, tenantID string) string {
	var slug string
	if err := q.QueryRowContext(ctx, `SELECT slug FROM tenants WHERE id = ?`, tenantID).Scan(&slug); err != nil {
		return tenantID
	}
	return slug
}

// newID returns id, or a new one with prefix when id is empty.
func newID(id, prefix string) string {
	if id == "" {
		return cc.NewID(prefix)
	}
	return id
}

// created returns t, or the current time when t is zero.
func created(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t
}
