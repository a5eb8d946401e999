// Package fakecrm is a test double of a CRM page that hosts the agent panel
// the way Salesforce does: a page on its own origin that frames the panel
// with the parameters Salesforce appends, and serves an Open CTI library
// (/support/api/NN.0/lightning/opencti_min.js and
// /support/api/NN.0/interaction.js) that speaks the documented postMessage
// protocol with that page.
//
// The host page (/host.html) answers every request, records it in
// window.crm.calls ({methodName, args}) and offers window.crm.dial(number,
// recordId, objectType, recordName) to fire a click-to-dial event,
// window.crm.navigate(recordId, objectType, name) to fire a navigation
// (focus) event, and window.crm.silent = true to stop answering (a CRM that
// never answers; or silent=1 on the host page's URL). Tests read what the panel asked for with chromedp.
package fakecrm

import (
	"embed"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

//go:embed static
var static embed.FS

// Server is a running fake CRM on its own loopback origin.
type Server struct {
	// URL is the origin, e.g. http://127.0.0.1:43121.
	URL string
}

// Start serves the fake CRM until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	sub, err := fs.Sub(static, "static")
	if err != nil {
		t.Fatalf("fakecrm: %v", err)
	}
	files := http.FileServerFS(sub)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &Server{URL: srv.URL}
}

// Lightning is the URL of a Lightning-style host page framing panelURL
// (Parley's /cti/salesforce.html) with sfdcIframeOrigin, mode=Lightning,
// nonce and isdtp, plus extra parameters.
func (s *Server) Lightning(panelURL string, extra url.Values) string {
	q := url.Values{"sfdcIframeOrigin": {s.URL}, "mode": {"Lightning"}, "nonce": {"0a1b2c3d"}, "isdtp": {"vw"}}
	return s.host(panelURL, q, extra, "lightning")
}

// Classic is the URL of a Classic/console-style host page framing
// panelURL with sfdcIFrameOrigin (capital F), nonce and isdtp.
func (s *Server) Classic(panelURL string, extra url.Values) string {
	q := url.Values{"sfdcIFrameOrigin": {s.URL}, "nonce": {"0a1b2c3d"}, "isdtp": {"vw"}}
	return s.host(panelURL, q, extra, "classic")
}

// Raw is the URL of a host page framing panelURL with exactly query.
func (s *Server) Raw(panelURL string, query url.Values, api string) string {
	return s.host(panelURL, query, nil, api)
}

func (s *Server) host(panelURL string, q, extra url.Values, api string) string {
	for k, v := range extra {
		q[k] = v
	}
	return s.URL + "/host.html?" + url.Values{"api": {api}, "panel": {panelURL + "?" + q.Encode()}}.Encode()
}
