package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/phone"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

const adminUsage = `Usage: parley admin [--config FILE] [--data DIR] COMMAND [flags]

The admin commands change the database directly; a running server picks the
change up within a few seconds.

Commands:
  tenant add|set|list         tenants (region, time zone, kind, reasons, dispositions)
  user add|set|list           users, roles, passwords, skills, SIP phone credentials
  queue add|set|list          queues (priority, skills, wrap-up, offer timeout, max wait)
  entry-point add|remove|list numbers that reach a queue
  trunk add|set|list          SIP trunks allowed to send calls (by source network)
  crm set|show                the tenant's CRM connection (Salesforce or devcrm)
  secret-key                  print a new secret key line for a keyring file

Run "parley admin COMMAND VERB -h" for the flags of one command.
`

// adminEnv is an opened database for one admin command.
type adminEnv struct {
	store  *sqlite.DB
	realm  string
	stdout io.Writer
	stderr io.Writer
}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain()
	fs := newFlagSet("admin", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage) }
	cfgFile := fs.String("config", os.Getenv("PARLEY_CONFIG"), "YAML configuration `file`")
	data := fs.String("data", "", "data `directory`")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" {
		fmt.Fprint(stdout, adminUsage)
		return nil
	}
	if rest[0] == "secret-key" {
		fmt.Fprintln(stdout, secret.NewKeyLine("k"+time.Now().UTC().Format("20060102")))
		return nil
	}
	if err := m.configure(*cfgFile, *data, "", ""); err != nil {
		return err
	}
	keyring, err := secret.Load(m.Config.KeyFilePath(), true)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return err
	}
	store, err := sqlite.Open(ctx, m.Config.DatabasePath(), sqlite.Options{Sealer: keyring})
	if err != nil {
		return fmt.Errorf("open database %s: %w", m.Config.DatabasePath(), err)
	}
	defer store.Close()
	env := &adminEnv{store: store, realm: m.Config.SIP.Realm, stdout: stdout, stderr: stderr}
	if len(rest) < 2 {
		fmt.Fprintf(stderr, "parley admin %s: give a verb (add, set, list...)\n", rest[0])
		return errUsage
	}
	cmd, verb, cargs := rest[0], rest[1], rest[2:]
	var run func(context.Context, []string) error
	switch cmd + " " + verb {
	case "tenant add":
		run = env.tenantAdd
	case "tenant set":
		run = env.tenantSet
	case "tenant list":
		run = env.tenantList
	case "user add":
		run = env.userAdd
	case "user set":
		run = env.userSet
	case "user list":
		run = env.userList
	case "queue add":
		run = env.queueAdd
	case "queue set":
		run = env.queueSet
	case "queue list":
		run = env.queueList
	case "entry-point add":
		run = env.entryAdd
	case "entry-point remove":
		run = env.entryRemove
	case "entry-point list":
		run = env.entryList
	case "trunk add":
		run = env.trunkAdd
	case "trunk set":
		run = env.trunkSet
	case "trunk list":
		run = env.trunkList
	case "crm set":
		run = env.crmSet
	case "crm show":
		run = env.crmShow
	default:
		fmt.Fprintf(stderr, "parley admin: unknown command %q\n\n%s", cmd+" "+verb, adminUsage)
		return errUsage
	}
	if err := run(ctx, cargs); err != nil {
		if cc.ErrorCode(err) != cc.EINTERNAL {
			return exitError{1, cc.ErrorMessage(err)}
		}
		return err
	}
	return nil
}

func (e *adminEnv) flags(name string) *flag.FlagSet { return newFlagSet("admin "+name, e.stderr) }

// listTenant parses the flags of a list command (only --tenant) and
// returns the tenant.
func (e *adminEnv) listTenant(ctx context.Context, name string, args []string) (*cc.Tenant, error) {
	fs := e.flags(name)
	slug := fs.String("tenant", "", "tenant `slug`")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return e.tenant(ctx, *slug)
}

