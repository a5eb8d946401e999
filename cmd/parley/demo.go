package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing/fstest"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/callcenter"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/devcrm"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

// demoFile is what `parley demo` writes to DIR/demo.json.
type demoFile struct {
	HTTP   string `json:"http"`
	SIP    string `json:"sip"`
	CRM    string `json:"crm"`
	Tenant string `json:"tenant"` // the main demo tenant, acme
	// Tenants are the demo's tenants: acme (kind 3, single sign-on) and
	// oldco (kind 1, legacy: password sign-in only).
	Tenants     []demoTenantInfo `json:"tenants"`
	EntryPoints []demoEntry      `json:"entry_points"`
	Users       []demoUser       `json:"users"`
	CRMClient   demoCRMClient    `json:"crm_client"`
	// SSOClient is the connected app acme's agents sign in to Parley with
	// (single sign-on): devcrm's OpenID provider, PKCE required.
	SSOClient demoCRMClient `json:"sso_client"`
	// TrySSO says how to try single sign-on and the legacy tenant from
	// devcrm's console.
	TrySSO []string `json:"try_sso"`
	// CRMConsole is where to open devcrm with the softphone; CRMUsers sign
	// in there.
	CRMConsole demoCRMConsole `json:"crm_console"`
	CRMUsers   []demoCRMLogin `json:"crm_users"`

	tenants []*cc.Tenant // seeded, for the call center definitions (acme first)
	prev    *demoFile    // the previous run's file, nil on the first
}

type demoCRMConsole struct {
	Lightning string `json:"lightning"`
	Classic   string `json:"classic"`
}

// demoCRMLogin signs in to devcrm's pages.
type demoCRMLogin struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	CallCenter bool   `json:"call_center_user"`
	// Tenant is the Parley tenant whose call center (softphone) the user
	// is in; empty for none.
	Tenant string `json:"tenant,omitempty"`
	// Parley is the Parley user single sign-on maps the user to; empty for
	// none (carol: the panel says so).
	Parley string `json:"parley_user,omitempty"`
}

// demoTenantInfo is a demo tenant as demo.json lists it.
type demoTenantInfo struct {
	Slug    string `json:"slug"`
	Kind    int    `json:"kind"`
	Cluster string `json:"cluster"`
}

type demoEntry struct {
	Tenant string `json:"tenant"`
	Number string `json:"number"`
	Queue  string `json:"queue"`
	URI    string `json:"uri"`
}

