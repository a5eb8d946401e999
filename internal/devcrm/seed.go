package devcrm

import (
	"context"
	"database/sql"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/parley-cc/parley/internal/cc"
)

//go:embed seed/*.csv
var embeddedSeed embed.FS

// DefaultSeed returns the bundled seed files: about fifty Users, Accounts,
// Contacts and Leads whose phone numbers are stored in mixed formats.
func DefaultSeed() fs.FS {
	sub, err := fs.Sub(embeddedSeed, "seed")
	if err != nil {
		panic("devcrm: embedded seed: " + err.Error())
	}
	return sub
}

// seedFile is one parsed CSV file.
type seedFile struct {
	obj  *object
	name string
	cols map[string]int // field name to 1-based column number
	rows []seedRow
}

type seedRow struct {
	line int
	rec  record // the Id and the fields the file has columns for
}

// csvError names the file, line and column of bad input.
func csvError(file string, line, col int, colName, format string, args ...any) error {
	where := fmt.Sprintf("%s line %d", file, line)
	if col > 0 {
		where += fmt.Sprintf(", column %d (%s)", col, colName)
	}
	return cc.Errorf(cc.EINVALID, "%s: %s", where, fmt.Sprintf(format, args...))
}

// importableColumns lists the columns a file for o may have.
func importableColumns(o *object) string {
	var names []string
	for _, f := range o.fields {
		if importable(f) {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ", ")
}

func importable(f *field) bool {
	return f.typ == typeID || f.createable || f.name == "CreatedDate" || f.name == "LastModifiedDate"
}

// readSeedFile parses one CSV file in Salesforce export format: a header of
// field API names, then one record per row; an empty cell is null. It checks
// every value but not whether references point to existing records.
func readSeedFile(o *object, name string, r io.Reader, capBytes int) (*seedFile, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, csvError(name, 1, 0, "", "the file is empty; give a header row of field names such as %s", importableColumns(o))
	}
	if err != nil {
		return nil, csvReadError(name, err)
	}
	sf := &seedFile{obj: o, name: name, cols: make(map[string]int, len(header))}
	fields := make([]*field, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		f := o.field(h)
		switch {
		case f == nil:
			return nil, csvError(name, 1, i+1, h, "unknown column: %s has no field %q; use %s", o.name, h, importableColumns(o))
		case !importable(f):
			return nil, csvError(name, 1, i+1, h, "%s.%s is read-only (computed by devcrm); remove the column", o.name, f.name)
		case sf.cols[f.name] != 0:
			return nil, csvError(name, 1, i+1, h, "column %s appears twice (first as column %d)", f.name, sf.cols[f.name])
		}
		fields[i] = f
		sf.cols[f.name] = i + 1
	}
	if sf.cols["Id"] == 0 {
		return nil, csvError(name, 1, 0, "", "missing required column Id")
	}
	for _, f := range o.fields {
		if f.required && sf.cols[f.name] == 0 {
			return nil, csvError(name, 1, 0, "", "missing required column %s", f.name)
		}
	}
	seen := map[string]int{}
	usernames := map[string]int{}
	for {
		cells, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvReadError(name, err)
		}
		line, _ := cr.FieldPos(0)
		rec := record{}
		for i, cell := range cells {
			f := fields[i]
			if !utf8.ValidString(cell) {
				return nil, csvError(name, line, i+1, f.name, "the value is not valid UTF-8; save the file as UTF-8")
			}
			v, apiErr := textValue(f, cell)
			if apiErr == nil {
				v, apiErr = normalizeValue(f, v, capBytes)
			}
			if apiErr != nil {
				return nil, csvError(name, line, i+1, f.name, "%s", apiErr.Message)
			}
			if v == nil && (f.required || f.typ == typeID) {
				return nil, csvError(name, line, i+1, f.name, "%s is required", f.name)
			}
			rec[f.name] = v
		}
		id := rec["Id"].(string)
		if !strings.HasPrefix(id, o.prefix) {
			return nil, csvError(name, line, sf.cols["Id"], "Id", "Id %s is not a %s Id (those start with %s)", id, o.name, o.prefix)
		}
		if first, dup := seen[id]; dup {
			return nil, csvError(name, line, sf.cols["Id"], "Id", "duplicate Id %s (first on line %d)", id, first)
		}
		seen[id] = line
		if u, ok := rec["Username"].(string); ok && o.name == objUser {
			key := strings.ToLower(u)
			if first, dup := usernames[key]; dup {
				return nil, csvError(name, line, sf.cols["Username"], "Username", "duplicate Username %s (first on line %d)", u, first)
			}
			usernames[key] = line
		}
		sf.rows = append(sf.rows, seedRow{line: line, rec: rec})
	}
	return sf, nil
}