// queueNames maps the tenant's queue ids to names.
func (e *adminEnv) queueNames(ctx context.Context, tenantID string) (map[string]string, []*cc.Queue, error) {
	qs, err := e.store.Queues(ctx, tenantID)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, q := range qs {
		names[q.ID] = q.Name
	}
	return names, qs, nil
}

func (e *adminEnv) tenant(ctx context.Context, slug string) (*cc.Tenant, error) {
	if slug == "" {
		return nil, cc.Errorf(cc.EINVALID, "--tenant is required")
	}
	t, err := e.store.TenantBySlug(ctx, slug)
	if cc.IsCode(err, cc.ENOTFOUND) {
		return nil, cc.Errorf(cc.ENOTFOUND, "no tenant %q (parley admin tenant list shows them)", slug)
	}
	return t, err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// isSet reports whether a flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

func (e *adminEnv) table(header string, rows [][]string) {
	w := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	w.Flush()
}

// --- tenants

func (e *adminEnv) tenantFlags(fs *flag.FlagSet) (display, region, tz *string, kind *int, cluster, reasons, dispositions *string) {
	display = fs.String("display", "", "display `name`")
	region = fs.String("region", "", "default phone `region` (two-letter country code, e.g. US)")
	tz = fs.String("tz", "", "IANA time `zone`, e.g. America/New_York")
	kind = fs.Int("kind", 0, "tenant `kind`: 1 legacy, 2 unified login, 3 unified login + UC")
	cluster = fs.String("cluster", "", "contact-center `cluster`, e.g. na1")
	reasons = fs.String("reasons", "", "comma-separated not-ready `reasons`")
	dispositions = fs.String("dispositions", "", "comma-separated wrap-up `codes`")
	return
}

func (e *adminEnv) tenantAdd(ctx context.Context, args []string) error {
	fs := e.flags("tenant add")
	name := fs.String("name", "", "tenant `slug` (lowercase), e.g. acme")
	display, region, tz, kind, cluster, reasons, dispositions := e.tenantFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t := &cc.Tenant{ID: cc.NewID("ten"), Slug: *name, DisplayName: *display, Region: *region, TimeZone: *tz, Kind: cc.TenantKind(*kind), Cluster: *cluster, CreatedAt: time.Now().UTC()}
	if t.Region == "" {
		t.Region = "US"
	}
	if *reasons != "" {
		t.NotReadyReasons = splitList(*reasons)
	}
	if *dispositions != "" {
		t.Dispositions = splitList(*dispositions)
	}
	t.Normalize()
	if err := t.Validate(); err != nil {
		return err
	}
	if err := e.store.CreateTenant(ctx, t); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "tenant %s created (region %s, time zone %s, kind %d)\n", t.Slug, t.Region, t.TimeZone, t.Kind)
	return nil
}

func (e *adminEnv) tenantSet(ctx context.Context, args []string) error {
	fs := e.flags("tenant set")
	slug := fs.String("tenant", "", "tenant `slug`")
	display, region, tz, kind, cluster, reasons, dispositions := e.tenantFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	if isSet(fs, "display") {
		t.DisplayName = *display
	}
	if isSet(fs, "region") {
		t.Region = *region
	}
	if isSet(fs, "tz") {
		t.TimeZone = *tz
	}
	if isSet(fs, "kind") {
		t.Kind = cc.TenantKind(*kind)
	}
	if isSet(fs, "cluster") {
		t.Cluster = *cluster
	}
	if isSet(fs, "reasons") {
		t.NotReadyReasons = splitList(*reasons)
	}
	if isSet(fs, "dispositions") {
		t.Dispositions = splitList(*dispositions)
	}
	t.Normalize()
	if err := t.Validate(); err != nil {
		return err
	}
	if err := e.store.UpdateTenant(ctx, t); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "tenant %s updated\n", t.Slug)
	return nil
}

func (e *adminEnv) tenantList(ctx context.Context, args []string) error {
	if err := parseFlags(e.flags("tenant list"), args); err != nil {
		return err
	}
	ts, err := e.store.Tenants(ctx)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, t := range ts {
		crm := "none"
		if t.CRM.Kind != "" {
			crm = t.CRM.Kind + " " + t.CRM.LoginURL
		}
		rows = append(rows, []string{t.Slug, t.DisplayName, fmt.Sprint(t.Kind), t.Region, t.TimeZone, crm})
	}
	e.table("TENANT\tNAME\tKIND\tREGION\tTIME ZONE\tCRM", rows)
	return nil
}

