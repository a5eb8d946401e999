package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// callRequest is the body of POST /api/v1/calls.
type callRequest struct {
	To         string `json:"to"`
	RecordID   string `json:"record_id"`
	ObjectType string `json:"object_type"`
}

func (q *callRequest) validate() error {
	if len(q.To) > 64 {
		return cc.Errorf(cc.EINVALID, "to is longer than 64 characters: give a phone number such as (201) 555-0123 or +12015550123")
	}
	d := cc.DialRequest{RecordID: q.RecordID, ObjectType: q.ObjectType}
	_, err := d.Record()
	return err
}

// placeCall handles POST /api/v1/calls: click-to-dial.
func (s *Server) placeCall(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	var req callRequest
	if err := decodeJSON(w, r, maxBodyBytes, &req); err != nil {
		return err
	}
	it, err := s.svc.PlaceCall(r.Context(), p, cc.DialRequest{To: req.To, RecordID: req.RecordID, ObjectType: req.ObjectType})
	if err != nil {
		return fmt.Errorf("place call: %w", err)
	}
	s.writeJSON(w, r, http.StatusCreated, s.interactionView(p, it))
	return nil
}

// noBody accepts an empty body or an empty JSON object.
type noBody struct{}

func (noBody) validate() error { return nil }

// decodeOptional accepts no body, or an empty JSON object: accept, reject
// and hangup take no arguments, but a client may send {} with a JSON
// Content-Type.
func decodeOptional(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decodeJSON(w, r, maxBodyBytes, &noBody{})
}

// interactionAction is a control of one interaction without arguments.
func (s *Server) interactionAction(name string, f func(r *http.Request, p *cc.Principal, id string) (*cc.Interaction, error)) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
		id, err := interactionID(r)
		if err != nil {
			return err
		}
		if err := decodeOptional(w, r); err != nil {
			return err
		}
		it, err := f(r, p, id)
		if err != nil {
			return fmt.Errorf("%s interaction %s: %w", name, id, err)
		}
		s.writeJSON(w, r, http.StatusOK, s.interactionView(p, it))
		return nil
	}
}

// accept handles POST /api/v1/interactions/{id}/accept.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	return s.interactionAction("accept", func(r *http.Request, p *cc.Principal, id string) (*cc.Interaction, error) {
		return s.svc.Accept(r.Context(), p, id)
	})(w, r, p)
}

// reject handles POST /api/v1/interactions/{id}/reject.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	return s.interactionAction("reject", func(r *http.Request, p *cc.Principal, id string) (*cc.Interaction, error) {
		return s.svc.Reject(r.Context(), p, id)
	})(w, r, p)
}

// hangup handles POST /api/v1/interactions/{id}/hangup.
func (s *Server) hangup(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	return s.interactionAction("hang up", func(r *http.Request, p *cc.Principal, id string) (*cc.Interaction, error) {
		return s.svc.HangupCall(r.Context(), p, id)
	})(w, r, p)
}

// toggleRequest is the body of hold and mute.
type toggleRequest struct {
	On *bool `json:"on"`
}

func (q *toggleRequest) validate() error {
	if q.On == nil {
		return cc.Errorf(cc.EINVALID, `on is required: send {"on": true} or {"on": false}`)
	}
	return nil
}

// toggle handles a control with an on/off body.
func (s *Server) toggle(name string, w http.ResponseWriter, r *http.Request, p *cc.Principal, f func(id string, on bool) (*cc.Interaction, error)) error {
	id, err := interactionID(r)
	if err != nil {
		return err
	}
	var req toggleRequest
	if err := decodeJSON(w, r, maxBodyBytes, &req); err != nil {
		return err
	}
	it, err := f(id, *req.On)
	if err != nil {
		return fmt.Errorf("%s interaction %s: %w", name, id, err)
	}
	s.writeJSON(w, r, http.StatusOK, s.interactionView(p, it))
	return nil
}

// hold handles POST /api/v1/interactions/{id}/hold.
func (s *Server) hold(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	return s.toggle("hold", w, r, p, func(id string, on bool) (*cc.Interaction, error) { return s.svc.Hold(r.Context(), p, id, on) })
}

// mute handles POST /api/v1/interactions/{id}/mute.
func (s *Server) mute(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	return s.toggle("mute", w, r, p, func(id string, on bool) (*cc.Interaction, error) { return s.svc.Mute(r.Context(), p, id, on) })
}

// dtmfRequest is the body of POST /api/v1/interactions/{id}/dtmf.
type dtmfRequest struct {
	Digits string `json:"digits"`
}

func (q *dtmfRequest) validate() error {
	q.Digits = strings.TrimSpace(q.Digits)
	// a-d are the letter digits A-D; the error names what was sent.
	if err := cc.ValidateDTMF(strings.ToUpper(q.Digits)); err != nil {
		return cc.ValidateDTMF(q.Digits)
	}
	q.Digits = strings.ToUpper(q.Digits)
	return nil
}

// dtmf handles POST /api/v1/interactions/{id}/dtmf.
func (s *Server) dtmf(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	id, err := interactionID(r)
	if err != nil {
		return err
	}
	var req dtmfRequest
	if err := decodeJSON(w, r, maxBodyBytes, &req); err != nil {
		return err
	}
	it, err := s.svc.SendDTMF(r.Context(), p, id, req.Digits)
	if err != nil {
		return fmt.Errorf("send DTMF on interaction %s: %w", id, err)
	}
	s.writeJSON(w, r, http.StatusOK, s.interactionView(p, it))
	return nil
}

// transferRequest is the body of POST /api/v1/interactions/{id}/transfer.
type transferRequest struct {
	QueueID string `json:"queue_id"`
	AgentID string `json:"agent_id"`
}

func (q *transferRequest) validate() error {
	switch {
	case (q.QueueID == "") == (q.AgentID == ""):
		return cc.Errorf(cc.EINVALID, "give either queue_id or agent_id to transfer to, not both and not neither")
	case q.QueueID != "":
		return checkID("queue", q.QueueID)
	}
	return checkID("agent", q.AgentID)
}

// transfer handles POST /api/v1/interactions/{id}/transfer.
func (s *Server) transfer(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	id, err := interactionID(r)
	if err != nil {
		return err
	}
	var req transferRequest
	if err := decodeJSON(w, r, maxBodyBytes, &req); err != nil {
		return err
	}
	it, err := s.svc.Transfer(r.Context(), p, id, cc.TransferTarget{QueueID: req.QueueID, AgentID: req.AgentID})
	if err != nil {
		return fmt.Errorf("transfer interaction %s: %w", id, err)
	}
	s.writeJSON(w, r, http.StatusOK, s.interactionView(p, it))
	return nil
}

// agents handles GET /api/v1/agents.
func (s *Server) agents(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	as, err := s.svc.Agents(r.Context(), p)
	if err != nil {
		return fmt.Errorf("list agents: %w", err)
	}
	out := make([]view.Agent, 0, len(as))
	for _, a := range as {
		out = append(out, view.NewAgent(a, p.CanSeeTenant()))
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}
