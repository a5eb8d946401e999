package devcrm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// selection is a clause bound to the schema: what to load, filter, sort and
// return.
type selection struct {
	obj   *object
	cols  []*column
	where []filter
	order []sortKey
	limit int // -1 for none
}

// column is one output column: a field of the object, or a parent
// relationship with some of the parent's fields.
type column struct {
	name   string // the output key: the field or relationship name
	f      *field
	ref    *field // the reference field behind a relationship
	parent *object
	sub    []*field
}

type filter struct {
	f      *field
	negate bool
	value  any
}

type sortKey struct {
	f    *field
	desc bool
}

const (
	msgNoSuchColumn   = "No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
	msgNoSuchRelation = "Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
	msgNoSuchObject   = "sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
)

func invalidField(t token, format string, args ...any) *queryError {
	return &queryError{code: codeInvalidField, pos: t.pos, msg: fmt.Sprintf(format, args...)}
}

// bindClause resolves a clause's names against the schema. A clause with no
// fields returns Id, unless count is set.
func bindClause(c *clause, count bool) (*selection, *queryError) {
	o := objectByName(c.object.text)
	if o == nil {
		return nil, &queryError{code: codeInvalidType, pos: c.object.pos, msg: fmt.Sprintf(msgNoSuchObject, c.object.text)}
	}
	sel := &selection{obj: o, limit: c.limit}
	fields := c.fields
	if len(fields) == 0 && !count {
		fields = []token{{kind: tokIdent, text: "Id", pos: c.object.pos}}
	}
	seen := map[string]bool{}
	for _, t := range fields {
		relName, sub, isRel := strings.Cut(t.text, ".")
		if !isRel {
			f := o.field(t.text)
			if f == nil {
				return nil, invalidField(t, msgNoSuchColumn, t.text, o.name)
			}
			if seen[f.name] {
				return nil, malformed(t.pos, "duplicate field selected: %s", f.name)
			}
			seen[f.name] = true
			sel.cols = append(sel.cols, &column{name: f.name, f: f})
			continue
		}
		ref := o.relationship(relName)
		if ref == nil || strings.Contains(sub, ".") {
			return nil, invalidField(t, msgNoSuchRelation, relName)
		}
		parent := objectByName(ref.refs[0])
		pf := parent.field(sub)
		if pf == nil {
			return nil, invalidField(t, msgNoSuchColumn, sub, parent.name)
		}
		key := ref.relationship + "." + pf.name
		if seen[key] {
			return nil, malformed(t.pos, "duplicate field selected: %s", key)
		}
		seen[key] = true
		var col *column
		for _, existing := range sel.cols {
			if existing.ref == ref {
				col = existing
			}
		}
		if col == nil {
			col = &column{name: ref.relationship, ref: ref, parent: parent}
			sel.cols = append(sel.cols, col)
		}
		col.sub = append(col.sub, pf)
	}
	for _, cond := range c.where {
		f, err := bindFilterField(o, cond.field, "filtered")
		if err != nil {
			return nil, err
		}
		v, err := bindLiteral(f, cond.value)
		if err != nil {
			return nil, err
		}
		sel.where = append(sel.where, filter{f: f, negate: cond.negate, value: v})
	}
	for _, item := range c.orderBy {
		f, err := bindFilterField(o, item.field, "sorted")
		if err != nil {
			return nil, err
		}
		sel.order = append(sel.order, sortKey{f: f, desc: item.desc})
	}
	return sel, nil
}

// bindFilterField resolves a field used in WHERE or ORDER BY: a field of the
// object itself, and not long text.
func bindFilterField(o *object, t token, use string) (*field, *queryError) {
	if rel, _, ok := strings.Cut(t.text, "."); ok {
		if o.relationship(rel) == nil {
			return nil, invalidField(t, msgNoSuchRelation, rel)
		}
		return nil, invalidField(t, "devcrm cannot use relationship fields such as %s here; use a field of %s", t.text, o.name)
	}
	f := o.field(t.text)
	if f == nil {
		return nil, invalidField(t, msgNoSuchColumn, t.text, o.name)
	}
	if f.typ == typeTextArea {
		return nil, invalidField(t, "field '%s' can not be %s in a query call", f.name, use)
	}
	return f, nil
}