// --- users

type userFlags struct {
	tenant, username, roles, password, display, email, skills, sipUser, sipPassword, static *string
	genPassword, genSIP, disable, enable                                                    *bool
}

func (e *adminEnv) userFlags(fs *flag.FlagSet) userFlags {
	return userFlags{
		tenant:      fs.String("tenant", "", "tenant `slug`"),
		username:    fs.String("username", "", "`username` (lowercase)"),
		roles:       fs.String("role", "", "comma-separated `roles`: agent, supervisor, admin"),
		password:    fs.String("password", "", "sign-in `password` (at least 8 characters)"),
		genPassword: fs.Bool("generate-password", false, "generate and print a sign-in password"),
		display:     fs.String("display", "", "display `name`"),
		email:       fs.String("email", "", "e-mail `address`"),
		skills:      fs.String("skills", "", "comma-separated `skills` (queues need them)"),
		sipUser:     fs.String("sip-username", "", "SIP phone digest `username`"),
		sipPassword: fs.String("sip-password", "", "SIP phone `password`"),
		genSIP:      fs.Bool("generate-sip-password", false, "generate and print a SIP password"),
		static:      fs.String("static-contact", "", "SIP `URI` to ring instead of a registered phone (\"\" clears)"),
		disable:     fs.Bool("disable", false, "disable the user"),
		enable:      fs.Bool("enable", false, "enable the user"),
	}
}

func (e *adminEnv) applyUser(fs *flag.FlagSet, f userFlags, u *cc.User) (shown []string, err error) {
	if isSet(fs, "role") {
		if u.Roles, err = cc.ParseRoles(*f.roles); err != nil {
			return nil, err
		}
	}
	if isSet(fs, "display") {
		u.DisplayName = *f.display
	}
	if isSet(fs, "email") {
		u.Email = *f.email
	}
	if isSet(fs, "skills") {
		u.Skills = splitList(*f.skills)
	}
	if isSet(fs, "static-contact") {
		u.StaticContact = *f.static
	}
	if *f.disable {
		u.Disabled = true
	}
	if *f.enable {
		u.Disabled = false
	}
	pw := *f.password
	if *f.genPassword {
		pw = auth.GeneratePassword(16)
		shown = append(shown, "password: "+pw)
	}
	if pw != "" {
		if err := auth.CheckPassword(pw); err != nil {
			return nil, err
		}
		if u.PasswordHash, err = auth.HashPassword(pw); err != nil {
			return nil, err
		}
	}
	if isSet(fs, "sip-username") {
		u.SIPUsername = *f.sipUser
		if u.SIPUsername == "" {
			u.SIPHA1 = ""
		}
	}
	sp := *f.sipPassword
	if *f.genSIP {
		sp = auth.GeneratePassword(16)
		shown = append(shown, "SIP password: "+sp)
	}
	if sp != "" {
		if u.SIPUsername == "" {
			return nil, cc.Errorf(cc.EINVALID, "a SIP password needs --sip-username")
		}
		if err := auth.CheckPassword(sp); err != nil {
			return nil, err
		}
		u.SIPHA1 = auth.SIPHA1(u.SIPUsername, e.realm, sp)
	} else if isSet(fs, "sip-username") && u.SIPUsername != "" {
		return nil, cc.Errorf(cc.EINVALID, "changing the SIP username needs a new SIP password: add --sip-password or --generate-sip-password")
	}
	u.Normalize()
	return shown, u.Validate()
}

