package storetest

import (
	"net/netip"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// ids returns the IDs of a list, for comparing order.
func ids[T any](list []*T, id func(*T) string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, id(v))
	}
	return out
}

func testTenants(f *fixture) {
	acme := f.tenant("acme")
	if acme.ID == "" {
		f.t.Fatal("CreateTenant left the ID empty")
	}
	got, err := f.s.Tenant(f.ctx, acme.ID)
	f.must(err, "read tenant")
	f.equal(got, acme, "tenant by id")

	got, err = f.s.TenantBySlug(f.ctx, "ACME")
	f.must(err, "read tenant by upper-case slug")
	f.equal(got, acme, "tenant by slug")

	dup := &cc.Tenant{Slug: "acme", Region: "US"}
	dup.Normalize()
	f.wantConflict(f.s.CreateTenant(f.ctx, dup), "acme", "create tenant with a taken slug")
	again := *acme
	again.Slug = "other"
	f.wantCode(f.s.CreateTenant(f.ctx, &again), cc.ECONFLICT, "create tenant with a taken id")

	bad := &cc.Tenant{Slug: "Not A Slug", Region: "US"}
	bad.Normalize()
	f.wantCode(f.s.CreateTenant(f.ctx, bad), cc.EINVALID, "create invalid tenant")

	_, err = f.s.Tenant(f.ctx, "ten_missing")
	f.wantCode(err, cc.ENOTFOUND, "read missing tenant")
	_, err = f.s.TenantBySlug(f.ctx, "missing")
	f.wantCode(err, cc.ENOTFOUND, "read missing tenant by slug")

	// Update replaces every field but the id and the creation time.
	acme.DisplayName = "ACME Corp"
	acme.Kind = cc.KindUnifiedLoginUC
	acme.Region = "GB"
	acme.TimeZone = "Europe/London"
	acme.NotReadyReasons = []string{}
	acme.Dispositions = []string{"Done"}
	acme.CRM = cc.CRMConnection{Kind: "salesforce", LoginURL: "https://login.example.com", APIVersion: "62.0",
		ClientID: "3MVG9", ClientSecret: []byte("s3cret"), LogCapBytes: 1000, BaseURL: "https://parley.example.com"}
	f.must(f.s.UpdateTenant(f.ctx, acme), "update tenant")
	got, err = f.s.Tenant(f.ctx, acme.ID)
	f.must(err, "read updated tenant")
	f.equal(got, acme, "updated tenant")

	missing := *acme
	missing.ID = "ten_missing"
	missing.Slug = "missing"
	f.wantCode(f.s.UpdateTenant(f.ctx, &missing), cc.ENOTFOUND, "update missing tenant")

	f.tenant("zeta")
	beta := f.tenant("beta")
	beta.Slug = "zeta"
	f.wantConflict(f.s.UpdateTenant(f.ctx, beta), "zeta", "rename tenant to a taken slug")

	list, err := f.s.Tenants(f.ctx)
	f.must(err, "list tenants")
	f.equal(ids(list, func(t *cc.Tenant) string { return t.Slug }), []string{"acme", "beta", "zeta"}, "tenants by slug")
}

func testTenantSecrets(f *fixture) {
	t := &cc.Tenant{Slug: "vault", Region: "US", CreatedAt: t0, CRM: cc.CRMConnection{
		Kind: "salesforce", LoginURL: "https://login.salesforce.com", APIVersion: "62.0", ClientID: "3MVG9",
		Username:     "integration@vault.example",
		PrivateKey:   []byte("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n"),
		ClientSecret: []byte("client-secret-\x00-bytes"),
	}}
	t.Normalize()
	f.must(f.s.CreateTenant(f.ctx, t), "create tenant with secrets")
	got, err := f.s.Tenant(f.ctx, t.ID)
	f.must(err, "read tenant with secrets")
	f.equal(got, t, "tenant with secrets")

	t.CRM.ClientSecret = nil
	f.must(f.s.UpdateTenant(f.ctx, t), "remove the client secret")
	got, err = f.s.TenantBySlug(f.ctx, "vault")
	f.must(err, "read tenant without client secret")
	f.equal(got, t, "tenant without client secret")
}

