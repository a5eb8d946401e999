package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/ctiurl"
)

// ctiURL prints a CTI adapter URL: a tenant's (--tenant), or that of any
// cluster and kind of the cluster table (--cluster and --kind).
func (e *adminEnv) ctiURL(ctx context.Context, args []string) error {
	fs := e.flags("cti-url")
	slug := fs.String("tenant", "", "tenant `slug`: its cluster and kind")
	cluster := fs.String("cluster", "", "`cluster` of the cluster table (instead of --tenant), e.g. na12")
	kind := fs.Int("kind", 0, "tenant `kind` with --cluster: 1 legacy, 2 unified login, 3 unified login + UC")
	sso := fs.Bool("sso", false, "single sign-on from the CRM (ssoMode=true; kinds 2 and 3 only)")
	sandbox := fs.Bool("sandbox", false, "for a Salesforce sandbox org (sandbox=true)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var u string
	switch {
	case *slug != "" && (isSet(fs, "cluster") || isSet(fs, "kind")):
		return cc.Errorf(cc.EINVALID, "give --tenant, or --cluster and --kind, not both: a tenant has its own cluster and kind (parley admin tenant set changes them)")
	case *slug != "":
		t, err := e.tenant(ctx, *slug)
		if err != nil {
			return err
		}
		if u, err = e.clusters.ForTenant(t, e.publicURL, *sso, *sandbox); err != nil {
			return err
		}
	case *cluster == "" || !isSet(fs, "kind"):
		return cc.Errorf(cc.EINVALID, "give --tenant SLUG, or --cluster NAME --kind 1|2|3 (clusters: %s)", strings.Join(e.clusters.Names(), ", "))
	default:
		var err error
		u, err = e.clusters.Build(ctiurl.Params{PublicURL: e.publicURL, Cluster: *cluster, Kind: cc.TenantKind(*kind), SSO: *sso, Sandbox: *sandbox})
		if err != nil {
			return err
		}
	}
	fmt.Fprintln(e.stdout, u)
	return nil
}

// ctiURLCheck checks an adapter URL against a tenant and says what is
// wrong with it and the URL to use.
func (e *adminEnv) ctiURLCheck(ctx context.Context, args []string) error {
	fs := e.flags("cti-url check")
	slug := fs.String("tenant", "", "tenant `slug` the URL is for")
	// The URL may come before or after the flags.
	var raw string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		raw, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	switch {
	case raw == "" && fs.NArg() == 1:
		raw = fs.Arg(0)
	case fs.NArg() > 0:
		fmt.Fprintf(e.stderr, "admin cti-url check: give one URL (quote it: it holds &), not also %q\n", fs.Arg(0))
		return errUsage
	}
	if raw == "" {
		return cc.Errorf(cc.EINVALID, "give the adapter URL to check: parley admin cti-url check 'URL' --tenant SLUG")
	}
	t, err := e.tenant(ctx, *slug)
	if err != nil {
		return err
	}
	if err := e.clusters.Check(raw, t, e.publicURL); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "the adapter URL is right for tenant %s (%s, cluster %s)\n", t.Slug, t.Kind, t.Cluster)
	return nil
}

// checkCluster refuses a tenant cluster the cluster table does not name
// (an empty one is allowed: the tenant then has no adapter URL yet).
func (e *adminEnv) checkCluster(t *cc.Tenant) error {
	if t.Cluster == "" {
		return nil
	}
	if _, err := e.clusters.Domain(t.Cluster, t.Kind); err != nil {
		return cc.Errorf(cc.EINVALID, "--cluster: %s", cc.ErrorMessage(err))
	}
	return nil
}
