package secret

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestAddKeyAndDropOld(t *testing.T) {
	t.Setenv(EnvVar, "")
	path := filepath.Join(t.TempDir(), "secret.key")
	k1, err := Load(path, true)
	if err != nil {
		t.Fatal(err)
	}
	old, err := k1.Seal([]byte("client secret"))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := KeyID(old); err != nil || id != "k1" {
		t.Fatalf("KeyID = %q, %v; want k1", id, err)
	}
	id, err := AddKey(path)
	if err != nil || id != "k2" {
		t.Fatalf("AddKey = %q, %v; want k2", id, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode after AddKey: %v %v", fi.Mode(), err)
	}
	k2, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(k2.IDs(), []string{"k2", "k1"}) || k2.ActiveKeyID() != "k2" {
		t.Fatalf("keyring after AddKey: %v", k2.IDs())
	}
	if p, err := k2.Open(old); err != nil || string(p) != "client secret" {
		t.Fatalf("the old key no longer opens: %q %v", p, err)
	}
	resealed, _ := k2.Seal([]byte("client secret"))
	if id, _ := KeyID(resealed); id != "k2" {
		t.Fatalf("seals with %q, want k2", id)
	}
	dropped, err := DropOld(path)
	if err != nil || !slices.Equal(dropped, []string{"k1"}) {
		t.Fatalf("DropOld = %v, %v", dropped, err)
	}
	k3, err := Load(path, false)
	if err != nil || !slices.Equal(k3.IDs(), []string{"k2"}) {
		t.Fatalf("keyring after DropOld: %v %v", k3.IDs(), err)
	}
	if _, err := k3.Open(old); err == nil || !strings.Contains(err.Error(), `key "k1" is not in the keyring`) {
		t.Fatalf("a value of the dropped key: %v", err)
	}
	if p, err := k3.Open(resealed); err != nil || string(p) != "client secret" {
		t.Fatalf("the re-sealed value: %q %v", p, err)
	}
	// The next key number skips ids in use.
	if id, _ := AddKey(path); id != "k3" {
		t.Errorf("next AddKey = %q, want k3 (k2 is in use)", id)
	}
}

func TestRotationRefusedFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	t.Setenv(EnvVar, NewKeyLine("env1"))
	if _, err := AddKey(path); !cc.IsCode(err, cc.ECONFLICT) || !strings.Contains(err.Error(), "put a new key line") {
		t.Errorf("AddKey with %s set: %v", EnvVar, err)
	}
	if _, err := DropOld(path); !cc.IsCode(err, cc.ECONFLICT) {
		t.Errorf("DropOld with %s set: %v", EnvVar, err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a key file was written although the keyring comes from the environment")
	}
}

func TestKeyIDRefusesOthers(t *testing.T) {
	for _, v := range []string{"", "plain", "v2.k1.abc", "v1.", "v1..x"} {
		if id, err := KeyID([]byte(v)); err == nil {
			t.Errorf("KeyID(%q) = %q, want an error", v, id)
		}
	}
}

func TestAddKeyRefusesReadableFile(t *testing.T) {
	t.Setenv(EnvVar, "")
	path := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(path, []byte(NewKeyLine("k1")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := AddKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("AddKey on a mode 644 file: %v", err)
	}
}
