package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/parley-cc/parley/internal/cc"
)

// Task field lengths, in characters as Salesforce counts them (UTF-16 code
// units).
const (
	maxSubjectChars     = 255
	maxDescriptionChars = 32000
	maxCallObjectChars  = 255
	maxDispositionChars = 255
)

// WriteLog writes the call log as a completed call Task and returns the
// Task's id. It is idempotent by interaction id without a custom field: it
// first looks for the Task whose CallObject is the interaction id and
// updates it when found, so retries, restarts and outages never create a
// duplicate. Subject, CallDisposition and (as a last guard) Description are
// cut to what Salesforce accepts. A Contact or Lead goes in WhoId, an
// Account in WhatId. It returns EINVALID for a log it cannot write, and
// STRING_TOO_LONG or another refusal as EINVALID, which retrying won't fix.
func (c *Client) WriteLog(ctx context.Context, l *cc.CallLog) (id string, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("salesforce write log: %w", err)
		}
	}()
	fields, err := taskFields(l)
	if err != nil {
		return "", err
	}
	unlock, err := c.logKeys.lock(ctx, l.InteractionID)
	if err != nil {
		return "", cc.WrapError(cc.EUNAVAILABLE, err, "gave up waiting for another write of the same log")
	}
	defer unlock()

	id, err = c.findTask(ctx, l.InteractionID)
	if err != nil {
		return "", err
	}
	if id != "" {
		err = c.do(ctx, request{method: http.MethodPatch, path: "/sobjects/Task/" + url.PathEscape(id), body: fields.update()}, nil)
		if !cc.IsCode(err, cc.ENOTFOUND) {
			if err != nil {
				return "", err
			}
			return id, nil
		}
		c.log.Info("salesforce task of the interaction was deleted; creating it again", "interaction", l.InteractionID)
	}
	var created struct {
		ID      string      `json:"id"`
		Success bool        `json:"success"`
		Errors  []ErrorItem `json:"errors"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/sobjects/Task/", body: fields.create()}, &created); err != nil {
		return "", err
	}
	if !created.Success || !validRecordID(created.ID) {
		return "", c.fail(&APIError{Status: http.StatusCreated, Errors: created.Errors}, http.Header{})
	}
	return created.ID, nil
}

// findTask returns the id of the Task logged for the interaction, or "".
func (c *Client) findTask(ctx context.Context, interactionID string) (string, error) {
	soql := "SELECT Id FROM Task WHERE CallObject = " + QuoteSOQL(interactionID) + " LIMIT 1"
	var ans struct {
		Records []struct {
			ID string `json:"Id"`
		} `json:"records"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/query/", query: url.Values{"q": {soql}}}, &ans); err != nil {
		return "", err
	}
	if len(ans.Records) == 0 {
		return "", nil
	}
	id := ans.Records[0].ID
	if !validRecordID(id) {
		return "", cc.Errorf(cc.EUNAVAILABLE, "Salesforce answered the Task query with id %q, which is not a record id", id)
	}
	return id, nil
}

// task is the body of a Task write: the fields always sent, and the
// optional ones (nil when the log has no value).
type task struct {
	fields   map[string]any
	optional map[string]any
}

// create returns the body of a new Task: the optional fields present, and
// TaskSubtype, which Salesforce sets only on create.
func (t task) create() map[string]any {
	m := make(map[string]any, len(t.fields)+len(t.optional)+1)
	for k, v := range t.fields {
		m[k] = v
	}
	for k, v := range t.optional {
		if v != nil {
			m[k] = v
		}
	}
	m["TaskSubtype"] = "Call"
	return m
}

// update returns the body of a PATCH: every field, with null clearing the
// optional ones the log no longer has (a re-linked record, say).
func (t task) update() map[string]any {
	m := make(map[string]any, len(t.fields)+len(t.optional))
	for k, v := range t.fields {
		m[k] = v
	}
	for k, v := range t.optional {
		m[k] = v
	}
	return m
}

// taskFields checks the log and maps it to Task fields.
func taskFields(l *cc.CallLog) (task, error) {
	if l == nil {
		return task{}, cc.Errorf(cc.EINVALID, "no call log given")
	}
	if l.InteractionID == "" || !utf8.ValidString(l.InteractionID) {
		return task{}, cc.Errorf(cc.EINVALID, "call log has no interaction id: it is the key that keeps the log from being written twice")
	}
	if n := charLen(l.InteractionID); n > maxCallObjectChars {
		return task{}, cc.Errorf(cc.EINVALID, "interaction id is %d characters; Salesforce's CallObject holds %d", n, maxCallObjectChars)
	}
	var callType string
	switch l.Direction {
	case cc.Inbound:
		callType = "Inbound"
	case cc.Outbound:
		callType = "Outbound"
	default:
		return task{}, cc.Errorf(cc.EINVALID, "call log direction %q: use inbound or outbound", l.Direction)
	}
	if l.DurationSec < 0 {
		return task{}, cc.Errorf(cc.EINVALID, "call duration %d seconds: give zero or more", l.DurationSec)
	}
	if l.ActivityDate != "" {
		if _, err := time.Parse(time.DateOnly, l.ActivityDate); err != nil {
			return task{}, cc.Errorf(cc.EINVALID, "activity date %q: use YYYY-MM-DD", l.ActivityDate)
		}
	}
	for _, ref := range []struct{ name, id string }{{"who id", l.WhoID}, {"what id", l.WhatID}} {
		if ref.id != "" && !validRecordID(ref.id) {
			return task{}, cc.Errorf(cc.EINVALID, "call log %s %q: give a 15- or 18-character Salesforce record id", ref.name, ref.id)
		}
	}
	subject := l.Subject
	if subject == "" {
		subject = callType + " call"
	}
	t := task{
		fields: map[string]any{
			"Subject":               cutChars(subject, maxSubjectChars),
			"Description":           cutChars(l.Description, maxDescriptionChars),
			"CallType":              callType,
			"CallDurationInSeconds": l.DurationSec,
			"CallObject":            l.InteractionID,
			"Type":                  "Call",
			"Status":                "Completed",
		},
		optional: map[string]any{
			"CallDisposition": nilIfEmpty(cutChars(l.Disposition, maxDispositionChars)),
			"ActivityDate":    nilIfEmpty(l.ActivityDate),
			"WhoId":           nilIfEmpty(l.WhoID),
			"WhatId":          nilIfEmpty(l.WhatID),
		},
	}
	return t, nil
}

// nilIfEmpty returns nil for "" (JSON null), else s.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// charLen returns the length of s as Salesforce counts it: UTF-16 code units.
func charLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cutChars cuts s to at most limit characters as Salesforce counts them,
// never inside a rune. Invalid UTF-8 becomes U+FFFD.
func cutChars(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > limit {
			return s[:i]
		}
	}
	return s
}

// validRecordID reports whether s looks like a Salesforce record id: 15 or
// 18 letters and digits.
func validRecordID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// keyedMutex serialises work per key (an interaction id), so that two
// concurrent writes of one log in this process cannot both create a Task.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while locked
	refs int           // holders and waiters
}

// lock waits for the key, or for ctx; it returns the unlock function.
func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; k.release(key, l) }, nil
	case <-ctx.Done():
		k.release(key, l)
		return nil, ctx.Err()
	}
}

func (k *keyedMutex) release(key string, l *keyLock) {
	k.mu.Lock()
	l.refs--
	if l.refs == 0 {
		delete(k.locks, key)
	}
	k.mu.Unlock()
}
