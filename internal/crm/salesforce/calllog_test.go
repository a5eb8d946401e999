package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parley-cc/parley/internal/cc"
)

// taskStore is the Task object of a fake org: it answers the CallObject
// query, creates and updates Tasks, and can lose the answer to a create
// (the Task is stored, the connection dropped) to play a network failure.
type taskStore struct {
	t  *testing.T
	mu sync.Mutex
	// tasks by id, each a field map as last written.
	tasks map[string]map[string]any
	order []string
	// loseCreates drops the answer of this many creates after storing.
	loseCreates int
	// fail, when set, answers a write instead of storing it.
	fail func(w http.ResponseWriter, r *http.Request) bool
}

func newTaskStore(t *testing.T) *taskStore {
	return &taskStore{t: t, tasks: map[string]map[string]any{}}
}

// unquoteSOQL reads back the literal QuoteSOQL wrote.
func unquoteSOQL(s string) (string, bool) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", false
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			return "", false // an unescaped quote ends the literal early
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			var r rune
			if i+4 >= len(s) {
				return "", false
			}
			if _, err := fmt.Sscanf(s[i+1:i+5], "%04x", &r); err != nil {
				return "", false
			}
			b.WriteRune(r)
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), true
}

func (s *taskStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	const base = "/services/data/v62.0"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == base+"/query/":
		q := r.URL.Query().Get("q")
		lit, ok := strings.CutPrefix(q, "SELECT Id FROM Task WHERE CallObject = ")
		lit, ok2 := strings.CutSuffix(lit, " LIMIT 1")
		key, ok3 := unquoteSOQL(lit)
		if !ok || !ok2 || !ok3 {
			writeJSON(w, http.StatusBadRequest, []ErrorItem{{Message: "unexpected token: " + q, ErrorCode: "MALFORMED_QUERY"}})
			return
		}
		var recs []map[string]any
		for _, id := range s.order {
			if t := s.tasks[id]; t != nil && t["CallObject"] == key {
				recs = append(recs, map[string]any{"attributes": map[string]string{"type": "Task", "url": base + "/sobjects/Task/" + id}, "Id": id})
				break
			}
		}
		if recs == nil {
			recs = []map[string]any{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"totalSize": len(recs), "done": true, "records": recs})
	case r.Method == http.MethodPost && r.URL.Path == base+"/sobjects/Task/":
		if s.fail != nil && s.fail(w, r) {
			return
		}
		var fields map[string]any
		if err := json.NewDecoder(r.Body).Decode(&fields); err != nil {
			writeJSON(w, http.StatusBadRequest, []ErrorItem{{Message: err.Error(), ErrorCode: "JSON_PARSER_ERROR"}})
			return
		}
		id := fmt.Sprintf("00Txx00000%05dAAA", len(s.order)+1)
		s.tasks[id] = fields
		s.order = append(s.order, id)
		if s.loseCreates > 0 {
			s.loseCreates--
			hj, ok := w.(http.Hijacker)
			if !ok {
				s.t.Fatal("cannot hijack the connection")
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": id, "success": true, "errors": []any{}})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, base+"/sobjects/Task/"):
		if s.fail != nil && s.fail(w, r) {
			return
		}
		id := strings.TrimPrefix(r.URL.Path, base+"/sobjects/Task/")
		t := s.tasks[id]
		if t == nil {
			writeJSON(w, http.StatusNotFound, []ErrorItem{{Message: "entity is deleted", ErrorCode: "ENTITY_IS_DELETED"}})
			return
		}
		var fields map[string]any
		if err := json.NewDecoder(r.Body).Decode(&fields); err != nil {
			writeJSON(w, http.StatusBadRequest, []ErrorItem{{Message: err.Error(), ErrorCode: "JSON_PARSER_ERROR"}})
			return
		}
		if _, ok := fields["TaskSubtype"]; ok {
			writeJSON(w, http.StatusBadRequest, []ErrorItem{{Message: "Unable to update TaskSubtype", ErrorCode: "INVALID_FIELD_FOR_INSERT_UPDATE", Fields: []string{"TaskSubtype"}}})
			return
		}
		for k, v := range fields {
			if v == nil {
				delete(t, k)
			} else {
				t[k] = v
			}
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		s.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		writeJSON(w, http.StatusNotFound, []ErrorItem{{Message: "The requested resource does not exist", ErrorCode: "NOT_FOUND"}})
	}
}

// newTaskOrg returns a fake org whose REST side is a task store.
func newTaskOrg(t *testing.T) (*fakeOrg, *taskStore) {
	o, s := newFakeOrg(t), newTaskStore(t)
	o.rest = s.ServeHTTP
	return o, s
}

func (s *taskStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tasks)
}

func (s *taskStore) get(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks[id]
}

func (s *taskStore) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tasks, id)
}

