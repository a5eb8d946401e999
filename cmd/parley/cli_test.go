package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cliIn runs the command line with ctx.
func cliIn(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// cancelled is a context that has already ended: a command that should
// refuse to start returns at once with it, and one that wrongly starts
// stops at once instead of hanging the test.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestDataDirLockRefusesASecondServer(t *testing.T) {
	t.Setenv("PARLEY_SECRET_KEY", "")
	dir := t.TempDir()
	held, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "data directory " + dir + " is in use by another parley (pid " + strconv.Itoa(os.Getpid()) + "); stop it or use --data"
	if _, err := lockDataDir(dir); err == nil || err.Error() != want {
		t.Fatalf("second lock: %v, want %q", err, want)
	}
	code, _, errOut := cliIn(cancelled(), "serve", "--data", dir, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, want) {
		t.Fatalf("serve beside a server: exit %d\n%s", code, errOut)
	}
	code, _, errOut = cliIn(cancelled(), "demo", "--data", dir, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--crm", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, want) {
		t.Fatalf("demo beside a server: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "devcrm.db")); err == nil {
		t.Error("the refused demo started devcrm in the data directory")
	}
	// admin works beside a running server.
	if code, out, errOut := cli(t, "admin", "--data", dir, "tenant", "add", "--name", "acme"); code != 0 {
		t.Fatalf("admin beside a server: exit %d\n%s%s", code, out, errOut)
	}
	held.Close()
	held.Close() // a second Close is harmless
	again, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Close()
}

// TestDataDirLockReleasedWhenHolderDies: a server killed with SIGKILL
// leaves no lock behind.
func TestDataDirLockReleasedWhenHolderDies(t *testing.T) {
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestLockHolderProcess$")
	child.Env = append(os.Environ(), "CLI_FIXES_LOCK_DIR="+dir)
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := child.StdinPipe() // the child holds the lock until killed
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		child.Process.Kill()
		t.Fatalf("child: %q %v", line, err)
	}
	_, err = lockDataDir(dir)
	if err == nil || !strings.Contains(err.Error(), "(pid "+strconv.Itoa(child.Process.Pid)+")") {
		child.Process.Kill()
		t.Fatalf("lock held by the child: %v, want its pid %d", err, child.Process.Pid)
	}
	child.Process.Kill()
	child.Wait()
	l, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after the holder died: %v", err)
	}
	l.Close()
}

// TestLockHolderProcess is the child of TestDataDirLockReleasedWhenHolderDies.
func TestLockHolderProcess(t *testing.T) {
	dir := os.Getenv("CLI_FIXES_LOCK_DIR")
	if dir == "" {
		t.Skip("the child process of TestDataDirLockReleasedWhenHolderDies")
	}
	if _, err := lockDataDir(dir); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	var b [1]byte
	os.Stdin.Read(b[:]) // until killed
}

// wav8k returns a short 8 kHz mono 16-bit PCM WAV file.
func wav8k() []byte {
	samples := make([]byte, 1600)
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + len(samples)))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1)) // PCM
	le(uint16(1)) // mono
	le(uint32(8000))
	le(uint32(16000))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(len(samples)))
	b.Write(samples)
	return b.Bytes()
}

