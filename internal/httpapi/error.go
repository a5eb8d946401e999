package httpapi

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/parley-cc/parley/internal/cc"
)

// statusByCode is the one table from Parley error codes to HTTP status.
// A code missing here is treated as EINTERNAL.
var statusByCode = map[string]int{
	cc.EINVALID:      http.StatusBadRequest,
	cc.EUNAUTHORIZED: http.StatusUnauthorized,
	cc.EFORBIDDEN:    http.StatusForbidden,
	cc.ENOTFOUND:     http.StatusNotFound,
	cc.ECONFLICT:     http.StatusConflict,
	cc.ERATELIMIT:    http.StatusTooManyRequests,
	cc.EUNAVAILABLE:  http.StatusServiceUnavailable,
	cc.EINTERNAL:     http.StatusInternalServerError,
}

// errorCode returns err's code, EINTERNAL when the code is not in the table.
func errorCode(err error) string {
	code := cc.ErrorCode(err)
	if _, ok := statusByCode[code]; !ok {
		return cc.EINTERNAL
	}
	return code
}

// ErrorStatus returns the HTTP status for err, by its Parley error code
// (EINTERNAL's for a code not in the table). Parley's other handlers
// (internal/sso's pages) answer with it too.
func ErrorStatus(err error) int { return statusByCode[errorCode(err)] }

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes err as the JSON error body with the status of its code.
// The client sees only the user-safe message; the log gets the whole chain.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeErrorStatus(w, r, ErrorStatus(err), err)
}

// writeErrorStatus is writeError with an explicit status, for the few
// responses the router decides (405).
func (s *Server) writeErrorStatus(w http.ResponseWriter, r *http.Request, status int, err error) {
	d := newErrorDetail(err)
	code := d.Code
	h := w.Header()
	var ra cc.RetryAfter
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.RetryAfter().Seconds()))))
	}
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
		level = slog.LevelInfo
	}
	s.log.Log(r.Context(), level, "request failed",
		"method", r.Method, "path", r.URL.Path, "status", status, "code", code, "err", err)
	s.writeJSON(w, r, status, errorBody{Error: d})
}

// newErrorDetail is what a client is told of err: its code and its
// user-safe message ("internal error" for a code outside the table).
func newErrorDetail(err error) errorDetail {
	code := errorCode(err)
	msg := cc.ErrorMessage(err)
	if code == cc.EINTERNAL && cc.ErrorCode(err) != cc.EINTERNAL {
		msg = "internal error"
	}
	return errorDetail{Code: code, Message: msg}
}
