package telephony

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/phone"
)

// handleInvite runs once per new inbound INVITE; diago hangs the call up
// when it returns.
func (s *Server) handleInvite(d *diago.DialogServerSession) {
	req := d.InviteRequest
	log := s.log.With("call_id", callID(req), "from", req.From().Address.String(), "source", req.Source())
	if s.draining.Load() {
		s.metrics.calls.WithLabelValues("draining").Inc()
		respond(d, log, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", "30"))
		return
	}
	ctx, cancel := context.WithTimeout(d.Context(), 10*time.Second)
	rt, code, reason := s.route(ctx, req)
	cancel()
	if code != 0 {
		log.Warn("inbound call refused", "status", code, "reason", reason, "to", req.Recipient.String())
		s.metrics.calls.WithLabelValues(fmt.Sprint(code)).Inc()
		respond(d, log, code, reason)
		return
	}
	if err := d.Trying(); err != nil {
		log.Info("caller left before we answered", "error", err)
		return
	}
	cust := callerFromRequest(req, rt.tenant.Region)
	data, bad := parseData(req)
	if len(bad) > 0 {
		log.Warn("ignored malformed X-Parley-Data pairs", "pairs", bad)
	}
	c := &inboundCall{
		s: s, d: d,
		early: rt.entry.EarlyMedia,
		log:   log.With("tenant", rt.tenant.Slug),
		done:  make(chan struct{}),
	}
	s.track(c, true)
	defer s.track(c, false)
	col := rt.entry.Collect
	if col != nil && data[col.Key] != "" {
		// An IVR in front of Parley asked already: X-Parley-Data has the key.
		c.log.Info("X-Parley-Data gave the entry point's data key: not asking for digits", "key", col.Key)
		col = nil
	}
	if col != nil {
		// The caller is answered to be asked for digits, even on an entry
		// point with early media: phones send digits in an answered call.
		// The call is queued with them.
		c.early = false
		if err := c.answer(); err != nil {
			c.log.Warn("could not answer the caller", "error", err)
			return
		}
		defer c.med.Close()
		var err error
		if data, err = c.collectData(col, data); err != nil {
			c.log.Info("the call ended while the caller was keying in digits (caller left or shutdown)", "key", col.Key, "reason", err)
			s.metrics.calls.WithLabelValues("left_in_collection").Inc()
			return
		}
	}
	h, err := s.deps.Director.Arrive(d.Context(), cc.Arrival{
		Tenant:     rt.tenant,
		Trunk:      rt.trunk,
		EntryPoint: rt.entry,
		Customer:   cust,
		Dialed:     rt.dialed,
		SIPCallID:  callID(req),
		Data:       data,
	})
	if err != nil {
		log.Error("contact center refused the call", "error", err)
		code, reason := sipStatus(err)
		s.metrics.calls.WithLabelValues(fmt.Sprint(code)).Inc()
		if c.med == nil {
			respond(d, log, code, reason)
		} else {
			c.hangupCaller() // answered to collect digits: too late for a final response
		}
		return
	}
	s.metrics.calls.WithLabelValues("accepted").Inc()
	it := h.Interaction()
	c.h = h
	c.log = c.log.With("interaction", it.ID)
	c.log.Info("inbound call", "to", rt.dialed, "queue", h.Queue().Name, "caller", cust.Number, "withheld", cust.Withheld, "data_keys", len(data))
	c.run()
}

// hangupCaller ends an answered caller's call from our side.
func (c *inboundCall) hangupCaller() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.d.Hangup(ctx); err != nil {
		c.log.Debug("hang up the caller", "error", err)
	}
}

func (s *Server) track(c liveCall, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.calls.Add(1)
		s.active[c] = struct{}{}
		return
	}
	delete(s.active, c)
	s.calls.Done()
}

func respond(d *diago.DialogServerSession, log *slog.Logger, code int, reason string, hdrs ...sip.Header) {
	if err := d.Respond(code, reason, nil, hdrs...); err != nil && !errors.Is(err, sip.ErrTransactionTerminated) {
		log.Debug("respond", "status", code, "error", err)
	}
}

