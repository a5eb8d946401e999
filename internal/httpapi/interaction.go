package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// Interaction list limits.
const (
	defaultInteractions = 100
	maxInteractions     = 1000
)

// interactionQuery are the query parameters of GET /api/v1/interactions.
var interactionQuery = []string{"state", "queue_id", "since", "before", "limit"}

var interactionStates = []cc.InteractionState{cc.InteractionQueued, cc.InteractionOffered, cc.InteractionConnected, cc.InteractionEnded}

// interactionDetail is one interaction with its event history.
type interactionDetail struct {
	*view.Interaction
	History []eventView `json:"history"`
}

// interactionView renders an interaction for p.
func (s *Server) interactionView(p *cc.Principal, it *cc.Interaction) *view.Interaction {
	return view.NewInteraction(it, p.Tenant.Region, s.svc.Names(p.Tenant.ID))
}

// interactionFilter parses the query of GET /api/v1/interactions.
func interactionFilter(r *http.Request, p *cc.Principal) (cc.InteractionFilter, error) {
	q := r.URL.Query()
	f := cc.InteractionFilter{TenantID: p.Tenant.ID}
	for _, v := range q["state"] {
		for _, st := range strings.Split(v, ",") {
			st := cc.InteractionState(strings.TrimSpace(st))
			if !slices.Contains(interactionStates, st) {
				return f, cc.Errorf(cc.EINVALID, "state %q: use queued, offered, connected or ended (several separated by commas)", st)
			}
			if !slices.Contains(f.States, st) {
				f.States = append(f.States, st)
			}
		}
	}
	if id := q.Get("queue_id"); id != "" {
		if err := checkID("queue", id); err != nil {
			return f, err
		}
		f.QueueID = id
	}
	var err error
	if f.Since, err = parseTime("since", q.Get("since")); err != nil {
		return f, err
	}
	if f.Before, err = parseTime("before", q.Get("before")); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Before.IsZero() && !f.Since.Before(f.Before) {
		return f, cc.Errorf(cc.EINVALID, "since (%s) must be earlier than before (%s)", q.Get("since"), q.Get("before"))
	}
	if f.Limit, err = parseLimit(q.Get("limit"), defaultInteractions, maxInteractions); err != nil {
		return f, err
	}
	return f, nil
}

// interactions handles GET /api/v1/interactions.
func (s *Server) interactions(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	f, err := interactionFilter(r, p)
	if err != nil {
		return err
	}
	its, err := s.svc.Interactions(r.Context(), p, f)
	if err != nil {
		return fmt.Errorf("list interactions: %w", err)
	}
	names := s.svc.Names(p.Tenant.ID)
	out := make([]*view.Interaction, 0, len(its))
	for _, it := range its {
		out = append(out, view.NewInteraction(it, p.Tenant.Region, names))
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// interactionID returns the checked {id} of the path.
func interactionID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	return id, checkID("interaction", id)
}

// interaction handles GET /api/v1/interactions/{id}.
func (s *Server) interaction(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	id, err := interactionID(r)
	if err != nil {
		return err
	}
	it, events, err := s.svc.Interaction(r.Context(), p, id)
	if err != nil {
		return fmt.Errorf("get interaction %s: %w", id, err)
	}
	s.writeJSON(w, r, http.StatusOK, interactionDetail{Interaction: s.interactionView(p, it), History: newEventViews(events)})
	return nil
}

// interactionLog handles GET /api/v1/interactions/{id}/log: the full text
// of the CRM log, even when the CRM's copy was cut to the tenant's cap.
func (s *Server) interactionLog(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	id, err := interactionID(r)
	if err != nil {
		return err
	}
	it, _, err := s.svc.Interaction(r.Context(), p, id)
	if err != nil {
		return fmt.Errorf("get interaction %s: %w", id, err)
	}
	if it.LogText == "" {
		return cc.Errorf(cc.ENOTFOUND, "interaction %s has no log yet: it is written after the wrap-up", id)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(it.LogText))
	return nil
}

// wrapUpRequest is the body of PUT /api/v1/interactions/{id}/wrapup.
type wrapUpRequest struct {
	Notes       string `json:"notes"`
	Disposition string `json:"disposition"`
	RecordID    string `json:"record_id"`
}

func (q *wrapUpRequest) validate() error {
	q.Disposition = strings.TrimSpace(q.Disposition)
	q.RecordID = strings.TrimSpace(q.RecordID)
	if len(q.Notes) > cc.MaxNotesBytes {
		return cc.Errorf(cc.EINVALID, "notes are %d bytes; the limit is %d bytes", len(q.Notes), cc.MaxNotesBytes)
	}
	if len(q.Disposition) > 255 {
		return cc.Errorf(cc.EINVALID, "disposition is longer than 255 bytes: use one of the queue's dispositions")
	}
	if q.RecordID != "" {
		return checkRecordID(q.RecordID)
	}
	return nil
}

// wrapUp handles PUT /api/v1/interactions/{id}/wrapup.
func (s *Server) wrapUp(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	id, err := interactionID(r)
	if err != nil {
		return err
	}
	var req wrapUpRequest
	if err := decodeJSON(w, r, wrapUpBodyBytes, &req); err != nil {
		return err
	}
	it, err := s.svc.WrapUp(r.Context(), p, id, cc.WrapUp{Notes: req.Notes, Disposition: req.Disposition, RecordID: req.RecordID})
	if err != nil {
		return fmt.Errorf("wrap up interaction %s: %w", id, err)
	}
	s.writeJSON(w, r, http.StatusOK, s.interactionView(p, it))
	return nil
}

// linkRequest is the body of PUT /api/v1/interactions/{id}/link.
type linkRequest struct {
	RecordID string `json:"record_id"`
}

func (q *linkRequest) validate() error {
	q.RecordID = strings.TrimSpace(q.RecordID)
	if q.RecordID == "" {
		return cc.Errorf(cc.EINVALID, "record_id is required: give the id of one of the interaction's matches")
	}
	return checkRecordID(q.RecordID)
}

// link handles PUT /api/v1/interactions/{id}/link.
func (s *Server) link(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	id, err := interactionID(r)
	if err != nil {
		return err
	}
	var req linkRequest
	if err := decodeJSON(w, r, maxBodyBytes, &req); err != nil {
		return err
	}
	it, err := s.svc.Link(r.Context(), p, id, req.RecordID)
	if err != nil {
		return fmt.Errorf("link interaction %s: %w", id, err)
	}
	s.writeJSON(w, r, http.StatusOK, s.interactionView(p, it))
	return nil
}
