package devcrm

import (
	"database/sql"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/parley-cc/parley/internal/cc"
)

// oauthPage is what the authorize step's sign-in and consent pages render.
type oauthPage struct {
	ID, AppName, Username, Error string
	User                         *uiUser
	Scopes                       []string
}

// oidcPageRoutes registers the pages between authorize and the code.
func (s *Server) oidcPageRoutes() {
	s.mux.HandleFunc("GET "+pathSignIn, s.handleSignInPage)
	s.mux.HandleFunc("POST "+pathSignIn, s.handleSignIn)
	s.mux.HandleFunc("POST "+pathConsent, s.handleConsent)
}

func (s *Server) renderOAuth(w http.ResponseWriter, status int, name string, p any) {
	// Sign-in pages are never framed (Salesforce's send X-Frame-Options too),
	// which is why relying parties open them in a popup.
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	// same-origin, not no-referrer: with no-referrer browsers send "Origin:
	// null" on the forms, which sameOrigin refuses.
	w.Header().Set("Referrer-Policy", "same-origin")
	s.renderTemplate(w, status, name, p)
}

// oauthFailure shows an error page; it never redirects.
func (s *Server) oauthFailure(w http.ResponseWriter, status int, message string) {
	s.renderOAuth(w, status, "oauth-error", &oauthPage{Error: message})
}

// pendingRequest loads the request a sign-in page is for, and its app.
func (s *Server) pendingRequest(w http.ResponseWriter, r *http.Request, id string) (*authRequest, *storedApp, *sql.DB, bool) {
	db, err := s.database()
	if err != nil {
		http.Error(w, "devcrm is not started", http.StatusServiceUnavailable)
		return nil, nil, nil, false
	}
	st := &opStorage{s: s}
	req, err := st.requestByID(r.Context(), id)
	if err != nil {
		s.oauthFailure(w, http.StatusBadRequest, "This sign-in request is unknown or has expired (they last 10 minutes). Go back to the app and sign in again.")
		return nil, nil, nil, false
	}
	app, err := loadApp(r.Context(), db, req.clientID)
	if err != nil {
		s.writePageError(w, r, err)
		return nil, nil, nil, false
	}
	if app == nil {
		s.oauthFailure(w, http.StatusBadRequest, "The app of this sign-in request no longer exists.")
		return nil, nil, nil, false
	}
	return req, app, db, true
}

// postedRequest reads a sign-in or consent form from devcrm's own page and
// loads its request.
func (s *Server) postedRequest(w http.ResponseWriter, r *http.Request) (*authRequest, *storedApp, *sql.DB, bool) {
	if !s.sameOrigin(r) {
		http.Error(w, "cross-site form refused", http.StatusForbidden)
		return nil, nil, nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.oauthFailure(w, http.StatusBadRequest, "The form could not be read; go back to the app and sign in again.")
		return nil, nil, nil, false
	}
	return s.pendingRequest(w, r, r.PostForm.Get("id"))
}

// handleSignInPage is where authorize sends the browser: the sign-in form,
// unless the browser is signed in to devcrm already (and the app did not
// ask for prompt=login), then the consent page, unless the user allowed the
// app before.
func (s *Server) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	req, app, db, ok := s.pendingRequest(w, r, r.URL.Query().Get("id"))
	if !ok {
		return
	}
	if req.userID == "" && !req.hasPrompt(oidc.PromptLogin) {
		u, err := s.sessionUser(r.Context(), db, r)
		if err != nil {
			s.writePageError(w, r, err)
			return
		}
		if u != nil {
			if err := s.setRequestUser(r, db, req, u.ID); err != nil {
				s.writePageError(w, r, err)
				return
			}
		}
	}
	if req.userID == "" {
		if req.hasPrompt(oidc.PromptNone) {
			s.denyRequest(w, r, req, oidc.ErrLoginRequired().WithDescription("the user is not signed in to devcrm"))
			return
		}
		s.renderOAuth(w, http.StatusOK, "oauth-login", &oauthPage{ID: req.id, AppName: app.displayName(), Username: req.loginHint})
		return
	}
	s.continueToConsent(w, r, db, req, app)
}