func (e *adminEnv) userAdd(ctx context.Context, args []string) error {
	fs := e.flags("user add")
	f := e.userFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *f.tenant)
	if err != nil {
		return err
	}
	if *f.password == "" && !*f.genPassword {
		return cc.Errorf(cc.EINVALID, "give --password or --generate-password")
	}
	if *f.roles == "" {
		return cc.Errorf(cc.EINVALID, "give --role agent, supervisor or admin")
	}
	u := &cc.User{ID: cc.NewID("usr"), TenantID: t.ID, Username: *f.username, CreatedAt: time.Now().UTC()}
	shown, err := e.applyUser(fs, f, u)
	if err != nil {
		return err
	}
	if err := e.store.CreateUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s created in %s (%s)\n", u.Username, t.Slug, joinRoles(u.Roles))
	for _, s := range shown {
		fmt.Fprintln(e.stdout, "  "+s)
	}
	return nil
}

func (e *adminEnv) userSet(ctx context.Context, args []string) error {
	fs := e.flags("user set")
	f := e.userFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *f.tenant)
	if err != nil {
		return err
	}
	u, err := e.store.UserByUsername(ctx, t.ID, *f.username)
	if err != nil {
		return cc.Errorf(cc.ENOTFOUND, "no user %q in tenant %s", *f.username, t.Slug)
	}
	shown, err := e.applyUser(fs, f, u)
	if err != nil {
		return err
	}
	if err := e.store.UpdateUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s updated\n", u.Username)
	for _, s := range shown {
		fmt.Fprintln(e.stdout, "  "+s)
	}
	return nil
}

func joinRoles(rs []cc.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

func (e *adminEnv) userList(ctx context.Context, args []string) error {
	t, err := e.listTenant(ctx, "user list", args)
	if err != nil {
		return err
	}
	us, err := e.store.Users(ctx, t.ID)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, u := range us {
		state := "enabled"
		if u.Disabled {
			state = "disabled"
		}
		rows = append(rows, []string{u.Username, u.DisplayName, joinRoles(u.Roles), strings.Join(u.Skills, ","), u.SIPUsername, u.StaticContact, state})
	}
	e.table("USERNAME\tNAME\tROLES\tSKILLS\tSIP USERNAME\tSTATIC CONTACT\tSTATE", rows)
	return nil
}

// --- queues

type queueFlags struct {
	tenant, name, skills, overflow, dispositions, announcement, hold *string
	priority                                                         *int
	wrap, offer, maxWait, sl                                         *time.Duration
}

func (e *adminEnv) queueFlags(fs *flag.FlagSet) queueFlags {
	return queueFlags{
		tenant:       fs.String("tenant", "", "tenant `slug`"),
		name:         fs.String("name", "", "queue `name`, e.g. Sales"),
		skills:       fs.String("skills", "", "comma-separated `skills` agents need (default: the name)"),
		overflow:     fs.String("overflow", "", "`queue` to move callers to when max wait runs out"),
		dispositions: fs.String("dispositions", "", "comma-separated wrap-up `codes` (default: the tenant's)"),
		announcement: fs.String("announcement", "", "announcement `file` (.wav in the sounds directory)"),
		hold:         fs.String("hold", "", "hold music `file` (.wav in the sounds directory)"),
		priority:     fs.Int("priority", 0, "`priority` 0-100, higher first"),
		wrap:         fs.Duration("wrap-up", cc.DefaultWrapUp, "wrap-up `time` (0 logs at hang-up)"),
		offer:        fs.Duration("offer-timeout", cc.DefaultOfferTimeout, "how long an agent rings before ring-no-answer"),
		maxWait:      fs.Duration("max-wait", 0, "longest wait before overflow or the closing message (0 unlimited)"),
		sl:           fs.Duration("service-level", cc.DefaultServiceLevel, "answer-time target for the service level"),
	}
}

func (e *adminEnv) applyQueue(ctx context.Context, fs *flag.FlagSet, f queueFlags, t *cc.Tenant, q *cc.Queue, all bool) error {
	set := func(n string) bool { return all || isSet(fs, n) }
	if isSet(fs, "name") {
		q.Name = *f.name
	}
	if set("skills") {
		q.Skills = splitList(*f.skills)
	}
	if set("priority") {
		q.Priority = *f.priority
	}
	if set("wrap-up") {
		q.WrapUp = *f.wrap
	}
	if set("offer-timeout") {
		q.OfferTimeout = *f.offer
	}
	if set("max-wait") {
		q.MaxWait = *f.maxWait
	}
	if set("service-level") {
		q.ServiceLevel = *f.sl
	}
	if set("dispositions") {
		q.Dispositions = splitList(*f.dispositions)
	}
	if set("announcement") {
		q.Announcement = *f.announcement
	}
	if set("hold") {
		q.HoldMusic = *f.hold
	}
	if isSet(fs, "overflow") {
		q.OverflowQueueID = ""
		if *f.overflow != "" {
			o, err := e.store.QueueByName(ctx, t.ID, *f.overflow)
			if err != nil {
				return cc.Errorf(cc.ENOTFOUND, "no overflow queue %q in %s", *f.overflow, t.Slug)
			}
			q.OverflowQueueID = o.ID
		}
	}
	q.Normalize()
	return q.Validate()
}

func (e *adminEnv) queueAdd(ctx context.Context, args []string) error {
	fs := e.flags("queue add")
	f := e.queueFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *f.tenant)
	if err != nil {
		return err
	}
	q := &cc.Queue{ID: cc.NewID("que"), TenantID: t.ID, Name: *f.name, CreatedAt: time.Now().UTC()}
	if err := e.applyQueue(ctx, fs, f, t, q, true); err != nil {
		return err
	}
	if err := e.store.CreateQueue(ctx, q); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "queue %s created in %s (skills %s, priority %d)\n", q.Name, t.Slug, strings.Join(q.Skills, ","), q.Priority)
	return nil
}

