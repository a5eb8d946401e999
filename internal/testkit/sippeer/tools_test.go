package sippeer

import (
	"strings"
	"testing"
)

// TestRequireTool checks that a missing tool skips the test, or fails it
// under PARLEY_REQUIRE_PEERS=1, with the install command in the message.
func TestRequireTool(t *testing.T) {
	missing := Tool{Binary: "parley-kit-no-such-tool", Package: "parley-kit-pkg"}
	for _, tc := range []struct {
		env, want string
	}{
		{"", "skip: "},
		{"0", "skip: "},
		{"1", "sippeer: "},
	} {
		t.Setenv(RequirePeersEnv, tc.env)
		msg := fatalMessage(t, func(tb testing.TB) { RequireTool(tb, missing) })
		if !strings.HasPrefix(msg, tc.want) || !strings.Contains(msg, "apt-get install -y parley-kit-pkg") {
			t.Errorf("%s=%q: %q, want a message starting %q that names the install command", RequirePeersEnv, tc.env, msg, tc.want)
		}
	}
	t.Setenv(RequirePeersEnv, "1")
	if path := RequireTool(t, Tool{Binary: "sh", Package: "dash"}); !strings.HasSuffix(path, "/sh") {
		t.Errorf("RequireTool(sh) = %q", path)
	}
}
