package sippeer

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

//go:embed scenarios/*.xml
var scenarioFiles embed.FS

// Embedded SIPp scenarios. Each XML file starts with a comment that says
// what it does and which -key values it reads; the kit fills in defaults.
const (
	// ScenarioCall calls, streams the tone for talk_ms and hangs up (BYE).
	ScenarioCall = "uac_call"
	// ScenarioCallWaitBye calls, streams the tone and waits for the far
	// end's BYE.
	ScenarioCallWaitBye = "uac_wait_bye"
	// ScenarioCancel calls and sends CANCEL ring_ms after the 180/183: the
	// caller hangs up while it rings.
	ScenarioCancel = "uac_cancel"
	// ScenarioHold calls, then re-INVITEs with a=sendonly (hold) and with
	// a=sendrecv (resume), and hangs up.
	ScenarioHold = "uac_hold"
	// ScenarioRegister registers with digest authentication and succeeds
	// when the outcome matches the expect key ("accepted" or "rejected").
	ScenarioRegister = "uac_register"
	// ScenarioEcho is an agent phone that answers and echoes the audio.
	ScenarioEcho = "uas_echo"
	// ScenarioTone is an agent phone that answers and plays the tone.
	ScenarioTone = "uas_tone"
	// ScenarioRing is an agent phone that rings until it is cancelled.
	ScenarioRing = "uas_ring"
	// ScenarioRegistrar is a registrar for one account (user, password),
	// for testing registering clients.
	ScenarioRegistrar = "uas_registrar"
)

// scenarioSpec is what the kit knows about an embedded scenario.
type scenarioSpec struct {
	uas  bool              // it waits for calls
	tone bool              // it streams tone.wav
	keys map[string]string // its keys with defaults; "" is required
	// args returns extra sipp options for the keys.
	args func(keys map[string]string) []string
}

var callerKeys = map[string]string{"from_user": "sipp", "from_name": "SIPp caller"}

var scenarioSpecs = map[string]scenarioSpec{
	ScenarioCall:        {tone: true, keys: with(callerKeys, "talk_ms", "3000")},
	ScenarioCallWaitBye: {tone: true, keys: callerKeys},
	ScenarioCancel:      {keys: with(callerKeys, "ring_ms", "2000")},
	ScenarioHold:        {tone: true, keys: with(with(callerKeys, "talk_ms", "2000"), "hold_ms", "2000")},
	ScenarioRegister: {
		keys: map[string]string{"user": "", "password": "", "expect": "accepted", "expires": "60"},
		args: func(k map[string]string) []string { return []string{"-au", k["user"], "-ap", k["password"]} },
	},
	ScenarioEcho:      {uas: true, keys: map[string]string{"ring_ms": "0"}, args: func(map[string]string) []string { return []string{"-rtp_echo"} }},
	ScenarioTone:      {uas: true, tone: true, keys: map[string]string{"ring_ms": "0"}},
	ScenarioRing:      {uas: true, keys: map[string]string{}},
	ScenarioRegistrar: {uas: true, keys: map[string]string{"user": "", "password": "", "realm": "parley.test"}},
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range m {
		out[mk] = mv
	}
	return out
}