// sipStatus is the one table from Parley error codes to SIP responses.
func sipStatus(err error) (int, string) {
	switch cc.ErrorCode(err) {
	case cc.EUNAVAILABLE, cc.ERATELIMIT:
		return sip.StatusServiceUnavailable, "Service Unavailable"
	case cc.ENOTFOUND:
		return sip.StatusNotFound, "Not Found"
	case cc.EFORBIDDEN, cc.EUNAUTHORIZED:
		return sip.StatusForbidden, "Forbidden"
	case cc.EINVALID:
		return sip.StatusBadRequest, "Bad Request"
	case cc.ECONFLICT:
		return sip.StatusBusyHere, "Busy Here"
	}
	return sip.StatusInternalServerError, "Server Internal Error"
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

type route struct {
	tenant *cc.Tenant
	trunk  *cc.Trunk
	entry  *cc.EntryPoint
	dialed string
}

// route finds the trunk by source address and the entry point by the
// dialled number: 403 for a source no trunk allows, 404 for a number no
// entry point has. When trunks of several tenants allow the source, the
// most specific one is tried first (see routeOrder).
func (s *Server) route(ctx context.Context, req *sip.Request) (route, int, string) {
	src, ok := sourceAddr(req)
	if !ok {
		return route{}, sip.StatusForbidden, "Forbidden"
	}
	trunks, err := s.trunksCached(ctx)
	if err != nil {
		s.log.Error("read trunks", "error", err)
		return route{}, sip.StatusServiceUnavailable, "Service Unavailable"
	}
	user := req.Recipient.User
	if user == "" {
		user = req.To().Address.User
	}
	var cands []trunkMatch
	for _, t := range trunks {
		bits, ok := matchBits(t, src)
		if !ok {
			continue
		}
		tenant, err := s.deps.Store.Tenant(ctx, t.TenantID)
		if cc.IsCode(err, cc.ENOTFOUND) {
			continue // a trunk left by a tenant being removed
		}
		if err != nil {
			s.log.Error("read the tenant of a trunk", "trunk", t.Name, "tenant", t.TenantID, "error", err)
			return route{}, sip.StatusServiceUnavailable, "Service Unavailable"
		}
		cands = append(cands, trunkMatch{trunk: t, tenant: tenant, bits: bits})
	}
	if len(cands) == 0 {
		return route{}, sip.StatusForbidden, "Forbidden"
	}
	routeOrder(cands)
	seen := map[string]bool{}
	for _, m := range cands {
		if seen[m.tenant.ID] {
			continue // the tenant's most specific trunk was tried
		}
		seen[m.tenant.ID] = true
		for _, num := range dialedForms(user, m.tenant.Region) {
			if ep, err := s.deps.Store.EntryPointByNumber(ctx, m.tenant.ID, num); err == nil {
				return route{tenant: m.tenant, trunk: m.trunk, entry: ep, dialed: num}, 0, ""
			}
		}
	}
	return route{}, sip.StatusNotFound, "Not Found"
}

// trunkMatch is a trunk that allows a call's source.
type trunkMatch struct {
	trunk  *cc.Trunk
	tenant *cc.Tenant
	bits   int // length of the trunk's longest prefix holding the source
}

// routeOrder sorts the trunks that allow a source in the order their
// tenants are tried for the dialled number: the most specific prefix first
// (127.0.0.1/32, then 127.0.0.0/8, then 0.0.0.0/0), ties by tenant slug,
// then by trunk name. So a catch-all trunk never takes a number from a
// tenant whose trunk names the source more narrowly, and the outcome does
// not depend on the order the store returns trunks in.
func routeOrder(ms []trunkMatch) {
	slices.SortStableFunc(ms, func(a, b trunkMatch) int {
		if c := cmp.Compare(b.bits, a.bits); c != 0 {
			return c
		}
		if c := cmp.Compare(a.tenant.Slug, b.tenant.Slug); c != 0 {
			return c
		}
		return cmp.Compare(a.trunk.Name, b.trunk.Name)
	})
}

// matchBits returns the length of t's longest prefix that holds addr, and
// whether any does (the test of cc.Trunk.Allows, keeping the length).
func matchBits(t *cc.Trunk, addr netip.Addr) (int, bool) {
	addr = addr.Unmap()
	best, ok := 0, false
	for _, p := range t.CIDRs {
		if p.Contains(addr) && (!ok || p.Bits() > best) {
			best, ok = p.Bits(), true
		}
	}
	return best, ok
}

// dialedForms returns the entry point keys a dialled user part may match:
// its E.164 form, and the alias form for named entry points.
func dialedForms(user, region string) []string {
	var out []string
	if num, err := phone.NormalizeDialed(user, region); err == nil {
		out = append(out, num)
	}
	if a := strings.ToLower(user); cc.IsEntryAlias(a) {
		out = append(out, a)
	}
	return out
}

// inboundCall carries one call from answer to hang-up.
type inboundCall struct {
	s     *Server
	d     *diago.DialogServerSession
	h     cc.CallHandle
	med   *diago.DialogMedia
	early bool
	log   *slog.Logger

	done     chan struct{}
	termOnce sync.Once
	// bridge joins the caller to the agent from the first answer on; it
	// outlives an agent leg released for a transfer.
	bridge *callBridge
}

// terminate ends the call from our side (shutdown).
func (c *inboundCall) terminate() {
	c.termOnce.Do(func() { close(c.done) })
}

func (c *inboundCall) answer() error {
	var err error
	hasSDP := len(c.d.InviteRequest.Body()) > 0
	switch {
	case c.early && hasSDP:
		c.med, err = c.d.ProgressMedia(diago.ProgressMediaOptions{Codecs: Codecs})
	case hasSDP:
		c.med, err = c.d.Answer(diago.AnswerOptions{Codecs: Codecs})
	default:
		c.early = false
		c.med, err = c.d.AnswerLate()
	}
	return err
}

// run answers (or sends early media), plays queue audio, rings the agents
// the contact center offers the call to, and bridges the one who answers.
func (c *inboundCall) run() {
	if c.med == nil {
		if err := c.answer(); err != nil {
			c.log.Warn("could not answer the caller", "error", err)
			c.h.Hangup("system", "answer failed")
			return
		}
		defer c.med.Close()
	}
	defer func() {
		if c.bridge != nil {
			c.bridge.close()
		}
	}()
	ctx := c.d.Context()
	pl := startPlayer(c.med, c.s.sounds, c.h.Queue(), c.log)
	stopDrain, err := c.med.ListenBackground()
	if err != nil {
		stopDrain = func() error { return nil }
	}
	var ring *ringing
	results := make(chan ringResult, 4) // a withdrawn ring may still report
	defer func() {
		if ring != nil {
			ring.cancel()
			// an answer racing our exit must not leave the agent on a dead line
			go func() {
				if r := <-results; r.leg != nil {
					r.leg.hangup()
				}
			}()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			pl.stop()
			c.log.Info("caller hung up", "ringing", ring != nil)
			c.h.Hangup("customer", "hung up")
			return
		case <-c.done:
			pl.stop()
			c.h.Hangup("system", "server shutting down")
			return
		case in, ok := <-c.h.Instructions():
			if !ok {
				pl.stop()
				return
			}
			switch {
			case in.Offer != nil:
				ring = c.ring(in.Offer, results)
			case in.Accept != nil:
				if ring != nil && ring.offer == in.Accept {
					ring.acceptOnce()
				}
			case in.Withdraw != nil:
				if ring != nil && ring.offer == in.Withdraw {
					ring.cancel()
					ring = nil
				}
			case in.Queue != nil:
				pl.stop()
				pl = startPlayer(c.med, c.s.sounds, in.Queue, c.log)
			case in.Close:
				if ring != nil {
					ring.cancel()
				}
				pl.stop()
				c.playOnce(c.s.sounds.Get(in.Announcement+".wav", SoundClosed))
				reason := in.Reason
				if reason == "" {
					reason = "closed"
				}
				c.h.Hangup("system", reason)
				return
			}
		case r := <-results:
			if ring != nil && ring.offer == r.offer {
				ring = nil
			}
			if r.err != nil {
				c.log.Info("agent did not answer", "agent", r.offer.Agent.Username, "reason", r.reason, "detail", r.detail)
				c.h.OfferFailed(r.offer, r.reason, r.detail)
				continue
			}
			ctl := newCallControl(true)
			if err := c.h.Answered(r.offer, ctl); err != nil {
				c.log.Info("agent answered a withdrawn offer", "agent", r.offer.Agent.Username)
				r.leg.hangup()
				continue
			}
			pl.stop()
			if c.bridge == nil {
				// from now on the bridge reads the caller's audio
				if err := stopDrain(); err != nil {
					c.log.Debug("stop queue listener", "error", err)
				}
			}
			if !c.connect(r, ctl) {
				return
			}
			// The agent's leg was released for a transfer: the caller
			// waits again, hearing the queue's audio.
			pl = startPlayer(c.med, c.s.sounds, c.h.Queue(), c.log)
		}
	}
}

// connect bridges the caller and the agent until either hangs up, or
// until the agent's leg is released for a transfer (it then returns true
// and the caller stays on the line).
func (c *inboundCall) connect(r ringResult, ctl *callControl) bool {
	leg := r.leg
	if c.early {
		if err := c.d.AnswerEarlyMedia(c.med, diago.AnswerOptions{}); err != nil {
			c.log.Warn("answering the caller after early media failed", "error", err)
			leg.hangup()
			c.h.Hangup("system", "answer failed")
			return false
		}
		c.early = false
	}
	hold := c.s.sounds.Get(c.h.Queue().HoldMusic, SoundHold)
	err := error(nil)
	if c.bridge == nil {
		c.bridge, err = newCallBridge(c.med, hold, c.log)
	}
	if err == nil {
		err = leg.join(c.bridge, hold)
	}
	if err != nil {
		c.log.Error("bridge failed", "error", err)
		leg.hangup()
		c.h.Hangup("system", "bridge failed")
		return false
	}
	ctl.setBridge(c.bridge)
	c.log.Info("connected", "agent", r.offer.Agent.Username)
	by, detail := "customer", "hung up"
	select {
	case <-c.d.Context().Done():
		leg.hangup()
	case <-leg.gone():
		by = "agent"
	case <-ctl.hangup:
		by, detail = "agent", ctl.hangupDetail()
		leg.hangup()
	case <-ctl.release:
		c.bridge.detach()
		leg.hangup()
		c.log.Info("agent leg released for a transfer", "agent", r.offer.Agent.Username)
		return true
	case <-c.done:
		by, detail = "system", "server shutting down"
		leg.hangup()
	}
	c.bridge.detach()
	c.log.Info("call ended", "by", by)
	c.h.Hangup(by, detail)
	return false
}

// negotiatedDTMF reports whether a leg's offer and answer agreed on
// telephone-event/8000 (RFC 4733 DTMF).
func negotiatedDTMF(m *diago.DialogMedia) bool {
	_, ok := dtmfPayloadType(m)
	return ok
}

// relayUnpaced makes a leg send bridged audio the moment it arrives from
// the other leg. diago's RTPPacketWriter.Write waits for the next tick of a
// 20 ms clock after every packet: right for audio played from a file, wrong
// for a relay, where the far sender already paces. There a late wake-up
// (a busy CPU, a burst from the network) costs a tick for good, the packets
// behind it queue in the socket, and the delay only grows until the call
// ends with them unsent; and every packet costs a timer wake-up besides the
// socket's. Playback made before the bridge keeps the paced writer.
func relayUnpaced(m *diago.DialogMedia) {
	ms := m.MediaSession()
	if ms == nil || m.RTPPacketWriter == nil {
		return
	}
	codec := media.CodecAudioFromSession(ms)
	if codec.SampleRate != 8000 {
		return // not G.711: keep diago's clock
	}
	m.SetAudioWriter(&unpacedWriter{w: m.RTPPacketWriter, payloadType: codec.PayloadType})
}

// unpacedWriter writes each G.711 payload as one RTP packet at once, on the
// leg's own stream (its SSRC and sequence continue from the queue audio).
type unpacedWriter struct {
	w           *media.RTPPacketWriter
	payloadType uint8
}

// Write sends b. G.711 carries one sample per byte at 8 kHz, so the RTP
// timestamp advances by len(b).
func (u *unpacedWriter) Write(b []byte) (int, error) {
	return u.w.WriteSamples(b, uint32(len(b)), false, u.payloadType)
}

// playOnce plays a sound to the caller and waits for its end.
func (c *inboundCall) playOnce(wav []byte) {
	pb, err := c.med.PlaybackCreate()
	if err != nil {
		return
	}
	if _, err := pb.Play(bytes.NewReader(wav), "audio/wav"); err != nil {
		c.log.Debug("play", "error", err)
	}
}

// player plays a queue's announcement once, then its hold music in a loop.
type player struct {
	ctrl    diago.AudioPlaybackControl
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func startPlayer(med *diago.DialogMedia, sounds *Sounds, q *cc.Queue, log *slog.Logger) *player {
	return playLoop(med, sounds.Get(q.Announcement, SoundAnnouncement), sounds.Get(q.HoldMusic, SoundHold), log)
}

// playLoop plays first once, then loop until stopped.
func playLoop(med *diago.DialogMedia, first, loop []byte, log *slog.Logger) *player {
	p := &player{done: make(chan struct{}), stopped: make(chan struct{})}
	ctrl, err := med.PlaybackControlCreate()
	if err != nil {
		log.Warn("no queue audio", "error", err)
		close(p.done)
		return p
	}
	p.ctrl = ctrl
	go func() {
		defer close(p.done)
		for i := 0; ; i++ {
			wav := loop
			if i == 0 {
				wav = first
			}
			if _, err := p.ctrl.Play(bytes.NewReader(wav), "audio/wav"); err != nil {
				log.Debug("queue audio stopped", "error", err)
				return
			}
			select {
			case <-p.stopped:
				return
			default:
			}
		}
	}()
	return p
}

func (p *player) stop() {
	p.once.Do(func() {
		close(p.stopped)
		if p.ctrl.AudioPlayback.Codec().SampleRate != 0 {
			p.ctrl.Stop()
		}
	})
	<-p.done
}

// agentLeg is an answered call to an agent's phone.
type agentLeg struct {
	dlg *diago.DialogClientSession
	med *diago.DialogMedia
	log *slog.Logger
}

func (l *agentLeg) hangup() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.dlg.Hangup(ctx); err != nil {
		l.log.Warn("hang up the agent's phone", "error", err)
	}
	_ = l.dlg.Close()
}

// ringing is an offer ringing the agent's phone.
type ringing struct {
	offer  *cc.Offer
	cancel context.CancelFunc
	accept chan struct{}
	once   sync.Once
}

// acceptOnce asks the ring to re-offer the call with auto-answer headers.
func (r *ringing) acceptOnce() { r.once.Do(func() { close(r.accept) }) }

// autoAnswerRing bounds the re-offer of an accepted call.
const autoAnswerRing = 10 * time.Second

// autoAnswerHeaders ask a phone to answer at once: RFC 5373 Answer-Mode,
// the Call-Info answer-after parameter (BroadSoft, Polycom, Yealink,
// baresip with sip_autoanswer) and Alert-Info info=alert-autoanswer
// (Cisco, Grandstream).
func autoAnswerHeaders() []sip.Header {
	return []sip.Header{
		sip.NewHeader("Answer-Mode", "Auto"),
		sip.NewHeader("Call-Info", "<sip:parley.invalid>;answer-after=0"),
		sip.NewHeader("Alert-Info", "<http://parley.invalid>;info=alert-autoanswer"),
	}
}

type ringResult struct {
	offer  *cc.Offer
	leg    agentSide
	err    error
	reason string
	detail string
}

// ring calls the offer's endpoints in parallel; the first to answer wins
// and the others are cancelled. The result arrives on results.
//
// When the agent accepts in the panel (acceptOnce) the ringing INVITEs are
// cancelled and the phone is rung again with auto-answer headers.
func (c *inboundCall) ring(offer *cc.Offer, results chan<- ringResult) *ringing {
	base, cancel := context.WithCancel(context.Background())
	r := &ringing{offer: offer, cancel: cancel, accept: make(chan struct{})}
	c.log.Info("ringing agent", "agent", offer.Agent.Username, "endpoint", offer.Agent.EndpointKind(), "endpoints", offer.Endpoints, "timeout", offer.Timeout)
	it := c.h.Interaction()
	if isBrowser(offer.Agent) {
		go func() {
			defer cancel()
			results <- c.ringBrowser(base, r, it)
		}()
		return r
	}
	go func() {
		defer cancel()
		ctx, stop := context.WithTimeout(base, offer.Timeout)
		defer stop()
		var accepted atomic.Bool
		go func() {
			select {
			case <-r.accept:
				accepted.Store(true)
				stop()
			case <-ctx.Done():
			}
		}()
		leg, reason, detail, err := c.s.dialAgent(ctx, c.d, offer, it, nil)
		if err != nil && accepted.Load() && base.Err() == nil {
			c.log.Info("agent accepted in the panel; ringing with auto-answer", "agent", offer.Agent.Username)
			actx, astop := context.WithTimeout(base, autoAnswerRing)
			leg, reason, detail, err = c.s.dialAgent(actx, c.d, offer, it, autoAnswerHeaders())
			astop()
		}
		res := ringResult{offer: offer, err: err, reason: reason, detail: detail}
		if leg != nil {
			res.leg = leg
		}
		results <- res
	}()
	return r
}

// ringBrowser offers a call to an agent who talks through the panel: the
// panel rings (the contact center's offer event) and nothing is sent to a
// phone. Once the agent accepts, the agent's live audio leg is the answer.
func (c *inboundCall) ringBrowser(base context.Context, r *ringing, it *cc.Interaction) ringResult {
	offer := r.offer
	t := time.NewTimer(offer.Timeout)
	defer t.Stop()
	select {
	case <-r.accept:
	case <-t.C:
		return ringResult{offer: offer, err: errNoResponse, reason: cc.ReasonRingNoAnswer, detail: "not accepted in the panel in time"}
	case <-base.Done():
		return ringResult{offer: offer, err: base.Err(), reason: cc.ReasonRingNoAnswer, detail: "the offer was withdrawn"}
	}
	ctx, stop := context.WithTimeout(base, browserLegWait)
	defer stop()
	side, reason, detail, err := c.s.reachAgent(ctx, c.d, offer, it, nil)
	return ringResult{offer: offer, leg: side, err: err, reason: reason, detail: detail}
}

// dialAgent rings every endpoint of an offer and returns the first answer.
// extra headers go on every INVITE (auto-answer after accept). caller may
// be nil (an outbound call rings the agent before there is a customer).
func (s *Server) dialAgent(ctx context.Context, caller *diago.DialogServerSession, offer *cc.Offer, it *cc.Interaction, extra []sip.Header) (*agentLeg, string, string, error) {
	type attempt struct {
		leg *agentLeg
		err error
	}
	fctx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	out := make(chan attempt, len(offer.Endpoints))
	launched := 0
	for _, ep := range offer.Endpoints {
		var uri sip.Uri
		if err := sip.ParseUri(ep, &uri); err != nil {
			s.log.Warn("bad agent endpoint", "endpoint", ep, "error", err)
			continue
		}
		launched++
		go func() {
			leg, err := s.inviteAgent(fctx, caller, uri, offer, it, extra)
			out <- attempt{leg, err}
		}()
	}
	if launched == 0 {
		return nil, cc.ReasonConnectionLost, "no usable endpoint", errors.New("no usable endpoint")
	}
	var winner *agentLeg
	var lastErr error
	for i := 0; i < launched; i++ {
		a := <-out
		switch {
		case a.err == nil && winner == nil:
			winner = a.leg
			cancelAll() // cancel the other forks
		case a.err == nil:
			a.leg.hangup() // answered too late
		default:
			lastErr = a.err
		}
	}
	if winner != nil {
		return winner, "", "", nil
	}
	reason, detail := classifyRingError(ctx, lastErr)
	return nil, reason, detail, lastErr
}

func (s *Server) inviteAgent(ctx context.Context, caller *diago.DialogServerSession, uri sip.Uri, offer *cc.Offer, it *cc.Interaction, extra []sip.Header) (*agentLeg, error) {
	transport := ""
	if t, ok := uri.UriParams.Get("transport"); ok {
		transport = strings.ToLower(t)
	}
	dlg, err := s.dg.NewDialog(uri, diago.NewDialogOptions{Transport: transport})
	if err != nil {
		return nil, err
	}
	host := s.cfg.ExternalHost
	if host == "" {
		host = s.ua.Hostname()
	}
	fromUser := "anonymous"
	display := "Withheld number"
	if !it.Customer.Withheld {
		if it.Customer.Number != "" {
			fromUser = it.Customer.Number
			display = it.Customer.Number
		} else if it.Customer.Raw != "" {
			fromUser = it.Customer.Raw
			display = it.Customer.Raw
		}
		if it.Customer.Name != "" {
			display = it.Customer.Name
		}
	}
	from := &sip.FromHeader{DisplayName: display, Address: sip.Uri{User: fromUser, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	hdrs := append([]sip.Header{from, sip.NewHeader("X-Parley-Interaction", it.ID)}, extra...)
	var orig diago.DialogSession
	cid := it.ID
	if caller != nil {
		orig = caller
		cid = callID(caller.InviteRequest)
	}
	// When ctx ends (the offer timed out, another endpoint answered, the
	// caller left) the INVITE must end too. RFC 3261 section 9.1 allows a
	// CANCEL only once a provisional response came: a phone that sent one
	// is cancelled and answers 487. A phone that sent nothing (one killed
	// while its registration lives on) cannot be cancelled; sipgo would wait
	// for a provisional until Timer B (32 s), keeping the agent offered and
	// the caller waiting, so the attempt is given up at once instead.
	var provisional atomic.Bool
	ictx, icancel := context.WithCancelCause(context.Background())
	defer icancel(nil)
	stop := context.AfterFunc(ctx, func() {
		if provisional.Load() {
			icancel(context.Cause(ctx))
		} else {
			icancel(sipgo.WaitAnswerForceCancelErr)
		}
	})
	defer stop()
	med, err := dlg.Invite(ictx, diago.InviteClientOptions{Originator: orig, Headers: hdrs, OnResponse: func(r *sip.Response) error {
		if r.IsProvisional() {
			provisional.Store(true)
		}
		return nil
	}})
	if err != nil {
		dlg.Close()
		if !provisional.Load() && (ctx.Err() != nil || errors.Is(err, sip.ErrTransactionTimeout)) {
			return nil, fmt.Errorf("ring %s: %w", uri.String(), errNoResponse)
		}
		return nil, err
	}
	if err := dlg.Ack(ictx); err != nil {
		dlg.Close()
		return nil, err
	}
	leg := &agentLeg{dlg: dlg, med: med, log: s.log.With("call_id", cid, "agent", offer.Agent.Username, "endpoint", uri.String())}
	if ctx.Err() != nil {
		leg.hangup()
		return nil, ctx.Err()
	}
	return leg, nil
}

// errNoResponse is a ring that ended without any response from the phone.
var errNoResponse = errors.New("no response from the phone")

// classifyRingError maps a failed INVITE to the agent's system reason.
func classifyRingError(ctx context.Context, err error) (string, string) {
	if errors.Is(err, errNoResponse) {
		return cc.ReasonRingNoAnswer, errNoResponse.Error()
	}
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) && de.Res != nil {
		detail := fmt.Sprintf("%d %s", de.Res.StatusCode, de.Res.Reason)
		switch de.Res.StatusCode {
		case sip.StatusBusyHere, 600, 603:
			return cc.ReasonDeclined, detail
		}
		return cc.ReasonRingNoAnswer, detail
	}
	if ctx.Err() != nil {
		return cc.ReasonRingNoAnswer, "no answer in time"
	}
	if err != nil {
		return cc.ReasonRingNoAnswer, err.Error()
	}
	return cc.ReasonRingNoAnswer, ""
}
