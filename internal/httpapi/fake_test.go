package httpapi

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/view"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeUser is a user with its plain password, as the double checks it.
type fakeUser struct {
	user     *cc.User
	password string
}

// fakeService is Service on maps: enough behaviour (tenants, visibility,
// presence rules, wrap-up checks, an event log and a bus that drops slow
// subscribers) for the handlers to be tested against.
type fakeService struct {
	clock *fakeClock

	mu           sync.Mutex
	tenants      map[string]*cc.Tenant // by slug
	users        map[string]*fakeUser  // by tenant id + "/" + username
	sessions     map[string]*cc.Principal
	presence     map[string]*cc.Presence // by user id
	queues       map[string][]*cc.QueueStatus
	interactions map[string]*cc.Interaction
	events       []*cc.Event
	seq          map[string]int64 // by tenant id
	subs         map[*fakeSub]struct{}
	subBuffer    int
	readyErr     error
	failWith     error  // returned by Presence when set
	panicWith    string // Presence panics with it when set
}

type fakeSub struct {
	p  *cc.Principal
	ch chan *cc.Event
}

// Fixture secrets: none may ever appear in a response.
const (
	secretHash   = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
	secretHA1    = "5f4dcc3b5aa765d61d8327deb882cf99"
	secretCRM    = "crm-client-secret-value"
	secretKey    = "-----BEGIN RSA PRIVATE KEY-----"
	sessionHours = 8
)

func newFakeService(clock *fakeClock) *fakeService {
	f := &fakeService{
		clock:        clock,
		tenants:      map[string]*cc.Tenant{},
		users:        map[string]*fakeUser{},
		sessions:     map[string]*cc.Principal{},
		presence:     map[string]*cc.Presence{},
		queues:       map[string][]*cc.QueueStatus{},
		interactions: map[string]*cc.Interaction{},
		seq:          map[string]int64{},
		subs:         map[*fakeSub]struct{}{},
		subBuffer:    64,
	}
	acme := f.addTenant("ten_acme", "acme")
	other := f.addTenant("ten_other", "other")
	f.addUser(acme, "usr_alice", "alice", "alice-pw", cc.RoleAgent)
	f.addUser(acme, "usr_bob", "bob", "bob-pw", cc.RoleAgent)
	f.addUser(acme, "usr_sue", "sue", "sue-pw", cc.RoleSupervisor)
	f.addUser(other, "usr_eve", "eve", "eve-pw", cc.RoleAgent)
	f.queues[acme.ID] = []*cc.QueueStatus{{
		QueueID: "que_sales", Name: "Sales", Priority: 5, Waiting: 2, LongestWait: 42 * time.Second,
		Agents:  map[cc.AgentState]int{cc.StateAvailable: 1, cc.StateBusy: 2},
		Offered: 10, Answered: 8, Abandoned: 1, AnsweredInSL: 7, ServiceLevel: 20 * time.Second,
	}}
	now := clock.Now()
	f.interactions["int_alice1"] = &cc.Interaction{
		ID: "int_alice1", TenantID: acme.ID, Channel: cc.ChannelPhone, Direction: cc.Inbound,
		State: cc.InteractionEnded, Outcome: cc.OutcomeAnswered,
		Customer:     cc.Customer{Number: "+15550100", Extension: "12", Raw: "555-0100 x12", Name: "Carol"},
		DialedNumber: "+15550199", EntryPointID: "ent_sales", QueueID: "que_sales", AgentID: "usr_alice",
		Data:      map[string]string{"account": "A-17"},
		CreatedAt: now.Add(-10 * time.Minute), QueuedAt: now.Add(-10 * time.Minute),
		OfferedAt: now.Add(-9 * time.Minute), AnsweredAt: now.Add(-9*time.Minute + 30*time.Second),
		EndedAt: now.Add(-2 * time.Minute), Offers: 1,
		Matches: []cc.CRMRecord{
			{Type: "Contact", ID: "003000000000001AAA", Name: "Carol Jones", Phone: "+15550100"},
			{Type: "Lead", ID: "00Q000000000002AAA", Name: "Carol J.", Company: "Initech"},
		},
		LogStatus: cc.LogPending, LogError: "CRM unavailable",
		LogText:   "Call with Carol\nThe whole text, longer than the CRM keeps.",
		SIPCallID: "sip-call-id-secretish@10.0.0.1",
	}
	f.interactions["int_bob1"] = &cc.Interaction{
		ID: "int_bob1", TenantID: acme.ID, Channel: cc.ChannelPhone, Direction: cc.Inbound,
		State: cc.InteractionConnected, Customer: cc.Customer{Withheld: true},
		QueueID: "que_sales", AgentID: "usr_bob",
		CreatedAt: now.Add(-time.Minute), QueuedAt: now.Add(-time.Minute), AnsweredAt: now.Add(-30 * time.Second),
	}
	f.interactions["int_eve1"] = &cc.Interaction{
		ID: "int_eve1", TenantID: other.ID, Channel: cc.ChannelChat, Direction: cc.Inbound,
		State: cc.InteractionOffered, Customer: cc.Customer{Email: "x@example.com"}, AgentID: "usr_eve",
		CreatedAt: now.Add(-time.Minute),
	}
	f.appendEvent(f.interactionEventLocked("int_alice1", cc.EventInteractionQueued, now.Add(-10*time.Minute), "", ""), "int_alice1", "")
	f.appendEvent(f.interactionEventLocked("int_alice1", cc.EventInteractionConnected, now.Add(-9*time.Minute), "", ""), "int_alice1", "usr_alice")
	f.appendEvent(f.interactionEventLocked("int_bob1", cc.EventInteractionConnected, now.Add(-30*time.Second), "", ""), "int_bob1", "usr_bob")
	f.appendEvent(f.interactionEventLocked("int_eve1", cc.EventInteractionQueued, now.Add(-time.Minute), "", ""), "int_eve1", "")
	return f
}