// Scenarios returns the names of the embedded scenarios.
func Scenarios() []string {
	var names []string
	for n := range scenarioSpecs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ScenarioXML returns an embedded scenario's XML, as a starting point for a
// test's own scenario file.
func ScenarioXML(name string) ([]byte, error) {
	if _, ok := scenarioSpecs[name]; !ok {
		return nil, cc.Errorf(cc.EINVALID, "SIPp scenario %q: use one of %s, or the path of an XML file", name, strings.Join(Scenarios(), ", "))
	}
	b, err := scenarioFiles.ReadFile("scenarios/" + name + ".xml")
	if err != nil {
		return nil, fmt.Errorf("read scenario %s: %w", name, err)
	}
	return b, nil
}

// SIPp exit codes, as the operating system reports them.
const (
	SIPpAllCallsOK   = 0   // every call succeeded
	SIPpCallsFailed  = 1   // at least one call failed
	SIPpInternalExit = 97  // ended by an internal command
	SIPpNoCalls      = 99  // ended normally without processing a call
	SIPpFatal        = 255 // exit(-1): a fatal error, such as a bad scenario
	SIPpBindError    = 254 // exit(-2): a socket could not be bound
)

// Defaults of SIPp runs.
const (
	DefaultSIPpTimeout    = time.Minute
	DefaultSIPpUASTimeout = 5 * time.Minute
	DefaultSIPpService    = "parley"
)

// SIPpRun describes one run of a SIPp client scenario.
type SIPpRun struct {
	// Scenario is an embedded scenario (ScenarioCall...) or the path of a
	// scenario XML file.
	Scenario string
	// Target is the host:port of the system under test. Required.
	Target string
	// Service is the user part of the Request-URI ([service]), such as the
	// dialled number; default "parley".
	Service string
	// Transport is "u1" (UDP, the default) or "t1" (TCP).
	Transport string
	// Rate is the call rate in calls per second; default 10.
	Rate float64
	// Calls is how many calls to make; default 1.
	Calls int
	// Concurrent caps the calls in progress; default Calls.
	Concurrent int
	// Keys are the scenario's -key values; an embedded scenario rejects
	// keys it does not read and fills in defaults for the others.
	Keys map[string]string
	// ToneWAV is the 8-bit µ-law WAV that rtp_stream plays (see
	// [WriteULawToneWAV]); default a 440 Hz tone at half scale.
	ToneWAV string
	// Timeout is a hard limit on the run, passed to SIPp as -timeout with
	// -timeout_error, and enforced by killing it shortly after; default
	// DefaultSIPpTimeout.
	Timeout time.Duration
	// Args are extra sipp options, appended last.
	Args []string
}

// SIPpResult is the outcome of a SIPp run.
type SIPpResult struct {
	// ExitCode is SIPp's exit status (SIPpAllCallsOK...); -1 when it was
	// killed.
	ExitCode int
	// TimedOut reports that the kit killed SIPp at the hard time limit.
	TimedOut bool
	// Stats is the last row of SIPp's -trace_stat file.
	Stats SIPpStats
	// Errors is the -trace_err log: unexpected messages and why calls
	// failed.
	Errors string
	// Screen is SIPp's final statistics screen.
	Screen string
	// Logs holds the lines of the scenario's <log> actions.
	Logs string
	// Output is what SIPp printed.
	Output string
	// Dir is the run's working directory.
	Dir string
}

// OK reports whether every call succeeded.
func (r *SIPpResult) OK() bool { return r.ExitCode == SIPpAllCallsOK && !r.TimedOut }

// String summarises the result for a test failure message.
func (r *SIPpResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sipp exit code %d", r.ExitCode)
	if r.TimedOut {
		b.WriteString(" (killed at the time limit)")
	}
	fmt.Fprintf(&b, "; calls created %d, successful %d, failed %d, retransmissions %d",
		r.Stats.TotalCallCreated, r.Stats.SuccessfulCall, r.Stats.FailedCall, r.Stats.Retransmissions)
	if r.Errors != "" {
		fmt.Fprintf(&b, "\nerrors:\n%s", tail(r.Errors, 30))
	}
	if r.ExitCode != SIPpAllCallsOK && r.Errors == "" {
		fmt.Fprintf(&b, "\noutput:\n%s", tail(r.Output, 30))
	}
	return b.String()
}

// SIPpStats are SIPp's cumulative counters from the -trace_stat CSV.
type SIPpStats struct {
	TotalCallCreated        int
	CurrentCall             int
	SuccessfulCall          int
	FailedCall              int
	Retransmissions         int
	FailedUnexpectedMessage int
	FailedCallRejected      int
	FailedMaxUDPRetrans     int
	FailedRegexpDoesntMatch int
	FailedTcpConnect        int
	// Fields holds every column of the row by its CSV header, such as
	// "CallLength(C)" or "ResponseTime1(C)".
	Fields map[string]string
}

// ParseSIPpStats parses the ';'-separated -trace_stat CSV that SIPp writes
// and returns its last row.
func ParseSIPpStats(r io.Reader) (SIPpStats, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var header, last []string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		fields := strings.Split(strings.TrimSuffix(line, ";"), ";")
		if header == nil {
			header = fields
			continue
		}
		last = fields
	}
	if err := sc.Err(); err != nil {
		return SIPpStats{}, fmt.Errorf("parse sipp stats: %w", err)
	}
	if header == nil || last == nil {
		return SIPpStats{}, cc.Errorf(cc.EINVALID, "SIPp stats file has no data row")
	}
	if len(last) != len(header) {
		return SIPpStats{}, cc.Errorf(cc.EINVALID, "SIPp stats row has %d fields but the header %d", len(last), len(header))
	}
	s := SIPpStats{Fields: make(map[string]string, len(header))}
	for i, h := range header {
		s.Fields[h] = last[i]
	}
	for name, dst := range map[string]*int{
		"TotalCallCreated":           &s.TotalCallCreated,
		"CurrentCall":                &s.CurrentCall,
		"SuccessfulCall(C)":          &s.SuccessfulCall,
		"FailedCall(C)":              &s.FailedCall,
		"Retransmissions(C)":         &s.Retransmissions,
		"FailedUnexpectedMessage(C)": &s.FailedUnexpectedMessage,
		"FailedCallRejected(C)":      &s.FailedCallRejected,
		"FailedMaxUDPRetrans(C)":     &s.FailedMaxUDPRetrans,
		"FailedRegexpDoesntMatch(C)": &s.FailedRegexpDoesntMatch,
		"FailedTcpConnect(C)":        &s.FailedTcpConnect,
	} {
		v, ok := s.Fields[name]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return SIPpStats{}, cc.Errorf(cc.EINVALID, "SIPp stats column %s is %q, not a number", name, v)
		}
		*dst = n
	}
	return s, nil
}

