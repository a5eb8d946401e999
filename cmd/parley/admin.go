package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/callcenter"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/crm/salesforce"
	"github.com/parley-cc/parley/internal/ctiurl"
	"github.com/parley-cc/parley/internal/phone"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
	"github.com/parley-cc/parley/internal/telephony"
)

const adminUsage = `Usage: parley admin [--config FILE] [--data DIR] COMMAND [flags]

The admin commands change the database directly; a running server picks the
change up within a few seconds.

Commands:
  tenant add|set|list         tenants (region, time zone, kind, reasons, dispositions)
  user add|set|list           users, roles, passwords, skills, SIP phone credentials
  user set-crm                map a user to the login it signs in to the CRM with
  user sign-out               end every session of a user and revoke their CRM grant
  queue add|set|list          queues (priority, skills, wrap-up, offer timeout, max wait)
  entry-point add|remove|list numbers that reach a queue
  trunk add|set|list          SIP trunks allowed to send calls (by source network)
  crm set|show                the tenant's CRM connection (Salesforce or devcrm)
  crm users                   the CRM's users, each with the Parley user mapped to it
  callcenter-xml              the Salesforce call center definition file of a tenant
  cti-url [check]             a CTI adapter URL (of a tenant, or a cluster and kind); check one
  secret-key                  print a new secret key line for a keyring file
  secrets status|rotate       the keyring's keys and what each sealed; rotate to a new key and re-seal

Run "parley admin COMMAND VERB -h" for the flags of one command.
`

// adminEnv is an opened database for one admin command.
type adminEnv struct {
	store     *sqlite.DB
	realm     string
	soundsDir string
	publicURL string // http.public_url, or one built from http.listen
	clusters  *ctiurl.Clusters
	stdout    io.Writer
	stderr    io.Writer
}

// adminCommands are the admin commands and their verbs.
func (e *adminEnv) commands() map[string]map[string]func(context.Context, []string) error {
	return map[string]map[string]func(context.Context, []string) error{
		"tenant":      {"add": e.tenantAdd, "set": e.tenantSet, "list": e.tenantList},
		"user":        {"add": e.userAdd, "set": e.userSet, "list": e.userList, "set-crm": e.userSetCRM, "sign-out": e.userSignOut},
		"queue":       {"add": e.queueAdd, "set": e.queueSet, "list": e.queueList},
		"entry-point": {"add": e.entryAdd, "remove": e.entryRemove, "list": e.entryList},
		"trunk":       {"add": e.trunkAdd, "set": e.trunkSet, "list": e.trunkList},
		"crm":         {"set": e.crmSet, "show": e.crmShow, "users": e.crmUsers},
	}
}

