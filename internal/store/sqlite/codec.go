package sqlite

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// Times are stored as INTEGER Unix nanoseconds (UTC), which order exactly
// and round-trip to the nanosecond; the zero time is NULL. Go's Unix
// nanoseconds reach from 1677 to 2262.
var (
	minTime = time.Unix(0, -1<<63).UTC()
	maxTime = time.Unix(0, 1<<63-1).UTC()
)

// encoder turns field values into column values and keeps the first error,
// so that a statement's arguments can be built in one expression and checked
// once.
type encoder struct{ err error }

// time returns t as a nullable INTEGER column value.
func (e *encoder) time(field string, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		e.fail(cc.Errorf(cc.EINVALID, "%s %s: use a time between the years 1678 and 2261", field, t.Format(time.RFC3339)))
		return nil
	}
	return t.UnixNano()
}

// timeArg returns t as a nullable INTEGER column value.
func timeArg(field string, t time.Time) (any, error) {
	var e encoder
	v := e.time(field, t)
	return v, e.err
}

// json returns v as JSON text; nil slices and maps become "null" so that
// they read back as nil, and empty ones as empty.
func (e *encoder) json(field string, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		e.fail(cc.WrapError(cc.EINVALID, err, "%s cannot be stored as JSON", field))
		return ""
	}
	return string(b)
}

// raw returns a JSON document as a nullable BLOB column value, after checking
// that it is JSON.
func (e *encoder) raw(field string, b json.RawMessage) any {
	if b == nil {
		return nil
	}
	if !json.Valid(b) {
		e.fail(cc.Errorf(cc.EINVALID, "%s is not valid JSON", field))
		return nil
	}
	return []byte(b)
}

func (e *encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// timeCol scans a nullable INTEGER of Unix nanoseconds into a UTC time.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.Unix(0, v).UTC()
	default:
		return fmt.Errorf("time column holds %T, want INTEGER", src)
	}
	return nil
}

// jsonCol scans JSON text into the value v points to.
type jsonCol struct{ v any }

// Scan implements sql.Scanner.
func (c jsonCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("JSON column holds %T, want TEXT", src)
	}
	if err := json.Unmarshal(b, c.v); err != nil {
		return fmt.Errorf("decode JSON column: %w", err)
	}
	return nil
}

// rawCol scans a nullable BLOB into a json.RawMessage, keeping the bytes as
// written.
type rawCol struct{ b *json.RawMessage }

// Scan implements sql.Scanner.
func (c rawCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.b = nil
	case []byte:
		*c.b = append(json.RawMessage(nil), v...)
	case string:
		*c.b = json.RawMessage(v)
	default:
		return fmt.Errorf("JSON column holds %T, want BLOB", src)
	}
	return nil
}

// durationCol scans INTEGER nanoseconds into a time.Duration.
type durationCol struct{ d *time.Duration }

// Scan implements sql.Scanner.
func (c durationCol) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("duration column holds %T, want INTEGER", src)
	}
	*c.d = time.Duration(v)
	return nil
}
