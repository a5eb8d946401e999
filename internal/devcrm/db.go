package devcrm

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// dsn returns the driver name and connection string for a database file with
// devcrm's pragmas: WAL, a busy timeout, foreign keys, and write transactions
// that take the write lock at BEGIN (so two writers never deadlock upgrading).
func dsn(path string) (string, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return "", cc.Errorf(cc.EINVALID, "devcrm database path %q: give a file path without '?' or '#'", path)
	}
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate", nil
}

// openDB opens the database file and applies the migrations it lacks.
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	conn, err := dsn(path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", conn)
	if err != nil {
		return nil, fmt.Errorf("open devcrm database %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open devcrm database %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate devcrm database %s: %w", path, err)
	}
	return db, nil
}

// migrate applies migrations/NNN_*.sql in order, one transaction each, and
// records the last one applied in PRAGMA user_version.
func migrate(ctx context.Context, db *sql.DB) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var current, last int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, _ := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("migration %s: name it NNN_description.sql", base)
		}
		// Numbers run 1, 2, 3... once each: a second file with a number
		// already applied would otherwise be skipped for good.
		if want := last + 1; version != want {
			return fmt.Errorf("migration %s: number %d, want %03d (numbers run from 001 without gaps or repeats)", base, version, want)
		}
		last = version
		if version <= current {
			continue
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		err = withTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		current = version
	}
	return nil
}

// withTx runs fn in a transaction, committing when it returns nil.
func withTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// quote returns an SQL identifier. Identifiers come from the schema only,
// never from requests.
func quote(name string) string { return `"` + name + `"` }

// storedFields are the object's fields that are columns one can write:
// every field except the generated ones.
func (o *object) storedFields() []*field {
	out := make([]*field, 0, len(o.fields))
	for _, f := range o.fields {
		if !f.computed {
			out = append(out, f)
		}
	}
	return out
}

// selectList is the column list that loads every field of the object.
func (o *object) selectList() string {
	cols := make([]string, len(o.fields))
	for i, f := range o.fields {
		cols[i] = quote(f.name)
	}
	return strings.Join(cols, ", ")
}

// record is one stored record: field name to value (string, int64, bool or
// nil), every field of its object present.
type record map[string]any

// scanRecords reads rows selected with o.selectList.
func scanRecords(o *object, rows *sql.Rows) ([]record, error) {
	defer rows.Close()
	var out []record
	dest := make([]any, len(o.fields))
	for rows.Next() {
		vals := make([]any, len(o.fields))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		rec := make(record, len(o.fields))
		for i, f := range o.fields {
			rec[f.name] = fromColumn(f, vals[i])
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// fromColumn converts a column value to the field's Go value.
func fromColumn(f *field, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		return string(x)
	case int64:
		if f.typ == typeBool {
			return x != 0
		}
		return x
	}
	return v
}

// toColumn converts a field value to what the column stores.
func toColumn(v any) any {
	if b, ok := v.(bool); ok {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// getRecord loads one record by canonical Id; nil when there is none.
func getRecord(ctx context.Context, q querier, o *object, id string) (record, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+o.selectList()+" FROM "+quote(o.name)+" WHERE "+quote("Id")+" = ?", id)
	if err != nil {
		return nil, fmt.Errorf("load %s %s: %w", o.name, id, err)
	}
	recs, err := scanRecords(o, rows)
	if err != nil {
		return nil, fmt.Errorf("load %s %s: %w", o.name, id, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return recs[0], nil
}

// recordExists reports whether a record with the canonical Id exists in the
// object its prefix names.
func recordExists(ctx context.Context, q querier, id string) (bool, error) {
	o := objectByPrefix(id)
	if o == nil {
		return false, nil
	}
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM "+quote(o.name)+" WHERE "+quote("Id")+" = ?", id).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", id, err)
	}
	return true, nil
}

// insertRecord stores a new record; rec holds every stored field. With
// upsert, a record whose Id exists has its stored fields replaced in place
// (not deleted and re-inserted, so its children stay linked).
func insertRecord(ctx context.Context, q querier, o *object, rec record, upsert bool) error {
	fields := o.storedFields()
	cols := make([]string, len(fields))
	marks := make([]string, len(fields))
	sets := make([]string, 0, len(fields))
	args := make([]any, len(fields))
	for i, f := range fields {
		cols[i], marks[i], args[i] = quote(f.name), "?", toColumn(rec[f.name])
		if f.name != "Id" && f.name != "CreatedDate" {
			sets = append(sets, quote(f.name)+" = excluded."+quote(f.name))
		}
	}
	stmt := "INSERT INTO " + quote(o.name) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	if upsert {
		stmt += " ON CONFLICT (" + quote("Id") + ") DO UPDATE SET " + strings.Join(sets, ", ")
	}
	if _, err := q.ExecContext(ctx, stmt, args...); err != nil {
		return fmt.Errorf("insert %s: %w", o.name, err)
	}
	return nil
}

// updateRecord writes the given fields of an existing record.
func updateRecord(ctx context.Context, q querier, o *object, id string, changes record) error {
	sets := make([]string, 0, len(changes))
	args := make([]any, 0, len(changes)+1)
	for _, f := range o.storedFields() {
		if v, ok := changes[f.name]; ok {
			sets = append(sets, quote(f.name)+" = ?")
			args = append(args, toColumn(v))
		}
	}
	if len(sets) == 0 {
		return nil
	}
	args = append(args, id)
	_, err := q.ExecContext(ctx, "UPDATE "+quote(o.name)+" SET "+strings.Join(sets, ", ")+" WHERE "+quote("Id")+" = ?", args...)
	if err != nil {
		return fmt.Errorf("update %s %s: %w", o.name, id, err)
	}
	return nil
}

// metaValue returns a meta entry, "" when absent.
func metaValue(ctx context.Context, q querier, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read meta %s: %w", key, err)
	}
	return v, nil
}

// setMeta stores a meta entry.
func setMeta(ctx context.Context, q querier, key, value string) error {
	_, err := q.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
	if err != nil {
		return fmt.Errorf("write meta %s: %w", key, err)
	}
	return nil
}