func (e *adminEnv) queueSet(ctx context.Context, args []string) error {
	fs := e.flags("queue set")
	f := e.queueFlags(fs)
	queue := fs.String("queue", "", "the `queue` to change (by name)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *f.tenant)
	if err != nil {
		return err
	}
	q, err := e.store.QueueByName(ctx, t.ID, *queue)
	if err != nil {
		return cc.Errorf(cc.ENOTFOUND, "no queue %q in %s (--queue names it)", *queue, t.Slug)
	}
	if err := e.applyQueue(ctx, fs, f, t, q, false); err != nil {
		return err
	}
	if err := e.store.UpdateQueue(ctx, q); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "queue %s updated\n", q.Name)
	return nil
}

func (e *adminEnv) queueList(ctx context.Context, args []string) error {
	t, err := e.listTenant(ctx, "queue list", args)
	if err != nil {
		return err
	}
	names, qs, err := e.queueNames(ctx, t.ID)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, q := range qs {
		rows = append(rows, []string{q.Name, fmt.Sprint(q.Priority), strings.Join(q.Skills, ","), q.WrapUp.String(), q.OfferTimeout.String(), q.MaxWait.String(), names[q.OverflowQueueID]})
	}
	e.table("QUEUE\tPRIORITY\tSKILLS\tWRAP-UP\tOFFER TIMEOUT\tMAX WAIT\tOVERFLOW", rows)
	return nil
}

// --- entry points

func (e *adminEnv) entryAdd(ctx context.Context, args []string) error {
	fs := e.flags("entry-point add")
	slug := fs.String("tenant", "", "tenant `slug`")
	number := fs.String("number", "", "dialled `number`, e.g. +15550100, or a SIP alias such as sales")
	queue := fs.String("queue", "", "`queue` name")
	name := fs.String("name", "", "optional `label`")
	early := fs.Bool("early-media", false, "play queue audio as early media; answer when an agent answers")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	q, err := e.store.QueueByName(ctx, t.ID, *queue)
	if err != nil {
		return cc.Errorf(cc.ENOTFOUND, "no queue %q in %s", *queue, t.Slug)
	}
	num, err := entryNumber(*number, t.Region)
	if err != nil {
		return err
	}
	ep := &cc.EntryPoint{ID: cc.NewID("ent"), TenantID: t.ID, Number: num, QueueID: q.ID, Name: *name, EarlyMedia: *early, CreatedAt: time.Now().UTC()}
	if err := ep.Validate(); err != nil {
		return err
	}
	if err := e.store.CreateEntryPoint(ctx, ep); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "entry point %s -> %s created\n", ep.Number, q.Name)
	return nil
}

