// Package secret seals Parley's secrets at rest (CRM private keys and client
// secrets, later refresh tokens) with AES-256-GCM.
//
// A keyring is a small text file, one key per line as "id:base64(32 bytes)";
// the first line is the active key used to seal, every line can open. To
// rotate, put a new key first and keep the old ones until everything has been
// re-sealed. The key can also come from the environment (PARLEY_SECRET_KEY,
// same "id:base64" form, several separated by commas).
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
	if env := os.Getenv("PARLEY_SECRET_KEY"); env != "" {
		return Parse(env)
	}
	b, err := os.ReadFile(path)
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
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s is readable by others (mode %o): chmod 600 it", path, fi.Mode().Perm())
	}
	return Parse(string(b))
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
	s := string(sealed)
	ver, rest, ok := strings.Cut(s, ".")
	if !ok || ver != version {
		return nil, errors.New("open secret: not a sealed value")
	}
	id, _, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, errors.New("open secret: not a sealed value")
	}
	g, ok := k.aead[id]
	if !ok {
		return nil, fmt.Errorf("open secret: key %q is not in the keyring", id)
	}
	prefixLen := len(ver) + 1 + len(id) + 1
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