func sampleLog() *cc.CallLog {
	return &cc.CallLog{
		InteractionID: "int_9d2k4m7q1x8c3v5b6n0p2r4t",
		Subject:       "Inbound call - Support",
		Description:   "Caller asked about invoice 1042.\nResolved on the call.",
		Direction:     cc.Inbound,
		DurationSec:   245,
		Disposition:   "Resolved",
		ActivityDate:  "2026-01-02",
		StartedAt:     testNow,
		WhoID:         "003xx00000ZZZ01AAA",
		WhatID:        "001xx000003DGb2AAG",
	}
}

func TestWriteLogCreatesThenUpdates(t *testing.T) {
	o, store := newTaskOrg(t)
	c := o.client()
	ctx := context.Background()

	id, err := c.WriteLog(ctx, sampleLog())
	if err != nil {
		t.Fatal(err)
	}
	if id != "00Txx0000000001AAA" {
		t.Errorf("WriteLog id %q", id)
	}
	// The agent re-links the call to the account only and changes the result.
	l := sampleLog()
	l.WhoID = ""
	l.Disposition = "Follow-up"
	l.DurationSec = 250
	id2, err := c.WriteLog(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	if id2 != id || store.count() != 1 {
		t.Fatalf("second write returned %q with %d tasks; want the same task %q, one task", id2, store.count(), id)
	}
	task := store.get(id)
	if _, ok := task["WhoId"]; ok || task["WhatId"] != "001xx000003DGb2AAG" || task["CallDisposition"] != "Follow-up" || task["TaskSubtype"] != "Call" {
		t.Errorf("task after update = %v", task)
	}
	rec := o.recorded()
	golden(t, "write_log", strings.Join(rec[1:], "\n")) // without the sign-in
}

func TestWriteLogNeverDuplicates(t *testing.T) {
	o, store := newTaskOrg(t)
	store.loseCreates = 1
	ctx := context.Background()

	// The create reaches Salesforce but its answer is lost.
	_, err := o.client().WriteLog(ctx, sampleLog())
	if cc.ErrorCode(err) != cc.EUNAVAILABLE {
		t.Fatalf("WriteLog with a lost answer: %v; want EUNAVAILABLE", err)
	}
	var ra cc.RetryAfter
	if !errors.As(err, &ra) {
		t.Errorf("a lost answer carries no retry delay: %v", err)
	}
	// Parley restarts (a new client, a new session) and the outbox retries.
	id, err := o.client().WriteLog(ctx, sampleLog())
	if err != nil {
		t.Fatal(err)
	}
	if store.count() != 1 || id != "00Txx0000000001AAA" {
		t.Fatalf("%d tasks, id %q after the retry; want the one task", store.count(), id)
	}
	// More retries, from more restarts.
	for range 3 {
		if _, err := o.client().WriteLog(ctx, sampleLog()); err != nil {
			t.Fatal(err)
		}
	}
	if store.count() != 1 {
		t.Errorf("%d tasks; want 1", store.count())
	}
}

func TestWriteLogConcurrentSameInteraction(t *testing.T) {
	o, store := newTaskOrg(t)
	c := o.client()
	var wg sync.WaitGroup
	ids := make(chan string, 10)
	for range 10 {
		wg.Go(func() {
			id, err := c.WriteLog(context.Background(), sampleLog())
			if err != nil {
				t.Error(err)
			}
			ids <- id
		})
	}
	wg.Wait()
	close(ids)
	for id := range ids {
		if id != "00Txx0000000001AAA" {
			t.Errorf("id %q", id)
		}
	}
	if store.count() != 1 {
		t.Errorf("%d tasks from 10 concurrent writes; want 1", store.count())
	}
	if len(c.logKeys.locks) != 0 {
		t.Errorf("%d per-interaction locks left behind", len(c.logKeys.locks))
	}
}

func TestWriteLogRecreatesDeletedTask(t *testing.T) {
	o, store := newTaskOrg(t)
	c := o.client()
	ctx := context.Background()
	id, err := c.WriteLog(ctx, sampleLog())
	if err != nil {
		t.Fatal(err)
	}
	// Deleted between the query and the update: the query still finds it
	// but the PATCH is refused.
	store.fail = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPatch {
			writeJSON(w, http.StatusNotFound, []ErrorItem{{Message: "entity is deleted", ErrorCode: "ENTITY_IS_DELETED"}})
			return true
		}
		return false
	}
	id2, err := c.WriteLog(ctx, sampleLog())
	if err != nil {
		t.Fatal(err)
	}
	if id2 == id || store.get(id2) == nil || store.count() != 2 {
		t.Errorf("WriteLog after deletion = %q; want a new task", id2)
	}
}