func csvReadError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return csvError(name, pe.StartLine, 0, "", "the row has a different number of cells than the header")
		}
		return cc.Errorf(cc.EINVALID, "%s line %d, character %d: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// readSeed parses every CSV file at the top of fsys. Files are named after
// their object (Account.csv, Contact.csv, Lead.csv, User.csv, Task.csv) and
// returned in dependency order.
func readSeed(fsys fs.FS, capBytes int) ([]*seedFile, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read seed directory: %w", err)
	}
	byObject := map[*object]*seedFile{}
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(path.Ext(e.Name()), ".csv") {
			continue
		}
		o := objectByName(strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
		if o == nil {
			return nil, cc.Errorf(cc.EINVALID, "%s: no such object; name seed files %s", e.Name(), seedFileNames())
		}
		if byObject[o] != nil {
			return nil, cc.Errorf(cc.EINVALID, "%s: %s already has a seed file, %s", e.Name(), o.name, byObject[o].name)
		}
		f, err := fsys.Open(e.Name())
		if err != nil {
			return nil, fmt.Errorf("open seed file: %w", err)
		}
		sf, err := readSeedFile(o, e.Name(), f, capBytes)
		f.Close()
		if err != nil {
			return nil, err
		}
		byObject[o] = sf
	}
	if len(byObject) == 0 {
		return nil, cc.Errorf(cc.EINVALID, "no seed files found: give one or more of %s", seedFileNames())
	}
	var out []*seedFile
	for _, o := range objects {
		if sf := byObject[o]; sf != nil {
			out = append(out, sf)
		}
	}
	return out, nil
}

func seedFileNames() string {
	names := make([]string, len(objects))
	for i, o := range objects {
		names[i] = o.name + ".csv"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkSeedReferences checks that every reference in the files points to a
// record in the files or, through exists, in the database.
func checkSeedReferences(files []*seedFile, exists func(id string) (bool, error)) error {
	inFiles := map[string]bool{}
	for _, sf := range files {
		for _, row := range sf.rows {
			inFiles[row.rec["Id"].(string)] = true
		}
	}
	for _, sf := range files {
		for _, f := range sf.obj.fields {
			if f.typ != typeReference || sf.cols[f.name] == 0 {
				continue
			}
			for _, row := range sf.rows {
				id, ok := row.rec[f.name].(string)
				if !ok || inFiles[id] {
					continue
				}
				found, err := exists(id)
				if err != nil {
					return err
				}
				if !found {
					target := objectByPrefix(id)
					return csvError(sf.name, row.line, sf.cols[f.name], f.name, "%s %s points to no %s; give the Id of a row in %s.csv or of an existing record", f.name, id, target.name, target.name)
				}
			}
		}
	}
	return nil
}

// ImportCSV loads Salesforce export-format CSV files from the top of fsys
// (Account.csv, Contact.csv, Lead.csv, User.csv, Task.csv; each optional)
// into the running server's database, in one transaction, and returns how
// many records it stored per object. A row whose Id exists replaces that
// record. Bad input (a missing required column, an unknown column, a bad or
// duplicate Id, a reference that points nowhere) fails the whole import with
// EINVALID naming the file, line and column. The server must be started.
func (s *Server) ImportCSV(ctx context.Context, fsys fs.FS) (map[string]int, error) {
	db, err := s.database()
	if err != nil {
		return nil, err
	}
	var counts map[string]int
	err = withTx(ctx, db, func(tx *sql.Tx) error {
		counts, err = s.importSeed(ctx, tx, fsys)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("import CSV: %w", err)
	}
	return counts, nil
}

// importSeed imports the files within the caller's transaction.
func (s *Server) importSeed(ctx context.Context, tx *sql.Tx, fsys fs.FS) (map[string]int, error) {
	files, err := readSeed(fsys, s.cfg.DescriptionCapBytes)
	if err != nil {
		return nil, err
	}
	err = checkSeedReferences(files, func(id string) (bool, error) { return recordExists(ctx, tx, id) })
	if err != nil {
		return nil, err
	}
	now := formatDateTime(s.now())
	counts := map[string]int{}
	for _, sf := range files {
		for _, row := range sf.rows {
			if sf.obj.name == objUser {
				if err := checkUsernameFree(ctx, tx, sf, row); err != nil {
					return nil, err
				}
			}
			rec := record{}
			for _, f := range sf.obj.storedFields() {
				v, ok := row.rec[f.name]
				if (!ok || v == nil) && f.def != nil {
					v = f.def
				}
				rec[f.name] = v
			}
			for _, name := range []string{"CreatedDate", "LastModifiedDate"} {
				if rec[name] == nil {
					rec[name] = now
				}
			}
			if sf.obj.name == objTask {
				if err := deriveTaskAccount(ctx, tx, rec); err != nil {
					return nil, err
				}
			}
			if err := insertRecord(ctx, tx, sf.obj, rec, true); err != nil {
				return nil, fmt.Errorf("%s line %d: %w", sf.name, row.line, err)
			}
			counts[sf.obj.name]++
		}
	}
	return counts, nil
}

// checkUsernameFree fails when another user already has the row's Username.
func checkUsernameFree(ctx context.Context, q querier, sf *seedFile, row seedRow) error {
	var other string
	err := q.QueryRowContext(ctx, `SELECT "Id" FROM "User" WHERE "Username" = ?`, row.rec["Username"]).Scan(&other)
	if err == sql.ErrNoRows || other == row.rec["Id"] {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up username: %w", err)
	}
	return csvError(sf.name, row.line, sf.cols["Username"], "Username", "Username %s already belongs to user %s", row.rec["Username"], other)
}
