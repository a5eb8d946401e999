package sippeer

import (
	"os"
	"os/exec"
	"testing"
)

// RequirePeersEnv is the environment variable that turns a missing tool from
// a skipped test into a failed one when set to "1".
const RequirePeersEnv = "PARLEY_REQUIRE_PEERS"

// Tool is an external program the kit runs, with the Debian package that
// provides it.
type Tool struct {
	Binary  string
	Package string
}

// The tools the kit uses.
var (
	ToolBaresip = Tool{Binary: "baresip", Package: "baresip-core"}
	ToolSIPp    = Tool{Binary: "sipp", Package: "sip-tester"}
	ToolSox     = Tool{Binary: "sox", Package: "sox libsox-fmt-all"}
)

// PeersRequired reports whether missing tools fail tests instead of skipping
// them (PARLEY_REQUIRE_PEERS=1).
func PeersRequired() bool { return os.Getenv(RequirePeersEnv) == "1" }

// RequireTool returns the path of the tool's binary. When it is not on PATH
// the test is skipped, or failed when [PeersRequired].
func RequireTool(tb testing.TB, tool Tool) string {
	tb.Helper()
	path, err := exec.LookPath(tool.Binary)
	if err == nil {
		return path
	}
	msg := "sippeer: " + tool.Binary + " not found on PATH; install it with: apt-get install -y " + tool.Package
	if PeersRequired() {
		tb.Fatal(msg + " (" + RequirePeersEnv + "=1, so this is a failure)")
	}
	tb.Skip(msg + " (set " + RequirePeersEnv + "=1 to make this a failure)")
	return ""
}
