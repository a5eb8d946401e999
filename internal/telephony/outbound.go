package telephony

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-cc/parley/internal/cc"
)

// liveCall is a call the server carries (inbound or outbound); terminate
// ends it from Parley's side at shutdown.
type liveCall interface{ terminate() }

// extensionPause is how long after the customer's answer an extension's
// digits are sent, so the far end's media is ready for them.
const extensionPause = time.Second

var _ cc.OutboundDialer = (*Server)(nil)

// Dial places a click-to-dial call: the agent's endpoints ring first;
// when the agent answers, the customer is dialled through the trunk's
// outbound URI with the number as its user part, then the legs are
// bridged. It returns at once; progress goes to call.Handle.
func (s *Server) Dial(_ context.Context, call cc.OutboundCall) error {
	if s.dg == nil || s.draining.Load() {
		return cc.Errorf(cc.EUNAVAILABLE, "the SIP side is not taking calls")
	}
	if call.Trunk == nil || call.Trunk.OutboundURI == "" {
		return cc.Errorf(cc.ECONFLICT, "no outbound trunk: set one with `parley admin trunk set --outbound-uri`")
	}
	var target sip.Uri
	if err := sip.ParseUri(call.Trunk.DialURI(call.Number), &target); err != nil {
		return cc.WrapError(cc.EINVALID, err, "trunk %s: outbound URI %q is not a SIP URI", call.Trunk.Name, call.Trunk.OutboundURI)
	}
	o := &outboundCall{s: s, call: call, target: target, done: make(chan struct{}),
		log: s.log.With("interaction", call.InteractionID, "agent", call.Agent.Username, "to", call.Number)}
	s.track(o, true)
	go func() {
		defer s.track(o, false)
		o.run()
	}()
	return nil
}

// outboundCall carries one click-to-dial call.
type outboundCall struct {
	s      *Server
	call   cc.OutboundCall
	target sip.Uri
	log    *slog.Logger
	done   chan struct{}
	once   sync.Once
}

func (o *outboundCall) terminate() { o.once.Do(func() { close(o.done) }) }

func (o *outboundCall) run() {
	h := o.call.Handle
	// 1. The agent's phone. It shows the customer's number.
	offer := &cc.Offer{ID: cc.NewID("ofr"), InteractionID: o.call.InteractionID, Agent: o.call.Agent, Endpoints: o.call.Endpoints, Timeout: o.call.AgentTimeout}
	it := &cc.Interaction{ID: o.call.InteractionID, Customer: cc.Customer{Number: o.call.Number}}
	actx, acancel := context.WithTimeout(context.Background(), o.call.AgentTimeout)
	go func() {
		select {
		case <-o.done:
			acancel()
		case <-actx.Done():
		}
	}()
	leg, _, detail, err := o.s.reachAgent(actx, nil, offer, it, nil)
	acancel()
	if err != nil {
		o.log.Info("agent did not answer the outbound call", "detail", detail)
		h.Failed("agent", "the agent's phone did not answer ("+detail+")")
		return
	}
	if err := h.AgentAnswered(); err != nil {
		leg.hangup()
		h.Failed("system", "the call was given up")
		return
	}
	// 2. The customer, through the trunk.
	cust, by, why := o.dialCustomer(leg)
	if cust == nil {
		leg.hangup()
		o.log.Info("outbound call failed", "by", by, "detail", why)
		h.Failed(by, why)
		return
	}
	defer cust.dlg.Close()
	// 3. Bridge, controls, extension.
	b, err := newCallBridge(cust.med, o.s.sounds.Get("", SoundHold), o.log)
	if err == nil {
		err = leg.join(b, nil)
	}
	if err != nil {
		o.log.Error("bridge failed", "error", err)
		cust.hangup()
		leg.hangup()
		h.Failed("system", "bridge failed: "+cc.ErrorMessage(err))
		return
	}
	defer b.close()
	ctl := newCallControl(false)
	ctl.setBridge(b)
	if err := h.Connected(ctl); err != nil {
		cust.hangup()
		leg.hangup()
		return
	}
	o.log.Info("outbound call connected")
	b.sendExtension(o.call.Extension, extensionPause)
	by, why = "customer", "hung up"
	select {
	case <-cust.dlg.Context().Done():
		leg.hangup()
	case <-leg.gone():
		by = "agent"
		cust.hangup()
	case <-ctl.hangup:
		by, why = "agent", ctl.hangupDetail()
		cust.hangup()
		leg.hangup()
	case <-o.done:
		by, why = "system", "server shutting down"
		cust.hangup()
		leg.hangup()
	}
	b.detach()
	o.log.Info("outbound call ended", "by", by)
	h.Hangup(by, why)
}