// interactionEventLocked builds the event the center would publish for the
// interaction id as it is now: its payload is the shared interaction view.
func (f *fakeService) interactionEventLocked(id string, typ cc.EventType, at time.Time, reason, detail string) *cc.Event {
	it := f.interactions[id]
	region := ""
	for _, t := range f.tenants {
		if t.ID == it.TenantID {
			region = t.Region
		}
	}
	return cc.NewEvent(it.TenantID, typ, at, view.InteractionEvent{
		Interaction: view.NewInteraction(it, region, fakeNames{f: f, tenantID: it.TenantID, locked: true}),
		Reason:      reason,
		Detail:      detail,
	})
}

// InteractionEvent is interactionEventLocked, for tests to publish.
func (f *fakeService) InteractionEvent(id string, typ cc.EventType, at time.Time, reason, detail string) *cc.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.interactionEventLocked(id, typ, at, reason, detail)
}

// fakeNames resolves names from the fixture; locked is set when the caller
// holds the service's lock.
type fakeNames struct {
	f        *fakeService
	tenantID string
	locked   bool
}

func (n fakeNames) lock() func() {
	if n.locked {
		return func() {}
	}
	n.f.mu.Lock()
	return n.f.mu.Unlock
}

func (n fakeNames) QueueName(id string) string {
	defer n.lock()()
	for _, q := range n.f.queues[n.tenantID] {
		if q.QueueID == id {
			return q.Name
		}
	}
	return ""
}

func (n fakeNames) AgentName(id string) string {
	defer n.lock()()
	for _, u := range n.f.users {
		if u.user.TenantID == n.tenantID && u.user.ID == id {
			return u.user.Name()
		}
	}
	return ""
}

func (f *fakeService) addTenant(id, slug string) *cc.Tenant {
	t := &cc.Tenant{ID: id, Slug: slug, Region: "US", TimeZone: "America/New_York",
		CRM: cc.CRMConnection{Kind: "salesforce", ClientID: "client-id", ClientSecret: []byte(secretCRM), PrivateKey: []byte(secretKey)}}
	t.Normalize()
	f.tenants[slug] = t
	return t
}

func (f *fakeService) addUser(t *cc.Tenant, id, username, password string, role cc.Role) {
	u := &cc.User{ID: id, TenantID: t.ID, Username: username, DisplayName: username + " example",
		Roles: []cc.Role{role}, Skills: []string{"sales"}, PasswordHash: secretHash,
		SIPUsername: username + "-phone", SIPHA1: secretHA1}
	f.users[t.ID+"/"+username] = &fakeUser{user: u, password: password}
}

// appendEvent stores e with the next sequence of its tenant and publishes it.
func (f *fakeService) appendEvent(e *cc.Event, interactionID, userID string) *cc.Event {
	f.seq[e.TenantID]++
	e.Seq = f.seq[e.TenantID]
	e.InteractionID, e.UserID = interactionID, userID
	f.events = append(f.events, e)
	f.publishLocked(e)
	return e
}