func TestAdminFixes(t *testing.T) {
	t.Setenv("PARLEY_SECRET_KEY", "")
	sounds := t.TempDir()
	if err := os.WriteFile(filepath.Join(sounds, "welcome.wav"), wav8k(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARLEY_SIP_SOUNDS_DIR", sounds)
	dir := t.TempDir()
	a := func(args ...string) []string { return append([]string{"admin", "--data", dir}, args...) }
	steps := []struct {
		args     []string
		code     int
		contains []string
		stderr   []string // also on stderr for a command that succeeds
	}{
		// tenants: defaults said, regions known, lists without repeats, kinds named
		{a("tenant", "add", "--name", "acme"), 0, []string{"tenant acme created (region US (default), time zone UTC (default), kind 1 legacy)"}, nil},
		{a("tenant", "add", "--name", "emea", "--region", "gb", "--tz", "Europe/London", "--kind", "3"), 0, []string{"region GB, time zone Europe/London, kind 3 unified login + UC"}, nil},
		{a("tenant", "add", "--name", "bad", "--region", "XX"), 1, []string{`tenant region "XX" is not a known phone region`}, nil},
		{a("tenant", "add", "--name", "bad", "--region", "ZZ"), 1, []string{`tenant region "ZZ" is not a known phone region`}, nil},
		{a("tenant", "set", "--tenant", "acme", "--region", "XX"), 1, []string{"not a known phone region"}, nil},
		{a("tenant", "add", "--name", "bad", "--reasons", "break,lunch,break"), 1, []string{`--reasons lists "break" twice`}, nil},
		{a("tenant", "add", "--name", "bad", "--dispositions", "Resolved,Escalated,resolved"), 1, []string{`--dispositions lists "resolved" twice`}, nil},
		{a("tenant", "set", "--tenant", "acme", "--dispositions", "A,B,A"), 1, []string{`--dispositions lists "A" twice`}, nil},
		{a("tenant", "add", "--name", "uni", "--kind", "2"), 0, nil, nil},
		{a("tenant", "list"), 0, []string{"1 legacy", "2 unified login", "3 unified login + UC"}, nil},
		// users: required flags in the order of the usage, conflicts, which password
		{a("user", "add", "--tenant", "acme", "--role", "agent", "--generate-password"), 1, []string{"give --username"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice"), 1, []string{"give --role"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--password", "long enough"), 1, []string{"give --role"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent"), 1, []string{"give --password or --generate-password"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--password", "long enough", "--generate-password"), 1, []string{"give --password or --generate-password, not both"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--generate-password", "--sip-username", "alice"), 1, []string{"give --sip-password or --generate-sip-password for SIP user alice"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--generate-password", "--sip-username", "alice", "--sip-password", "long enough", "--generate-sip-password"), 1, []string{"give --sip-password or --generate-sip-password, not both"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--generate-password", "--sip-username", "alice", "--sip-password", "short"), 1, []string{"SIP password is too short"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--password", "short"), 1, []string{"sign-in password is too short"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--generate-password", "--skills", "sales,Sales"), 1, []string{`--skills lists "Sales" twice`}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "alice", "--role", "agent", "--generate-password"), 0, []string{"user alice created in acme (agent; takes calls in the browser panel (endpoint browser))"}, nil},
		// endpoints: the default follows the phone given; each says what it lacks
		{a("user", "add", "--tenant", "acme", "--username", "bob", "--role", "agent", "--generate-password", "--static-contact", "sip:bob@10.0.0.5"), 0, []string{"(agent; takes calls on the SIP phone (endpoint sip))"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "carol", "--role", "agent", "--generate-password", "--endpoint", "phone"), 1, []string{`endpoint "phone": use browser (the panel's softphone), sip (a SIP phone or static contact) or external`}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "carol", "--role", "agent", "--generate-password", "--endpoint", "external"), 1, []string{"user carol takes calls on an external number but has none: set --external-number"}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "carol", "--role", "agent", "--generate-password", "--endpoint", "external", "--external-number", "call me"), 1, []string{`--external-number "call me": give the agent's phone number, such as +12015550123`}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "carol", "--role", "agent", "--generate-password", "--endpoint", "external", "--external-number", "201 555 0123 x 4"), 1, []string{`--external-number "201 555 0123 x 4" has an extension`}, nil},
		{a("user", "add", "--tenant", "acme", "--username", "carol", "--role", "agent", "--generate-password", "--endpoint", "external", "--external-number", "(201) 555-0123"), 0, []string{"takes calls on +12015550123 through the tenant's outbound trunk (endpoint external)"}, []string{"warning: tenant acme has no outbound trunk, so carol cannot be available until an admin sets one: parley admin trunk set --tenant acme"}},
		{a("user", "set", "--tenant", "acme", "--username", "carol", "--external-number", ""), 1, []string{"user carol takes calls on an external number but has none"}, nil},
		{a("user", "set", "--tenant", "acme", "--username", "alice", "--endpoint", "sip"), 1, []string{"user alice takes calls on a SIP phone but has no SIP username and no static contact: set --sip-username or --static-contact"}, nil},
		{a("user", "set", "--tenant", "acme", "--username", "alice", "--endpoint", "SIP", "--static-contact", "sip:alice@10.0.0.6"), 0, []string{"user alice updated (takes calls on the SIP phone (endpoint sip))"}, nil},
		{a("user", "set", "--tenant", "acme", "--username", "bob", "--endpoint", "browser"), 0, []string{"user bob updated (takes calls in the browser panel (endpoint browser))"}, nil},
		{a("user", "list", "--tenant", "acme"), 0, []string{"ENDPOINT", "EXTERNAL NUMBER", "external", "+12015550123"}, nil},
		{a("user", "set", "--tenant", "acme", "--username", "alice", "--enable", "--disable"), 1, []string{"give --enable or --disable, not both"}, nil},
		{a("user", "set", "--tenant", "acme", "--sip-username", "alice"), 1, []string{"give --username"}, nil},
		{a("user", "set", "--tenant", "acme", "--username", "alice", "--sip-username", "alice"), 1, []string{"give --sip-password or --generate-sip-password for SIP user alice"}, nil},
		// queues: durations given explicitly, sounds that exist, --name selects
		{a("queue", "add", "--tenant", "acme", "--name", "Q", "--max-wait", "5s"), 1, []string{"--max-wait 5s: use 0 (unlimited) or at least 10s"}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Q", "--wrap-up", "500ms"), 1, []string{"--wrap-up 500ms: use 0 (log at hang-up) or at least 1s"}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Q", "--wrap-up", "-1s"), 1, []string{"--wrap-up -1s"}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Q", "--offer-timeout", "0s"), 1, []string{"--offer-timeout 0s: use 3s to 5m"}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Q", "--offer-timeout", "6m"), 1, []string{"offer timeout 6m0s: use 3s to 5m"}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Q", "--service-level", "0s"), 1, []string{"--service-level 0s: use 1s to 1h"}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Q", "--dispositions", "Sold,sold"), 1, []string{`--dispositions lists "sold" twice`}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Q", "--announcement", "nope.wav"), 1, []string{`sound "nope.wav" is not among the bundled sounds or in sip.sounds_dir ` + sounds, "there are announcement.wav, closed.wav, hold.wav, welcome.wav"}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Q", "--hold", "nope.wav"), 1, []string{`sound "nope.wav"`}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Sales", "--max-wait", "0s", "--wrap-up", "0s", "--announcement", "welcome.wav", "--hold", "hold.wav"), 0, []string{"queue Sales created"}, nil},
		{a("queue", "add", "--tenant", "acme", "--name", "Support", "--max-wait", "10s"), 0, []string{"queue Support created"}, nil},
		{a("queue", "set", "--tenant", "acme", "--queue", "Sales", "--priority", "5"), 2, []string{"flag provided but not defined: -queue"}, nil},
		{a("queue", "set", "--tenant", "acme", "--priority", "5"), 1, []string{"give --name, the queue to change"}, nil},
		{a("queue", "set", "--tenant", "acme", "--name", "Nope", "--priority", "5"), 1, []string{`no queue "Nope" in acme`}, nil},
		{a("queue", "set", "--tenant", "acme", "--name", "Sales", "--announcement", "missing.wav"), 1, []string{`sound "missing.wav"`}, nil},
		{a("queue", "set", "--tenant", "acme", "--name", "Sales", "--new-name", "Inbound", "--priority", "5"), 0, []string{"queue Sales renamed to Inbound and updated"}, nil},
		{a("queue", "set", "--tenant", "acme", "--name", "Inbound", "--offer-timeout", "0s"), 1, []string{"--offer-timeout 0s"}, nil},
		{a("queue", "list", "--tenant", "acme"), 0, []string{"Inbound", "Support"}, nil},
		// entry points: required flags
		{a("entry-point", "add", "--tenant", "acme", "--number", "+15550100"), 1, []string{"give --queue"}, nil},
		{a("entry-point", "add", "--tenant", "acme", "--queue", "Inbound"), 1, []string{"give --number"}, nil},
		{a("entry-point", "remove", "--tenant", "acme"), 1, []string{"give --number"}, nil},
		{a("entry-point", "add", "--tenant", "acme", "--number", "+15550100", "--queue", "Sales"), 1, []string{`no queue "Sales" in acme`}, nil},
		// trunks open to every address are allowed, with a warning
		{a("trunk", "add", "--tenant", "acme", "--name", "open", "--cidr", "0.0.0.0/0"), 0, []string{"trunk open created"}, []string{"--cidr 0.0.0.0/0 lets any address send calls"}},
		{a("trunk", "set", "--tenant", "acme", "--name", "open", "--cidr", "203.0.113.0/24,::/0"), 0, []string{"trunk open updated"}, []string{"--cidr ::/0 lets any address send calls"}},
		// commands
		{a("bogus"), 2, []string{`parley admin: unknown command "bogus"`}, nil},
		{a("tenant", "frob"), 2, []string{`parley admin: unknown command "tenant frob"`}, nil},
		{a("tenant"), 2, []string{"give a verb: add, list, set"}, nil},
		{a("user", "add", "-h"), 0, []string{"Usage: parley admin user add --tenant SLUG --username NAME --role ROLES (--password PW | --generate-password)", "[--endpoint browser|sip|external]", "-endpoint where"}, nil},
		{a("crm", "set", "-h"), 0, []string{"Task Description (labelled Comments in Salesforce"}, nil},
	}
	for _, s := range steps {
		code, out, errOut := cli(t, s.args...)
		if code != s.code {
			t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", s.args[3:], code, s.code, out, errOut)
			continue
		}
		for _, want := range s.contains {
			if !strings.Contains(out+errOut, want) {
				t.Errorf("%v: output lacks %q:\n%s%s", s.args[3:], want, out, errOut)
			}
		}
		for _, want := range s.stderr {
			if !strings.Contains(errOut, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", s.args[3:], want, errOut)
			}
		}
	}
	// An unknown command opens nothing: no data directory appears.
	fresh := filepath.Join(t.TempDir(), "data")
	if code, _, _ := cli(t, "admin", "--data", fresh, "bogus", "add"); code != 2 {
		t.Errorf("admin bogus add: exit %d", code)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("an unknown admin command created the data directory")
	}
}

func TestCallRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--to", "x@127.0.0.1"}, 2, `--to "x@127.0.0.1" does not start with sip: or sips:`},
		{[]string{"--to", "sip:"}, 2, "has no host"},
		{[]string{"--to", "sip:alice@"}, 2, "has no host"},
		{[]string{"--to", "sip:a@127.0.0.1:0"}, 2, "has a port that is not 1-65535"},
		{[]string{"--to", "sip:a@127.0.0.1:65536"}, 2, "has a port that is not 1-65535"},
		{[]string{"--to", "sip:a@127.0.0.1:sip"}, 2, "has a port that is not 1-65535"},
		{[]string{"--to", "sip:a@2001:db8::1"}, 2, "IPv6 host without brackets"},
		{[]string{"--to", "sip:a@[::1:5060"}, 2, "unclosed ["},
		{[]string{"--to", "sip:a@[127.0.0.1]"}, 2, "not an IPv6 address"},
		{[]string{"--to", "sip:a@ex ample.com"}, 2, `has ' ' in its host`},
		{[]string{"--to", "sip:a@127.0.0.1:5060", "--duration", "-1s"}, 2, "--duration -1s: use 0"},
		{[]string{"--to", "sip:a@127.0.0.1:5060", "--ring", "0s"}, 2, "--ring 0s"},
		{[]string{"--to", "sip:a@127.0.0.1:5060", "--dtmf", "12x"}, 2, `--dtmf "12x": 'x' is not a DTMF digit: use 0-9, *, # and A-D`},
		{[]string{"--to", "sip:a@192.0.2.1:5060"}, 2, "bind to an address that reaches 192.0.2.1 with --bind"},
		{[]string{"--to", "sip:a@127.0.0.1:5060", "--bind", "nonsense"}, 2, `--bind "nonsense": write host:port`},
		{[]string{"--to", "sip:a@127.0.0.1:5060", "--record", filepath.Join(dir, "missing", "x.wav")}, 1, "--record: open " + filepath.Join(dir, "missing", "x.wav")},
		{[]string{"--answer", "--register", "alice@127.0.0.1"}, 2, `--register "alice@127.0.0.1" does not start with sip:`},
		{[]string{"--answer", "--register", "sip:alice@192.0.2.1"}, 2, "bind to an address that reaches 192.0.2.1 with --bind"},
		{[]string{"--answer", "--record", filepath.Join(dir, "missing", "x.wav")}, 1, "--record: open"},
	} {
		code, _, errOut := cliIn(cancelled(), append([]string{"call"}, tt.args...)...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("call %v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

func TestCheckSIPURI(t *testing.T) {
	for _, tt := range []struct{ uri, host string }{
		{"sip:+15550100@127.0.0.1:5060", "127.0.0.1"},
		{"SIP:alice@Example.com", "Example.com"},
		{"sips:alice@pbx.example.com:5061;transport=tcp", "pbx.example.com"},
		{"sip:127.0.0.1", "127.0.0.1"},
		{"sip:a@[::1]:5060", "::1"},
		{"sip:a@[2001:db8::1]", "2001:db8::1"},
		{"sip:+1212555;phone-context=x@gw.example.net:5060?Subject=hi", "gw.example.net"},
		{"sip:a@127.0.0.1:1", "127.0.0.1"},
		{"sip:a@127.0.0.1:65535", "127.0.0.1"},
	} {
		host, err := checkSIPURI("--to", tt.uri)
		if err != nil || host != tt.host {
			t.Errorf("checkSIPURI(%q) = %q, %v; want %q", tt.uri, host, err, tt.host)
		}
	}
}

func TestCheckDTMF(t *testing.T) {
	if got, err := checkDTMF("0123456789*#abcdABCD"); err != nil || got != "0123456789*#ABCDABCD" {
		t.Errorf("checkDTMF = %q, %v", got, err)
	}
	for _, bad := range []string{"1 2", "E", "12-3", "ü"} {
		if _, err := checkDTMF(bad); err == nil {
			t.Errorf("checkDTMF(%q) accepted", bad)
		}
	}
}

func TestCheckBindReaches(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		bind, host string
		ok         bool
	}{
		{"127.0.0.1:0", "127.0.0.1", true},
		{"127.0.0.1:0", "127.0.0.2", true},
		{"127.0.0.1:0", "::1", true},
		{"127.0.0.1:0", "localhost", true},
		{"[::1]:0", "192.0.2.1", false},
		{"localhost:0", "192.0.2.1", false},
		{"127.0.0.1:0", "192.0.2.1", false},
		{"0.0.0.0:0", "192.0.2.1", true},
		{"192.0.2.2:0", "192.0.2.1", true},
	} {
		err := checkBindReaches(ctx, "--to", tt.bind, tt.host)
		if (err == nil) != tt.ok {
			t.Errorf("checkBindReaches(%s, %s) = %v, want ok %v", tt.bind, tt.host, err, tt.ok)
		}
	}
}

func TestCreateRecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caller.wav")
	if err := os.WriteFile(path, []byte("an old recording"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := createRecording(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("after createRecording: %v %v", fi, err)
	}
	if err := createRecording(""); err != nil {
		t.Fatalf("no --record: %v", err)
	}
}

// TestCallAnswerReportsRegistration: `parley call --answer` says when its
// registration succeeded, and that it failed with a wrong password.
func TestCallAnswerReportsRegistration(t *testing.T) {
	e := startEnv(t)
	alice := e.user("alice")
	aor := "sip:alice@" + e.sipAddr

	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"call", "--answer", "--register", aor, "--user", "alice", "--password", alice.SIPPassword}, out, errOut)
	}()
	eventually(t, 30*time.Second, "registered as "+aor, func() bool {
		return strings.Contains(out.String(), "registered as "+aor+"\n")
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("answering phone: exit %d\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out.String(), "registered as"); n != 1 {
		t.Errorf("registration reported %d times:\n%s", n, out)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, stdout, stderr := cliIn(ctx, "call", "--answer", "--register", aor, "--user", "alice", "--password", "wrong password")
	if code != 1 || !strings.Contains(stderr, "registration failed") || strings.Contains(stdout, "registered as") {
		t.Fatalf("wrong password: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

func TestCheckConfigShowsEffectiveValuesAndWarns(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "parley.yaml")
	os.WriteFile(cfg, []byte("data_dir: "+dir+"\n"), 0o600)
	t.Setenv("PARLEY_HTTP_LISEN", "127.0.0.1:9000")
	t.Setenv("PARLEY_SECRET_KEY", "")
	code, out, errOut := cli(t, "check-config", "--config", cfg)
	if code != 0 {
		t.Fatalf("check-config: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"database: " + filepath.Join(dir, "parley.db"),
		"public_url: http://127.0.0.1:8080",
		"key_file: " + filepath.Join(dir, "secret.key"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check-config lacks %q:\n%s", want, out)
		}
	}
	wantWarn := "parley: warning: PARLEY_HTTP_LISEN is not a Parley setting and is ignored (did you mean PARLEY_HTTP_LISTEN?)"
	if !strings.Contains(errOut, wantWarn) {
		t.Errorf("check-config stderr lacks the warning:\n%s", errOut)
	}
	// serve and demo warn too (here they stop at once, on a held lock).
	held, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for _, args := range [][]string{
		{"serve", "--data", dir, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0"},
		{"demo", "--data", dir, "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--crm", "127.0.0.1:0"},
	} {
		if _, _, errOut := cliIn(cancelled(), args...); !strings.Contains(errOut, wantWarn) {
			t.Errorf("%s does not warn:\n%s", args[0], errOut)
		}
	}
	t.Setenv("PARLEY_SECRET_KEY", "k1:"+strings.Repeat("A", 43)+"=")
	if _, out, _ := cli(t, "check-config", "--config", cfg); !strings.Contains(out, "# PARLEY_SECRET_KEY is set") {
		t.Errorf("check-config does not say PARLEY_SECRET_KEY overrides the key file:\n%s", out)
	}
	os.WriteFile(cfg, []byte("data_dir: "+dir+"\nhttp:\n  lisen: 127.0.0.1:9000\n"), 0o600)
	if code, _, errOut := cli(t, "check-config", "--config", cfg); code != 1 || !strings.Contains(errOut, cfg+` line 3: unknown key "lisen" under http (known: listen, public_url`) {
		t.Errorf("unknown key: exit %d\n%s", code, errOut)
	}
}

func TestDevCRMSeedMustExist(t *testing.T) {
	data := filepath.Join(t.TempDir(), "devcrm")
	code, _, errOut := cliIn(cancelled(), "devcrm", "--addr", "127.0.0.1:0", "--data", data, "--seed", "/nonexistent")
	if code != 1 || !strings.Contains(errOut, "seed directory /nonexistent does not exist") {
		t.Fatalf("--seed /nonexistent: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(data); err == nil {
		t.Error("the data directory was created for a refused seed")
	}
	file := filepath.Join(t.TempDir(), "Contact.csv")
	os.WriteFile(file, []byte("Id\n"), 0o600)
	if code, _, errOut := cliIn(cancelled(), "devcrm", "--addr", "127.0.0.1:0", "--data", data, "--seed", file); code != 1 || !strings.Contains(errOut, "is not a directory") {
		t.Fatalf("--seed FILE: exit %d\n%s", code, errOut)
	}
}

// TestPrintDemoCoversTheWalkthrough: the printed steps record the call,
// wrap it up and find the Task in devcrm.
func TestPrintDemoCoversTheWalkthrough(t *testing.T) {
	f := &demoFile{
		HTTP: "http://127.0.0.1:8080", CRM: "http://127.0.0.1:8081", Tenant: "acme",
		EntryPoints: []demoEntry{{Tenant: "acme", Number: "+15550100", Queue: "Sales", URI: "sip:+15550100@127.0.0.1:5060"},
			{Tenant: "oldco", Number: "+15550200", Queue: "Service", URI: "sip:+15550200@127.0.0.1:5060"}},
		Users: []demoUser{{Tenant: "acme", Username: "alice", Password: "pw-alice", Role: "agent", SIPUsername: "alice", SIPPassword: "sip-alice", Endpoint: "browser"},
			{Tenant: "oldco", Username: "olga", Password: "pw-olga", Role: "agent", Endpoint: "browser"}},
		Tenants:   []demoTenantInfo{{"acme", 3, "na6"}, {"oldco", 1, "na12"}},
		CRMClient: demoCRMClient{ID: "parley-demo", Secret: "crm-secret"},
	}
	var b bytes.Buffer
	printDemo(&b, f, "127.0.0.1:5060", "parley-demo/demo.json")
	for _, want := range []string{
		"--record caller.wav",
		"/api/v1/interactions/$ID/wrapup",
		`"disposition":"Resolved"`,
		"http://127.0.0.1:8081/services/oauth2/token",
		"client_secret=crm-secret",
		"FROM Task",
		"alice  agent      password pw-alice   takes calls: browser",
		"0. alice takes calls in the browser panel",
		"go run ./cmd/parley admin --data parley-demo user set --tenant acme --username alice --endpoint sip",
		"Service  sip:+15550200@127.0.0.1:5060   (tenant oldco)",
		"olga   agent      password pw-olga   takes calls: browser   tenant oldco",
		"acme   unified login + UC (kind 3) on cluster na6: a kind with single sign-on; devcrm's call center for it has ssoMode=true (parley admin cti-url --tenant acme --sso)",
		"oldco  legacy (kind 1) on cluster na12: password sign-in only; its panel: http://127.0.0.1:8080/cti/salesforce.html?sfdcIframeOrigin=http%3A%2F%2F127.0.0.1%3A8081&mode=Lightning&tenant=oldco",
		"add &ssoMode=true and the panel explains that legacy tenants have no single sign-on",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the demo's steps lack %q:\n%s", want, b.String())
		}
	}
}