type demoUser struct {
	Tenant      string `json:"tenant"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	Role        string `json:"role"`
	SIPUsername string `json:"sip_username,omitempty"`
	SIPPassword string `json:"sip_password,omitempty"`
	// Endpoint is where the user takes calls (browser, sip or external).
	Endpoint string `json:"endpoint"`
}

type demoCRMClient struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

const (
	demoTenant   = "acme"
	demoLegacy   = "oldco" // the legacy (kind 1) demo tenant
	demoClientID = "parley-demo"
	// demoSSOClientID is the connected app of acme's single sign-on.
	demoSSOClientID = "parley-sso"
	demoCRMUser     = "integration@devcrm.example.com"
)

// demoUsers are the demo tenant's users. alice talks in the browser panel
// and keeps a SIP login, so `parley admin user set --endpoint sip` puts her
// on a SIP phone; bob takes calls on his SIP phone.
var demoUsers = []demoUserSpec{
	{"alice", "Alice Agent", "agent", []string{"sales", "support"}, true, cc.EndpointBrowser},
	{"bob", "Bob Agent", "agent", []string{"sales", "support"}, true, cc.EndpointSIP},
	{"sam", "Sam Supervisor", "supervisor", nil, false, cc.EndpointBrowser},
	{"ada", "Ada Admin", "admin", nil, false, cc.EndpointBrowser},
}

// demoUserSpec is a demo user.
type demoUserSpec struct {
	username, display, role string
	skills                  []string
	sip                     bool
	endpoint                cc.Endpoint
}

// demoQueueSpec is a demo queue and its entry point's number.
type demoQueueSpec struct {
	name, number string
	priority     int
	// collect and search: Support asks for an account number (up to 8
	// digits, '#' ends) and searches devcrm's Account.AccountNumber with it
	// before the caller's number.
	collect *cc.DigitCollection
	search  []cc.SearchField
}

var demoQueues = []demoQueueSpec{
	{"Sales", "+15550100", 1, nil, nil},
	{"Support", "+15550101", 0, &cc.DigitCollection{Key: "account_number", MaxDigits: 8},
		[]cc.SearchField{{Key: "account_number", Object: "Account", Field: "AccountNumber"}}},
}

// demoTenantSpec is a demo tenant: what createDemoTenant creates.
type demoTenantSpec struct {
	slug, display string
	kind          cc.TenantKind
	cluster       string
	queues        []demoQueueSpec
	users         []demoUserSpec
	// trunk is the loopback network the tenant's trunk allows; outbound is
	// its outbound URI (click-to-dial), empty for none.
	trunk    []netip.Prefix
	outbound string
	// crm is whether the tenant is connected to devcrm.
	crm bool
}

// demoTenants are the demo's tenants. acme is a kind-3 (unified login +
// UC) tenant on cluster na6, the cluster whose kind-3 tenants use the
// reference's override (the bare .../login/vcc), a kind that offers single
// sign-on; oldco is a legacy (kind 1) tenant on na12 with its own agent
// (olga, in the browser panel), queue and number, which signs in with a
// password only. oldco's trunk is 127.0.0.1/32: calls from 127.0.0.1 try
// it first (the most specific), and a number it has not goes on to acme's
// 127.0.0.0/8.
var demoTenants = []demoTenantSpec{
	{slug: demoTenant, display: "Acme Corporation", kind: cc.KindUnifiedLoginUC, cluster: "na6", queues: demoQueues, users: demoUsers,
		trunk: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, outbound: demoCustomerURI, crm: true},
	{slug: demoLegacy, display: "Oldco Ltd", kind: cc.KindLegacy, cluster: "na12",
		queues: []demoQueueSpec{{name: "Service", number: "+15550200"}},
		users:  []demoUserSpec{{"olga", "Olga Agent", "agent", []string{"service"}, false, cc.EndpointBrowser}},
		trunk:  []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	data := fs.String("data", "./parley-demo", "data `directory` (kept between runs)")
	httpAddr := fs.String("http", "127.0.0.1:8080", "HTTP listen `address`")
	sipAddr := fs.String("sip", "127.0.0.1:5060", "SIP listen `address` (UDP and TCP)")
	crmAddr := fs.String("crm", "127.0.0.1:8081", "devcrm listen `address` (its own origin)")
	verbose := fs.Bool("v", false, "log at debug level")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	warnUnknownEnv(stderr)
	// Single sign-on's callback is registered in devcrm before Parley
	// listens: an address with port 0 gets its free port now.
	listen, err := demoHTTPAddr(*httpAddr)
	if err != nil {
		return err
	}
	*httpAddr = listen
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", *data, err)
	}
	// Lock before devcrm and seeding touch the directory; Main.Run keeps
	// the lock and Close releases it.
	lock, err := lockDataDir(*data)
	if err != nil {
		return err
	}
	defer lock.Close()
	m := NewMain()
	m.dataLock = lock
	if err := m.configure("", *data, *httpAddr, *sipAddr); err != nil {
		return err
	}
	m.Config.HTTP.PublicURL = "http://" + *httpAddr
	if *verbose {
		m.Config.Log.Level = "debug"
	}
	m.Logger = newLogger(m.Config, stderr)

	crm, err := devcrm.New(devcrm.Config{Addr: *crmAddr, DBPath: filepath.Join(*data, "devcrm.db"), Logger: m.Logger})
	if err != nil {
		return err
	}
	if err := crm.Start(ctx); err != nil {
		return fmt.Errorf("start devcrm on %s: %w", *crmAddr, err)
	}
	defer crm.Close()

	info, err := seedDemo(ctx, m, crm)
	if err != nil {
		return fmt.Errorf("seed the demo: %w", err)
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	info.HTTP = m.HTTPURL()
	info.SIP = "sip:" + *sipAddr
	info.CRM = crm.URL()
	// The call center points at Parley's listener, known once it runs.
	if info.CRMUsers, err = seedDemoCRMUsers(ctx, m.HTTPURL(), crm, info.tenants, info.prev); err != nil {
		m.Close()
		return fmt.Errorf("seed devcrm's call center: %w", err)
	}
	info.CRMConsole = demoCRMConsole{Lightning: crm.URL() + "/lightning/page/home", Classic: crm.URL() + "/console"}
	info.TrySSO = demoTrySSO(info)
	for i := range info.EntryPoints {
		info.EntryPoints[i].URI = "sip:" + info.EntryPoints[i].Number + "@" + *sipAddr
	}
	if err := writeDemoFile(filepath.Join(*data, "demo.json"), info); err != nil {
		return err
	}
	printDemo(stdout, info, *sipAddr, filepath.Join(*data, "demo.json"))
	return waitAndShutdown(ctx, m)
}

// demoHTTPAddr returns addr, or, when its port is 0, the address with a
// port that is free now.
func demoHTTPAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", cc.Errorf(cc.EINVALID, "--http %q: give host:port, such as 127.0.0.1:8080", addr)
	}
	if port != "0" {
		return addr, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free HTTP port on %s: %w", host, err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// seedDemo creates the demo tenants on first start and makes sure the
// credentials in demo.json work on every start.
func seedDemo(ctx context.Context, m *Main, crm *devcrm.Server) (*demoFile, error) {
	keyring, err := loadKeyring(ctx, &m.Config)
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, m.Config.DatabasePath(), sqlite.Options{Sealer: keyring})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	path := filepath.Join(m.Config.DataDir, "demo.json")
	prev, _ := readDemoFile(path)
	info := &demoFile{Tenant: demoTenant}
	tenants := make([]*cc.Tenant, len(demoTenants))
	for i, spec := range demoTenants {
		t, err := store.TenantBySlug(ctx, spec.slug)
		switch {
		case cc.IsCode(err, cc.ENOTFOUND):
			if t, err = createDemoTenant(ctx, store, spec); err != nil {
				return nil, err
			}
			if spec.slug == demoTenant {
				prev = nil // fresh credentials for a fresh database
			}
		case err != nil:
			return nil, err
		}
		tenants[i] = t
	}
	// Users: keep the passwords demo.json holds; set new ones otherwise
	// (the database keeps only hashes). The users of a file from before
	// users had a tenant are acme's.
	known := map[string]demoUser{}
	if prev != nil {
		for _, u := range prev.Users {
			if u.Tenant == "" {
				u.Tenant = demoTenant
			}
			known[u.Tenant+"/"+u.Username] = u
		}
	}
	for i, spec := range demoTenants {
		t := tenants[i]
		if err := seedDemoTenant(ctx, m, store, crm, t, spec, info, prev); err != nil {
			return nil, err
		}
		info.Tenants = append(info.Tenants, demoTenantInfo{Slug: t.Slug, Kind: int(t.Kind), Cluster: t.Cluster})
		for _, q := range spec.queues {
			info.EntryPoints = append(info.EntryPoints, demoEntry{Tenant: t.Slug, Number: q.number, Queue: q.name})
		}
		realm := m.Config.SIP.Realm
		for _, du := range spec.users {
			u, err := store.UserByUsername(ctx, t.ID, du.username)
			if err != nil {
				return nil, err
			}
			entry, ok := known[t.Slug+"/"+du.username]
			if !ok || entry.Password == "" || !auth.VerifyPassword(u.PasswordHash, entry.Password) ||
				(du.sip && auth.SIPHA1(u.SIPUsername, realm, entry.SIPPassword) != u.SIPHA1) {
				entry = demoUser{Username: du.username, Role: du.role, Password: auth.GeneratePassword(12)}
				if u.PasswordHash, err = auth.HashPassword(entry.Password); err != nil {
					return nil, err
				}
				if du.sip {
					entry.SIPUsername, entry.SIPPassword = u.SIPUsername, auth.GeneratePassword(12)
					u.SIPHA1 = auth.SIPHA1(u.SIPUsername, realm, entry.SIPPassword)
				}
				if err := store.UpdateUser(ctx, u); err != nil {
					return nil, err
				}
			}
			entry.Tenant = t.Slug
			entry.Endpoint = string(u.EndpointKind()) // an admin may have changed it
			info.Users = append(info.Users, entry)
		}
	}
	info.prev, info.tenants = prev, tenants
	for _, t := range tenants {
		if err := mapDemoCRMUsers(ctx, store, t); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// seedDemoTenant points a demo tenant at this run's devcrm: its origin may
// frame the panel, and a tenant with spec.crm gets the CRM connection and
// the apps registered (devcrm's data may be new even when Parley's is not):
// the integration's (JWT bearer) and single sign-on's (authorization code
// with PKCE, its callback Parley's /sso/callback); info.CRMClient and
// info.SSOClient are acme's.
func seedDemoTenant(ctx context.Context, m *Main, store *sqlite.DB, crm *devcrm.Server, t *cc.Tenant, spec demoTenantSpec, info, prev *demoFile) error {
	// devcrm's pages frame the agent panel: its origin (this run's address)
	// must be one of the tenant's CRM origins.
	origin, err := cc.ParseCRMOrigin(crm.URL())
	if err != nil {
		return fmt.Errorf("devcrm origin: %w", err)
	}
	if !slices.Contains(t.CRMOrigins, origin) {
		t.CRMOrigins = append(t.CRMOrigins, origin)
	}
	if !spec.crm {
		return store.UpdateTenant(ctx, t)
	}
	if len(t.CRM.PrivateKey) == 0 {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		t.CRM.PrivateKey = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	t.CRM.Kind, t.CRM.LoginURL, t.CRM.ClientID, t.CRM.Username = "salesforce", crm.URL(), demoClientID, demoCRMUser
	t.CRM.BaseURL = m.Config.PublicURL()
	// Single sign-on: the issuer is devcrm's URL, the tenant's login URL.
	if prev != nil && prev.SSOClient.Secret != "" {
		info.SSOClient = prev.SSOClient
	} else {
		info.SSOClient = demoCRMClient{ID: demoSSOClientID, Secret: auth.GeneratePassword(24)}
	}
	t.CRM.SSOClientID, t.CRM.SSOClientSecret = info.SSOClient.ID, []byte(info.SSOClient.Secret)
	if err := store.UpdateTenant(ctx, t); err != nil {
		return err
	}
	pub, err := publicKeyPEM(t.CRM.PrivateKey)
	if err != nil {
		return err
	}
	if prev != nil && prev.CRMClient.Secret != "" {
		info.CRMClient = prev.CRMClient
	} else {
		info.CRMClient = demoCRMClient{ID: demoClientID, Secret: auth.GeneratePassword(24)}
	}
	if err := crm.RegisterApp(ctx, devcrm.App{ClientID: demoClientID, ClientSecret: info.CRMClient.Secret, PublicKeyPEM: pub, RunAsUsername: demoCRMUser}); err != nil {
		return fmt.Errorf("register the integration's app in devcrm: %w", err)
	}
	err = crm.RegisterApp(ctx, devcrm.App{ClientID: info.SSOClient.ID, ClientSecret: info.SSOClient.Secret, Name: "Parley",
		CallbackURLs: []string{m.Config.PublicURL() + "/sso/callback"}, RequirePKCE: true})
	if err != nil {
		return fmt.Errorf("register the single sign-on app in devcrm: %w", err)
	}
	return nil
}

// demoCRMUsers are the devcrm users the demo signs in with. The agents are
// in their tenant's call center (they get the softphone), the others are
// not; parley is the Parley user single sign-on maps them to (demoCRMLogins):
// carol is in acme's call center with none, to show the panel's message for
// a CRM user without a Parley user, and olga is oldco's (legacy: password
// sign-in only).
var demoCRMUsers = []struct {
	id, username, first, last string
	tenant, parley            string
}{
	{"005gK0Usr000003QCA", "alice@devcrm.example.com", "Alice", "Agent", demoTenant, "alice"},
	{"005gK0Usr000004QCA", "bob@devcrm.example.com", "Bob", "Agent", demoTenant, "bob"},
	{"005gK0Usr000005QCA", "carol@devcrm.example.com", "Carol", "Supervisor", demoTenant, ""},
	{"005gK0Usr000007QCA", "olga@devcrm.example.com", "Olga", "Agent", demoLegacy, ""},
	{"005gK0Usr000006QCA", "sam@devcrm.example.com", "Sam", "Supervisor", "", ""},
	{"005gK0Usr000001QCA", "admin@devcrm.example.com", "Ada", "Admin", "", ""},
}

// seedDemoCRMUsers imports each tenant's call center definition into
// devcrm (acme's adapter URL with ssoMode=true: single sign-on), assigns
// the agents to theirs and sets the devcrm passwords (kept in demo.json
// between runs).
func seedDemoCRMUsers(ctx context.Context, parleyURL string, crm *devcrm.Server, tenants []*cc.Tenant, prev *demoFile) ([]demoCRMLogin, error) {
	centers := map[string]string{} // tenant slug -> call center internal name
	for _, t := range tenants {
		def, err := callcenter.Generate(t, callcenter.Options{PublicURL: parleyURL, SSO: t.Kind.SSO()})
		if err != nil {
			return nil, err
		}
		center, err := crm.ImportCallCenter(ctx, bytes.NewReader(def))
		if err != nil {
			return nil, fmt.Errorf("import tenant %s's call center into devcrm: %w", t.Slug, err)
		}
		centers[t.Slug] = center.InternalName
	}
	known := map[string]string{}
	if prev != nil {
		for _, u := range prev.CRMUsers {
			known[u.Username] = u.Password
		}
	}
	var out []demoCRMLogin
	agents := map[string][]string{}
	for _, du := range demoCRMUsers {
		pw := known[du.username]
		if pw == "" {
			pw = auth.GeneratePassword(12)
		}
		err := crm.SetUserPassword(ctx, du.username, pw)
		if cc.IsCode(err, cc.ENOTFOUND) {
			// A devcrm database seeded before the user was in User.csv.
			row := fmt.Sprintf("Id,Username,Email,FirstName,LastName\n%s,%s,%s,%s,%s\n", du.id, du.username, du.username, du.first, du.last)
			if _, err = crm.ImportCSV(ctx, fstest.MapFS{"User.csv": {Data: []byte(row)}}); err == nil {
				err = crm.SetUserPassword(ctx, du.username, pw)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("devcrm user %s: %w", du.username, err)
		}
		_, inCenter := centers[du.tenant]
		if inCenter {
			agents[du.tenant] = append(agents[du.tenant], du.username)
		}
		out = append(out, demoCRMLogin{Username: du.username, Password: pw, CallCenter: inCenter, Tenant: du.tenant, Parley: du.parley})
	}
	for slug, name := range centers {
		if err := crm.AssignCallCenterUsers(ctx, name, agents[slug]...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// demoTrySSO says, for demo.json and the banner, how to try single sign-on
// and the legacy tenant from devcrm's console.
func demoTrySSO(f *demoFile) []string {
	pw := map[string]string{}
	for _, u := range f.CRMUsers {
		pw[u.Username] = u.Password
	}
	return []string{
		fmt.Sprintf("Single sign-on (tenant %s): open %s, sign in to devcrm as alice@devcrm.example.com (password %s), open Phone in the utility bar and click \"Sign in with the CRM\": allow Parley in devcrm's consent page, then Parley's own (asked once); no Parley password. Next time nothing is asked.",
			demoTenant, f.CRMConsole.Lightning, pw["alice@devcrm.example.com"]),
		fmt.Sprintf("A CRM user with no Parley user: sign in to devcrm as carol@devcrm.example.com (password %s) and do the same: the panel names her CRM username and the command that maps it (parley admin user set-crm).",
			pw["carol@devcrm.example.com"]),
		fmt.Sprintf("The legacy tenant %s (password sign-in only): sign in to devcrm as olga@devcrm.example.com (password %s) and sign in to the panel as olga with her Parley password.",
			demoLegacy, pw["olga@devcrm.example.com"]),
	}
}

// demoCustomerURI is where the demo's outbound calls go: the number
// becomes its user part (sip:+12015550123@127.0.0.1:5070).
const demoCustomerURI = "sip:127.0.0.1:5070"

// createDemoTenant creates a demo tenant with its queues, entry points,
// loopback trunk and users (placeholder credentials: seedDemo sets the
// real ones right after).
func createDemoTenant(ctx context.Context, store *sqlite.DB, spec demoTenantSpec) (*cc.Tenant, error) {
	now := time.Now().UTC()
	t := &cc.Tenant{ID: cc.NewID("ten"), Slug: spec.slug, DisplayName: spec.display, Kind: spec.kind, Cluster: spec.cluster, Region: "US", TimeZone: "America/New_York", CreatedAt: now}
	t.Normalize()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := store.CreateTenant(ctx, t); err != nil {
		return nil, err
	}
	for _, dq := range spec.queues {
		q := &cc.Queue{ID: cc.NewID("que"), TenantID: t.ID, Name: dq.name, Priority: dq.priority, Skills: []string{strings.ToLower(dq.name)},
			WrapUp: 30 * time.Second, OfferTimeout: 15 * time.Second, SearchFields: dq.search, CreatedAt: now}
		q.Normalize()
		if err := q.Validate(); err != nil {
			return nil, err
		}
		if err := store.CreateQueue(ctx, q); err != nil {
			return nil, err
		}
		ep := &cc.EntryPoint{ID: cc.NewID("ent"), TenantID: t.ID, Number: dq.number, QueueID: q.ID, Name: dq.name + " line", Collect: dq.collect, CreatedAt: now}
		if err := store.CreateEntryPoint(ctx, ep); err != nil {
			return nil, err
		}
	}
	// Click-to-dial goes out through the same trunk to a loopback
	// "customer": `parley call --answer --bind 127.0.0.1:5070` plays one.
	if err := store.CreateTrunk(ctx, &cc.Trunk{ID: cc.NewID("trk"), TenantID: t.ID, Name: "loopback", CIDRs: spec.trunk, OutboundURI: spec.outbound, CreatedAt: now}); err != nil {
		return nil, err
	}
	for _, du := range spec.users {
		u := &cc.User{ID: cc.NewID("usr"), TenantID: t.ID, Username: du.username, DisplayName: du.display,
			Email: du.username + "@" + spec.slug + ".example", Roles: []cc.Role{cc.Role(du.role)}, Skills: du.skills, Endpoint: du.endpoint, CreatedAt: now}
		u.PasswordHash, _ = auth.HashPassword(auth.GeneratePassword(16))
		if du.sip {
			u.SIPUsername = du.username
			u.SIPHA1 = auth.SIPHA1(du.username, "parley", auth.GeneratePassword(16))
		}
		u.Normalize()
		if err := u.Validate(); err != nil {
			return nil, err
		}
		if err := store.CreateUser(ctx, u); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func publicKeyPEM(privatePEM []byte) ([]byte, error) {
	block, _ := pem.Decode(privatePEM)
	if block == nil {
		return nil, errors.New("the demo CRM key is not PEM")
	}
	var key any
	var err error
	if block.Type == "RSA PRIVATE KEY" {
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	} else {
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, err
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("the demo CRM key is not RSA")
	}
	der, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

func readDemoFile(path string) (*demoFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f demoFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

func writeDemoFile(path string, f *demoFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// printDemoTenants says how each demo tenant signs in.
func printDemoTenants(w io.Writer, f *demoFile) {
	if len(f.Tenants) == 0 {
		return
	}
	fmt.Fprintf(w, "\nTenants (parley admin cti-url --tenant NAME prints each one's CTI adapter URL):\n")
	for _, t := range f.Tenants {
		kind := cc.TenantKind(t.Kind)
		fmt.Fprintf(w, "  %-6s %s on cluster %s", t.Slug, kind, t.Cluster)
		if kind.SSO() {
			fmt.Fprintf(w, ": a kind with single sign-on; devcrm's call center for it has ssoMode=true (parley admin cti-url --tenant %s --sso), and the panel's password sign-in works too\n", t.Slug)
			continue
		}
		panel := f.HTTP + "/cti/salesforce.html?sfdcIframeOrigin=" + url.QueryEscape(f.CRM) + "&mode=Lightning&tenant=" + url.QueryEscape(t.Slug)
		fmt.Fprintf(w, ": password sign-in only; its panel: %s\n", panel)
		fmt.Fprintf(w, "         add &ssoMode=true and the panel explains that legacy tenants have no single sign-on\n")
	}
}

func printDemo(w io.Writer, f *demoFile, sipAddr, path string) {
	fmt.Fprintf(w, `
Parley demo is running (tenant %q). Everything listens on loopback.

  API:     %s/api/v1   (health %s/healthz)
  devcrm:  %s          (the CRM emulator; REST under /services/data)
  SIP:     %s over UDP and TCP
  panel:   %s/cti/salesforce.html   (the agent panel; the CRM frames it and appends sfdcIframeOrigin=%s&mode=Lightning)

Numbers to call:
`, f.Tenant, f.HTTP, f.HTTP, f.CRM, sipAddr, f.HTTP, f.CRM)
	for _, e := range f.EntryPoints {
		line := fmt.Sprintf("  %-8s %s", e.Queue, e.URI)
		if e.Tenant != "" && e.Tenant != f.Tenant {
			line += "   (tenant " + e.Tenant + ")"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "\nUsers (sign in with POST %s/api/v1/sessions):\n", f.HTTP)
	var alice demoUser
	for _, u := range f.Users {
		line := fmt.Sprintf("  %-6s %-10s password %s", u.Username, u.Role, u.Password)
		if u.Role == string(cc.RoleAgent) && u.Endpoint != "" {
			line += "   takes calls: " + u.Endpoint
		}
		if u.SIPUsername != "" {
			line += fmt.Sprintf("   SIP phone: register sip:%s@%s  user %s  password %s", u.SIPUsername, sipAddr, u.SIPUsername, u.SIPPassword)
		}
		if u.Tenant != "" && u.Tenant != f.Tenant {
			line += "   tenant " + u.Tenant
		}
		if u.Username == "alice" {
			alice = u
		}
		fmt.Fprintln(w, line)
	}
	printDemoTenants(w, f)
	fmt.Fprintf(w, "\ndevcrm client credentials: id %s secret %s\n", f.CRMClient.ID, f.CRMClient.Secret)
	if f.SSOClient.ID != "" {
		fmt.Fprintf(w, "devcrm single sign-on app: id %s secret %s (callback %s/sso/callback, PKCE required)\n", f.SSOClient.ID, f.SSOClient.Secret, f.HTTP)
	}
	fmt.Fprintf(w, "\nThe CRM with the softphone (devcrm's pages; sign in at %s/login):\n  Lightning-like app: %s\n  Service Console:    %s\n",
		f.CRM, f.CRMConsole.Lightning, f.CRMConsole.Classic)
	for _, u := range f.CRMUsers {
		note := ""
		switch {
		case u.CallCenter && u.Parley != "":
			note = fmt.Sprintf("   (tenant %s's call center: gets the softphone; single sign-on as Parley user %s)", u.Tenant, u.Parley)
		case u.CallCenter && u.Tenant == demoTenant:
			note = fmt.Sprintf("   (tenant %s's call center, no Parley user: single sign-on says so)", u.Tenant)
		case u.CallCenter:
			note = fmt.Sprintf("   (tenant %s's call center: gets the softphone)", u.Tenant)
		}
		if u.Username == devcrm.DefaultAdministrator {
			note = "   (administrator: Setup, call centers)"
		}
		fmt.Fprintf(w, "  %-26s password %s%s\n", u.Username, u.Password, note)
	}
	if len(f.TrySSO) > 0 {
		fmt.Fprintf(w, "\nSign in with the CRM (README: Try single sign-on):\n")
		for _, line := range f.TrySSO {
			fmt.Fprintf(w, "  - %s\n", line)
		}
	}
	if alice.Username != "" && len(f.EntryPoints) > 0 && alice.Endpoint != string(cc.EndpointSIP) {
		fmt.Fprintf(w, `
Talk through the browser (README: Try the agent panel in the browser): open %[1]s,
sign in to devcrm as alice@devcrm.example.com, then to the panel (Sign in with the CRM, or alice's Parley password above),
allow the microphone, choose Available, and call Sales; click Accept when the panel rings:
     go run ./cmd/parley call --to %[2]s --from 2015550123 --tone 440 --duration 60s --record caller.wav
`, f.CRMConsole.Classic, f.EntryPoints[0].URI)
	}
	if alice.Username != "" && len(f.EntryPoints) > 0 {
		fmt.Fprintf(w, "\nOr try a call with a SIP phone and curl, each command in its own terminal (from the repository root):\n")
		if alice.Endpoint != string(cc.EndpointSIP) {
			fmt.Fprintf(w, `  0. alice takes calls in the browser panel (README: Talk through the browser); put her on her SIP phone for these steps (the demo picks it up within 5s):
     go run ./cmd/parley admin --data %s user set --tenant %s --username alice --endpoint sip
`, filepath.Dir(path), f.Tenant)
		}
		fmt.Fprintf(w, `  1. alice's phone (answers and plays a 1000 Hz tone):
     go run ./cmd/parley call --answer --register sip:alice@%[1]s --user alice --password %[2]s --tone 1000 --duration 0
  2. alice signs in and becomes available:
     TOKEN=$(curl -s -X POST %[3]s/api/v1/sessions -H 'Content-Type: application/json' -d '{"tenant":"%[4]s","username":"alice","password":"%[5]s"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
     curl -s -X PUT %[3]s/api/v1/me/state -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"state":"available"}'
  3. a customer calls Sales from (201) 555-0123, a Contact in devcrm, and records what they hear:
     go run ./cmd/parley call --to %[6]s --from 2015550123 --tone 440 --record caller.wav --duration 10s
  4. the interaction, then alice's wrap-up (the log then goes to devcrm as a Task):
     curl -s %[3]s/api/v1/interactions -H "Authorization: Bearer $TOKEN"
     ID=$(curl -s %[3]s/api/v1/interactions -H "Authorization: Bearer $TOKEN" | sed -E 's/^\[\{"id":"([^"]+)".*/\1/')
     curl -s -X PUT %[3]s/api/v1/interactions/$ID/wrapup -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"notes":"Asked about the invoice.","disposition":"Resolved"}'
  5. the Task in devcrm:
     CRM_TOKEN=$(curl -s -X POST %[7]s/services/oauth2/token -d grant_type=client_credentials -d client_id=%[8]s -d client_secret=%[9]s | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
     curl -s -G %[7]s/services/data/v%[10]s/query -H "Authorization: Bearer $CRM_TOKEN" --data-urlencode "q=SELECT Id, Subject, CallType, CallDurationInSeconds, CallDisposition, WhoId, Description FROM Task"
`, sipAddr, alice.SIPPassword, f.HTTP, f.Tenant, alice.Password, f.EntryPoints[0].URI, f.CRM, f.CRMClient.ID, f.CRMClient.Secret, devcrm.DefaultAPIVersion)
		for _, e := range f.EntryPoints {
			if e.Queue == "Support" {
				fmt.Fprintf(w, `  6. Support asks for an account number: an unknown caller keys in 1234#, Acme Corporation's, and the offer carries that Account:
     go run ./cmd/parley call --to %s --from 9995550000 --dtmf 1234# --tone 440 --duration 10s
`, e.URI)
			}
		}
		fmt.Fprintf(w, `  7. click-to-dial: a "customer" answers on the outbound trunk (%[1]s), then alice calls Jane Doe:
     go run ./cmd/parley call --answer --bind 127.0.0.1:5070 --tone 440 --duration 10s
     curl -s -X POST %[2]s/api/v1/calls -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"to":"(201) 555-0123 x 9","record_id":"003gK0Con000001QCA","object_type":"Contact"}'
`, demoCustomerURI, f.HTTP)
	}
	fmt.Fprintf(w, "\nAll of this is saved in %s. Ctrl-C stops the demo; run it again to continue with the same data.\n\n", path)
}
