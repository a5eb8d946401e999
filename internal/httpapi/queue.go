package httpapi

import (
	"fmt"
	"net/http"

	"github.com/parley-cc/parley/internal/cc"
)

// queueView is a queue's live status.
type queueView struct {
	ID                  string         `json:"id"`
	Name                string         `json:"name"`
	Priority            int            `json:"priority"`
	Waiting             int            `json:"waiting"`
	LongestWaitSeconds  int64          `json:"longest_wait_seconds"`
	Agents              queueAgentView `json:"agents"`
	Offered             int            `json:"offered"`
	Answered            int            `json:"answered"`
	Abandoned           int            `json:"abandoned"`
	AnsweredInSL        int            `json:"answered_in_sl"`
	ServiceLevelSeconds int64          `json:"service_level_seconds"`
}

// queueAgentView counts a queue's agents by state.
type queueAgentView struct {
	Available int `json:"available"`
	Offered   int `json:"offered"`
	Busy      int `json:"busy"`
	WrapUp    int `json:"wrap_up"`
	NotReady  int `json:"not_ready"`
	LoggedOut int `json:"logged_out"`
}

func newQueueView(q *cc.QueueStatus) queueView {
	return queueView{
		ID:                 q.QueueID,
		Name:               q.Name,
		Priority:           q.Priority,
		Waiting:            q.Waiting,
		LongestWaitSeconds: seconds(q.LongestWait),
		Agents: queueAgentView{
			Available: q.Agents[cc.StateAvailable],
			Offered:   q.Agents[cc.StateOffered],
			Busy:      q.Agents[cc.StateBusy],
			WrapUp:    q.Agents[cc.StateWrapUp],
			NotReady:  q.Agents[cc.StateNotReady],
			LoggedOut: q.Agents[cc.StateLoggedOut],
		},
		Offered:             q.Offered,
		Answered:            q.Answered,
		Abandoned:           q.Abandoned,
		AnsweredInSL:        q.AnsweredInSL,
		ServiceLevelSeconds: seconds(q.ServiceLevel),
	}
}

func newQueueViews(qs []*cc.QueueStatus) []queueView {
	out := make([]queueView, 0, len(qs))
	for _, q := range qs {
		out = append(out, newQueueView(q))
	}
	return out
}

// queues handles GET /api/v1/queues.
func (s *Server) queues(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	qs, err := s.svc.QueueStatus(r.Context(), p)
	if err != nil {
		return fmt.Errorf("queue status: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, newQueueViews(qs))
	return nil
}