func testUsers(f *fixture) {
	acme, globex := f.tenant("acme"), f.tenant("globex")
	carol := f.user(acme, "carol", "")
	alice := f.user(acme, "alice", "alice-phone")
	bob := f.user(acme, "bob", "")
	if alice.ID == "" {
		f.t.Fatal("CreateUser left the ID empty")
	}

	got, err := f.s.User(f.ctx, acme.ID, alice.ID)
	f.must(err, "read user")
	f.equal(got, alice, "user by id")
	got, err = f.s.UserByUsername(f.ctx, acme.ID, "ALICE")
	f.must(err, "read user by upper-case username")
	f.equal(got, alice, "user by username")
	got, err = f.s.UserBySIPUsername(f.ctx, "alice-phone")
	f.must(err, "read user by SIP username")
	f.equal(got, alice, "user by SIP username")

	f.wantConflict(f.s.CreateUser(f.ctx, newUser(acme, "alice", "")), "alice", "create user with a taken username")
	f.wantConflict(f.s.CreateUser(f.ctx, newUser(globex, "other", "alice-phone")), "alice-phone", "create user with a SIP username taken in another tenant")
	f.user(globex, "alice", "globex-alice") // usernames are per tenant

	// E-mail usernames keep their case but are unique and found without it.
	dave := f.user(acme, "Dave@Example.com", "")
	got, err = f.s.UserByUsername(f.ctx, acme.ID, "dave@example.COM")
	f.must(err, "read user by e-mail username in another case")
	f.equal(got, dave, "user by e-mail username")
	f.wantConflict(f.s.CreateUser(f.ctx, newUser(acme, "dave@EXAMPLE.com", "")), "dave@EXAMPLE.com", "create user with a taken username in another case")

	dup := newUser(acme, "erin", "")
	dup.ID = alice.ID
	f.wantCode(f.s.CreateUser(f.ctx, dup), cc.ECONFLICT, "create user with a taken id")
	f.wantCode(f.s.CreateUser(f.ctx, newUser(&cc.Tenant{ID: "ten_missing"}, "frank", "")), cc.ENOTFOUND, "create user in a missing tenant")
	invalid := newUser(acme, "grace", "")
	invalid.Roles = nil
	f.wantCode(f.s.CreateUser(f.ctx, invalid), cc.EINVALID, "create user without a role")
	invalid = newUser(acme, "grace", "")
	invalid.Endpoint = cc.EndpointSIP
	f.wantCode(f.s.CreateUser(f.ctx, invalid), cc.EINVALID, "create a SIP-phone user without a SIP username or static contact")
	invalid.Endpoint = cc.EndpointExternal
	f.wantCode(f.s.CreateUser(f.ctx, invalid), cc.EINVALID, "create an external-number user without a number")

	// An endpoint left empty is stored as the browser it reads as.
	ivan := newUser(acme, "ivan", "")
	ivan.Endpoint = ""
	f.must(f.s.CreateUser(f.ctx, ivan), "create user without an endpoint")
	got, err = f.s.User(f.ctx, acme.ID, ivan.ID)
	f.must(err, "read user created without an endpoint")
	ivan.Endpoint = cc.EndpointBrowser
	f.equal(got, ivan, "user created without an endpoint")

	_, err = f.s.User(f.ctx, acme.ID, "usr_missing")
	f.wantCode(err, cc.ENOTFOUND, "read missing user")
	_, err = f.s.UserByUsername(f.ctx, acme.ID, "nobody")
	f.wantCode(err, cc.ENOTFOUND, "read missing username")
	_, err = f.s.UserBySIPUsername(f.ctx, "no-phone")
	f.wantCode(err, cc.ENOTFOUND, "read missing SIP username")
	_, err = f.s.UserBySIPUsername(f.ctx, "")
	f.wantCode(err, cc.ENOTFOUND, "read empty SIP username")

	list, err := f.s.Users(f.ctx, acme.ID)
	f.must(err, "list users")
	f.equal(ids(list, func(u *cc.User) string { return u.Username }), []string{"alice", "bob", "carol", "Dave@Example.com", "ivan"}, "users by username")

	// Update replaces the fields; the SIP username moves from alice to bob,
	// and alice takes calls on an external number instead.
	alice.DisplayName = "Alice A."
	alice.Roles = []cc.Role{cc.RoleAdmin}
	alice.Skills = []string{}
	alice.SIPUsername, alice.SIPHA1, alice.StaticContact = "", "", ""
	alice.Endpoint, alice.ExternalNumber = cc.EndpointExternal, "+12015550123"
	alice.Disabled = true
	f.must(f.s.UpdateUser(f.ctx, alice), "update user")
	got, err = f.s.User(f.ctx, acme.ID, alice.ID)
	f.must(err, "read updated user")
	f.equal(got, alice, "updated user")
	bob.SIPUsername, bob.SIPHA1 = "alice-phone", "fedcba9876543210fedcba9876543210"
	bob.Endpoint = cc.EndpointSIP
	f.must(f.s.UpdateUser(f.ctx, bob), "give the freed SIP username to another user")
	got, err = f.s.UserBySIPUsername(f.ctx, "alice-phone")
	f.must(err, "read user by moved SIP username")
	f.equal(got, bob, "user by moved SIP username")

	carol.Username = "dave@example.com"
	f.wantConflict(f.s.UpdateUser(f.ctx, carol), "dave@example.com", "rename user to a taken username in another case")
	carol.Username = "carol"
	carol.SIPUsername, carol.SIPHA1 = "globex-alice", "0123456789abcdef0123456789abcdef"
	f.wantConflict(f.s.UpdateUser(f.ctx, carol), "globex-alice", "give user a SIP username taken in another tenant")
	missing := newUser(acme, "henry", "")
	missing.ID = "usr_missing"
	f.wantCode(f.s.UpdateUser(f.ctx, missing), cc.ENOTFOUND, "update missing user")
}

