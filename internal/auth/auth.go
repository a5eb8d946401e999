// Package auth holds Parley's credential primitives: argon2id password
// hashes in PHC string form, SIP digest HA1 values, and bearer token hashes.
// Plain passwords and tokens are never stored; only what this package derives.
package auth

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/parley-cc/parley/internal/cc"
)

// Argon2id parameters (RFC 9106's second recommended option, with 64 MiB).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLength is the shortest password accepted for new credentials.
const MinPasswordLength = 8

// CheckPassword returns EINVALID when pw is not acceptable as a new password.
func CheckPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return cc.Errorf(cc.EINVALID, "password is too short: use at least %d characters", MinPasswordLength)
	case len(pw) > 1024:
		return cc.Errorf(cc.EINVALID, "password is too long: use at most 1024 bytes")
	case !utf8.ValidString(pw):
		return cc.Errorf(cc.EINVALID, "password is not valid UTF-8 text")
	}
	return nil
}

// HashPassword returns the argon2id PHC string for pw.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// dummyHash is verified against when a user does not exist, so that a wrong
// username costs the same time as a wrong password.
var dummyHash, _ = HashPassword("parley-dummy-password")

// VerifyPassword reports whether pw matches the PHC hash. An empty hash
// (no password set) never matches, but costs the same time.
func VerifyPassword(hash, pw string) bool {
	if hash == "" {
		verify(dummyHash, pw)
		return false
	}
	return verify(hash, pw)
}

func verify(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var mem uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || mem == 0 || mem > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// SIPHA1 returns MD5(username:realm:password) in hex, the only form of a SIP
// password Parley stores (RFC 2617 "HA1").
func SIPHA1(username, realm, password string) string {
	sum := md5.Sum([]byte(username + ":" + realm + ":" + password))
	return hex.EncodeToString(sum[:])
}

// NewToken returns a new random bearer token and its storage hash.
func NewToken() (token, hash string) {
	token = "prl_" + cc.RandomToken(32)
	return token, HashToken(token)
}

// HashToken returns the SHA-256 hex hash under which a token is stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// GeneratePassword returns a random password of n characters from an
// alphabet without look-alike characters.
func GeneratePassword(n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