func TestWriteLogStringTooLongIsPermanent(t *testing.T) {
	o, store := newTaskOrg(t)
	posts := 0
	store.fail = func(w http.ResponseWriter, r *http.Request) bool {
		posts++
		writeJSON(w, http.StatusBadRequest, []ErrorItem{{Message: "Comments: data value too large", ErrorCode: "STRING_TOO_LONG", Fields: []string{"Description"}}})
		return true
	}
	_, err := o.client().WriteLog(context.Background(), sampleLog())
	if cc.ErrorCode(err) != cc.EINVALID {
		t.Fatalf("error %v; want EINVALID", err)
	}
	var ra cc.RetryAfter
	if errors.As(err, &ra) {
		t.Errorf("STRING_TOO_LONG carries a retry delay %v; it is permanent", ra.RetryAfter())
	}
	if posts != 1 || store.count() != 0 {
		t.Errorf("%d creates, %d tasks; want 1 attempt, none stored", posts, store.count())
	}
	if !strings.HasPrefix(err.Error(), "salesforce write log: ") {
		t.Errorf("error %q does not name the operation", err)
	}
}

func TestWriteLogCutsToSalesforceLengths(t *testing.T) {
	o, store := newTaskOrg(t)
	l := sampleLog()
	l.Subject = strings.Repeat("a", 254) + "😀tail" // the emoji is two UTF-16 units
	l.Description = strings.Repeat("é", maxDescriptionChars+10)
	l.Disposition = strings.Repeat("d", 300)
	id, err := o.client().WriteLog(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	task := store.get(id)
	subject, _ := task["Subject"].(string)
	if subject != strings.Repeat("a", 254) {
		t.Errorf("Subject cut to %d bytes %q; want the 254 characters before the emoji", len(subject), subject)
	}
	desc, _ := task["Description"].(string)
	if n := utf8.RuneCountInString(desc); n != maxDescriptionChars || !utf8.ValidString(desc) {
		t.Errorf("Description has %d characters; want %d", n, maxDescriptionChars)
	}
	if disp, _ := task["CallDisposition"].(string); len(disp) != maxDispositionChars {
		t.Errorf("CallDisposition has %d characters; want %d", len(disp), maxDispositionChars)
	}
}

func TestWriteLogDefaultsAndOutbound(t *testing.T) {
	o, store := newTaskOrg(t)
	l := &cc.CallLog{InteractionID: "int_out1", Direction: cc.Outbound, DurationSec: 0}
	id, err := o.client().WriteLog(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	task := store.get(id)
	for k, want := range map[string]any{"Subject": "Outbound call", "CallType": "Outbound", "CallDurationInSeconds": float64(0), "Status": "Completed", "Type": "Call", "TaskSubtype": "Call", "CallObject": "int_out1", "Description": ""} {
		if task[k] != want {
			t.Errorf("%s = %#v; want %#v", k, task[k], want)
		}
	}
	for _, k := range []string{"WhoId", "WhatId", "ActivityDate", "CallDisposition"} {
		if _, ok := task[k]; ok {
			t.Errorf("create sent %s = %v for a log without it", k, task[k])
		}
	}
}

func TestWriteLogQueryEscapesInteractionID(t *testing.T) {
	o, store := newTaskOrg(t)
	c := o.client()
	ctx := context.Background()
	// An id crafted to match every Task must match none but its own.
	other := sampleLog()
	other.InteractionID = "int_other"
	if _, err := c.WriteLog(ctx, other); err != nil {
		t.Fatal(err)
	}
	evil := sampleLog()
	evil.InteractionID = `x' OR CallObject != 'y\`
	id, err := c.WriteLog(ctx, evil)
	if err != nil {
		t.Fatal(err)
	}
	if store.count() != 2 || store.get(id)["CallObject"] != evil.InteractionID {
		t.Errorf("%d tasks, task %v; want a second task keyed by the literal id", store.count(), store.get(id))
	}
	want := `q: SELECT Id FROM Task WHERE CallObject = 'x\' OR CallObject != \'y\\' LIMIT 1`
	found := false
	for _, r := range o.recorded() {
		found = found || strings.Contains(r, want+"\n")
	}
	if !found {
		t.Errorf("no query %s in\n%s", want, strings.Join(o.recorded(), "\n"))
	}
}

func TestWriteLogValidates(t *testing.T) {
	cases := []struct {
		name   string
		change func(*cc.CallLog)
		want   string
	}{
		{"no interaction", func(l *cc.CallLog) { l.InteractionID = "" }, "interaction id"},
		{"long interaction", func(l *cc.CallLog) { l.InteractionID = strings.Repeat("i", 256) }, "CallObject holds 255"},
		{"no direction", func(l *cc.CallLog) { l.Direction = "" }, "direction"},
		{"internal direction", func(l *cc.CallLog) { l.Direction = "internal" }, "direction"},
		{"negative duration", func(l *cc.CallLog) { l.DurationSec = -1 }, "duration"},
		{"bad date", func(l *cc.CallLog) { l.ActivityDate = "02/01/2026" }, "YYYY-MM-DD"},
		{"bad who", func(l *cc.CallLog) { l.WhoID = "003 bad" }, "who id"},
		{"bad what", func(l *cc.CallLog) { l.WhatID = "001xx000003DGb2AAG/../x" }, "what id"},
	}
	o := newFakeOrg(t)
	o.rest = newTaskStore(t).ServeHTTP
	c := o.client()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := sampleLog()
			tc.change(l)
			_, err := c.WriteLog(context.Background(), l)
			if cc.ErrorCode(err) != cc.EINVALID || !strings.Contains(cc.ErrorMessage(err), tc.want) {
				t.Errorf("error %v; want EINVALID mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := c.WriteLog(context.Background(), nil); cc.ErrorCode(err) != cc.EINVALID {
		t.Errorf("WriteLog(nil) error %v; want EINVALID", err)
	}
	if n := len(o.recorded()); n != 0 {
		t.Errorf("%d requests sent for invalid logs; want none", n)
	}
}

func TestKeyedMutex(t *testing.T) {
	var k keyedMutex
	unlock, err := k.lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.lock(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("lock on a held key with a cancelled context = %v", err)
	}
	other, err := k.lock(ctx, "b")
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("lock b: %v", err)
	}
	if other != nil {
		other()
	}
	unlock()
	done := make(chan struct{})
	go func() {
		u, err := k.lock(context.Background(), "a")
		if err == nil {
			u()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("key not released")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.locks) != 0 {
		t.Errorf("%d locks left", len(k.locks))
	}
}
