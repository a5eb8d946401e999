// Package secret seals Parley's secrets at rest (CRM private keys, client
// secrets and SSO client secrets, CRM refresh tokens) with AES-256-GCM.
//
// A keyring is a small text file, one key per line as "id:base64(32 bytes)";
// the first line is the active key used to seal, every line can open. A
// sealed value names the key that sealed it (KeyID). To rotate, AddKey puts
// a new key first, the store re-seals every value with it, and DropOld
// removes the old keys once nothing needs them (`parley admin secrets
// rotate [--drop-old]`). The keyring can also come from the environment
// (PARLEY_SECRET_KEY, same "id:base64" form, several separated by commas);
// then the file is neither read nor changed.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
)

// Keyring seals with its first key and opens with any of its keys.
type Keyring struct {
	ids  []string
	aead map[string]cipher.AEAD
}

var _ cc.Sealer = (*Keyring)(nil)

const version = "v1"

// Parse reads a keyring from text: lines or comma-separated entries of
// "id:base64key". Blank lines and lines starting with # are ignored.
func Parse(text string) (*Keyring, error) {
	k := &Keyring{aead: map[string]cipher.AEAD{}}
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' })
	for n, line := range fields {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, b64, ok := strings.Cut(line, ":")
		if !ok || id == "" || strings.ContainsAny(id, ".: ") {
			return nil, fmt.Errorf("secret key entry %d: use id:base64key (the id has no '.', ':' or spaces)", n+1)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("secret key %q: the key must be 32 random bytes in standard base64", id)
		}
		if _, dup := k.aead[id]; dup {
			return nil, fmt.Errorf("secret key %q appears twice", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("secret key %q: %w", id, err)
		}
		g, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret key %q: %w", id, err)
		}
		k.ids = append(k.ids, id)
		k.aead[id] = g
	}
	if len(k.ids) == 0 {
		return nil, errors.New("secret keyring is empty: generate one with 'parley admin secret-key > FILE'")
	}
	return k, nil
}

// NewKeyLine returns a new random keyring line with the given id.
func NewKeyLine(id string) string {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic("secret: crypto/rand failed: " + err.Error())
	}
	return id + ":" + base64.StdEncoding.EncodeToString(raw)
}

// Load reads the keyring from env PARLEY_SECRET_KEY when set, else from
// path. When neither exists and create is true, a new key file is written
// with mode 0600.
func Load(path string, create bool) (*Keyring, error) {
	if env := os.Getenv(EnvVar); env != "" {
		return Parse(env)
	}
	_, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) && create {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create secret key file: %w", err)
		}
		line := NewKeyLine("k1") + "\n"
		if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
			return nil, fmt.Errorf("create secret key file: %w", err)
		}
		return Parse(line)
	}
	k, _, err := loadFile(path)
	return k, err
}

// LoadOrCreate loads the keyring as Load does, from EnvVar when set, else
// from the file at path. When neither exists it writes a new key file
// only if sealedWith is empty: sealedWith are the ids of the keys that
// sealed the values already stored (the database's), which a new key
// could never open. Then it returns ENOTFOUND saying to restore the file
// from a backup or set EnvVar, and naming the keys needed.
func LoadOrCreate(path string, sealedWith []string) (*Keyring, error) {
	if !FromEnv() && len(sealedWith) > 0 {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, cc.Errorf(cc.ENOTFOUND, "the secret key file %s is missing, but the database holds values sealed with %s: "+
				"restore %s from a backup (mode 600), or set %s to the keyring that holds them; "+
				"Parley does not create a new key, which would open none of them",
				path, keysPhrase(sortedUnique(sealedWith)), path, EnvVar)
		}
	}
	return Load(path, true)
}