// entryNumber normalises an entry point number to E.164 with the tenant's
// region, or takes it as a SIP alias (sales).
func entryNumber(input, region string) (string, error) {
	num, err := phone.NormalizeDialed(input, region)
	if a := strings.ToLower(strings.TrimSpace(input)); err != nil && cc.IsEntryAlias(a) {
		return a, nil
	}
	return num, err
}

func (e *adminEnv) entryRemove(ctx context.Context, args []string) error {
	fs := e.flags("entry-point remove")
	slug := fs.String("tenant", "", "tenant `slug`")
	number := fs.String("number", "", "dialled `number`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	num, err := entryNumber(*number, t.Region)
	if err != nil {
		return err
	}
	ep, err := e.store.EntryPointByNumber(ctx, t.ID, num)
	if err != nil {
		return cc.Errorf(cc.ENOTFOUND, "no entry point %s in %s", num, t.Slug)
	}
	if err := e.store.DeleteEntryPoint(ctx, t.ID, ep.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "entry point %s removed\n", num)
	return nil
}

func (e *adminEnv) entryList(ctx context.Context, args []string) error {
	t, err := e.listTenant(ctx, "entry-point list", args)
	if err != nil {
		return err
	}
	eps, err := e.store.EntryPoints(ctx, t.ID)
	if err != nil {
		return err
	}
	names, _, err := e.queueNames(ctx, t.ID)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, ep := range eps {
		rows = append(rows, []string{ep.Number, names[ep.QueueID], ep.Name, fmt.Sprint(ep.EarlyMedia)})
	}
	e.table("NUMBER\tQUEUE\tLABEL\tEARLY MEDIA", rows)
	return nil
}

// --- trunks

func (e *adminEnv) trunkAdd(ctx context.Context, args []string) error {
	fs := e.flags("trunk add")
	slug := fs.String("tenant", "", "tenant `slug`")
	name := fs.String("name", "", "trunk `name`")
	cidrs := fs.String("cidr", "", "comma-separated allowed source `networks`, e.g. 203.0.113.0/24,198.51.100.7")
	out := fs.String("outbound", "", "SIP `URI` for outbound calls, e.g. sip:gw.example.net:5060")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	prefixes, err := cc.ParseCIDRs(*cidrs)
	if err != nil {
		return err
	}
	tr := &cc.Trunk{ID: cc.NewID("trk"), TenantID: t.ID, Name: *name, CIDRs: prefixes, OutboundURI: *out, CreatedAt: time.Now().UTC()}
	if err := tr.Validate(); err != nil {
		return err
	}
	if err := e.store.CreateTrunk(ctx, tr); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "trunk %s created (sources %s)\n", tr.Name, *cidrs)
	return nil
}

func (e *adminEnv) trunkSet(ctx context.Context, args []string) error {
	fs := e.flags("trunk set")
	slug := fs.String("tenant", "", "tenant `slug`")
	name := fs.String("name", "", "trunk `name`")
	cidrs := fs.String("cidr", "", "comma-separated allowed source `networks`")
	out := fs.String("outbound", "", "SIP `URI` for outbound calls")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	trunks, err := e.store.Trunks(ctx, t.ID)
	if err != nil {
		return err
	}
	for _, tr := range trunks {
		if !strings.EqualFold(tr.Name, *name) {
			continue
		}
		if isSet(fs, "cidr") {
			if tr.CIDRs, err = cc.ParseCIDRs(*cidrs); err != nil {
				return err
			}
		}
		if isSet(fs, "outbound") {
			tr.OutboundURI = *out
		}
		if err := tr.Validate(); err != nil {
			return err
		}
		if err := e.store.UpdateTrunk(ctx, tr); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "trunk %s updated\n", tr.Name)
		return nil
	}
	return cc.Errorf(cc.ENOTFOUND, "no trunk %q in %s", *name, t.Slug)
}