// bindLiteral converts a literal to a value comparable with the field.
func bindLiteral(f *field, v token) (any, *queryError) {
	if isKeyword(v, "null") {
		return nil, nil
	}
	mismatch := func() *queryError {
		quoted := "should not be enclosed in quotes"
		switch f.typ {
		case typeInt, typeBool, typeDate, typeDateTime:
		default:
			quoted = "should be enclosed in quotes"
		}
		return &queryError{code: codeInvalidFilter, pos: v.pos, msg: fmt.Sprintf(
			"value of filter criterion for field '%s' must be of type %s and %s", f.name, typeNames[f.typ].soql, quoted)}
	}
	switch f.typ {
	case typeID, typeReference:
		if v.kind != tokString {
			return nil, mismatch()
		}
		id, err := ParseID(v.text)
		if err != nil {
			return nil, &queryError{code: codeInvalidFilter, pos: v.pos, msg: "invalid ID field: " + v.text}
		}
		return id, nil
	case typeInt:
		if v.kind != tokNumber {
			return nil, mismatch()
		}
		n, err := strconv.ParseInt(v.text, 10, 64)
		if err != nil {
			return nil, mismatch()
		}
		return n, nil
	case typeBool:
		if !isKeyword(v, "true") && !isKeyword(v, "false") {
			return nil, mismatch()
		}
		return isKeyword(v, "true"), nil
	case typeDate:
		if v.kind != tokDate || !parseDate(v.text) {
			return nil, mismatch()
		}
		return v.text, nil
	case typeDateTime:
		t, ok := parseDateTime(v.text)
		if v.kind != tokDateTime || !ok {
			return nil, mismatch()
		}
		return formatDateTime(t), nil
	}
	if v.kind != tokString {
		return nil, mismatch()
	}
	return v.text, nil
}

// selectRecords loads the selection's records, filtered and sorted in SQL
// (IS and IS NOT, so that null compares as SOQL's does), in insertion order
// otherwise.
func selectRecords(ctx context.Context, q querier, sel *selection, withLimit bool) ([]record, error) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT " + sel.obj.selectList() + " FROM " + quote(sel.obj.name))
	for i, f := range sel.where {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		op := " IS ?"
		if f.negate {
			op = " IS NOT ?"
		}
		b.WriteString(quote(f.f.name) + op)
		args = append(args, toColumn(f.value))
	}
	b.WriteString(" ORDER BY ")
	for _, k := range sel.order {
		b.WriteString(quote(k.f.name))
		if k.desc {
			b.WriteString(" DESC")
		}
		b.WriteString(", ")
	}
	b.WriteString("rowid")
	if withLimit && sel.limit >= 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, sel.limit)
	}
	rows, err := q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", sel.obj.name, err)
	}
	recs, err := scanRecords(sel.obj, rows)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", sel.obj.name, err)
	}
	return recs, nil
}

// project renders records with the selection's columns, loading the parents
// of relationship columns.
func project(ctx context.Context, q querier, sel *selection, recs []record, version string) ([]*jsonRecord, error) {
	parents := map[string]record{}
	out := make([]*jsonRecord, 0, len(recs))
	for _, rec := range recs {
		jr := newJSONRecord(sel.obj, version, rec["Id"].(string))
		for _, col := range sel.cols {
			if col.f != nil {
				jr.add(col.name, rec[col.f.name])
				continue
			}
			pid, _ := rec[col.ref.name].(string)
			if pid == "" {
				jr.add(col.name, nil)
				continue
			}
			p, ok := parents[pid]
			if !ok {
				var err error
				if p, err = getRecord(ctx, q, col.parent, pid); err != nil {
					return nil, err
				}
				parents[pid] = p
			}
			if p == nil {
				jr.add(col.name, nil)
				continue
			}
			sub := newJSONRecord(col.parent, version, pid)
			for _, f := range col.sub {
				sub.add(f.name, p[f.name])
			}
			jr.add(col.name, sub)
		}
		out = append(out, jr)
	}
	return out, nil
}