// Publish stores and delivers an event, for tests.
func (f *fakeService) Publish(e *cc.Event, interactionID, userID string) *cc.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e.Type == cc.EventQueueStatus {
		f.publishLocked(e)
		return e
	}
	return f.appendEvent(e, interactionID, userID)
}

// publishLocked delivers e without blocking; a subscriber whose buffer is
// full is dropped, as the real bus does.
func (f *fakeService) publishLocked(e *cc.Event) {
	for s := range f.subs {
		if !f.visibleEvent(s.p, e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			close(s.ch)
			delete(f.subs, s)
		}
	}
}

// Redeliver publishes a stored event again, as a bus may after a replay.
func (f *fakeService) Redeliver(seq int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.events {
		if e.Seq == seq && e.TenantID == "ten_acme" {
			f.publishLocked(e)
		}
	}
}

// DropSubscribers closes every subscription, as the bus does with
// subscribers that fell behind.
func (f *fakeService) DropSubscribers() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		close(s.ch)
		delete(f.subs, s)
	}
}

// Subscribers counts the live subscriptions.
func (f *fakeService) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *fakeService) visibleEvent(p *cc.Principal, e *cc.Event) bool {
	if e.TenantID != p.Tenant.ID {
		return false
	}
	if p.CanSeeTenant() || e.Type == cc.EventQueueStatus || e.UserID == p.User.ID {
		return true
	}
	it := f.interactions[e.InteractionID]
	return it != nil && it.AgentID == p.User.ID
}

func (f *fakeService) visible(p *cc.Principal, it *cc.Interaction) bool {
	return it.TenantID == p.Tenant.ID && (p.CanSeeTenant() || it.AgentID == p.User.ID)
}

func (f *fakeService) SignIn(ctx context.Context, tenant, username, password string) (string, *cc.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	bad := cc.Errorf(cc.EUNAUTHORIZED, "wrong tenant, username or password")
	t := f.tenants[tenant]
	if t == nil {
		return "", nil, bad
	}
	u := f.users[t.ID+"/"+username]
	if u == nil || u.password != password {
		return "", nil, bad
	}
	return f.newSessionLocked(t, u.user, sessionHours*time.Hour)
}

// newSession signs a user in without a password, for tests.
func (f *fakeService) newSession(slug, username string, ttl time.Duration) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tenants[slug]
	tok, _, _ := f.newSessionLocked(t, f.users[t.ID+"/"+username].user, ttl)
	return tok
}

func (f *fakeService) newSessionLocked(t *cc.Tenant, u *cc.User, ttl time.Duration) (string, *cc.Principal, error) {
	now := f.clock.Now()
	tok := cc.RandomToken(32)
	p := &cc.Principal{Tenant: t, User: u, Session: &cc.Session{
		ID: cc.NewID("ses"), TenantID: t.ID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)}}
	f.sessions[tok] = p
	return tok, p, nil
}

func (f *fakeService) Authenticate(ctx context.Context, token string) (*cc.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.sessions[token]
	if p == nil || !f.clock.Now().Before(p.Session.ExpiresAt) {
		return nil, cc.Errorf(cc.EUNAUTHORIZED, "the session is unknown or expired: sign in again")
	}
	return p, nil
}

func (f *fakeService) SignOut(ctx context.Context, p *cc.Principal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for tok, q := range f.sessions {
		if q.Session.ID == p.Session.ID {
			delete(f.sessions, tok)
		}
	}
	return nil
}

func (f *fakeService) RefreshSession(ctx context.Context, p *cc.Principal, token string) (string, *cc.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sessions[token] == nil {
		return "", nil, cc.Errorf(cc.EUNAUTHORIZED, "the session ended: sign in again")
	}
	delete(f.sessions, token)
	tok := cc.RandomToken(32)
	se := *p.Session
	se.ExpiresAt = f.clock.Now().Add(sessionHours * time.Hour)
	np := &cc.Principal{Tenant: p.Tenant, User: p.User, Session: &se}
	f.sessions[tok] = np
	return tok, np, nil
}

func (f *fakeService) SignOutEverywhere(ctx context.Context, p *cc.Principal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for tok, q := range f.sessions {
		if q.Tenant.ID == p.Tenant.ID && q.User.ID == p.User.ID {
			delete(f.sessions, tok)
		}
	}
	return nil
}

func (f *fakeService) SessionState(ctx context.Context, p *cc.Principal) (*cc.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, q := range f.sessions {
		if q.Session.ID == p.Session.ID && f.clock.Now().Before(q.Session.ExpiresAt) {
			return q.Session, nil
		}
	}
	return nil, cc.Errorf(cc.EUNAUTHORIZED, "the session ended: sign in again")
}

