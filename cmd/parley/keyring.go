package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/parley-cc/parley/internal/config"
	"github.com/parley-cc/parley/internal/secret"
	"github.com/parley-cc/parley/internal/store/sqlite"
)

// loadKeyring loads the secret keyring of c (PARLEY_SECRET_KEY, else the
// key file). A missing key file is created only while the database holds
// no sealed value: with sealed values it is refused, saying to restore the
// file or set PARLEY_SECRET_KEY and naming the keys the values need
// (secret.LoadOrCreate).
func loadKeyring(ctx context.Context, c *config.Config) (*secret.Keyring, error) {
	var sealedWith []string
	if !secret.FromEnv() {
		if _, err := os.Stat(c.KeyFilePath()); errors.Is(err, os.ErrNotExist) {
			if sealedWith, err = sealedKeyIDs(ctx, c.DatabasePath()); err != nil {
				return nil, err
			}
		}
	}
	return secret.LoadOrCreate(c.KeyFilePath(), sealedWith)
}

// sealedKeyIDs returns the ids of the keys that sealed the values of the
// database at path; none when there is no database yet. It opens the
// database without a sealer: it reads only the key ids.
func sealedKeyIDs(ctx context.Context, path string) ([]string, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	defer db.Close()
	counts, err := db.SealedCounts(ctx, secret.KeyID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range counts {
		if c.KeyID != "unreadable" {
			ids = append(ids, c.KeyID)
		}
	}
	return ids, nil
}

// missingKeys says which keys sealed values of counts need that k lacks:
// "2 sealed value(s) need key k3, which keyring SOURCE lacks", or "" when
// k opens them all.
func missingKeys(k *secret.Keyring, source string, counts []sqlite.SealedCount) string {
	var ids []string
	n := 0
	for _, c := range counts {
		if c.KeyID != "unreadable" && len(k.Missing([]string{c.KeyID})) > 0 {
			ids = append(ids, c.KeyID)
			n += c.N
		}
	}
	ids = k.Missing(ids)
	if len(ids) == 0 {
		return ""
	}
	keys := "key " + ids[0]
	if len(ids) > 1 {
		keys = "keys " + strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%d sealed value(s) need %s, which keyring %s lacks: they cannot be opened; restore the keyring file from a backup, or put the key line(s) in %s", n, keys, source, secret.EnvVar)
}

// keyringSource names where the keyring of c comes from, for messages.
func keyringSource(c *config.Config) string {
	if secret.FromEnv() {
		return secret.EnvVar
	}
	return c.KeyFilePath()
}
