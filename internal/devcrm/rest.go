package devcrm

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// jsonRecord writes a record as Salesforce does: "attributes" first, then
// the fields in the order asked for.
type jsonRecord struct {
	obj  *object
	url  string
	keys []string
	vals []any // field values, or *jsonRecord (or nil) for a relationship
}

func newJSONRecord(o *object, version, id string) *jsonRecord {
	return &jsonRecord{obj: o, url: recordURL(version, o, id)}
}

func (r *jsonRecord) add(key string, v any) {
	r.keys = append(r.keys, key)
	r.vals = append(r.vals, v)
}

// MarshalJSON writes the record with its keys in order.
func (r *jsonRecord) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	attrs, err := marshalJSON(struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	}{r.obj.name, r.url})
	if err != nil {
		return nil, err
	}
	b.WriteString(`{"attributes":`)
	b.Write(attrs)
	for i, k := range r.keys {
		key, _ := marshalJSON(k)
		val, err := marshalJSON(r.vals[i])
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func recordURL(version string, o *object, id string) string {
	return "/services/data/v" + version + "/sobjects/" + o.name + "/" + id
}

// bodyField is one top-level member of a JSON request body.
type bodyField struct {
	name      string
	raw       json.RawMessage
	line, col int // where the value ends, for JSON_PARSER_ERROR
}

// position returns the 1-based line and column of a byte offset.
func position(body []byte, offset int64) (int, int) {
	before := body[:min(int(offset), len(body))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// decodeBody reads a JSON object body, keeping its members in order.
func decodeBody(r *http.Request) ([]bodyField, *apiError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, newAPIError(http.StatusUnsupportedMediaType, codeUnsupportedMedia, fmt.Sprintf("Content type '%s' not supported; send application/json", ct))
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newAPIError(http.StatusRequestEntityTooLarge, codeRequestTooLarge, fmt.Sprintf("The request body exceeds %d bytes", maxBodyBytes))
		}
		return nil, badRequest(codeJSONParser, "Could not read the request body: "+err.Error())
	}
	parseErr := func(offset int64, msg string) *apiError {
		line, col := position(body, offset)
		return badRequest(codeJSONParser, fmt.Sprintf("%s at [line:%d, column:%d]", msg, line, col))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, parseErr(0, "No content to map due to end-of-input")
		}
		return nil, parseErr(dec.InputOffset(), "Unexpected character: "+jsonErrText(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, parseErr(dec.InputOffset(), "Cannot deserialize instance of sObject from a value that is not an object; send a JSON object")
	}
	var out []bodyField
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, parseErr(dec.InputOffset(), "Unexpected character: "+jsonErrText(err))
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, parseErr(dec.InputOffset(), "Unexpected character: "+jsonErrText(err))
		}
		line, col := position(body, dec.InputOffset())
		out = append(out, bodyField{name: name, raw: raw, line: line, col: col})
	}
	if _, err := dec.Token(); err != nil {
		return nil, parseErr(dec.InputOffset(), "Unexpected character: "+jsonErrText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, parseErr(dec.InputOffset(), "Unexpected content after the JSON object")
	}
	return out, nil
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error()
	}
	if err == io.ErrUnexpectedEOF {
		return "unexpected end-of-input"
	}
	return err.Error()
}