// Missing returns the ids of ids the keyring does not hold, sorted, each
// once: keys that sealed stored values but cannot open them here.
func (k *Keyring) Missing(ids []string) []string {
	var out []string
	for _, id := range sortedUnique(ids) {
		if _, ok := k.aead[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// sortedUnique returns ids sorted, each once.
func sortedUnique(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// keysPhrase names key ids for a message: "key k1", "keys k1, k3".
func keysPhrase(ids []string) string {
	if len(ids) == 1 {
		return "key " + ids[0]
	}
	return "keys " + strings.Join(ids, ", ")
}

// Seal encrypts plaintext with the active key. The result names the key.
func (k *Keyring) Seal(plaintext []byte) ([]byte, error) {
	id := k.ids[0]
	g := k.aead[id]
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	prefix := version + "." + id + "."
	out := append([]byte(prefix), nonce...)
	return g.Seal(out, nonce, plaintext, []byte(prefix)), nil
}

// Open decrypts what Seal produced with any key of the ring.
func (k *Keyring) Open(sealed []byte) ([]byte, error) {
	id, err := KeyID(sealed)
	if err != nil {
		return nil, fmt.Errorf("open secret: %w", err)
	}
	g, ok := k.aead[id]
	if !ok {
		return nil, fmt.Errorf("open secret: key %q is not in the keyring", id)
	}
	prefixLen := len(version) + 1 + len(id) + 1
	body := sealed[prefixLen:]
	if len(body) < g.NonceSize()+g.Overhead() {
		return nil, errors.New("open secret: sealed value is truncated")
	}
	nonce, ct := body[:g.NonceSize()], body[g.NonceSize():]
	pt, err := g.Open(nil, nonce, ct, sealed[:prefixLen])
	if err != nil {
		return nil, errors.New("open secret: wrong key or tampered value")
	}
	return pt, nil
}

// ActiveKeyID names the key that seals.
func (k *Keyring) ActiveKeyID() string { return k.ids[0] }

// IDs are the keyring's key ids, the active one first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// KeyID returns the id of the key that sealed a value Seal produced,
// without opening it.
func KeyID(sealed []byte) (string, error) {
	ver, rest, ok := strings.Cut(string(sealed), ".")
	if !ok || ver != version {
		return "", errors.New("not a sealed value")
	}
	id, _, ok := strings.Cut(rest, ".")
	if !ok || id == "" {
		return "", errors.New("not a sealed value")
	}
	return id, nil
}

// EnvVar is the environment variable a keyring may come from instead of
// the key file.
const EnvVar = "PARLEY_SECRET_KEY"

// FromEnv reports whether Load takes the keyring from EnvVar.
func FromEnv() bool { return os.Getenv(EnvVar) != "" }

// AddKey puts a new random key first in the keyring file at path, so that
// it seals from now on while the others still open, and returns its id
// (k1, k2... the first number not in use). The file is replaced atomically
// with mode 0600. It refuses when the keyring comes from EnvVar: the file
// is not the one in use.
func AddKey(path string) (string, error) {
	if FromEnv() {
		return "", cc.Errorf(cc.ECONFLICT, "the keyring comes from %s, not from %s: put a new key line (parley admin secret-key prints one) first in %s yourself, then re-seal", EnvVar, path, EnvVar)
	}
	k, text, err := loadFile(path)
	if err != nil {
		return "", err
	}
	id := ""
	for n := len(k.ids) + 1; ; n++ {
		if _, used := k.aead[fmt.Sprintf("k%d", n)]; !used {
			id = fmt.Sprintf("k%d", n)
			break
		}
	}
	if err := writeFile(path, NewKeyLine(id)+"\n"+text); err != nil {
		return "", err
	}
	return id, nil
}

// DropOld rewrites the keyring file at path with its active key only and
// returns the ids it removed. The caller checks first that nothing is
// still sealed with them (a value sealed with a dropped key can never be
// opened again). It refuses when the keyring comes from EnvVar.
func DropOld(path string) ([]string, error) {
	if FromEnv() {
		return nil, cc.Errorf(cc.ECONFLICT, "the keyring comes from %s: remove the old keys from it yourself (keep the first)", EnvVar)
	}
	k, text, err := loadFile(path)
	if err != nil {
		return nil, err
	}
	if len(k.ids) == 1 {
		return nil, nil
	}
	var keep []string
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if id, _, _ := strings.Cut(l, ":"); id == k.ids[0] {
			keep = append(keep, l)
		}
	}
	if len(keep) != 1 {
		return nil, fmt.Errorf("keyring file %s: the active key %q is not on a line of its own", path, k.ids[0])
	}
	if err := writeFile(path, keep[0]+"\n"); err != nil {
		return nil, err
	}
	return k.ids[1:], nil
}

// loadFile reads and parses the keyring file at path, checking its mode.
func loadFile(path string) (*Keyring, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read secret key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, "", fmt.Errorf("secret key file %s is readable by others (mode %o): chmod 600 it", path, fi.Mode().Perm())
	}
	k, err := Parse(string(b))
	if err != nil {
		return nil, "", fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, string(b), nil
}

// writeFile replaces the keyring file atomically: a temporary file with
// mode 0600 in the same directory, synced, then renamed over it.
func writeFile(path, text string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".secret-key-*")
	if err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	return nil
}
