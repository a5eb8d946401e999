package sso

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

// unreachable drops the connection when the CRM is down; true if it did.
func (op *testOP) unreachable(w http.ResponseWriter) bool {
	op.mu.Lock()
	down := op.down
	op.mu.Unlock()
	if !down {
		return false
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
	return true
}

// refreshGrant answers grant_type=refresh_token: a known token is rotated
// (the old one stops working), any other is invalid_grant.
func (op *testOP) refreshGrant(w http.ResponseWriter, token string) {
	if op.beforeRefresh != nil {
		op.beforeRefresh()
	}
	op.mu.Lock()
	ok := op.refresh[token]
	next := "5Aep-" + cc.RandomToken(8)
	if ok {
		delete(op.refresh, token)
		op.refresh[next] = true
	}
	op.mu.Unlock()
	if !ok {
		oauthError(w, "invalid_grant", "expired access/refresh token")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "00Daccess2", "refresh_token": next, "token_type": "Bearer"})
}

// revoke is RFC 7009's endpoint: the token stops working.
func (op *testOP) revoke(w http.ResponseWriter, r *http.Request) {
	if op.unreachable(w) {
		return
	}
	r.ParseForm()
	if r.PostForm.Get("client_id") != clientID || r.PostForm.Get("client_secret") != clientSecret {
		oauthError(w, "invalid_client", "invalid client credentials")
		return
	}
	op.mu.Lock()
	delete(op.refresh, r.PostForm.Get("token"))
	op.revoked = append(op.revoked, r.PostForm.Get("token"))
	op.mu.Unlock()
}

func (op *testOP) setDown(down bool) {
	op.mu.Lock()
	op.down = down
	op.mu.Unlock()
}

// signedIn runs a whole sign-in for alice (consent given) so that her CRM
// grant is stored.
func (rg *rig) signedIn(t *testing.T) {
	t.Helper()
	rg.grants.consents["ten_acme usr_alice "+crmOrigin] = true
	rg.signedInToken(t, "alice@acme.example")
	if rg.grants.issuers["ten_acme usr_alice salesforce"] != rg.op.srv.URL {
		t.Fatalf("grant stored with issuer %q, want %s", rg.grants.issuers["ten_acme usr_alice salesforce"], rg.op.srv.URL)
	}
}

var alice = &cc.User{ID: "usr_alice", TenantID: "ten_acme", Username: "alice"}

// TestRefreshGrant: a refresh stores the rotated CRM refresh token; an
// unreachable CRM is EUNAVAILABLE and keeps the grant; invalid_grant is
// EUNAUTHORIZED, says to sign in again, and deletes the grant.
func TestRefreshGrant(t *testing.T) {
	rg := newRig(t)
	rg.signedIn(t)
	ctx := t.Context()
	const key = "ten_acme usr_alice salesforce"
	if err := rg.h.RefreshGrant(ctx, rg.tenant, alice); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	rotated := rg.grants.tokens[key]
	if rotated == "" || rotated == "5Aep-refresh" {
		t.Fatalf("after the refresh the stored token is %q, want the rotated one", rotated)
	}
	// Another browser's session refreshes soon after: the CRM is not asked
	// again (it would rotate the token under the first one's feet).
	if err := rg.h.RefreshGrant(ctx, rg.tenant, alice); err != nil || rg.grants.tokens[key] != rotated {
		t.Fatalf("a second refresh within %s: %v, token %q (want %q kept)", GrantRefreshInterval, err, rg.grants.tokens[key], rotated)
	}

	rg.now = rg.now.Add(GrantRefreshInterval)
	rg.op.setDown(true)
	err := rg.h.RefreshGrant(ctx, rg.tenant, alice)
	if !cc.IsCode(err, cc.EUNAVAILABLE) {
		t.Fatalf("refresh while the CRM is unreachable: %v, want EUNAVAILABLE", err)
	}
	if rg.grants.tokens[key] != rotated {
		t.Fatalf("an unreachable CRM changed the grant to %q", rg.grants.tokens[key])
	}
	rg.op.setDown(false)
	if err := rg.h.RefreshGrant(ctx, rg.tenant, alice); err != nil {
		t.Fatalf("refresh after the outage: %v", err)
	}
	rg.now = rg.now.Add(GrantRefreshInterval)

	// Another Parley node rotates the token while this one asks the CRM
	// with the old one: invalid_grant for a token no longer stored is not
	// a refusal, and the other node's token stays.
	rg.op.beforeRefresh = func() {
		rg.op.mu.Lock()
		clear(rg.op.refresh)
		rg.op.refresh["5Aep-other-node"] = true
		rg.op.mu.Unlock()
		rg.grants.tokens[key] = "5Aep-other-node"
	}
	if err := rg.h.RefreshGrant(ctx, rg.tenant, alice); err != nil || rg.grants.tokens[key] != "5Aep-other-node" {
		t.Fatalf("refresh that raced with another node: %v, token %q", err, rg.grants.tokens[key])
	}
	rg.op.beforeRefresh = nil
	rg.now = rg.now.Add(GrantRefreshInterval)

	// The CRM user is deactivated: the CRM forgets the token.
	rg.op.mu.Lock()
	clear(rg.op.refresh)
	rg.op.mu.Unlock()
	err = rg.h.RefreshGrant(ctx, rg.tenant, alice)
	if !cc.IsCode(err, cc.EUNAUTHORIZED) || !strings.Contains(cc.ErrorMessage(err), "sign in again") || !strings.Contains(cc.ErrorMessage(err), "invalid_grant") {
		t.Fatalf("refresh of a refused grant: %v, want EUNAUTHORIZED naming invalid_grant and saying to sign in again", err)
	}
	if _, ok := rg.grants.tokens[key]; ok {
		t.Errorf("a refused grant is still stored")
	}
	// No grant: nothing to refresh.
	if err := rg.h.RefreshGrant(ctx, rg.tenant, alice); err != nil {
		t.Errorf("refresh without a grant: %v", err)
	}
}

// TestRevokeGrant: sign-out everywhere revokes the token at the CRM and
// deletes it; with the CRM down it is deleted all the same.
func TestRevokeGrant(t *testing.T) {
	rg := newRig(t)
	rg.signedIn(t)
	ctx := t.Context()
	if err := rg.h.RevokeGrant(ctx, rg.tenant, alice); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if len(rg.op.revoked) != 1 || rg.op.revoked[0] != "5Aep-refresh" {
		t.Fatalf("the CRM revoked %v, want the stored token", rg.op.revoked)
	}
	if len(rg.grants.tokens) != 0 {
		t.Fatalf("tokens after revoke: %v", rg.grants.tokens)
	}
	if err := rg.h.RevokeGrant(ctx, rg.tenant, alice); err != nil {
		t.Fatalf("revoke without a grant: %v", err)
	}

	rg.signedIn(t)
	rg.op.setDown(true)
	if err := rg.h.RevokeGrant(ctx, rg.tenant, alice); !cc.IsCode(err, cc.EUNAVAILABLE) {
		t.Fatalf("revoke with the CRM down: %v, want EUNAVAILABLE", err)
	}
	if len(rg.grants.tokens) != 0 {
		t.Fatalf("the token stays stored when the CRM is down: %v", rg.grants.tokens)
	}
}
