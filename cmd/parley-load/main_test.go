package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/testkit/loadkit"
	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

func parse(t *testing.T, args ...string) (*Main, error) {
	t.Helper()
	m := NewMain()
	var stderr bytes.Buffer
	m.Stderr = &stderr
	return m, m.ParseFlags(args)
}

func TestParseFlags(t *testing.T) {
	m, err := parse(t, "--servers", "parley,peer", "--reps", "3", "--sip", "127.0.0.1:5082", "--early-media=false", "cps:50", "conc:300")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Servers, ",") != "parley,peer" || m.Reps != 3 || m.SIP != "127.0.0.1:5082" || m.EarlyMedia {
		t.Errorf("parsed %+v", m)
	}
	if len(m.Levels) != 2 || m.Levels[0].Name != "cps:50" || m.Levels[1].Limit != 300 {
		t.Errorf("levels %+v", m.Levels)
	}
	if _, err := parse(t, "-h"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	if _, err := parse(t); !errors.Is(err, errUsage) {
		t.Errorf("no level: %v, want a usage error", err)
	}
	if _, err := parse(t, "--no-such-flag", "cps:5"); !errors.Is(err, errUsage) {
		t.Errorf("unknown flag: %v, want a usage error", err)
	}
}

func TestParseFlagsExplainsBadValues(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--servers", "parley,asterisk", "cps:5"}, `unknown server "asterisk"`},
		{[]string{"--servers", ",", "cps:5"}, "--servers is empty"},
		{[]string{"--reps", "0", "cps:5"}, "--reps 0"},
		{[]string{"--sip", "192.0.2.1:5060", "cps:5"}, "loopback"},
		{[]string{"--sip", "127.0.0.1", "cps:5"}, "loopback ip:port"},
		{[]string{"--http", "0.0.0.0:8080", "cps:5"}, "--http"},
		{[]string{"--rtp-ports", "40000-40010", "cps:5"}, "at least 100 ports"},
		{[]string{"--peer-rtp-ports", "x", "cps:5"}, "--peer-rtp-ports"},
		{[]string{"--uas-port", "80", "cps:5"}, "--uas-port 80"},
		{[]string{"--log-level", "loud", "cps:5"}, "--log-level"},
		{[]string{"--agents", "-1", "cps:5"}, "--agents -1"},
		{[]string{"--profile", "--profile-for", "0s", "cps:5"}, "profile for 1s to 5m"},
		{[]string{"cps:five"}, `"five" is not a whole number`},
	} {
		_, err := parse(t, tt.args...)
		if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want EINVALID saying %q", tt.args, err, tt.want)
		}
	}
}

// requireLoadTools skips unless every program the shared script runs in
// MODE=external is installed (the script would otherwise install them).
func requireLoadTools(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"bash", "sipp", "sox", "tcpdump", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the load script needs it (apt-get install -y sip-tester sox tcpdump tshark)", tool)
		}
	}
	root, err := loadkit.ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "..", "shared", "bench", "peer-kamailio-rtpengine.sh")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("the shared load script is not beside this checkout (%v)", err)
	}
	return script
}

// TestRunAgainstParley is the whole tool on a tiny level: a Parley built
// from this checkout, a prepared data directory, the shared script's SIPp
// UAC and UAS on ports of their own, real calls bridged with media.
func TestRunAgainstParley(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Parley and places real calls")
	}
	script := requireLoadTools(t)
	ports := sippeer.FreePorts(t, 240)
	// Loopback only, no capture (tcpdump needs privileges) and no
	// system-wide socket buffer change.
	t.Setenv("CAPTURE", "0")
	t.Setenv("RMEM_DEFAULT", "keep")
	work := t.TempDir()
	var stdout, stderr bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &stderr
	err := m.ParseFlags([]string{
		"--work", work, "--script", script, "--pause", "0s",
		"--sip", "127.0.0.1:" + strconv.Itoa(ports.Port(0)),
		"--uac-port", strconv.Itoa(ports.Port(1)), "--uac-media-port", strconv.Itoa(ports.Port(4)),
		"--uas-port", strconv.Itoa(ports.Port(2)), "--uas-media-port", strconv.Itoa(ports.Port(8)),
		"--rtp-ports", strconv.Itoa(ports.Port(100)) + "-" + strconv.Itoa(ports.Last()),
		"2,4,4,3",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	defer m.Close()
	if err := m.Run(ctx); err != nil {
		t.Fatalf("Run: %v\n%s", err, loadkit.LastLines(stderr.String(), 40))
	}
	rs := m.RunResults()
	if len(rs) != 1 {
		t.Fatalf("%d results, want 1", len(rs))
	}
	r := rs[0]
	if !r.Peer.Pass() || r.Peer["ok"] != "4" || r.Peer["failed"] != "0" {
		t.Errorf("SIPp: pass %s, ok %s, failed %s (%s); want 4 calls, none failed\n%s", r.Peer["pass"], r.Peer["ok"], r.Peer["failed"], r.Peer["fail_why"], loadkit.LastLines(stderr.String(), 40))
	}
	if r.Accepted != 4 || r.Answered != 4 || r.Refused != 0 || r.Unanswered != 0 {
		t.Errorf("Parley: accepted %v, answered %v, refused %v, unanswered %v; want 4 answered", r.Accepted, r.Answered, r.Refused, r.Unanswered)
	}
	if r.CPU <= 0 || r.RSSIdleKB <= 0 || r.RSSPeakKB < r.RSSIdleKB || r.ServerMsPerCallS() <= 0 {
		t.Errorf("figures: CPU %s, RSS idle %d peak %d kB, %v ms per call-second; want them measured", r.CPU, r.RSSIdleKB, r.RSSPeakKB, r.ServerMsPerCallS())
	}
	if r.ServerError != "" || r.ExitError != "" {
		t.Errorf("server: %q, exit: %q", r.ServerError, r.ExitError)
	}
	if m.server != nil {
		t.Error("Parley still running after the run")
	}
	log, err := os.ReadFile(filepath.Join(work, "runs.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{" PEER mode=external ", " LOAD server=parley level=2,4,4,3 rep=1 "} {
		if !strings.Contains(string(log), want) {
			t.Errorf("runs.log lacks %q:\n%s", want, log)
		}
	}
	if !strings.Contains(stdout.String(), "| parley | 2,4,4,3 | 2 | 4 | 4 | 3 | 1 |") {
		t.Errorf("no table row on stdout:\n%s", stdout.String())
	}
}