func testPresence(f *fixture) {
	acme := f.tenant("acme")
	bob, alice := f.user(acme, "bob", ""), f.user(acme, "alice", "")
	p := &cc.Presence{
		TenantID: acme.ID, UserID: alice.ID, State: cc.StateWrapUp, Since: at(time.Second),
		AvailableSince: at(-time.Hour), InteractionID: "int_1", Outbound: true,
		ReturnState: cc.StateNotReady, ReturnReason: "lunch", PendingState: cc.StateLoggedOut,
		WrapUpDeadline: at(time.Minute), Version: 12,
	}
	f.must(f.s.SavePresence(f.ctx, p), "save presence")
	list, err := f.s.Presences(f.ctx, acme.ID)
	f.must(err, "list presence")
	f.equal(list, []*cc.Presence{p}, "presence")

	// Saving again replaces; zero times stay zero.
	p2 := &cc.Presence{TenantID: acme.ID, UserID: alice.ID, State: cc.StateNotReady, Reason: "break", Since: at(2 * time.Second), Version: 13}
	f.must(f.s.SavePresence(f.ctx, p2), "replace presence")
	q := &cc.Presence{TenantID: acme.ID, UserID: bob.ID, State: cc.StateAvailable, Since: t0, AvailableSince: t0}
	f.must(f.s.SavePresence(f.ctx, q), "save second presence")
	list, err = f.s.Presences(f.ctx, acme.ID)
	f.must(err, "list presence")
	want := []*cc.Presence{p2, q}
	if bob.ID < alice.ID {
		want = []*cc.Presence{q, p2}
	}
	f.equal(list, want, "presence after replace, by user id")

	f.wantCode(f.s.SavePresence(f.ctx, &cc.Presence{TenantID: acme.ID, UserID: "usr_missing", State: cc.StateAvailable}),
		cc.ENOTFOUND, "save presence of a missing user")
	f.wantCode(f.s.SavePresence(f.ctx, &cc.Presence{TenantID: acme.ID, UserID: bob.ID, State: "asleep"}),
		cc.EINVALID, "save presence with an unknown state")
}