// continueToConsent finishes a request whose user is known: straight to the
// code when the user allowed the app before, else the consent page.
func (s *Server) continueToConsent(w http.ResponseWriter, r *http.Request, db *sql.DB, req *authRequest, app *storedApp) {
	var n int
	if err := db.QueryRowContext(r.Context(), `SELECT count(*) FROM oauth_consent WHERE user_id = ? AND client_id = ?`, req.userID, req.clientID).Scan(&n); err != nil {
		s.writePageError(w, r, err)
		return
	}
	if n > 0 && !req.hasPrompt(oidc.PromptConsent) {
		s.approve(w, r, db, req)
		return
	}
	if req.hasPrompt(oidc.PromptNone) {
		s.denyRequest(w, r, req, (&oidc.Error{ErrorType: "consent_required"}).WithDescription("the user has not allowed this app yet"))
		return
	}
	u, err := getRecord(r.Context(), db, objectByName(objUser), req.userID)
	if err != nil || u == nil {
		s.writePageError(w, r, cc.Errorf(cc.EINTERNAL, "load user %s: %v", req.userID, err))
		return
	}
	s.renderOAuth(w, http.StatusOK, "oauth-consent", &oauthPage{ID: req.id, AppName: app.displayName(), Scopes: askedScopes(req.scopes),
		User: &uiUser{ID: req.userID, Username: text(u["Username"]), Name: text(u["Name"])}})
}

func (s *Server) setRequestUser(r *http.Request, db *sql.DB, req *authRequest, userID string) error {
	now := s.now()
	if _, err := db.ExecContext(r.Context(), `UPDATE oauth_request SET user_id = ?, auth_time = ? WHERE id = ?`, userID, now.UnixMilli(), req.id); err != nil {
		return cc.Errorf(cc.EINTERNAL, "sign the authorization request's user in: %v", err)
	}
	req.userID, req.authTime = userID, now
	return nil
}

// handleSignIn checks the sign-in form; it signs the browser in to devcrm
// as well (Salesforce's login does the same).
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	req, app, db, ok := s.postedRequest(w, r)
	if !ok {
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	userID, err := checkPassword(r.Context(), db, username, r.PostForm.Get("password"))
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	if userID == "" {
		s.renderOAuth(w, http.StatusUnauthorized, "oauth-login", &oauthPage{ID: req.id, AppName: app.displayName(), Username: username, Error: badPasswordMessage})
		return
	}
	if err := s.startSession(w, r, db, userID); err != nil {
		s.writePageError(w, r, err)
		return
	}
	if err := s.setRequestUser(r, db, req, userID); err != nil {
		s.writePageError(w, r, err)
		return
	}
	http.Redirect(w, r, pathSignIn+"?id="+url.QueryEscape(req.id), http.StatusSeeOther)
}

// handleConsent takes Allow or Deny. Only the browser that signed in for
// the request (its session's user) may answer.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	req, _, db, ok := s.postedRequest(w, r)
	if !ok {
		return
	}
	u, err := s.sessionUser(r.Context(), db, r)
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	if u == nil || req.userID == "" || u.ID != req.userID {
		s.oauthFailure(w, http.StatusForbidden, "This consent is not yours to give: sign in to devcrm as the user the app asked for, from the app.")
		return
	}
	switch r.PostForm.Get("decision") {
	case "allow":
		if _, err := db.ExecContext(r.Context(), `INSERT INTO oauth_consent (user_id, client_id, granted_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id, client_id) DO UPDATE SET granted_at = excluded.granted_at`, req.userID, req.clientID, formatDateTime(s.now())); err != nil {
			s.writePageError(w, r, err)
			return
		}
		s.approve(w, r, db, req)
	case "deny":
		s.denyRequest(w, r, req, oidc.ErrAccessDenied().WithDescription("end-user denied authorization"))
	default:
		s.oauthFailure(w, http.StatusBadRequest, "Choose Allow or Deny.")
	}
}

// approve marks the request consented and sends the browser to the
// provider's callback, which redirects to the app with the code.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, db *sql.DB, req *authRequest) {
	if _, err := db.ExecContext(r.Context(), `UPDATE oauth_request SET consented = 1 WHERE id = ?`, req.id); err != nil {
		s.writePageError(w, r, err)
		return
	}
	http.Redirect(w, r, s.Issuer()+pathAuthorize+"/callback?id="+url.QueryEscape(req.id), http.StatusSeeOther)
}

// denyRequest ends the request and returns the error to the app's
// redirect URI (which authorize checked), with its state.
func (s *Server) denyRequest(w http.ResponseWriter, r *http.Request, req *authRequest, e *oidc.Error) {
	if err := (&opStorage{s: s}).DeleteAuthRequest(r.Context(), req.id); err != nil {
		s.writePageError(w, r, err)
		return
	}
	op.AuthRequestError(w, r, req, e, s.provider)
}

// askedScopes are the scopes as the app asked for them: without the
// offline_access devcrm adds for Salesforce's refresh_token.
func askedScopes(scopes []string) []string {
	if !slices.Contains(scopes, "refresh_token") {
		return scopes
	}
	return slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == oidc.ScopeOfflineAccess })
}
