package secret

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

// TestLoadOrCreateRefusesWhenValuesAreSealed: with the key file gone, a
// new key is written only when nothing is sealed yet; otherwise the error
// says to restore the file or set the variable and names the keys needed.
func TestLoadOrCreateRefusesWhenValuesAreSealed(t *testing.T) {
	t.Setenv(EnvVar, "")
	path := filepath.Join(t.TempDir(), "data", "secret.key")
	_, err := LoadOrCreate(path, []string{"k3", "k1", "k3"})
	if !cc.IsCode(err, cc.ENOTFOUND) {
		t.Fatalf("missing key file with sealed values: %v, want ENOTFOUND", err)
	}
	for _, want := range []string{path + " is missing", "restore " + path + " from a backup", "set " + EnvVar, "keys k1, k3", "would open none of them"} {
		if !strings.Contains(cc.ErrorMessage(err), want) {
			t.Errorf("message %q lacks %q", cc.ErrorMessage(err), want)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a key file was created although values are sealed: %v", err)
	}
	k, err := LoadOrCreate(path, nil)
	if err != nil || k.ActiveKeyID() != "k1" {
		t.Fatalf("nothing sealed yet: %v, want a new key k1", err)
	}
	// Now the file exists: it is loaded even when it lacks keys (the
	// caller warns with Missing), never replaced.
	again, err := LoadOrCreate(path, []string{"k3"})
	if err != nil || again.ActiveKeyID() != "k1" {
		t.Fatalf("existing key file: %v", err)
	}
	// From the environment the file is neither read nor written.
	t.Setenv(EnvVar, NewKeyLine("env1"))
	os.Remove(path)
	if k, err := LoadOrCreate(path, []string{"k3"}); err != nil || k.ActiveKeyID() != "env1" {
		t.Fatalf("keyring from %s: %v", EnvVar, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a key file was written although the keyring comes from the environment")
	}
}

func TestMissing(t *testing.T) {
	k, err := Parse(NewKeyLine("k2") + "\n" + NewKeyLine("k1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Missing([]string{"k1", "k4", "k3", "k4", "k2"}); !slices.Equal(got, []string{"k3", "k4"}) {
		t.Fatalf("Missing = %v, want [k3 k4]", got)
	}
	if got := k.Missing(nil); len(got) != 0 {
		t.Fatalf("Missing(nil) = %v", got)
	}
}
