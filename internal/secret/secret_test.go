package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenRotate(t *testing.T) {
	oldLine := NewKeyLine("k1")
	old, err := Parse(oldLine)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Seal([]byte("-----BEGIN PRIVATE KEY-----"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("PRIVATE")) {
		t.Fatal("plaintext visible in sealed value")
	}
	// Rotated ring: the new key first, the old one kept to open old values.
	ring, err := Parse(NewKeyLine("k2") + "\n" + oldLine)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := ring.Open(sealed)
	if err != nil || string(pt) != "-----BEGIN PRIVATE KEY-----" {
		t.Fatalf("open after rotation: %q %v", pt, err)
	}
	resealed, _ := ring.Seal(pt)
	if !strings.HasPrefix(string(resealed), "v1.k2.") || ring.ActiveKeyID() != "k2" {
		t.Fatalf("rotated ring seals with %q", resealed[:6])
	}
	if _, err := old.Open(resealed); err == nil {
		t.Fatal("old ring opened a value sealed with a key it does not have")
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := ring.Open(tampered); err == nil {
		t.Fatal("tampered value opened")
	}
	relabelled := append([]byte("v1.k2."), sealed[len("v1.k1."):]...)
	if _, err := ring.Open(relabelled); err == nil {
		t.Fatal("value opened under another key id")
	}
	for _, bad := range [][]byte{nil, []byte("v1.k1."), []byte("plain"), []byte("v2.k1.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")} {
		if _, err := ring.Open(bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "# only a comment", "nokey", "k1:notbase64!", "k1:" + strings.Repeat("A", 20), NewKeyLine("k1") + "\n" + NewKeyLine("k1"), "a.b:" + strings.Split(NewKeyLine("x"), ":")[1]} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
}

func TestLoadCreates(t *testing.T) {
	t.Setenv("PARLEY_SECRET_KEY", "")
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, err := Load(path, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %o", fi.Mode().Perm())
	}
	k2, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := k1.Seal([]byte("x"))
	if p, err := k2.Open(s); err != nil || string(p) != "x" {
		t.Fatalf("reloaded ring cannot open: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := Load(path, false); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key file accepted: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none"), false); err == nil {
		t.Error("missing key file accepted without create")
	}
}