// adminSynopsis is the usage line of each admin command: required flags
// first, in the order the command checks them.
var adminSynopsis = map[string]string{
	"tenant add":         "--name SLUG [--region US] [--tz UTC] [--kind 1|2|3] [--display NAME] [--cluster NAME] [--reasons R,...] [--dispositions D,...] [--crm-origin ORIGIN,...]",
	"tenant set":         "--tenant SLUG [--region R] [--tz ZONE] [--kind 1|2|3] [--display NAME] [--cluster NAME] [--reasons R,...] [--dispositions D,...] [--crm-origin ORIGIN,... | --add-crm-origin ORIGIN | --remove-crm-origin ORIGIN]",
	"tenant list":        "",
	"user add":           "--tenant SLUG --username NAME --role ROLES (--password PW | --generate-password) [--sip-username U (--sip-password PW | --generate-sip-password)] [--skills S,...] [--display NAME] [--email ADDR] [--static-contact URI] [--endpoint browser|sip|external] [--external-number NUMBER] [--disable]",
	"user set":           "--tenant SLUG --username NAME [--role ROLES] [--password PW | --generate-password] [--sip-username U] [--sip-password PW | --generate-sip-password] [--skills S,...] [--display NAME] [--email ADDR] [--static-contact URI] [--endpoint browser|sip|external] [--external-number NUMBER] [--enable | --disable]",
	"user list":          "--tenant SLUG",
	"user set-crm":       "--tenant SLUG --user NAME [--crm salesforce] (--username LOGIN | --remove)",
	"user sign-out":      "--tenant SLUG --user NAME",
	"queue add":          "--tenant SLUG --name NAME [--skills S,...] [--priority N] [--wrap-up D] [--offer-timeout D] [--max-wait D] [--overflow QUEUE] [--service-level D] [--dispositions D,...] [--announcement FILE] [--hold FILE] [--screen-pop offer|answer] [--search-field KEY=Object.Field]...",
	"queue set":          "--tenant SLUG --name NAME [--new-name NAME] [the flags of queue add]",
	"queue list":         "--tenant SLUG",
	"entry-point add":    "--tenant SLUG --number NUMBER --queue QUEUE [--name LABEL] [--early-media] [--collect KEY:MAX-DIGITS [--collect-prompt FILE] [--digit-timeout D]]",
	"entry-point remove": "--tenant SLUG --number NUMBER",
	"entry-point list":   "--tenant SLUG",
	"trunk add":          "--tenant SLUG --name NAME --cidr NETWORKS [--outbound-uri URI]",
	"trunk set":          "--tenant SLUG --name NAME [--cidr NETWORKS] [--outbound-uri URI]",
	"trunk list":         "--tenant SLUG",
	"crm set":            "--tenant SLUG [--kind salesforce|none] --login-url URL --client-id KEY (--username USER --private-key FILE | --client-secret-file FILE) [--api-version V] [--log-cap BYTES] [--base-url URL] [--sso-client-id KEY [--sso-client-secret-file FILE] [--my-domain URL]]",
	"crm show":           "--tenant SLUG",
	"callcenter-xml":     "--tenant SLUG [--sso] [--sandbox] [--out FILE] [--standby-url URL] [--timeout MS] [--outside-prefix DIGITS]",
	"cti-url":            "(--tenant SLUG | --cluster NAME --kind 1|2|3) [--sso] [--sandbox]",
	"cti-url check":      "URL --tenant SLUG",
	"crm users":          "--tenant SLUG",
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
	if rest[0] == "secrets" {
		return runAdminSecrets(ctx, m, *cfgFile, *data, rest[1:], stdout, stderr)
	}
	// The command is checked before the database is opened: a typo creates
	// nothing.
	env := &adminEnv{stdout: stdout, stderr: stderr}
	verbs, ok := env.commands()[rest[0]]
	if rest[0] == "callcenter-xml" {
		// A command without verbs.
		verbs, ok = map[string]func(context.Context, []string) error{"": env.callCenterXML}, true
		rest = append([]string{rest[0], ""}, rest[1:]...)
	}
	if rest[0] == "cti-url" {
		// Flags alone print a URL; the verb check checks one.
		verbs, ok = map[string]func(context.Context, []string) error{"": env.ctiURL, "check": env.ctiURLCheck}, true
		if len(rest) < 2 || rest[1] != "check" {
			rest = append([]string{rest[0], ""}, rest[1:]...)
		}
	}
	if !ok {
		fmt.Fprintf(stderr, "parley admin: unknown command %q\n\n%s", rest[0], adminUsage)
		return errUsage
	}
	if len(rest) < 2 {
		fmt.Fprintf(stderr, "parley admin %s: give a verb: %s\n", rest[0], strings.Join(sortedKeys(verbs), ", "))
		return errUsage
	}
	cmd, verb, cargs := rest[0], rest[1], rest[2:]
	run, ok := verbs[verb]
	if !ok {
		fmt.Fprintf(stderr, "parley admin: unknown command %q (%s takes %s)\n\n%s", cmd+" "+verb, cmd, strings.Join(sortedKeys(verbs), ", "), adminUsage)
		return errUsage
	}
	warnUnknownEnv(stderr)
	if err := m.configure(*cfgFile, *data, "", ""); err != nil {
		return err
	}
	keyring, err := loadKeyring(ctx, &m.Config)
	if err != nil {
		return exitError{1, cc.ErrorMessage(err)}
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return err
	}
	store, err := sqlite.Open(ctx, m.Config.DatabasePath(), sqlite.Options{Sealer: keyring})
	if err != nil {
		return fmt.Errorf("open database %s: %w", m.Config.DatabasePath(), err)
	}
	defer store.Close()
	env.store, env.realm, env.soundsDir = store, m.Config.SIP.Realm, m.Config.SIP.SoundsDir
	env.publicURL = m.Config.PublicURL()
	if env.clusters, err = m.Config.Clusters(); err != nil {
		return err
	}
	if err := run(ctx, cargs); err != nil {
		if cc.ErrorCode(err) != cc.EINTERNAL {
			return exitError{1, cc.ErrorMessage(err)}
		}
		return err
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// flags returns the flag set of one admin command, whose usage starts with
// the command's synopsis.
func (e *adminEnv) flags(name string) *flag.FlagSet {
	fs := newFlagSet("admin "+name, e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: parley admin %s %s\n\nFlags:\n", name, adminSynopsis[name])
		fs.PrintDefaults()
	}
	return fs
}

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

// uniqueList splits a comma-separated flag value like splitList and
// refuses an entry given twice (in any case: "Resolved,resolved").
func uniqueList(flag, s string) ([]string, error) {
	items := splitList(s)
	seen := map[string]bool{}
	for _, it := range items {
		k := strings.ToLower(it)
		if seen[k] {
			return nil, cc.Errorf(cc.EINVALID, "%s lists %q twice: give each once", flag, it)
		}
		seen[k] = true
	}
	return items, nil
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

func (e *adminEnv) tenantFlags(fs *flag.FlagSet) (display, region, tz *string, kind *int, cluster, reasons, dispositions, origins *string) {
	origins = fs.String("crm-origin", "", "comma-separated CRM `origins` allowed to frame the agent panel, e.g. https://acme.lightning.force.com,https://acme--c.vf.force.com")
	display = fs.String("display", "", "display `name`")
	region = fs.String("region", "", "default phone `region` (two-letter country code, e.g. US; default US)")
	tz = fs.String("tz", "", "IANA time `zone`, e.g. America/New_York (default UTC)")
	kind = fs.Int("kind", 0, "tenant `kind`: 1 legacy, 2 unified login, 3 unified login + UC (default 1)")
	cluster = fs.String("cluster", "", "contact-center `cluster`, e.g. na1")
	reasons = fs.String("reasons", "", "comma-separated not-ready `reasons`")
	dispositions = fs.String("dispositions", "", "comma-separated wrap-up `codes`")
	return
}

// defaultRegion is the phone region of a tenant added without --region.
const defaultRegion = "US"

func (e *adminEnv) tenantAdd(ctx context.Context, args []string) error {
	fs := e.flags("tenant add")
	name := fs.String("name", "", "tenant `slug` (lowercase), e.g. acme")
	display, region, tz, kind, cluster, reasons, dispositions, origins := e.tenantFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return cc.Errorf(cc.EINVALID, "give --name, the tenant's slug, e.g. --name acme")
	}
	t := &cc.Tenant{ID: cc.NewID("ten"), Slug: *name, DisplayName: *display, Region: *region, TimeZone: *tz, Kind: cc.TenantKind(*kind), Cluster: *cluster, CreatedAt: time.Now().UTC()}
	if strings.TrimSpace(t.Region) == "" {
		t.Region = defaultRegion
	}
	var err error
	if *reasons != "" {
		if t.NotReadyReasons, err = uniqueList("--reasons", *reasons); err != nil {
			return err
		}
	}
	if *dispositions != "" {
		if t.Dispositions, err = uniqueList("--dispositions", *dispositions); err != nil {
			return err
		}
	}
	if *origins != "" {
		if t.CRMOrigins, err = crmOrigins("--crm-origin", *origins); err != nil {
			return err
		}
	}
	t.Normalize()
	if err := validateTenant(t); err != nil {
		return err
	}
	if err := e.checkCluster(t); err != nil {
		return err
	}
	if err := e.store.CreateTenant(ctx, t); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "tenant %s created (region %s%s, time zone %s%s, kind %s)\n",
		t.Slug, t.Region, defaulted(fs, "region", *region), t.TimeZone, defaulted(fs, "tz", *tz), kindName(t.Kind))
	if t.Cluster != "" {
		fmt.Fprintf(e.stdout, "cluster: %s\n", t.Cluster)
	}
	if len(t.CRMOrigins) > 0 {
		fmt.Fprintf(e.stdout, "CRM origins allowed to frame the panel: %s\n", strings.Join(t.CRMOrigins, ", "))
	}
	return nil
}

// defaulted returns " (default)" when a flag was left out or empty, so
// that the output says which values nobody chose.
func defaulted(fs *flag.FlagSet, name, value string) string {
	if !isSet(fs, name) || strings.TrimSpace(value) == "" {
		return " (default)"
	}
	return ""
}

// validateTenant checks t, and that its region is one phone numbers are
// known for (Validate checks only the form).
func validateTenant(t *cc.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if !phone.ValidRegion(t.Region) {
		return cc.Errorf(cc.EINVALID, "tenant region %q is not a known phone region: use a two-letter country code such as US, GB or CH", t.Region)
	}
	return nil
}

// crmOrigins parses a comma-separated list of CRM origins, each in
// canonical form, refusing repeats.
func crmOrigins(flag, s string) ([]string, error) {
	list, err := uniqueList(flag, s)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range list {
		n, err := cc.ParseCRMOrigin(o)
		if err != nil {
			return nil, cc.Errorf(cc.EINVALID, "%s: %s", flag, cc.ErrorMessage(err))
		}
		if slices.Contains(out, n) {
			return nil, cc.Errorf(cc.EINVALID, "%s: %s is given twice", flag, n)
		}
		out = append(out, n)
	}
	return out, nil
}

// btoi is 1 for true.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// kindName is a tenant kind with its meaning, "1 legacy".
func kindName(k cc.TenantKind) string {
	switch k {
	case cc.KindLegacy:
		return "1 legacy"
	case cc.KindUnifiedLogin:
		return "2 unified login"
	case cc.KindUnifiedLoginUC:
		return "3 unified login + UC"
	}
	return fmt.Sprint(int(k))
}

func (e *adminEnv) tenantSet(ctx context.Context, args []string) error {
	fs := e.flags("tenant set")
	slug := fs.String("tenant", "", "tenant `slug`")
	display, region, tz, kind, cluster, reasons, dispositions, origins := e.tenantFlags(fs)
	addOrigin := fs.String("add-crm-origin", "", "add one CRM `origin` to those allowed to frame the agent panel")
	removeOrigin := fs.String("remove-crm-origin", "", "remove one CRM `origin` from those allowed to frame the agent panel")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if n := btoi(isSet(fs, "crm-origin")) + btoi(isSet(fs, "add-crm-origin")) + btoi(isSet(fs, "remove-crm-origin")); n > 1 {
		return cc.Errorf(cc.EINVALID, "give one of --crm-origin (the whole list), --add-crm-origin or --remove-crm-origin")
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
		if t.NotReadyReasons, err = uniqueList("--reasons", *reasons); err != nil {
			return err
		}
	}
	if isSet(fs, "dispositions") {
		if t.Dispositions, err = uniqueList("--dispositions", *dispositions); err != nil {
			return err
		}
	}
	if isSet(fs, "crm-origin") {
		if t.CRMOrigins, err = crmOrigins("--crm-origin", *origins); err != nil {
			return err
		}
	}
	if isSet(fs, "add-crm-origin") {
		o, err := cc.ParseCRMOrigin(*addOrigin)
		if err != nil {
			return cc.Errorf(cc.EINVALID, "--add-crm-origin: %s", cc.ErrorMessage(err))
		}
		if !slices.Contains(t.CRMOrigins, o) {
			t.CRMOrigins = append(t.CRMOrigins, o)
		}
	}
	if isSet(fs, "remove-crm-origin") {
		o, err := cc.ParseCRMOrigin(*removeOrigin)
		if err != nil {
			return cc.Errorf(cc.EINVALID, "--remove-crm-origin: %s", cc.ErrorMessage(err))
		}
		i := slices.Index(t.CRMOrigins, o)
		if i < 0 {
			return cc.Errorf(cc.EINVALID, "--remove-crm-origin %s: tenant %s does not list it (tenant list shows the origins)", o, t.Slug)
		}
		t.CRMOrigins = slices.Delete(t.CRMOrigins, i, i+1)
	}
	t.Normalize()
	if err := validateTenant(t); err != nil {
		return err
	}
	if isSet(fs, "cluster") {
		if err := e.checkCluster(t); err != nil {
			return err
		}
	}
	if err := e.store.UpdateTenant(ctx, t); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "tenant %s updated\n", t.Slug)
	if !t.Kind.SSO() && t.CRM.SSOClientID != "" {
		fmt.Fprintf(e.stdout, "note: tenant %s is now %s: single sign-on is off; its agents' SSO sessions end at their next use and they sign in with their Parley password (the SSO app stays set for a change back to kind 2 or 3)\n", t.Slug, t.Kind)
	}
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
		origins := strings.Join(t.CRMOrigins, ",")
		if origins == "" {
			origins = "-"
		}
		cluster := t.Cluster
		if cluster == "" {
			cluster = "-"
		}
		rows = append(rows, []string{t.Slug, t.DisplayName, kindName(t.Kind), cluster, t.Region, t.TimeZone, crm, origins})
	}
	e.table("TENANT\tNAME\tKIND\tCLUSTER\tREGION\tTIME ZONE\tCRM\tCRM ORIGINS", rows)
	return nil
}

