package devcrm

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// FaultKind is what an injected fault does.
type FaultKind string

// Fault kinds.
const (
	// FaultUnavailable answers 503 SERVER_UNAVAILABLE.
	FaultUnavailable FaultKind = "unavailable"
	// FaultInvalidSession answers 401 INVALID_SESSION_ID, as when a session
	// expires, so that the client must get a new token.
	FaultInvalidSession FaultKind = "invalid_session"
	// FaultRequestLimit answers 403 REQUEST_LIMIT_EXCEEDED.
	FaultRequestLimit FaultKind = "request_limit"
	// FaultDelay holds the call for Delay, then serves it normally.
	FaultDelay FaultKind = "delay"
)

// defaultFaultPrefix is what a fault without a PathPrefix applies to.
const defaultFaultPrefix = "/services/data/"

// Fault is a test hook: it makes the next calls that match it fail (or
// wait) the way Salesforce does when it is down, expires a session, or runs
// out of API calls. Inject faults with InjectFault, or, when
// Config.EnableTestHooks is set, with POST /__devcrm/faults and a JSON body
// {"kind":"unavailable","path_prefix":"/services/data/v62.0/search","count":2,"delay_ms":0}.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// PathPrefix limits the fault to request paths that start with it; empty
	// means every REST call (/services/data/...). It may name other paths,
	// such as /services/oauth2/token.
	PathPrefix string `json:"path_prefix,omitempty"`
	// Count is how many matching calls the fault applies to; 0 means one and
	// a negative count means every call until ClearFaults.
	Count int `json:"count,omitempty"`
	// Delay is how long FaultDelay holds a call.
	Delay time.Duration `json:"-"`
}

// validate checks the fault and fills its defaults.
func (f *Fault) validate() error {
	switch f.Kind {
	case FaultUnavailable, FaultInvalidSession, FaultRequestLimit:
	case FaultDelay:
		if f.Delay <= 0 || f.Delay > 5*time.Minute {
			return cc.Errorf(cc.EINVALID, "fault delay %s: give a delay between 1ms and 5m", f.Delay)
		}
	default:
		return cc.Errorf(cc.EINVALID, "fault kind %q: use unavailable, invalid_session, request_limit or delay", f.Kind)
	}
	if f.PathPrefix == "" {
		f.PathPrefix = defaultFaultPrefix
	}
	if !strings.HasPrefix(f.PathPrefix, "/") {
		return cc.Errorf(cc.EINVALID, "fault path prefix %q: start it with /", f.PathPrefix)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	return nil
}

// faultQueue holds the injected faults, first injected first applied.
type faultQueue struct {
	mu     sync.Mutex
	faults []*Fault
}

// take returns the first fault matching path and uses up one of its calls.
func (q *faultQueue) take(path string) (Fault, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.faults {
		if !strings.HasPrefix(path, f.PathPrefix) {
			continue
		}
		taken := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				q.faults = append(q.faults[:i], q.faults[i+1:]...)
			}
		}
		return taken, true
	}
	return Fault{}, false
}

// InjectFault makes the next f.Count calls matching f fail (or wait) as f
// says. It is a test hook: production code never calls it.
func (s *Server) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, &f)
	return nil
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
}

// withFaults applies injected faults before the routes run. The hook paths
// themselves are never faulted.
func (s *Server) withFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/__devcrm/") {
			next.ServeHTTP(w, r)
			return
		}
		f, ok := s.faults.take(r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, defaultFaultPrefix) {
			s.setLimitInfo(w, s.usage.used(s.now()))
		}
		if strings.HasPrefix(r.URL.Path, "/services/oauth2/") && f.Kind != FaultDelay {
			// The OAuth endpoints answer in their own shape.
			oe := map[FaultKind]*oauthError{
				FaultUnavailable:    {status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: "Server is busy, try again later (devcrm injected fault)"},
				FaultInvalidSession: {status: http.StatusBadRequest, Code: "invalid_grant", Description: "authentication failure (devcrm injected fault)"},
				FaultRequestLimit:   {status: http.StatusForbidden, Code: "rate_limit_exceeded", Description: "TotalRequests Limit exceeded. (devcrm injected fault)"},
			}[f.Kind]
			writeJSON(w, oe.status, oe)
			return
		}
		switch f.Kind {
		case FaultUnavailable:
			writeErrors(w, newAPIError(http.StatusServiceUnavailable, codeServerUnavailable, "Server is busy, try again later (devcrm injected fault)"))
		case FaultInvalidSession:
			writeErrors(w, invalidSession())
		case FaultRequestLimit:
			writeErrors(w, newAPIError(http.StatusForbidden, codeRequestLimit, "TotalRequests Limit exceeded."))
		case FaultDelay:
			t := time.NewTimer(f.Delay)
			defer t.Stop()
			select {
			case <-t.C:
				next.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		}
	})
}

// faultRequest is the JSON body of POST /__devcrm/faults.
type faultRequest struct {
	Fault
	DelayMS int64 `json:"delay_ms,omitempty"`
}

func (s *Server) handleInjectFault(w http.ResponseWriter, r *http.Request) {
	var req faultRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeErrors(w, badRequest(codeJSONParser, "fault: send JSON such as {\"kind\":\"unavailable\",\"count\":1}: "+err.Error()))
		return
	}
	req.Fault.Delay = time.Duration(req.DelayMS) * time.Millisecond
	if err := s.InjectFault(req.Fault); err != nil {
		writeErrors(w, badRequest("INVALID_FAULT", cc.ErrorMessage(err)))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}