// sippInvocation is a prepared SIPp process.
type sippInvocation struct {
	dir     string
	args    []string
	port    int
	timeout time.Duration
}

// common holds the fields shared by clients and servers.
type sippCommon struct {
	scenario, service, transport, tone string
	keys                               map[string]string
	timeout                            time.Duration
	extra                              []string
}

// prepare validates the settings, writes the scenario and tone into a new
// working directory and builds the command line, without the target and
// call counts.
func prepare(tb testing.TB, c sippCommon, wantUAS bool) (*sippInvocation, error) {
	tb.Helper()
	switch c.transport {
	case "":
		c.transport = "u1"
	case "u1", "t1":
	default:
		return nil, cc.Errorf(cc.EINVALID, "SIPp transport %q: use u1 (UDP) or t1 (TCP)", c.transport)
	}
	if c.timeout < time.Second {
		return nil, cc.Errorf(cc.EINVALID, "SIPp timeout %s: use 0 for the default, or 1s or more (SIPp counts whole seconds)", c.timeout)
	}
	if !validSIPUserPart(c.service) {
		return nil, cc.Errorf(cc.EINVALID, "SIPp service %q: use a SIP user such as 100 or +15551234567", c.service)
	}
	for _, a := range c.extra {
		if a == "" {
			return nil, cc.Errorf(cc.EINVALID, "SIPp extra arguments contain an empty string")
		}
	}
	dir, err := os.MkdirTemp(tb.TempDir(), "sipp-")
	if err != nil {
		return nil, fmt.Errorf("prepare sipp: %w", err)
	}
	var (
		xml  []byte
		keys = map[string]string{}
		args []string
		spec scenarioSpec
	)
	if s, ok := scenarioSpecs[c.scenario]; ok {
		spec = s
		if spec.uas != wantUAS {
			role := map[bool]string{true: "StartSIPpUAS", false: "RunSIPp"}[spec.uas]
			return nil, cc.Errorf(cc.EINVALID, "SIPp scenario %s is a %s scenario: run it with %s", c.scenario, map[bool]string{true: "server", false: "client"}[spec.uas], role)
		}
		if xml, err = ScenarioXML(c.scenario); err != nil {
			return nil, err
		}
		for k, v := range spec.keys {
			keys[k] = v
		}
		for k, v := range c.keys {
			if _, known := spec.keys[k]; !known {
				return nil, cc.Errorf(cc.EINVALID, "SIPp scenario %s has no key %q: its keys are %s", c.scenario, k, strings.Join(sortedKeys(spec.keys), ", "))
			}
			keys[k] = v
		}
		if err := checkKeys(c.scenario, keys); err != nil {
			return nil, err
		}
		if spec.args != nil {
			args = append(args, spec.args(keys)...)
		}
	} else {
		if !strings.HasSuffix(c.scenario, ".xml") {
			return nil, cc.Errorf(cc.EINVALID, "SIPp scenario %q: use one of %s, or the path of an XML file", c.scenario, strings.Join(Scenarios(), ", "))
		}
		if xml, err = os.ReadFile(c.scenario); err != nil {
			return nil, cc.WrapError(cc.EINVALID, err, "SIPp scenario file %s cannot be read", c.scenario)
		}
		spec.tone = true // a custom scenario may stream tone.wav
		for k, v := range c.keys {
			keys[k] = v
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "scenario.xml"), xml, 0o644); err != nil {
		return nil, fmt.Errorf("prepare sipp: %w", err)
	}
	if spec.tone {
		if err := placeTone(c.tone, filepath.Join(dir, "tone.wav")); err != nil {
			return nil, err
		}
	}
	ports := FreePorts(tb, 8)
	inv := &sippInvocation{dir: dir, port: ports.Port(0), timeout: c.timeout}
	inv.args = append([]string{
		"-sf", "scenario.xml",
		"-s", c.service,
		"-t", c.transport,
		"-i", "127.0.0.1", "-mi", "127.0.0.1", "-bind_local",
		"-p", strconv.Itoa(ports.Port(0)),
		"-cp", strconv.Itoa(ports.Port(1)),
		"-mp", strconv.Itoa(ports.Port(4)), // +5 RTCP, +6 and +7 video echo
		"-nostdin",
		"-timeout", strconv.Itoa(int(c.timeout.Seconds())) + "s", "-timeout_error",
		"-trace_err", "-error_file", "errors.log",
		"-trace_stat", "-stf", "stats.csv", "-fd", "1",
		"-trace_screen", "-screen_file", "screen.log",
		"-trace_logs", "-log_file", "logs.log",
	}, args...)
	for _, k := range sortedKeys(keys) {
		inv.args = append(inv.args, "-key", k, keys[k])
	}
	return inv, nil
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// checkKeys validates the values of an embedded scenario's keys.
func checkKeys(scenario string, keys map[string]string) error {
	for k, v := range keys {
		switch {
		case v == "" && scenarioSpecs[scenario].keys[k] == "":
			return cc.Errorf(cc.EINVALID, "SIPp scenario %s needs -key %s", scenario, k)
		case strings.HasSuffix(k, "_ms") || k == "expires":
			if n, err := strconv.Atoi(v); err != nil || n < 0 || n > 3_600_000 {
				return cc.Errorf(cc.EINVALID, "SIPp key %s=%q: give a whole number of 0 or more", k, v)
			}
		case k == "expect" && v != "accepted" && v != "rejected":
			return cc.Errorf(cc.EINVALID, "SIPp key expect=%q: use accepted or rejected", v)
		case (k == "user" || k == "from_user") && !validSIPUserPart(v):
			return cc.Errorf(cc.EINVALID, "SIPp key %s=%q: use a SIP user such as alice or +15551234567", k, v)
		case strings.ContainsAny(v, "\r\n\"<>"):
			return cc.Errorf(cc.EINVALID, "SIPp key %s=%q: line breaks, quotes and angle brackets would break the SIP message", k, v)
		}
	}
	return nil
}

// validSIPUserPart reports whether s can stand as the user part of a URI
// without escaping.
func validSIPUserPart(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.+*#!~", r)) {
			return false
		}
	}
	return true
}

