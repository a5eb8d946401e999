package httpapi

import (
	"fmt"
	"net/http"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// queueViews renders queue statuses.
func queueViews(qs []*cc.QueueStatus) []*view.QueueStatus {
	out := make([]*view.QueueStatus, 0, len(qs))
	for _, q := range qs {
		out = append(out, view.NewQueueStatus(q))
	}
	return out
}

// queues handles GET /api/v1/queues.
func (s *Server) queues(w http.ResponseWriter, r *http.Request, p *cc.Principal) error {
	qs, err := s.svc.QueueStatus(r.Context(), p)
	if err != nil {
		return fmt.Errorf("queue status: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, queueViews(qs))
	return nil
}