// dialCustomer INVITEs the customer while the agent waits; it gives up when
// the agent hangs up, the server stops, or the customer's ring time runs
// out. On failure it returns who ended the attempt and why.
func (o *outboundCall) dialCustomer(agent agentSide) (*agentLeg, string, string) {
	transport := ""
	if t, ok := o.target.UriParams.Get("transport"); ok {
		transport = strings.ToLower(t)
	}
	dlg, err := o.s.dg.NewDialog(o.target, diago.NewDialogOptions{Transport: transport})
	if err != nil {
		return nil, "system", "cannot dial the trunk: " + err.Error()
	}
	host := o.s.cfg.ExternalHost
	if host == "" {
		host = o.s.ua.Hostname()
	}
	user := o.call.CallerID
	if user == "" {
		user = "parley"
	}
	from := &sip.FromHeader{Address: sip.Uri{User: user, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	hdrs := []sip.Header{from, sip.NewHeader("X-Parley-Interaction", o.call.InteractionID)}
	ctx, cancel := context.WithTimeoutCause(context.Background(), o.call.CustomerTimeout, errCustomerNoAnswer)
	defer cancel()
	agentGone := errors.New("the agent hung up before the customer answered")
	stopped := errors.New("server shutting down")
	ictx, icancel := context.WithCancelCause(ctx)
	defer icancel(nil)
	go func() {
		select {
		case <-agent.gone():
			icancel(agentGone)
		case <-o.done:
			icancel(stopped)
		case <-ictx.Done():
		}
	}()
	med, err := dlg.Invite(ictx, diago.InviteClientOptions{Headers: hdrs})
	if err == nil {
		err = dlg.Ack(ictx)
	}
	if err != nil {
		dlg.Close()
		switch cause := context.Cause(ictx); {
		case errors.Is(cause, agentGone):
			return nil, "agent", agentGone.Error()
		case errors.Is(cause, stopped):
			return nil, "system", stopped.Error()
		case errors.Is(cause, errCustomerNoAnswer):
			return nil, "customer", fmt.Sprintf("no answer in %s", o.call.CustomerTimeout)
		}
		by, why := classifyDialError(err)
		return nil, by, why
	}
	return &agentLeg{dlg: dlg, med: med, log: o.log}, "", ""
}

// errCustomerNoAnswer ends a customer's ring that ran out of time.
var errCustomerNoAnswer = errors.New("customer did not answer")

// classifyDialError says who ended a failed INVITE to the customer.
func classifyDialError(err error) (by, detail string) {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) && de.Res != nil {
		st := fmt.Sprintf("%d %s", de.Res.StatusCode, de.Res.Reason)
		switch de.Res.StatusCode {
		case sip.StatusBusyHere, 600:
			return "customer", "busy (" + st + ")"
		case 603:
			return "customer", "declined (" + st + ")"
		case sip.StatusTemporarilyUnavailable, sip.StatusRequestTimeout, sip.StatusRequestTerminated:
			return "customer", "no answer (" + st + ")"
		}
		return "system", "the trunk refused the call (" + st + ")"
	}
	if errors.Is(err, sip.ErrTransactionTimeout) {
		return "system", "the trunk did not respond"
	}
	return "system", "the trunk could not be reached: " + err.Error()
}
