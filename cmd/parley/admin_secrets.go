package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

const secretsUsage = `Usage: parley admin [--config FILE] [--data DIR] secrets status|rotate [--drop-old]

  status            the keyring's keys (the active one first) and how many
                    sealed values each key sealed; exits 1 when values are
                    sealed with a key the keyring lacks
  rotate            put a new key first in the keyring file and re-seal every
                    sealed value with it (CRM private keys and client secrets,
                    SSO client secrets, CRM refresh tokens); the old keys stay
                    in the file so that nothing is lost if it stops half-way
  rotate --drop-old adds a new key first, re-seals every value with it, then
                    drops the old keys from the file; refused while any value
                    still opens only with an old key

Stop the server first: it knows only the keys it started with. With the
keyring in PARLEY_SECRET_KEY the file is not used: put a new key line
(parley admin secret-key) first in the variable, run rotate, which re-seals
with it, then remove the old lines yourself.
`

// runAdminSecrets runs "parley admin secrets VERB".
func runAdminSecrets(ctx context.Context, m *Main, cfgFile, data string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, secretsUsage)
		return errUsage
	}
	verb, args := args[0], args[1:]
	fs := newFlagSet("admin secrets "+verb, stderr)
	fs.Usage = func() { fmt.Fprint(stderr, secretsUsage) }
	dropOld := false
	switch verb {
	case "status":
	case "rotate":
		fs.BoolVar(&dropOld, "drop-old", false, "after adding a new key first and re-sealing every value with it, drop the old keys from the keyring file (refused while a value still needs one)")
	default:
		fmt.Fprintf(stderr, "parley admin: unknown command \"secrets %s\" (secrets takes status, rotate)\n\n%s", verb, secretsUsage)
		return errUsage
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	warnUnknownEnv(stderr)
	if err := m.configure(cfgFile, data, "", ""); err != nil {
		return err
	}
	s := &secretsCmd{path: m.Config.KeyFilePath(), dbPath: m.Config.DatabasePath(), stdout: stdout}
	var err error
	if verb == "status" {
		err = s.status(ctx)
	} else {
		err = s.rotate(ctx, m.Config.DataDir, dropOld)
	}
	if err != nil && cc.ErrorCode(err) != cc.EINTERNAL {
		return exitError{1, cc.ErrorMessage(err)}
	}
	return err
}

// secretsCmd is one run of the secrets commands.
type secretsCmd struct {
	path   string // the keyring file
	dbPath string
	stdout io.Writer
}

// source names where the keyring comes from.
func (s *secretsCmd) source() string {
	if secret.FromEnv() {
		return secret.EnvVar
	}
	return s.path
}

// open loads the keyring and opens the database with it.
func (s *secretsCmd) open(ctx context.Context) (*secret.Keyring, *sqlite.DB, error) {
	if !secret.FromEnv() {
		if _, err := os.Stat(s.path); err != nil {
			return nil, nil, cc.Errorf(cc.ENOTFOUND, "no keyring at %s (%v): if this is the server's data directory and it holds sealed values, restore the key file from a backup (mode 600) or set %s to the key; otherwise give the server's --data or --config", s.path, err, secret.EnvVar)
		}
	}
	k, err := secret.Load(s.path, false)
	if err != nil {
		return nil, nil, cc.WrapError(cc.EINVALID, err, "%s", err)
	}
	if _, err := os.Stat(s.dbPath); err != nil {
		return nil, nil, cc.Errorf(cc.ENOTFOUND, "no database at %s: give the server's --data or --config", s.dbPath)
	}
	db, err := sqlite.Open(ctx, s.dbPath, sqlite.Options{Sealer: k})
	if err != nil {
		return nil, nil, fmt.Errorf("open database %s: %w", s.dbPath, err)
	}
	return k, db, nil
}

// status prints the keys and the sealed values per key.
func (s *secretsCmd) status(ctx context.Context) error {
	k, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	counts, err := db.SealedCounts(ctx, secret.KeyID)
	if err != nil {
		return err
	}
	s.printStatus(k, counts)
	if msg := missingKeys(k, s.source(), counts); msg != "" {
		return cc.Errorf(cc.ENOTFOUND, "%s", msg)
	}
	return nil
}