// placeTone writes the tone SIPp streams: a copy of src, or a 440 Hz tone.
func placeTone(src, dst string) error {
	if src == "" {
		return WriteULawToneWAV(dst, 440, 10*time.Second, 0.5)
	}
	a, err := ReadWAV(src)
	if err != nil {
		return cc.WrapError(cc.EINVALID, err, "SIPp tone %s: give an 8-bit µ-law WAV (WriteULawToneWAV writes one)", src)
	}
	if a.Rate != 8000 || len(a.Channels) != 1 {
		return cc.Errorf(cc.EINVALID, "SIPp tone %s is %d Hz with %d channels: give 8000 Hz mono µ-law", src, a.Rate, len(a.Channels))
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("place sipp tone: %w", err)
	}
	if len(data) < 22 || data[20] != wavULaw || data[21] != 0 {
		return cc.Errorf(cc.EINVALID, "SIPp tone %s is not µ-law (WAV format tag 7): rtp_stream would send it to PCMU as it is", src)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return fmt.Errorf("place sipp tone: %w", err)
	}
	return nil
}

// sippStop stops SIPp gracefully: SIGUSR1 is its soft exit (no new calls,
// let the current ones end, write the statistics); a second one forces
// the exit.
var sippStop = []stopStep{{syscall.SIGUSR1, stopGrace}, {syscall.SIGUSR1, stopGrace}}