// fieldsFromBody converts a body into field values for a create (or an
// update), with every error Salesforce would report about them.
func (s *Server) fieldsFromBody(o *object, body []bodyField, creating bool) (record, []*apiError) {
	rec := record{}
	var errs []*apiError
	var readOnly []string
	for _, bf := range body {
		if strings.EqualFold(bf.name, "attributes") {
			continue
		}
		f := o.field(bf.name)
		if f == nil {
			return nil, []*apiError{badRequest(codeInvalidField, fmt.Sprintf("No such column '%s' on sobject of type %s", bf.name, o.name))}
		}
		if (creating && !f.createable) || (!creating && !f.updateable) {
			readOnly = append(readOnly, f.name)
			continue
		}
		v, err := jsonValue(f, bf.raw)
		if err != nil && err.Code == codeJSONParser {
			err.Message = fmt.Sprintf("%s at [line:%d, column:%d]", err.Message, bf.line, bf.col)
			return nil, []*apiError{err}
		}
		if err == nil {
			v, err = normalizeValue(f, v, s.cfg.DescriptionCapBytes)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rec[f.name] = v
	}
	if len(readOnly) > 0 {
		errs = append([]*apiError{badRequest(codeInvalidFieldInsert, fmt.Sprintf(
			"Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
			strings.Join(readOnly, ", ")), readOnly...)}, errs...)
	}
	return rec, errs
}

// checkRequired reports required fields that are null in rec.
func checkRequired(o *object, rec record) *apiError {
	var missing []string
	for _, f := range o.fields {
		if f.required && rec[f.name] == nil {
			missing = append(missing, f.name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return badRequest(codeRequiredMissing, fmt.Sprintf("Required fields are missing: [%s]", strings.Join(missing, ", ")), missing...)
}

// checkReferences reports references in changes that point to no record.
func checkReferences(ctx context.Context, q querier, o *object, changes record) ([]*apiError, error) {
	var errs []*apiError
	for _, f := range o.fields {
		id, ok := changes[f.name].(string)
		if !ok || f.typ != typeReference {
			continue
		}
		found, err := recordExists(ctx, q, id)
		if err != nil {
			return nil, err
		}
		if !found {
			errs = append(errs, badRequest(codeInvalidCrossRef, fmt.Sprintf("%s ID: invalid cross reference id", f.label), f.name))
		}
	}
	return errs, nil
}

// deriveTaskAccount sets a Task's read-only AccountId: its WhatId when that
// is an Account, else the account of its WhoId when that is a Contact.
func deriveTaskAccount(ctx context.Context, q querier, rec record) error {
	if what, ok := rec["WhatId"].(string); ok && strings.HasPrefix(what, PrefixAccount) {
		rec["AccountId"] = what
		return nil
	}
	rec["AccountId"] = nil
	if who, ok := rec["WhoId"].(string); ok && strings.HasPrefix(who, PrefixContact) {
		contact, err := getRecord(ctx, q, objectByName(objContact), who)
		if err != nil || contact == nil {
			return err
		}
		rec["AccountId"] = contact["AccountId"]
	}
	return nil
}

// pathTarget resolves the {object} path segment and, with withID, the
// {id} one; with write, it refuses a read-only object. It writes the error
// and returns false when they do not resolve.
func pathTarget(w http.ResponseWriter, r *http.Request, withID, write bool) (*object, string, bool) {
	o := objectByName(r.PathValue("object"))
	if o == nil {
		writeErrors(w, notFound())
		return nil, "", false
	}
	var id string
	if withID {
		raw := r.PathValue("id")
		canon, err := ParseID(raw)
		if err != nil || !strings.HasPrefix(canon, o.prefix) {
			writeErrors(w, newAPIError(http.StatusNotFound, codeNotFound, "Provided external ID field does not exist or is not accessible: "+raw))
			return nil, "", false
		}
		id = canon
	}
	if write && o.readOnly {
		writeErrors(w, readOnlyObject(o))
		return nil, "", false
	}
	return o, id, true
}

// bodyRecord reads the request body into field values for a create or an
// update. It writes the errors and returns false when there are any.
func (s *Server) bodyRecord(w http.ResponseWriter, r *http.Request, o *object, creating bool) (record, bool) {
	body, apiErr := decodeBody(r)
	if apiErr != nil {
		writeErrors(w, apiErr)
		return nil, false
	}
	rec, errs := s.fieldsFromBody(o, body, creating)
	if len(errs) > 0 {
		writeErrors(w, errs...)
		return nil, false
	}
	return rec, true
}

func readOnlyObject(o *object) *apiError {
	return newAPIError(http.StatusForbidden, codeReadOnly,
		fmt.Sprintf("%s records are read-only in devcrm; add them to %s.csv and import it", o.name, o.name))
}

// handleObjectInfo answers GET /sobjects/{object}: the object's basic
// information.
func (s *Server) handleObjectInfo(w http.ResponseWriter, r *http.Request, c *call) {
	o, _, ok := pathTarget(w, r, false, false)
	if !ok {
		return
	}
	base := "/services/data/v" + c.version + "/sobjects/" + o.name
	writeJSON(w, http.StatusOK, map[string]any{
		"objectDescribe": map[string]any{
			"name":       o.name,
			"label":      o.label,
			"keyPrefix":  o.prefix,
			"createable": !o.readOnly,
			"updateable": !o.readOnly,
			"deletable":  !o.readOnly,
			"queryable":  true,
			"searchable": true,
			"urls":       map[string]string{"sobject": base, "rowTemplate": base + "/{ID}"},
		},
		"recentItems": []any{},
	})
}

// handleCreate answers POST /sobjects/{object}.
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, c *call) {
	o, _, ok := pathTarget(w, r, false, true)
	if !ok {
		return
	}
	rec, ok := s.bodyRecord(w, r, o, true)
	if !ok {
		return
	}
	id, err := s.createRecord(r.Context(), c.db, o, rec, c.userID)
	if err != nil {
		s.writeErrorList(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Errors  []any  `json:"errors"`
	}{id, true, []any{}})
}

// createRecord stores a new record from the given field values (already
// converted and checked one by one): it fills defaults and the owner
// (userID), checks required fields and references, and returns the new Id.
// REST, the record pages and Open CTI's saveLog all create through it. Its
// errors are *apiError or errList for what the caller did wrong.
func (s *Server) createRecord(ctx context.Context, db *sql.DB, o *object, rec record, userID string) (string, error) {
	for _, f := range o.storedFields() {
		if _, set := rec[f.name]; !set {
			rec[f.name] = f.def
		}
	}
	if rec["OwnerId"] == nil && o.field("OwnerId") != nil && userID != "" {
		rec["OwnerId"] = userID
	}
	if err := checkRequired(o, rec); err != nil {
		return "", err
	}
	now := formatDateTime(s.now())
	rec["CreatedDate"], rec["LastModifiedDate"] = now, now
	var id string
	err := withTx(ctx, db, func(tx *sql.Tx) error {
		errs, err := checkReferences(ctx, tx, o, rec)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return errList(errs)
		}
		if o.name == objTask {
			if err := deriveTaskAccount(ctx, tx, rec); err != nil {
				return err
			}
		}
		for {
			id = newID(o.prefix)
			taken, err := recordExists(ctx, tx, id)
			if err != nil {
				return err
			}
			if !taken {
				break
			}
		}
		rec["Id"] = id
		return insertRecord(ctx, tx, o, rec, false)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// errList carries several API errors out of a transaction.
type errList []*apiError

func (e errList) Error() string { return e[0].Error() }

func (s *Server) writeErrorList(w http.ResponseWriter, r *http.Request, err error) {
	var list errList
	if errors.As(err, &list) {
		writeErrors(w, list...)
		return
	}
	s.writeError(w, r, err)
}

// handleRead answers GET /sobjects/{object}/{id}, with ?fields=a,b to choose
// the fields.
func (s *Server) handleRead(w http.ResponseWriter, r *http.Request, c *call) {
	o, id, ok := pathTarget(w, r, true, false)
	if !ok {
		return
	}
	fields := o.fields
	if list := r.URL.Query().Get("fields"); list != "" {
		fields = nil
		for _, name := range strings.Split(list, ",") {
			f := o.field(strings.TrimSpace(name))
			if f == nil {
				writeErrors(w, badRequest(codeInvalidField, fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", strings.TrimSpace(name), o.name)))
				return
			}
			fields = append(fields, f)
		}
	}
	rec, err := getRecord(r.Context(), c.db, o, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if rec == nil {
		writeErrors(w, notFound())
		return
	}
	out := newJSONRecord(o, c.version, id)
	for _, f := range fields {
		out.add(f.name, rec[f.name])
	}
	writeJSON(w, http.StatusOK, out)
}

// handleUpdate answers PATCH /sobjects/{object}/{id}.
func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, c *call) {
	o, id, ok := pathTarget(w, r, true, true)
	if !ok {
		return
	}
	changes, ok := s.bodyRecord(w, r, o, false)
	if !ok {
		return
	}
	if err := s.updateRecordFields(r.Context(), c.db, o, id, changes); err != nil {
		s.writeErrorList(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// updateRecordFields writes changes (converted field values) to an
// existing record after the checks Salesforce makes; REST and Open CTI's
// saveLog update through it.
func (s *Server) updateRecordFields(ctx context.Context, db *sql.DB, o *object, id string, changes record) error {
	return withTx(ctx, db, func(tx *sql.Tx) error {
		current, err := getRecord(ctx, tx, o, id)
		if err != nil {
			return err
		}
		if current == nil {
			return notFound()
		}
		for k, v := range changes {
			current[k] = v
		}
		if err := checkRequired(o, current); err != nil {
			return err
		}
		errs, err := checkReferences(ctx, tx, o, changes)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return errList(errs)
		}
		if o.name == objTask {
			if err := deriveTaskAccount(ctx, tx, current); err != nil {
				return err
			}
			changes["AccountId"] = current["AccountId"]
		}
		changes["LastModifiedDate"] = formatDateTime(s.now())
		return updateRecord(ctx, tx, o, id, changes)
	})
}

// handleDelete answers DELETE /sobjects/{object}/{id}. As in Salesforce,
// deleting an Account deletes its Contacts, and deleting a record deletes
// the Tasks linked to it.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, c *call) {
	o, id, ok := pathTarget(w, r, true, true)
	if !ok {
		return
	}
	err := withTx(r.Context(), c.db, func(tx *sql.Tx) error {
		found, err := recordExists(r.Context(), tx, id)
		if err != nil {
			return err
		}
		if !found {
			return notFound()
		}
		var stmts []string
		switch o.name {
		case objAccount:
			stmts = []string{
				`DELETE FROM "Task" WHERE "WhatId" = ?1 OR "AccountId" = ?1 OR "WhoId" IN (SELECT "Id" FROM "Contact" WHERE "AccountId" = ?1)`,
				`DELETE FROM "Account" WHERE "Id" = ?1`,
			}
		case objContact, objLead:
			stmts = []string{`DELETE FROM "Task" WHERE "WhoId" = ?1`, `DELETE FROM ` + quote(o.name) + ` WHERE "Id" = ?1`}
		default:
			stmts = []string{`DELETE FROM ` + quote(o.name) + ` WHERE "Id" = ?1`}
		}
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(r.Context(), stmt, id); err != nil {
				return fmt.Errorf("delete %s %s: %w", o.name, id, err)
			}
		}
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
