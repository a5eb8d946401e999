// Package uaphone runs Parley's own SIP user agent (internal/sipua) as an
// answering phone in tests: it listens on a free loopback port, answers
// every call with the given options and reports each call's result when the
// call ends.
package uaphone

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// Phone is an answering phone started by Start.
type Phone struct {
	// URI reaches the phone directly (a static contact).
	URI   string
	calls chan *sipua.Result
}

// Start serves a phone on a free loopback port until the test ends. Bind
// is chosen here; user is the user part of URI. opts.Register, when set,
// makes the phone register there first.
func Start(t testing.TB, opts sipua.Options, user string) *Phone {
	t.Helper()
	port := sippeer.FreePort(t)
	opts.Bind = fmt.Sprintf("127.0.0.1:%d", port)
	p := &Phone{URI: fmt.Sprintf("sip:%s@127.0.0.1:%d", user, port), calls: make(chan *sipua.Result, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sipua.Serve(ctx, opts, func(r *sipua.Result) { p.calls <- r }) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return p
}

// Next waits up to timeout for the phone's next finished call.
func (p *Phone) Next(t testing.TB, timeout time.Duration) *sipua.Result {
	t.Helper()
	select {
	case r := <-p.calls:
		return r
	case <-time.After(timeout):
		t.Fatalf("the phone %s reported no finished call within %s", p.URI, timeout)
		return nil
	}
}