// --- users

type userFlags struct {
	tenant, username, roles, password, display, email, skills, sipUser, sipPassword, static *string
	endpoint, external                                                                      *string
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
		endpoint:    fs.String("endpoint", "", "`where` the agent takes calls: browser (the panel's softphone), sip (the SIP phone or static contact) or external (--external-number through the tenant's outbound trunk); user add defaults to sip with --sip-username or --static-contact, else browser"),
		external:    fs.String("external-number", "", "phone `number` Parley calls for --endpoint external (national numbers read with the tenant's region; \"\" clears)"),
		disable:     fs.Bool("disable", false, "disable the user: every session of theirs ends and their CRM grant is revoked"),
		enable:      fs.Bool("enable", false, "enable the user"),
	}
}

// exclusive refuses two flags that say opposite things when both are given.
func exclusive(fs *flag.FlagSet, pairs ...[2]string) error {
	for _, p := range pairs {
		if isSet(fs, p[0]) && isSet(fs, p[1]) {
			return cc.Errorf(cc.EINVALID, "give --%s or --%s, not both", p[0], p[1])
		}
	}
	return nil
}

// checkPassword checks a password and names which one is wrong:
// "SIP password is too short: ...".
func checkPassword(which, pw string) error {
	err := auth.CheckPassword(pw)
	if err == nil {
		return nil
	}
	msg := cc.ErrorMessage(err)
	if rest, ok := strings.CutPrefix(msg, "password "); ok {
		return cc.WrapError(cc.EINVALID, err, "%s password %s", which, rest)
	}
	return cc.WrapError(cc.EINVALID, err, "%s password: %s", which, msg)
}