func (f *fakeService) Presence(ctx context.Context, p *cc.Principal) (*cc.Presence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicWith != "" {
		panic(f.panicWith)
	}
	if f.failWith != nil {
		return nil, f.failWith
	}
	if pr := f.presence[p.User.ID]; pr != nil {
		c := *pr
		return &c, nil
	}
	return &cc.Presence{TenantID: p.Tenant.ID, UserID: p.User.ID, State: cc.StateLoggedOut}, nil
}

func (f *fakeService) SetState(ctx context.Context, p *cc.Principal, state cc.AgentState, reason string) (*cc.Presence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := cc.Presence{TenantID: p.Tenant.ID, UserID: p.User.ID}
	if pr := f.presence[p.User.ID]; pr != nil {
		cur = *pr
	}
	next, err := cur.Apply(cc.PresenceChange{Op: cc.OpSet, State: state, Reason: reason, At: f.clock.Now()}, p.Tenant.NotReadyReasons)
	if err != nil {
		return nil, err
	}
	f.presence[p.User.ID] = &next
	f.appendEvent(cc.NewEvent(p.Tenant.ID, cc.EventAgentState, next.Since, view.AgentStateEvent{Presence: view.NewPresence(&next, p.User.Username)}), "", p.User.ID)
	c := next
	return &c, nil
}

func (f *fakeService) QueueStatus(ctx context.Context, p *cc.Principal) ([]*cc.QueueStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queues[p.Tenant.ID], nil
}

