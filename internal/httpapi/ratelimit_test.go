package httpapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/httpapi/apitest"
)

// signIn is a sign-in scenario with a wrong password.
func signIn(name, tenant, username, addr string, status int) apitest.Scenario {
	return apitest.Scenario{
		Name: name, Method: "POST", URL: "/api/v1/sessions", RemoteAddr: addr,
		Body:       fmt.Sprintf(`{"tenant":%q,"username":%q,"password":"wrong"}`, tenant, username),
		WantStatus: status,
	}
}

func TestSignInRateLimitPerAccount(t *testing.T) {
	e := newTestEnv(t)
	var scs []apitest.Scenario
	for i := range signInPerAccount {
		scs = append(scs, signIn(fmt.Sprintf("attempt %d", i+1), "acme", "alice", fmt.Sprintf("198.51.100.%d:4000", i+1), 401))
	}
	limited := signIn("over the limit", "acme", "Alice", "198.51.100.200:4000", 429)
	limited.WantContains = []string{`"code":"rate_limited"`, "too many sign-in attempts: try again in 6 seconds"}
	limited.WantHeader = map[string]string{"Retry-After": "6"}
	scs = append(scs, limited,
		// Even the right password waits: the limit is on attempts.
		apitest.Scenario{Name: "right password over the limit", Method: "POST", URL: "/api/v1/sessions", RemoteAddr: "198.51.100.201:4000",
			Body: `{"tenant":"acme","username":"alice","password":"alice-pw"}`, WantStatus: 429},
		signIn("another account is not limited", "acme", "bob", "198.51.100.202:4000", 401),
		signIn("the same name in another tenant is not limited", "other", "alice", "198.51.100.203:4000", 401),
	)
	after := signIn("one attempt per 6 s refills", "acme", "alice", "198.51.100.204:4000", 401)
	after.Before = func(testing.TB) { e.clock.Advance(6 * time.Second) }
	scs = append(scs, after, signIn("and is used up again", "acme", "alice", "198.51.100.205:4000", 429))
	e.kit.Run(t, scs...)
}

func TestSignInRateLimitPerAddress(t *testing.T) {
	e := newTestEnv(t)
	var scs []apitest.Scenario
	for i := range signInPerIP {
		scs = append(scs, signIn(fmt.Sprintf("attempt %d", i+1), "acme", fmt.Sprintf("user%d", i), "203.0.113.9:5000", 401))
	}
	limited := signIn("over the limit", "acme", "someone", "203.0.113.9:5001", 429)
	limited.WantHeader = map[string]string{"Retry-After": "2"}
	scs = append(scs, limited,
		// The address is checked before the body is read.
		apitest.Scenario{Name: "even a bad body", Method: "POST", URL: "/api/v1/sessions", RemoteAddr: "203.0.113.9:5002", Body: `{`, WantStatus: 429},
		signIn("another address", "acme", "someone", "203.0.113.10:5000", 401),
	)
	e.kit.Run(t, scs...)
}

func TestSignInRateLimitIPv6Network(t *testing.T) {
	e := newTestEnv(t)
	var scs []apitest.Scenario
	for i := range signInPerIP {
		// Every address of one /64 counts as one client.
		scs = append(scs, signIn(fmt.Sprintf("attempt %d", i+1), "acme", fmt.Sprintf("user%d", i), fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1), 401))
	}
	scs = append(scs,
		signIn("same /64", "acme", "someone", "[2001:db8:1:2:ffff::1]:443", 429),
		signIn("next /64", "acme", "someone", "[2001:db8:1:3::1]:443", 401),
		signIn("IPv4-mapped is IPv4", "acme", "someone", "[::ffff:192.0.2.1]:443", 401),
	)
	e.kit.Run(t, scs...)
}