func (s *secretsCmd) printStatus(k *secret.Keyring, counts []sqlite.SealedCount) {
	ids := k.IDs()
	fmt.Fprintf(s.stdout, "keyring %s: %s (active), %d key(s)\n", s.source(), ids[0], len(ids))
	perKey := map[string]int{}
	w := tabwriter.NewWriter(s.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SECRET\tKEY\tVALUES")
	for _, c := range counts {
		perKey[c.KeyID] += c.N
		fmt.Fprintf(w, "%s\t%s\t%d\n", c.What, c.KeyID, c.N)
	}
	w.Flush()
	for _, id := range ids {
		fmt.Fprintf(s.stdout, "key %s: %d value(s)\n", id, perKey[id])
		delete(perKey, id)
	}
	for id, n := range perKey {
		fmt.Fprintf(s.stdout, "key %s: %d value(s), NOT IN THE KEYRING: they cannot be opened\n", id, n)
	}
}

// rotate adds a key (to the file), re-seals everything with the active key
// and, with dropOld, removes the other keys from the file.
func (s *secretsCmd) rotate(ctx context.Context, dataDir string, dropOld bool) error {
	// A running server keeps the keyring it started with: it could not
	// open what is re-sealed with a new key, and may seal new values with
	// an old one. Holding the data directory's lock keeps one from
	// starting meanwhile.
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	lock, err := lockDataDir(dataDir)
	if cc.IsCode(err, cc.ECONFLICT) {
		return cc.Errorf(cc.ECONFLICT, "%s: stop the server before rotating the secret key (it knows only the keys it started with), then start it again", cc.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	defer lock.Close()
	if _, err := os.Stat(s.dbPath); err != nil {
		return cc.Errorf(cc.ENOTFOUND, "no database at %s: give the server's --data or --config", s.dbPath)
	}
	if !secret.FromEnv() {
		if _, err := os.Stat(s.path); err != nil {
			return cc.Errorf(cc.ENOTFOUND, "no keyring at %s (%v): if this is the server's data directory and it holds sealed values, restore the key file from a backup (mode 600) or set %s to the key; otherwise give the server's --data or --config", s.path, err, secret.EnvVar)
		}
		id, err := secret.AddKey(s.path)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "new key %s put first in %s\n", id, s.path)
	}
	k, db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.Reseal(ctx)
	if err != nil {
		return cc.WrapError(cc.ECONFLICT, err, "nothing was re-sealed: %s (the keyring %s must hold every key that sealed a value; parley admin secrets status shows them)", err, s.source())
	}
	fmt.Fprintf(s.stdout, "re-sealed %d value(s) with key %s\n", n, k.ActiveKeyID())
	counts, err := db.SealedCounts(ctx, secret.KeyID)
	if err != nil {
		return err
	}
	s.printStatus(k, counts)
	if !dropOld {
		if len(k.IDs()) > 1 {
			fmt.Fprintf(s.stdout, "old key(s) %s kept: run parley admin secrets rotate --drop-old to remove them once the backups made with them are gone\n", strings.Join(k.IDs()[1:], ", "))
		}
		if secret.FromEnv() {
			fmt.Fprintf(s.stdout, "the keyring comes from %s: to rotate, put a new key line (parley admin secret-key) first in it and run this again\n", secret.EnvVar)
		}
		return nil
	}
	var old []string
	for _, c := range counts {
		if c.KeyID != k.ActiveKeyID() {
			old = append(old, c.What+" "+c.KeyID+" "+strconv.Itoa(c.N))
		}
	}
	if len(old) > 0 {
		return cc.Errorf(cc.ECONFLICT, "old keys not dropped: values are still sealed with other keys than %s (%s)", k.ActiveKeyID(), strings.Join(old, "; "))
	}
	if secret.FromEnv() {
		if len(k.IDs()) > 1 {
			fmt.Fprintf(s.stdout, "every value is sealed with %s: remove the other keys (%s) from %s yourself, keeping %s\n", k.ActiveKeyID(), strings.Join(k.IDs()[1:], ", "), secret.EnvVar, k.ActiveKeyID())
		}
		return nil
	}
	dropped, err := secret.DropOld(s.path)
	if err != nil {
		return err
	}
	if len(dropped) == 0 {
		fmt.Fprintln(s.stdout, "no old keys to drop")
	} else {
		fmt.Fprintf(s.stdout, "dropped old key(s) %s from %s\n", strings.Join(dropped, ", "), s.path)
	}
	return nil
}