func (f *fakeService) Interactions(ctx context.Context, p *cc.Principal, flt cc.InteractionFilter) ([]*cc.Interaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if flt.TenantID != p.Tenant.ID {
		return nil, cc.Errorf(cc.EINTERNAL, "filter tenant %q is not the principal's", flt.TenantID)
	}
	var out []*cc.Interaction
	for _, it := range f.interactions {
		switch {
		case !f.visible(p, it):
		case len(flt.States) > 0 && !slices.Contains(flt.States, it.State):
		case flt.QueueID != "" && it.QueueID != flt.QueueID:
		case !flt.Since.IsZero() && it.CreatedAt.Before(flt.Since):
		case !flt.Before.IsZero() && !it.CreatedAt.Before(flt.Before):
		default:
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b *cc.Interaction) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(out) > flt.Limit {
		out = out[:flt.Limit]
	}
	return out, nil
}

func (f *fakeService) Interaction(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, []*cc.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.interactions[id]
	if it == nil || !f.visible(p, it) {
		return nil, nil, cc.Errorf(cc.ENOTFOUND, "interaction %s not found", id)
	}
	var events []*cc.Event
	for _, e := range f.events {
		if e.TenantID == it.TenantID && e.InteractionID == id {
			events = append(events, e)
		}
	}
	c := *it
	return &c, events, nil
}

func (f *fakeService) WrapUp(ctx context.Context, p *cc.Principal, id string, w cc.WrapUp) (*cc.Interaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.interactions[id]
	if it == nil || !f.visible(p, it) {
		return nil, cc.Errorf(cc.ENOTFOUND, "interaction %s not found", id)
	}
	if !it.Terminal() {
		return nil, cc.Errorf(cc.ECONFLICT, "interaction %s is %s: wrap up after it ends", id, it.State)
	}
	if err := w.Validate(p.Tenant.Dispositions); err != nil {
		return nil, err
	}
	if w.RecordID != "" {
		if err := f.linkLocked(it, w.RecordID); err != nil {
			return nil, err
		}
	}
	it.Notes, it.Disposition, it.WrappedAt = w.Notes, w.Disposition, f.clock.Now()
	f.appendEvent(f.interactionEventLocked(id, cc.EventInteractionWrapped, it.WrappedAt, "", ""), id, p.User.ID)
	c := *it
	return &c, nil
}

func (f *fakeService) Link(ctx context.Context, p *cc.Principal, id, recordID string) (*cc.Interaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.interactions[id]
	if it == nil || !f.visible(p, it) {
		return nil, cc.Errorf(cc.ENOTFOUND, "interaction %s not found", id)
	}
	if err := f.linkLocked(it, recordID); err != nil {
		return nil, err
	}
	c := *it
	return &c, nil
}

func (f *fakeService) linkLocked(it *cc.Interaction, recordID string) error {
	for _, m := range it.Matches {
		if m.ID == recordID {
			rec := m
			it.LinkedRecord = &rec
			return nil
		}
	}
	return cc.Errorf(cc.EINVALID, "record %s is not one of the interaction's matches", recordID)
}

func (f *fakeService) Events(ctx context.Context, p *cc.Principal, afterSeq int64, limit int) ([]*cc.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*cc.Event
	for _, e := range f.events {
		if e.Seq > afterSeq && f.visibleEvent(p, e) && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeService) Subscribe(p *cc.Principal) (<-chan *cc.Event, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &fakeSub{p: p, ch: make(chan *cc.Event, f.subBuffer)}
	f.subs[s] = struct{}{}
	return s.ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[s]; ok {
			close(s.ch)
			delete(f.subs, s)
		}
	}
}

func (f *fakeService) Names(tenantID string) view.Names {
	return fakeNames{f: f, tenantID: tenantID}
}

func (f *fakeService) Ready(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readyErr
}

var _ Service = (*fakeService)(nil)

// controlLocked returns the connected interaction p may control.
func (f *fakeService) controlLocked(p *cc.Principal, id string) (*cc.Interaction, error) {
	it := f.interactions[id]
	if it == nil || !f.visible(p, it) {
		return nil, cc.ErrInteractionNotFound(id)
	}
	if it.State != cc.InteractionConnected {
		return nil, cc.Errorf(cc.ECONFLICT, "interaction %s is %s, not connected", id, it.State)
	}
	return it, nil
}

func (f *fakeService) control(p *cc.Principal, id string, apply func(it *cc.Interaction) error) (*cc.Interaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, err := f.controlLocked(p, id)
	if err != nil {
		return nil, err
	}
	if err := apply(it); err != nil {
		return nil, err
	}
	cp := *it
	return &cp, nil
}

func (f *fakeService) PlaceCall(ctx context.Context, p *cc.Principal, req cc.DialRequest) (*cc.Interaction, error) {
	return nil, cc.Errorf(cc.ECONFLICT, "tenant has no outbound trunk: `parley admin trunk update --outbound-uri`")
}

func (f *fakeService) Accept(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, error) {
	return f.offered(p, id)
}

func (f *fakeService) Reject(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, error) {
	return f.offered(p, id)
}

func (f *fakeService) offered(p *cc.Principal, id string) (*cc.Interaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.interactions[id]
	if it == nil || !f.visible(p, it) {
		return nil, cc.ErrInteractionNotFound(id)
	}
	if it.State != cc.InteractionOffered || it.AgentID != p.User.ID {
		return nil, cc.Errorf(cc.ECONFLICT, "interaction %s is not ringing for %s", id, p.User.Username)
	}
	cp := *it
	return &cp, nil
}

func (f *fakeService) Hold(ctx context.Context, p *cc.Principal, id string, on bool) (*cc.Interaction, error) {
	return f.control(p, id, func(it *cc.Interaction) error { it.Held = on; return nil })
}

func (f *fakeService) Mute(ctx context.Context, p *cc.Principal, id string, on bool) (*cc.Interaction, error) {
	return f.control(p, id, func(it *cc.Interaction) error { it.Muted = on; return nil })
}

func (f *fakeService) SendDTMF(ctx context.Context, p *cc.Principal, id, digits string) (*cc.Interaction, error) {
	return f.control(p, id, func(it *cc.Interaction) error { return nil })
}

func (f *fakeService) HangupCall(ctx context.Context, p *cc.Principal, id string) (*cc.Interaction, error) {
	return f.control(p, id, func(it *cc.Interaction) error { return nil })
}

func (f *fakeService) Transfer(ctx context.Context, p *cc.Principal, id string, to cc.TransferTarget) (*cc.Interaction, error) {
	return f.control(p, id, func(it *cc.Interaction) error {
		it.State, it.QueueID, it.AgentID = cc.InteractionQueued, to.QueueID, ""
		return nil
	})
}

func (f *fakeService) Agents(ctx context.Context, p *cc.Principal) ([]cc.AgentInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []cc.AgentInfo
	for _, u := range f.users {
		if u.user.TenantID != p.Tenant.ID || !u.user.IsAgent() {
			continue
		}
		st := cc.StateLoggedOut
		reason := ""
		if pr := f.presence[u.user.ID]; pr != nil {
			st, reason = pr.State, pr.Reason
		}
		out = append(out, cc.AgentInfo{ID: u.user.ID, Username: u.user.Username, Name: u.user.Name(), State: st, Reason: reason, Endpoint: u.user.EndpointKind()})
	}
	slices.SortFunc(out, func(a, b cc.AgentInfo) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}
