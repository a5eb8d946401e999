package httpapi

import (
	"context"
	"net/http"

	"github.com/parley-cc/parley/internal/cc"
)

// healthz handles GET /healthz: the process is alive and serving HTTP.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeText(w, http.StatusOK, "ok\n")
	return nil
}

// readyz handles GET /readyz: 200 when the store, bus and SIP side are
// ready, else 503 with the reason.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.svc.Ready(ctx); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "err", err)
		writeText(w, http.StatusServiceUnavailable, "not ready: "+cc.ErrorMessage(err)+"\n")
		return nil
	}
	writeText(w, http.StatusOK, "ok\n")
	return nil
}

// writeText writes a plain-text response.
func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(text))
}