// applyUser applies the flags given to u (of tenant t) and validates it.
func (e *adminEnv) applyUser(fs *flag.FlagSet, f userFlags, t *cc.Tenant, u *cc.User) (shown []string, err error) {
	if err := exclusive(fs, [2]string{"password", "generate-password"}, [2]string{"sip-password", "generate-sip-password"}, [2]string{"enable", "disable"}); err != nil {
		return nil, err
	}
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
		if u.Skills, err = uniqueList("--skills", *f.skills); err != nil {
			return nil, err
		}
	}
	if isSet(fs, "static-contact") {
		u.StaticContact = *f.static
	}
	if isSet(fs, "endpoint") {
		if u.Endpoint, err = cc.ParseEndpoint(*f.endpoint); err != nil {
			return nil, err
		}
	}
	if isSet(fs, "external-number") {
		if u.ExternalNumber, err = externalNumber(*f.external, t.Region); err != nil {
			return nil, err
		}
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
		if err := checkPassword("sign-in", pw); err != nil {
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
		if err := checkPassword("SIP", sp); err != nil {
			return nil, err
		}
		u.SIPHA1 = auth.SIPHA1(u.SIPUsername, e.realm, sp)
	} else if isSet(fs, "sip-username") && u.SIPUsername != "" {
		// The stored credential (HA1) is bound to the username.
		return nil, cc.Errorf(cc.EINVALID, "give --sip-password or --generate-sip-password for SIP user %s", u.SIPUsername)
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
	// Required flags are checked in the order of the usage line.
	t, err := e.tenant(ctx, *f.tenant)
	if err != nil {
		return err
	}
	if *f.username == "" {
		return cc.Errorf(cc.EINVALID, "give --username, e.g. --username alice")
	}
	if *f.roles == "" {
		return cc.Errorf(cc.EINVALID, "give --role agent, supervisor or admin")
	}
	if *f.password == "" && !*f.genPassword {
		return cc.Errorf(cc.EINVALID, "give --password or --generate-password")
	}
	u := &cc.User{ID: cc.NewID("usr"), TenantID: t.ID, Username: *f.username, Endpoint: cc.EndpointBrowser, CreatedAt: time.Now().UTC()}
	if *f.sipUser != "" || *f.static != "" {
		// A user given a phone takes calls on it unless --endpoint says otherwise.
		u.Endpoint = cc.EndpointSIP
	}
	shown, err := e.applyUser(fs, f, t, u)
	if err != nil {
		return err
	}
	if err := e.store.CreateUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s created in %s (%s; %s)\n", u.Username, t.Slug, joinRoles(u.Roles), describeEndpoint(u))
	e.warnEndpoint(ctx, t, u)
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
	if *f.username == "" {
		return cc.Errorf(cc.EINVALID, "give --username, the user to change")
	}
	u, err := e.store.UserByUsername(ctx, t.ID, *f.username)
	if err != nil {
		return cc.Errorf(cc.ENOTFOUND, "no user %q in tenant %s", *f.username, t.Slug)
	}
	wasDisabled := u.Disabled
	shown, err := e.applyUser(fs, f, t, u)
	if err != nil {
		return err
	}
	if err := e.store.UpdateUser(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s updated (%s)\n", u.Username, describeEndpoint(u))
	if u.Disabled && !wasDisabled {
		// Disabled ends their sessions: enabling them again brings none back.
		if err := e.signOutUser(ctx, t, u); err != nil {
			return err
		}
	}
	e.warnEndpoint(ctx, t, u)
	for _, s := range shown {
		fmt.Fprintln(e.stdout, "  "+s)
	}
	return nil
}

// describeEndpoint says where u takes calls, for the output of user add and
// user set.
func describeEndpoint(u *cc.User) string {
	switch u.EndpointKind() {
	case cc.EndpointSIP:
		return "takes calls on the SIP phone (endpoint sip)"
	case cc.EndpointExternal:
		return "takes calls on " + u.ExternalNumber + " through the tenant's outbound trunk (endpoint external)"
	}
	return "takes calls in the browser panel (endpoint browser)"
}

// warnEndpoint warns when u's endpoint needs what the tenant lacks: an
// external number is called through an outbound trunk.
func (e *adminEnv) warnEndpoint(ctx context.Context, t *cc.Tenant, u *cc.User) {
	if u.EndpointKind() != cc.EndpointExternal {
		return
	}
	trunks, err := e.store.Trunks(ctx, t.ID)
	if err != nil || slices.ContainsFunc(trunks, func(tr *cc.Trunk) bool { return tr.OutboundURI != "" }) {
		return
	}
	fmt.Fprintf(e.stderr, "warning: tenant %s has no outbound trunk, so %s cannot be available until an admin sets one: parley admin trunk set --tenant %s --name NAME --outbound-uri sip:gateway.example.net:5060\n", t.Slug, u.Username, t.Slug)
}

// externalNumber normalises an agent's external number to E.164 with the
// tenant's region; "" clears it.
func externalNumber(input, region string) (string, error) {
	input = strings.TrimSpace(input)
	if input == "" {
		return "", nil
	}
	n, err := phone.Parse(input, region)
	if err != nil || n.Withheld || n.E164 == "" {
		return "", cc.WrapError(cc.EINVALID, err, "--external-number %q: give the agent's phone number, such as +12015550123 (national numbers are read in region %s)", input, region)
	}
	if n.Extension != "" {
		return "", cc.Errorf(cc.EINVALID, "--external-number %q has an extension: give a number that rings the agent directly", input)
	}
	return n.E164, nil
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
		rows = append(rows, []string{u.Username, u.DisplayName, joinRoles(u.Roles), strings.Join(u.Skills, ","), string(u.EndpointKind()), u.SIPUsername, u.StaticContact, u.ExternalNumber, describeIntegrations(u), state})
	}
	e.table("USERNAME\tNAME\tROLES\tSKILLS\tENDPOINT\tSIP USERNAME\tSTATIC CONTACT\tEXTERNAL NUMBER\tCRM USERNAMES\tSTATE", rows)
	return nil
}

// --- queues

type queueFlags struct {
	tenant, name, skills, overflow, dispositions, announcement, hold, screenPop *string
	priority                                                                    *int
	wrap, offer, maxWait, sl                                                    *time.Duration
	searchFields                                                                *repeated
}

// repeated is a flag that may be given several times.
type repeated []string

// String returns the values given, comma-separated.
func (r *repeated) String() string { return strings.Join(*r, ",") }

// Set adds one value.
func (r *repeated) Set(v string) error {
	*r = append(*r, v)
	return nil
}

func (e *adminEnv) queueFlags(fs *flag.FlagSet) queueFlags {
	return queueFlags{
		tenant:       fs.String("tenant", "", "tenant `slug`"),
		name:         fs.String("name", "", "queue `name`, e.g. Sales"),
		skills:       fs.String("skills", "", "comma-separated `skills` agents need (default: the name)"),
		overflow:     fs.String("overflow", "", "`queue` to move callers to when max wait runs out"),
		dispositions: fs.String("dispositions", "", "comma-separated wrap-up `codes` (default: the tenant's)"),
		announcement: fs.String("announcement", "", "announcement `file`: a bundled sound or a .wav in sip.sounds_dir"),
		hold:         fs.String("hold", "", "hold music `file`: a bundled sound or a .wav in sip.sounds_dir"),
		priority:     fs.Int("priority", 0, "`priority` 0-100, higher first"),
		wrap:         fs.Duration("wrap-up", cc.DefaultWrapUp, "wrap-up `time`: 0 logs at hang-up, else at least 1s"),
		offer:        fs.Duration("offer-timeout", cc.DefaultOfferTimeout, "how long an agent rings before ring-no-answer, 3s to 5m"),
		maxWait:      fs.Duration("max-wait", 0, "longest wait before overflow or the closing message: 0 unlimited, else at least 10s"),
		sl:           fs.Duration("service-level", cc.DefaultServiceLevel, "answer-time target for the service level, 1s to 1h"),
		screenPop:    fs.String("screen-pop", "answer", "when the agent's panel pops the CRM record: `offer` (the call rings) or answer"),
		searchFields: searchFieldFlag(fs),
	}
}

// searchFieldFlag defines the repeatable --search-field flag.
func searchFieldFlag(fs *flag.FlagSet) *repeated {
	r := &repeated{}
	fs.Var(r, "search-field", "`key=Object.Field`: search the CRM field for the call's data under key before the caller's number, "+
		"e.g. account_number=Account.AccountNumber; repeat it for several, in order; none clears them")
	return r
}

// parseSearchFields reads the --search-field values; "none" alone clears.
func parseSearchFields(vals []string) ([]cc.SearchField, error) {
	if len(vals) == 1 && strings.EqualFold(strings.TrimSpace(vals[0]), "none") {
		return nil, nil
	}
	var out []cc.SearchField
	for _, v := range vals {
		f, err := cc.ParseSearchField(v)
		if err != nil {
			return nil, cc.Errorf(cc.EINVALID, "--search-field: %s", cc.ErrorMessage(err))
		}
		out = append(out, f)
	}
	return out, nil
}

// Lower bounds of queue durations given on the command line. Below them a
// value is almost surely a slip (5s of waiting before the closing message,
// 500ms of wrap-up); 0 keeps its meaning.
const (
	minMaxWait = 10 * time.Second
	minWrapUp  = time.Second
)

// checkQueueDurations refuses durations given explicitly that Normalize
// would silently replace (0 offer timeout or service level) or that are
// below the useful minimum. cc.Queue.Validate checks the upper bounds.
func checkQueueDurations(fs *flag.FlagSet, f queueFlags) error {
	switch {
	case isSet(fs, "max-wait") && (*f.maxWait < 0 || *f.maxWait > 0 && *f.maxWait < minMaxWait):
		return cc.Errorf(cc.EINVALID, "--max-wait %s: use 0 (unlimited) or at least %s", *f.maxWait, minMaxWait)
	case isSet(fs, "wrap-up") && (*f.wrap < 0 || *f.wrap > 0 && *f.wrap < minWrapUp):
		return cc.Errorf(cc.EINVALID, "--wrap-up %s: use 0 (log at hang-up) or at least %s", *f.wrap, minWrapUp)
	case isSet(fs, "offer-timeout") && *f.offer <= 0:
		return cc.Errorf(cc.EINVALID, "--offer-timeout %s: use 3s to 5m (%s when not given)", *f.offer, cc.DefaultOfferTimeout)
	case isSet(fs, "service-level") && *f.sl <= 0:
		return cc.Errorf(cc.EINVALID, "--service-level %s: use 1s to 1h (%s when not given)", *f.sl, cc.DefaultServiceLevel)
	}
	return nil
}

func (e *adminEnv) applyQueue(ctx context.Context, fs *flag.FlagSet, f queueFlags, t *cc.Tenant, q *cc.Queue, all bool) error {
	if err := checkQueueDurations(fs, f); err != nil {
		return err
	}
	set := func(n string) bool { return all || isSet(fs, n) }
	var err error
	if set("skills") {
		if q.Skills, err = uniqueList("--skills", *f.skills); err != nil {
			return err
		}
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
		if q.Dispositions, err = uniqueList("--dispositions", *f.dispositions); err != nil {
			return err
		}
	}
	if set("announcement") {
		q.Announcement = strings.TrimSpace(*f.announcement)
	}
	if set("hold") {
		q.HoldMusic = strings.TrimSpace(*f.hold)
	}
	if set("screen-pop") {
		if q.ScreenPop, err = cc.ParseScreenPop(*f.screenPop); err != nil {
			return cc.Errorf(cc.EINVALID, "--screen-pop: %s", cc.ErrorMessage(err))
		}
	}
	if set("search-field") {
		if q.SearchFields, err = parseSearchFields(*f.searchFields); err != nil {
			return err
		}
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
	if err := q.Validate(); err != nil {
		return err
	}
	var sounds []string
	if isSet(fs, "announcement") && q.Announcement != "" {
		sounds = append(sounds, q.Announcement)
	}
	if isSet(fs, "hold") && q.HoldMusic != "" {
		sounds = append(sounds, q.HoldMusic)
	}
	return e.checkSounds(q.Name, sounds)
}

// checkSounds refuses sound files a queue names that are neither bundled
// nor in sip.sounds_dir, listing those that are.
func (e *adminEnv) checkSounds(queue string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	sounds, err := telephony.LoadSounds(e.soundsDir)
	if err != nil {
		return cc.Errorf(cc.EINVALID, "check the queue's sounds: %v", err)
	}
	for _, n := range names {
		if sounds.Has(n) {
			continue
		}
		where := "among the bundled sounds (set sip.sounds_dir to add your own)"
		if e.soundsDir != "" {
			where = "among the bundled sounds or in sip.sounds_dir " + e.soundsDir
		}
		return cc.Errorf(cc.EINVALID, "queue %s: sound %q is not %s: there are %s", queue, n, where, strings.Join(e.soundNames(sounds), ", "))
	}
	return nil
}

// soundNames lists the sounds a queue can name: the bundled ones and the
// .wav files of sip.sounds_dir.
func (e *adminEnv) soundNames(s *telephony.Sounds) []string {
	candidates := []string{telephony.SoundAnnouncement, telephony.SoundHold, telephony.SoundClosed}
	if e.soundsDir != "" {
		files, _ := filepath.Glob(filepath.Join(e.soundsDir, "*.wav"))
		for _, f := range files {
			candidates = append(candidates, filepath.Base(f))
		}
	}
	var names []string
	for _, c := range candidates {
		if s.Has(c) && !slices.Contains(names, c) {
			names = append(names, c)
		}
	}
	sort.Strings(names)
	return names
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
	if strings.TrimSpace(*f.name) == "" {
		return cc.Errorf(cc.EINVALID, "give --name, e.g. --name Sales")
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
	newName := fs.String("new-name", "", "rename the queue to this `name`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *f.tenant)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*f.name) == "" {
		return cc.Errorf(cc.EINVALID, "give --name, the queue to change (--new-name renames it)")
	}
	q, err := e.store.QueueByName(ctx, t.ID, *f.name)
	if err != nil {
		return cc.Errorf(cc.ENOTFOUND, "no queue %q in %s (parley admin queue list --tenant %s shows them)", *f.name, t.Slug, t.Slug)
	}
	old := q.Name
	if isSet(fs, "new-name") {
		q.Name = *newName
	}
	if err := e.applyQueue(ctx, fs, f, t, q, false); err != nil {
		return err
	}
	if err := e.store.UpdateQueue(ctx, q); err != nil {
		return err
	}
	if q.Name != old {
		fmt.Fprintf(e.stdout, "queue %s renamed to %s and updated\n", old, q.Name)
		return nil
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
		var fields []string
		for _, f := range q.SearchFields {
			fields = append(fields, f.String())
		}
		rows = append(rows, []string{q.Name, fmt.Sprint(q.Priority), strings.Join(q.Skills, ","), q.WrapUp.String(), q.OfferTimeout.String(), q.MaxWait.String(), names[q.OverflowQueueID],
			string(q.PopTiming()), strings.Join(fields, ",")})
	}
	e.table("QUEUE\tPRIORITY\tSKILLS\tWRAP-UP\tOFFER TIMEOUT\tMAX WAIT\tOVERFLOW\tSCREEN POP\tSEARCH FIELDS", rows)
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
	collect := fs.String("collect", "", "`key:max-digits`: ask the caller for up to max digits (RFC 4733, '#' ends) before queueing, stored under key, e.g. account_number:8")
	prompt := fs.String("collect-prompt", "", "prompt `file` for --collect: a bundled sound or a .wav in sip.sounds_dir (default "+telephony.SoundEnterAccount+")")
	digitTimeout := fs.Duration("digit-timeout", cc.DefaultDigitTimeout, "with --collect: the longest wait for the next digit, 1s to 1m")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*number) == "" {
		return cc.Errorf(cc.EINVALID, "give --number, e.g. --number +15550100 or a SIP alias such as sales")
	}
	if strings.TrimSpace(*queue) == "" {
		return cc.Errorf(cc.EINVALID, "give --queue, the queue the number reaches")
	}
	num, err := entryNumber(*number, t.Region)
	if err != nil {
		return err
	}
	q, err := e.store.QueueByName(ctx, t.ID, *queue)
	if err != nil {
		return cc.Errorf(cc.ENOTFOUND, "no queue %q in %s (parley admin queue list --tenant %s shows them)", *queue, t.Slug, t.Slug)
	}
	ep := &cc.EntryPoint{ID: cc.NewID("ent"), TenantID: t.ID, Number: num, QueueID: q.ID, Name: *name, EarlyMedia: *early, CreatedAt: time.Now().UTC()}
	switch {
	case *collect != "":
		if ep.Collect, err = cc.ParseDigitCollection(*collect); err != nil {
			return cc.Errorf(cc.EINVALID, "--collect: %s", cc.ErrorMessage(err))
		}
		ep.Collect.Prompt = strings.TrimSpace(*prompt)
		ep.Collect.Timeout = *digitTimeout
		if ep.Collect.Timeout == cc.DefaultDigitTimeout {
			ep.Collect.Timeout = 0
		}
	case isSet(fs, "collect-prompt") || isSet(fs, "digit-timeout"):
		return cc.Errorf(cc.EINVALID, "--collect-prompt and --digit-timeout go with --collect KEY:MAX-DIGITS, e.g. --collect account_number:8")
	}
	if err := ep.Validate(); err != nil {
		return err
	}
	if ep.Collect != nil && ep.Collect.Prompt != "" {
		if err := e.checkSounds("entry point "+ep.Number, []string{ep.Collect.Prompt}); err != nil {
			return err
		}
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
	if strings.TrimSpace(*number) == "" {
		return cc.Errorf(cc.EINVALID, "give --number, the entry point to remove")
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
		collect := ""
		if c := ep.Collect; c != nil {
			prompt := c.Prompt
			if prompt == "" {
				prompt = telephony.SoundEnterAccount
			}
			collect = fmt.Sprintf("%s:%d (%s, %s)", c.Key, c.MaxDigits, prompt, c.DigitTimeout())
		}
		rows = append(rows, []string{ep.Number, names[ep.QueueID], ep.Name, fmt.Sprint(ep.EarlyMedia), collect})
	}
	e.table("NUMBER\tQUEUE\tLABEL\tEARLY MEDIA\tCOLLECT", rows)
	return nil
}

// --- trunks

func (e *adminEnv) trunkAdd(ctx context.Context, args []string) error {
	fs := e.flags("trunk add")
	slug := fs.String("tenant", "", "tenant `slug`")
	name := fs.String("name", "", "trunk `name`")
	cidrs := fs.String("cidr", "", "comma-separated allowed source `networks`, e.g. 203.0.113.0/24,198.51.100.7")
	out := fs.String("outbound-uri", "", "SIP `URI` for outbound (click-to-dial) calls, e.g. sip:gw.example.net:5060; the number becomes its user part")
	fs.StringVar(out, "outbound", "", "the same as --outbound-uri")
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
	e.warnOpenTrunk(*name, prefixes)
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

// warnOpenTrunk warns when a trunk's sources include every address
// (0.0.0.0/0 or ::/0): anyone who can reach Parley's SIP port may then
// place calls into its queues.
func (e *adminEnv) warnOpenTrunk(name string, prefixes []netip.Prefix) {
	for _, p := range prefixes {
		if p.Bits() == 0 {
			fmt.Fprintf(e.stderr, "warning: trunk %s: --cidr %s lets any address send calls into the queues; give the carrier's networks instead\n", name, p)
		}
	}
}

func (e *adminEnv) trunkSet(ctx context.Context, args []string) error {
	fs := e.flags("trunk set")
	slug := fs.String("tenant", "", "tenant `slug`")
	name := fs.String("name", "", "trunk `name`")
	cidrs := fs.String("cidr", "", "comma-separated allowed source `networks`")
	out := fs.String("outbound-uri", "", "SIP `URI` for outbound (click-to-dial) calls; empty turns them off")
	fs.StringVar(out, "outbound", "", "the same as --outbound-uri")
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
			e.warnOpenTrunk(tr.Name, tr.CIDRs)
		}
		if isSet(fs, "outbound") || isSet(fs, "outbound-uri") {
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
	capBytes := fs.Int("log-cap", 0, "byte cap of the logged Task Description (labelled Comments in Salesforce; default 4000)")
	base := fs.String("base-url", "", "Parley's public `URL`, linked from cut logs")
	ssoID := fs.String("sso-client-id", "", "consumer `key` of the connected app agents sign in with (single sign-on; empty turns it off)")
	ssoSecretFile := fs.String("sso-client-secret-file", "", "`file` holding that app's consumer secret")
	myDomain := fs.String("my-domain", "", "the org's My Domain `URL` (https://acme.my.salesforce.com); single sign-on uses it instead of the login URL; empty clears it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	if *ssoID != "" || *ssoSecretFile != "" {
		if err := t.CheckSSO(); err != nil {
			return err
		}
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
		if isSet(fs, "sso-client-id") {
			id := strings.TrimSpace(*ssoID)
			if id != "" && c.SSOClientID != "" && id != c.SSOClientID && *ssoSecretFile == "" {
				return cc.Errorf(cc.EINVALID, "--sso-client-id %s replaces %s: give the new connected app's consumer secret too (--sso-client-secret-file FILE); the old app's secret does not sign in with it", id, c.SSOClientID)
			}
			c.SSOClientID = id
			if c.SSOClientID == "" {
				c.SSOClientSecret = nil
			}
		}
		if isSet(fs, "my-domain") {
			c.MyDomain = strings.TrimRight(strings.TrimSpace(*myDomain), "/")
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
			if c.ClientSecret, err = readSecretFile("client-secret-file", *secretFile); err != nil {
				return err
			}
		}
		if *ssoSecretFile != "" {
			if c.SSOClientSecret, err = readSecretFile("sso-client-secret-file", *ssoSecretFile); err != nil {
				return err
			}
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
	switch {
	case t.CRM.SSOClientID != "" && t.CRM.MyDomain != "":
		fmt.Fprintf(e.stdout, "single sign-on: on (connected app %s, signing in at the My Domain %s)\n", t.CRM.SSOClientID, t.CRM.MyDomain)
	case t.CRM.SSOClientID != "":
		fmt.Fprintf(e.stdout, "single sign-on: on (connected app %s, signing in at %s)\n", t.CRM.SSOClientID, t.CRM.LoginURL)
	case t.Kind.SSO() && t.CRM.Kind != "":
		fmt.Fprintf(e.stdout, "single sign-on: off (give the agents' connected app with --sso-client-id KEY --sso-client-secret-file FILE)\n")
	}
	return nil
}

// readSecretFile reads a secret from the file given to --flag, trimmed.
func readSecretFile(flag, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, cc.Errorf(cc.EINVALID, "read --%s: %v", flag, err)
	}
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) == 0 {
		return nil, cc.Errorf(cc.EINVALID, "--%s %s is empty: put the secret in it", flag, path)
	}
	return b, nil
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
		c.Kind, c.LoginURL, apiVersionShown(c.APIVersion), c.ClientID, c.Username, secretState(c.PrivateKey), secretState(c.ClientSecret), c.LogCapBytes, c.BaseURL)
	fmt.Fprintf(e.stdout, "SSO client id: %s\nSSO client secret: %s\nMy Domain: %s\n", c.SSOClientID, secretState(c.SSOClientSecret), c.MyDomain)
	return nil
}

// apiVersionShown is the CRM connection's REST API version as crm show
// prints it: the default, marked, when none was set.
func apiVersionShown(v string) string {
	if v == "" {
		return salesforce.DefaultAPIVersion + " (default)"
	}
	return v
}

// callCenterXML writes the tenant's call center definition file for
// Salesforce (Setup, Call Centers, Import).
func (e *adminEnv) callCenterXML(ctx context.Context, args []string) error {
	fs := e.flags("callcenter-xml")
	slug := fs.String("tenant", "", "tenant `slug`")
	sandbox := fs.Bool("sandbox", false, "for a Salesforce sandbox org (adds sandbox=true to the adapter URL)")
	sso := fs.Bool("sso", false, "single sign-on from the CRM (adds ssoMode=true to the adapter URL; kinds 2 and 3 only)")
	out := fs.String("out", "", "write to this `file` instead of standard output")
	standby := fs.String("standby-url", "", "standby adapter `URL` (default: the adapter URL with standby=true)")
	timeout := fs.Int("timeout", callcenter.DefaultTimeoutMS, "`milliseconds` Salesforce waits for the adapter before the standby URL")
	outside := fs.String("outside-prefix", "", "`digits` dialled for an outside line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	xml, err := callcenter.Generate(t, callcenter.Options{PublicURL: e.publicURL, Clusters: e.clusters, SSO: *sso, Sandbox: *sandbox, StandbyURL: *standby, TimeoutMS: *timeout, OutsidePrefix: *outside})
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := e.stdout.Write(xml)
		return err
	}
	if err := os.WriteFile(*out, xml, 0o644); err != nil {
		return cc.Errorf(cc.EINVALID, "write --out %s: %v", *out, err)
	}
	fmt.Fprintf(e.stdout, "call center definition of %s written to %s; import it in Salesforce: Setup, Call Centers, Import\n", t.Slug, *out)
	return nil
}
