package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/parley-cc/parley/internal/auth"
	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/devcrm"
)

func runDevCRM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devcrm", stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "listen `address`")
	data := fs.String("data", "./devcrm-data", "data `directory` (the SQLite file lives here)")
	seed := fs.String("seed", "", "`directory` of Account.csv, Contact.csv, Lead.csv, User.csv in Salesforce export format (used on first start; default: the bundled records)")
	capBytes := fs.Int("description-cap", devcrm.DefaultDescriptionCapBytes, "byte cap of Task Description")
	appID := fs.String("client-id", "", "register a connected app with this consumer `key` (client credentials)")
	appSecret := fs.String("client-secret", "", "its `secret` (generated and printed when empty)")
	runAs := fs.String("run-as", "integration@devcrm.example.com", "`username` the app acts as")
	pagesPassword := fs.String("password", "", "`password` of admin@devcrm.example.com on devcrm's pages (generated and printed when empty)")
	sandbox := fs.Bool("sandbox", false, "act as a sandbox org: the OpenID issuer is URL/sandbox, as test.salesforce.com is apart from login.salesforce.com")
	ssoCallback := fs.String("sso-callback", "", "create a connected app for OpenID sign-in with this callback `URL` (exact match; PKCE required) and print its consumer key and secret")
	ssoName := fs.String("sso-app-name", "Parley", "`name` of that app on the consent page")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkSeedDir(*seed); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("create the devcrm data directory: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv, err := devcrm.New(devcrm.Config{Addr: *addr, DBPath: filepath.Join(*data, "devcrm.db"), SeedDir: *seed, DescriptionCapBytes: *capBytes, Logger: log, Sandbox: *sandbox})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "devcrm is running at %s (org %s)\n", srv.URL(), srv.OrgID())
	if *appID != "" {
		secret := *appSecret
		if secret == "" {
			secret = auth.GeneratePassword(24)
		}
		if err := srv.RegisterApp(ctx, devcrm.App{ClientID: *appID, ClientSecret: secret, RunAsUsername: *runAs}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "connected app %s registered; client secret: %s\n", *appID, secret)
	}
	if *ssoCallback != "" {
		app, err := srv.CreateApp(ctx, devcrm.App{Name: *ssoName, CallbackURLs: []string{*ssoCallback}, RequirePKCE: true})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "OpenID connected app %s: consumer key %s, consumer secret %s\n", app.Name, app.ClientID, app.ClientSecret)
	}
	pw := *pagesPassword
	if pw == "" {
		pw = auth.GeneratePassword(12)
	}
	switch err := srv.SetUserPassword(ctx, "admin@devcrm.example.com", pw); {
	case cc.IsCode(err, cc.ENOTFOUND):
		fmt.Fprintf(stdout, "pages: %s/lightning/page/home  (no admin@devcrm.example.com in the seed: nobody can sign in to the pages)\n", srv.URL())
	case err != nil:
		return err
	default:
		fmt.Fprintf(stdout, "pages: %s/lightning/page/home  sign in as admin@devcrm.example.com, password %s (Setup: %s/setup/callcenters)\n", srv.URL(), pw, srv.URL())
	}
	fmt.Fprintf(stdout, "REST: %s/services/data/v%s/  token: %s/services/oauth2/token\n", srv.URL(), devcrm.DefaultAPIVersion, srv.URL())
	fmt.Fprintf(stdout, "OpenID issuer: %s  (discovery: %s/.well-known/openid-configuration; connected apps: %s/setup/connectedapps)\n", srv.Issuer(), srv.Issuer(), srv.URL())
	<-ctx.Done()
	return nil
}

// checkSeedDir refuses a --seed that is not a directory, before anything
// is created ("" means the bundled records).
func checkSeedDir(dir string) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cc.Errorf(cc.EINVALID, "seed directory %s does not exist", dir)
	case err != nil:
		return cc.Errorf(cc.EINVALID, "seed directory %s: %v", dir, err)
	case !fi.IsDir():
		return cc.Errorf(cc.EINVALID, "seed directory %s is not a directory: give the directory that holds Account.csv, Contact.csv, Lead.csv and User.csv", dir)
	}
	return nil
}