// start runs sipp with args in the prepared directory, failing the test
// when it cannot be started.
func (inv *sippInvocation) start(tb testing.TB, bin, scenario string, args []string) *proc {
	tb.Helper()
	p, err := startProc(tb, procSpec{
		name:  "sipp " + filepath.Base(scenario),
		dir:   inv.dir,
		bin:   bin,
		args:  args,
		limit: inv.timeout + 2*stopGrace,
		stop:  sippStop,
	})
	if err != nil {
		tb.Fatalf("sippeer: %v", err)
	}
	return p
}

// result collects the outcome of an ended SIPp process.
func (inv *sippInvocation) result(p *proc) *SIPpResult {
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(inv.dir, name))
		return string(b)
	}
	r := &SIPpResult{
		ExitCode: p.exitCode(),
		TimedOut: p.wasTimedOut(),
		Errors:   read("errors.log"),
		Screen:   read("screen.log"),
		Logs:     read("logs.log"),
		Output:   p.out.String(),
		Dir:      inv.dir,
	}
	if f, err := os.Open(filepath.Join(inv.dir, "stats.csv")); err == nil {
		r.Stats, _ = ParseSIPpStats(f)
		f.Close()
	}
	return r
}

// RunSIPp runs a SIPp client scenario against run.Target on 127.0.0.1 and
// waits for it to end, at most run.Timeout. It skips or fails the test when
// sipp is not installed (see [RequireTool]) and fails it when the run is
// described wrongly; otherwise it returns the outcome for the test to
// judge (see [SIPpResult.OK]). When the test fails, SIPp's error log and
// screen are logged.
func RunSIPp(tb testing.TB, run SIPpRun) *SIPpResult {
	tb.Helper()
	bin := RequireTool(tb, ToolSIPp)
	if run.Service == "" {
		run.Service = DefaultSIPpService
	}
	if run.Timeout == 0 {
		run.Timeout = DefaultSIPpTimeout
	}
	if run.Calls == 0 {
		run.Calls = 1
	}
	if run.Concurrent == 0 {
		run.Concurrent = run.Calls
	}
	if run.Rate == 0 {
		run.Rate = 10
	}
	if err := run.validate(); err != nil {
		tb.Fatalf("sippeer: RunSIPp: %v", err)
	}
	inv, err := prepare(tb, sippCommon{
		scenario: run.Scenario, service: run.Service, transport: run.Transport, tone: run.ToneWAV,
		keys: run.Keys, timeout: run.Timeout, extra: run.Args,
	}, false)
	if err != nil {
		tb.Fatalf("sippeer: RunSIPp: %v", err)
	}
	args := append([]string{run.Target}, inv.args...)
	args = append(args,
		"-r", strconv.FormatFloat(run.Rate, 'f', -1, 64),
		"-m", strconv.Itoa(run.Calls),
		"-l", strconv.Itoa(run.Concurrent))
	args = append(args, run.Args...)
	p := inv.start(tb, bin, run.Scenario, args)
	<-p.done
	res := inv.result(p)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("sipp %s against %s: %s\nscreen:\n%s", run.Scenario, run.Target, res, tail(res.Screen, 40))
		}
	})
	return res
}

func (r *SIPpRun) validate() error {
	if _, _, err := net.SplitHostPort(r.Target); err != nil {
		return cc.Errorf(cc.EINVALID, "SIPp target %q: give host:port, such as 127.0.0.1:5080", r.Target)
	}
	if r.Calls < 0 || r.Concurrent < 0 || !(r.Rate > 0) {
		return cc.Errorf(cc.EINVALID, "SIPp calls %d, concurrent %d, rate %g: give positive numbers (or 0 for the defaults)", r.Calls, r.Concurrent, r.Rate)
	}
	return nil
}

