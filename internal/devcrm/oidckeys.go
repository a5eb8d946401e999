package devcrm

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// tokenCrypto seals the provider's access tokens and codes with
// AES-256-GCM under a key kept in the database. An access token's plain
// text is "tokenId:subject"; the subject (an identity URL) has colons of its
// own, which Decrypt escapes so the library reads the token id and subject
// apart.
type tokenCrypto struct{ s *Server }

var errNoTokenKey = errors.New("devcrm token key not loaded")

func (c *tokenCrypto) aead() (cipher.AEAD, error) {
	c.s.mu.Lock()
	key := c.s.tokenKey
	c.s.mu.Unlock()
	if key == nil {
		return nil, errNoTokenKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Encrypt seals s.
func (c *tokenCrypto) Encrypt(s string) (string, error) {
	aead, err := c.aead()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(s), nil)), nil
}

// Decrypt opens what Encrypt sealed.
func (c *tokenCrypto) Decrypt(s string) (string, error) {
	aead, err := c.aead()
	if err != nil {
		return "", err
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("not a devcrm token")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return "", errors.New("not a devcrm token")
	}
	id, rest, ok := strings.Cut(string(plain), ":")
	if !ok {
		return id, nil
	}
	return id + ":" + strings.ReplaceAll(rest, ":", "%3A"), nil
}

// loadTokenKey reads the token key, making it on first start.
func loadTokenKey(ctx context.Context, db *sql.DB) ([]byte, error) {
	var key []byte
	err := withTx(ctx, db, func(tx *sql.Tx) error {
		v, err := metaValue(ctx, tx, "oidc_token_key")
		if err != nil {
			return err
		}
		if v == "" {
			v = hex.EncodeToString(randomBytes(32))
			if err := setMeta(ctx, tx, "oidc_token_key", v); err != nil {
				return err
			}
		}
		key, err = hex.DecodeString(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load the OpenID token key: %w", err)
	}
	return key, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// signingKey is an RS256 key of the provider.
type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.kid }
func (k *signingKey) Use() string                                 { return "sig" }

// publicKey is a signing key as /id/keys publishes it.
type publicKey struct{ *signingKey }

func (k publicKey) Key() any { return &k.key.PublicKey }

// signingKeys returns the provider's keys, newest first, making the first
// one (RSA 2048, kid from its SHA-256 thumbprint) the first time one is
// needed and keeping it in the database.
func (s *Server) signingKeys(ctx context.Context) ([]*signingKey, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if len(s.keys) > 0 {
		return s.keys, nil
	}
	db, err := s.database()
	if err != nil {
		return nil, err
	}
	keys, err := readSigningKeys(ctx, db)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("make the OpenID signing key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("make the OpenID signing key: %w", err)
		}
		pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		sum := sha256.Sum256(pub)
		kid := base64.RawURLEncoding.EncodeToString(sum[:9])
		pemText := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if _, err := db.ExecContext(ctx, `INSERT INTO oidc_key (kid, private_pem, created_at) VALUES (?, ?, ?)`, kid, string(pemText), formatDateTime(s.now())); err != nil {
			return nil, fmt.Errorf("store the OpenID signing key: %w", err)
		}
		s.log.Info("devcrm OpenID signing key made", "kid", kid)
		keys = []*signingKey{{kid: kid, key: key}}
	}
	s.keys = keys
	return keys, nil
}

func readSigningKeys(ctx context.Context, db *sql.DB) ([]*signingKey, error) {
	rows, err := db.QueryContext(ctx, `SELECT kid, private_pem FROM oidc_key ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("read the OpenID signing keys: %w", err)
	}
	defer rows.Close()
	var keys []*signingKey
	for rows.Next() {
		var kid, text string
		if err := rows.Scan(&kid, &text); err != nil {
			return nil, fmt.Errorf("read the OpenID signing keys: %w", err)
		}
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			return nil, fmt.Errorf("OpenID signing key %s is not PEM", kid)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("OpenID signing key %s: %w", kid, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("OpenID signing key %s is not an RSA key", kid)
		}
		keys = append(keys, &signingKey{kid: kid, key: rk})
	}
	return keys, rows.Err()
}