func testQueues(f *fixture) {
	acme, globex := f.tenant("acme"), f.tenant("globex")
	support := f.queue(acme, "Support")
	sales := f.queue(acme, "Sales")
	billing := f.queue(acme, "Billing")
	if sales.ID == "" {
		f.t.Fatal("CreateQueue left the ID empty")
	}

	got, err := f.s.Queue(f.ctx, acme.ID, sales.ID)
	f.must(err, "read queue")
	f.equal(got, sales, "queue by id")
	got, err = f.s.QueueByName(f.ctx, acme.ID, "sALES")
	f.must(err, "read queue by name in another case")
	f.equal(got, sales, "queue by name")

	dup := &cc.Queue{TenantID: acme.ID, Name: "SALES"}
	dup.Normalize()
	f.wantConflict(f.s.CreateQueue(f.ctx, dup), "SALES", "create queue with a taken name in another case")
	f.queue(globex, "Sales") // names are per tenant
	bad := &cc.Queue{TenantID: acme.ID, Name: "Bad", ServiceLevel: time.Millisecond, OfferTimeout: 10 * time.Second}
	f.wantCode(f.s.CreateQueue(f.ctx, bad), cc.EINVALID, "create invalid queue")
	orphan := &cc.Queue{TenantID: "ten_missing", Name: "Orphan"}
	orphan.Normalize()
	f.wantCode(f.s.CreateQueue(f.ctx, orphan), cc.ENOTFOUND, "create queue in a missing tenant")

	_, err = f.s.Queue(f.ctx, acme.ID, "que_missing")
	f.wantCode(err, cc.ENOTFOUND, "read missing queue")
	_, err = f.s.QueueByName(f.ctx, acme.ID, "Missing")
	f.wantCode(err, cc.ENOTFOUND, "read missing queue by name")

	list, err := f.s.Queues(f.ctx, acme.ID)
	f.must(err, "list queues")
	f.equal(list, []*cc.Queue{billing, sales, support}, "queues by name")

	sales.Name = "Sales EMEA"
	sales.Priority = 0
	sales.Skills = []string{"sales", "emea"}
	sales.ServiceLevel = time.Minute
	sales.WrapUp = 0
	sales.MaxWait = 0
	sales.OverflowQueueID = support.ID
	sales.Dispositions = nil
	sales.Announcement, sales.HoldMusic = "", ""
	f.must(f.s.UpdateQueue(f.ctx, sales), "update queue")
	got, err = f.s.QueueByName(f.ctx, acme.ID, "sales emea")
	f.must(err, "read renamed queue")
	f.equal(got, sales, "updated queue")
	_, err = f.s.QueueByName(f.ctx, acme.ID, "Sales")
	f.wantCode(err, cc.ENOTFOUND, "read queue by its old name")

	billing.Name = "support"
	f.wantConflict(f.s.UpdateQueue(f.ctx, billing), "support", "rename queue to a taken name")
	missing := *support
	missing.ID = "que_missing"
	missing.Name = "Missing"
	f.wantCode(f.s.UpdateQueue(f.ctx, &missing), cc.ENOTFOUND, "update missing queue")
}

func testEntryPoints(f *fixture) {
	acme, globex := f.tenant("acme"), f.tenant("globex")
	sales, support := f.queue(acme, "Sales"), f.queue(acme, "Support")
	b := f.entryPoint(acme, support, "+15550200")
	a := f.entryPoint(acme, sales, "+15550100")
	if a.ID == "" {
		f.t.Fatal("CreateEntryPoint left the ID empty")
	}
	got, err := f.s.EntryPointByNumber(f.ctx, acme.ID, "+15550100")
	f.must(err, "read entry point")
	f.equal(got, a, "entry point by number")

	f.wantConflict(f.s.CreateEntryPoint(f.ctx, &cc.EntryPoint{TenantID: acme.ID, Number: "+15550100", QueueID: support.ID}),
		"+15550100", "create entry point with a taken number")
	f.entryPoint(globex, f.queue(globex, "Sales"), "+15550100") // numbers are per tenant
	f.wantCode(f.s.CreateEntryPoint(f.ctx, &cc.EntryPoint{TenantID: acme.ID, Number: "+15550300", QueueID: "que_missing"}),
		cc.ENOTFOUND, "create entry point into a missing queue")
	f.wantCode(f.s.CreateEntryPoint(f.ctx, &cc.EntryPoint{TenantID: acme.ID, Number: "5550300", QueueID: sales.ID}),
		cc.EINVALID, "create entry point with a number that is not E.164")

	list, err := f.s.EntryPoints(f.ctx, acme.ID)
	f.must(err, "list entry points")
	f.equal(list, []*cc.EntryPoint{a, b}, "entry points by number")

	f.must(f.s.DeleteEntryPoint(f.ctx, acme.ID, a.ID), "delete entry point")
	_, err = f.s.EntryPointByNumber(f.ctx, acme.ID, "+15550100")
	f.wantCode(err, cc.ENOTFOUND, "read deleted entry point")
	f.wantCode(f.s.DeleteEntryPoint(f.ctx, acme.ID, a.ID), cc.ENOTFOUND, "delete entry point twice")
	list, err = f.s.EntryPoints(f.ctx, acme.ID)
	f.must(err, "list entry points")
	f.equal(list, []*cc.EntryPoint{b}, "entry points after delete")
}