func (e *adminEnv) trunkList(ctx context.Context, args []string) error {
	t, err := e.listTenant(ctx, "trunk list", args)
	if err != nil {
		return err
	}
	trunks, err := e.store.Trunks(ctx, t.ID)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, tr := range trunks {
		var ps []string
		for _, p := range tr.CIDRs {
			ps = append(ps, p.String())
		}
		sort.Strings(ps)
		rows = append(rows, []string{tr.Name, strings.Join(ps, ","), tr.OutboundURI})
	}
	e.table("TRUNK\tSOURCES\tOUTBOUND", rows)
	return nil
}

// --- CRM

func (e *adminEnv) crmSet(ctx context.Context, args []string) error {
	fs := e.flags("crm set")
	slug := fs.String("tenant", "", "tenant `slug`")
	kind := fs.String("kind", "salesforce", "CRM `kind`: salesforce, or none to disconnect")
	login := fs.String("login-url", "", "OAuth `host`, e.g. https://login.salesforce.com or the devcrm URL")
	clientID := fs.String("client-id", "", "connected app consumer `key`")
	username := fs.String("username", "", "integration `user` for the JWT bearer flow")
	keyFile := fs.String("private-key", "", "PEM RSA private key `file` for the JWT bearer flow")
	secretFile := fs.String("client-secret-file", "", "`file` holding the client secret (client credentials grant)")
	version := fs.String("api-version", "", "REST API `version`, e.g. 62.0")
	capBytes := fs.Int("log-cap", 0, "byte cap of the logged Comments (default 4000)")
	base := fs.String("base-url", "", "Parley's public `URL`, linked from cut logs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	if *kind == "none" {
		t.CRM = cc.CRMConnection{LogCapBytes: t.CRM.LogCapBytes}
	} else {
		c := &t.CRM
		c.Kind = *kind
		if isSet(fs, "login-url") {
			c.LoginURL = strings.TrimRight(*login, "/")
		}
		if isSet(fs, "client-id") {
			c.ClientID = *clientID
		}
		if isSet(fs, "username") {
			c.Username = *username
		}
		if isSet(fs, "api-version") {
			c.APIVersion = *version
		}
		if isSet(fs, "log-cap") {
			c.LogCapBytes = *capBytes
		}
		if isSet(fs, "base-url") {
			c.BaseURL = *base
		}
		if *keyFile != "" {
			b, err := os.ReadFile(*keyFile)
			if err != nil {
				return cc.Errorf(cc.EINVALID, "read --private-key: %v", err)
			}
			if !strings.Contains(string(b), "PRIVATE KEY") {
				return cc.Errorf(cc.EINVALID, "--private-key %s is not a PEM private key", *keyFile)
			}
			c.PrivateKey = b
		}
		if *secretFile != "" {
			b, err := os.ReadFile(*secretFile)
			if err != nil {
				return cc.Errorf(cc.EINVALID, "read --client-secret-file: %v", err)
			}
			c.ClientSecret = []byte(strings.TrimSpace(string(b)))
		}
	}
	t.Normalize()
	if err := t.Validate(); err != nil {
		return err
	}
	if err := e.store.UpdateTenant(ctx, t); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "CRM of %s set: %s %s\n", t.Slug, t.CRM.Kind, t.CRM.LoginURL)
	return nil
}

func (e *adminEnv) crmShow(ctx context.Context, args []string) error {
	fs := e.flags("crm show")
	slug := fs.String("tenant", "", "tenant `slug`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	c := t.CRM
	if c.Kind == "" {
		fmt.Fprintf(e.stdout, "%s has no CRM connection\n", t.Slug)
		return nil
	}
	secretState := func(b []byte) string {
		if len(b) == 0 {
			return "not set"
		}
		return "set (sealed at rest)"
	}
	fmt.Fprintf(e.stdout, "kind: %s\nlogin URL: %s\nAPI version: %s\nclient id: %s\nusername: %s\nprivate key: %s\nclient secret: %s\nlog cap: %d bytes\nbase URL: %s\n",
		c.Kind, c.LoginURL, c.APIVersion, c.ClientID, c.Username, secretState(c.PrivateKey), secretState(c.ClientSecret), c.LogCapBytes, c.BaseURL)
	return nil
}