// SIPpUAS describes a SIPp server scenario run in the background, such as
// a pool of agent phones with static contacts.
type SIPpUAS struct {
	// Scenario is an embedded server scenario (default ScenarioEcho) or
	// the path of a scenario XML file.
	Scenario string
	// Service is the user in the Contact it answers with; default "agent".
	Service string
	// Transport is "u1" (UDP, the default) or "t1" (TCP).
	Transport string
	// Calls makes SIPp end after this many calls; 0 means until stopped.
	Calls int
	// Keys are the scenario's -key values (see SIPpRun.Keys).
	Keys map[string]string
	// ToneWAV is what ScenarioTone plays; default a 440 Hz tone.
	ToneWAV string
	// Timeout is a hard limit; default DefaultSIPpUASTimeout.
	Timeout time.Duration
	// Args are extra sipp options, appended last.
	Args []string
}

// SIPpServer is a SIPp server scenario running in the background.
type SIPpServer struct {
	// Port is its SIP port on 127.0.0.1 (UDP or TCP, as configured).
	Port int
	inv  *sippInvocation
	proc *proc
}

// StartSIPpUAS starts a SIPp server scenario on its own port and returns
// once the port is bound. It is stopped when the test ends.
func StartSIPpUAS(tb testing.TB, cfg SIPpUAS) *SIPpServer {
	tb.Helper()
	bin := RequireTool(tb, ToolSIPp)
	if cfg.Scenario == "" {
		cfg.Scenario = ScenarioEcho
	}
	if cfg.Service == "" {
		cfg.Service = "agent"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSIPpUASTimeout
	}
	if cfg.Calls < 0 {
		tb.Fatalf("sippeer: StartSIPpUAS: calls %d: give 0 (until stopped) or more", cfg.Calls)
	}
	inv, err := prepare(tb, sippCommon{
		scenario: cfg.Scenario, service: cfg.Service, transport: cfg.Transport, tone: cfg.ToneWAV,
		keys: cfg.Keys, timeout: cfg.Timeout, extra: cfg.Args,
	}, true)
	if err != nil {
		tb.Fatalf("sippeer: StartSIPpUAS: %v", err)
	}
	args := inv.args
	if cfg.Calls > 0 {
		args = append(args, "-m", strconv.Itoa(cfg.Calls))
	}
	args = append(args, cfg.Args...)
	p := inv.start(tb, bin, cfg.Scenario, args)
	s := &SIPpServer{Port: inv.port, inv: inv, proc: p}
	tcp := cfg.Transport == "t1"
	deadline := time.Now().Add(10 * time.Second)
	for !portBound(tcp, inv.port) {
		if p.exited() || time.Now().After(deadline) {
			tb.Fatalf("sippeer: sipp %s did not bind port %d: %s\n%s", cfg.Scenario, inv.port, p.state(), tail(p.out.String(), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// Addr returns the server's SIP address, "127.0.0.1:port".
func (s *SIPpServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URI returns a SIP URI that reaches the server, such as
// "sip:agent1@127.0.0.1:20032": a static contact for an agent.
func (s *SIPpServer) URI(user string) string { return "sip:" + user + "@" + s.Addr() }

// Wait waits until SIPp ends by itself (after SIPpUAS.Calls calls) or ctx
// ends, and returns the outcome.
func (s *SIPpServer) Wait(ctx context.Context) (*SIPpResult, error) {
	if err := s.proc.wait(ctx); err != nil {
		return nil, err
	}
	return s.inv.result(s.proc), nil
}

// Stop ends SIPp (SIGUSR1, its soft exit; again to force it; SIGKILL last)
// and returns the outcome.
func (s *SIPpServer) Stop() *SIPpResult {
	s.proc.stop()
	return s.inv.result(s.proc)
}

// portBound reports whether something listens on the TCP port, or has the
// UDP port bound, on 127.0.0.1. For UDP it reads /proc/net/udp rather than
// probing, since a probe could take the port from SIPp.
func portBound(tcp bool, port int) bool {
	if tcp {
		c, err := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		time.Sleep(500 * time.Millisecond) // no /proc: give SIPp a moment
		return true
	}
	want := fmt.Sprintf(":%04X ", port)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) > 1 && strings.HasSuffix(fields[1]+" ", want) {
			return true
		}
	}
	return false
}