func testTrunks(f *fixture) {
	// Fixed ids make "ordered by tenant" one order whether a store sorts
	// tenants by id or by slug.
	acme := &cc.Tenant{ID: "ten_a", Slug: "acme", Region: "US", CreatedAt: t0}
	globex := &cc.Tenant{ID: "ten_b", Slug: "globex", Region: "US", CreatedAt: t0}
	for _, t := range []*cc.Tenant{globex, acme} {
		t.Normalize()
		f.must(f.s.CreateTenant(f.ctx, t), "create tenant %s", t.Slug)
	}
	gz := f.trunk(globex, "zeta")
	b := f.trunk(acme, "carrier-b")
	a := f.trunk(acme, "Carrier-A")
	if a.ID == "" {
		f.t.Fatal("CreateTrunk left the ID empty")
	}
	list, err := f.s.Trunks(f.ctx, acme.ID)
	f.must(err, "list trunks")
	f.equal(list, []*cc.Trunk{a, b}, "trunks of a tenant by name")
	list, err = f.s.Trunks(f.ctx, "")
	f.must(err, "list all trunks")
	f.equal(list, []*cc.Trunk{a, b, gz}, "all trunks by tenant and name")

	dup := &cc.Trunk{TenantID: acme.ID, Name: "CARRIER-B", CIDRs: []netip.Prefix{netip.MustParsePrefix("198.51.100.7/32")}}
	f.wantConflict(f.s.CreateTrunk(f.ctx, dup), "CARRIER-B", "create trunk with a taken name in another case")
	f.wantCode(f.s.CreateTrunk(f.ctx, &cc.Trunk{TenantID: acme.ID, Name: "empty"}), cc.EINVALID, "create trunk without networks")

	a.CIDRs = []netip.Prefix{netip.MustParsePrefix("::1/128")}
	a.OutboundURI = ""
	f.must(f.s.UpdateTrunk(f.ctx, a), "update trunk")
	list, err = f.s.Trunks(f.ctx, acme.ID)
	f.must(err, "list trunks")
	f.equal(list, []*cc.Trunk{a, b}, "trunks after update")

	b.Name = "carrier-a"
	f.wantConflict(f.s.UpdateTrunk(f.ctx, b), "carrier-a", "rename trunk to a taken name")
	missing := *gz
	missing.ID = "trk_missing"
	f.wantCode(f.s.UpdateTrunk(f.ctx, &missing), cc.ENOTFOUND, "update missing trunk")
}

// testTenantCRMOrigins: the origins allowed to frame the panel are kept in
// order, replaced by an update, and an empty list reads back empty.
func testTenantCRMOrigins(f *fixture) {
	t := &cc.Tenant{Slug: "framed", Region: "US", CreatedAt: t0, CRMOrigins: []string{
		"https://framed.lightning.force.com", "https://framed.my.salesforce.com", "http://127.0.0.1:8081"}}
	t.Normalize()
	f.must(f.s.CreateTenant(f.ctx, t), "create tenant with CRM origins")
	got, err := f.s.TenantBySlug(f.ctx, "framed")
	f.must(err, "read tenant with CRM origins")
	f.equal(got.CRMOrigins, t.CRMOrigins, "CRM origins")

	t.CRMOrigins = []string{"https://framed--c.vf.force.com"}
	f.must(f.s.UpdateTenant(f.ctx, t), "update CRM origins")
	got, err = f.s.Tenant(f.ctx, t.ID)
	f.must(err, "read updated CRM origins")
	f.equal(got.CRMOrigins, t.CRMOrigins, "updated CRM origins")

	t.CRMOrigins = nil
	f.must(f.s.UpdateTenant(f.ctx, t), "clear CRM origins")
	got, err = f.s.Tenant(f.ctx, t.ID)
	f.must(err, "read cleared CRM origins")
	if len(got.CRMOrigins) != 0 {
		f.t.Errorf("cleared CRM origins read back as %q", got.CRMOrigins)
	}

	bad := &cc.Tenant{Slug: "badorigin", Region: "US", CRMOrigins: []string{"https://evil.example.com"}}
	bad.Normalize()
	f.wantCode(f.s.CreateTenant(f.ctx, bad), cc.EINVALID, "create tenant with a foreign CRM origin")
}
