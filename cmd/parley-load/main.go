// Command parley-load is the call-load benchmark of Parley against the peer
// baseline (Kamailio + rtpengine), on loopback, with the shared SIPp script
// (../shared/bench/peer-kamailio-rtpengine.sh) driving both.
//
// For each level and run it prepares a fresh Parley data directory (a tenant
// "bench" with one queue, an entry point for the dialled user "bench", a
// trunk for 127.0.0.1, and agents whose static contacts ring the script's
// SIPp UAS, all available, no wrap-up), starts `parley serve` on it as a
// child process, runs the script with MODE=external against it, and records
// Parley's CPU (utime+stime from /proc) and resident memory around the run,
// and its own count of answered calls. With --servers parley,peer it runs
// the peer at the same level right after, so that the ratio comes from one
// session. Each run prints one "LOAD ..." line; the end prints a Markdown
// table of the runs and the Parley ÷ peer ratios.
//
// Every run is bounded by the script (SIPp -m and -timeout, at most 120 s of
// load) and stays on 127.0.0.1; every process parley-load starts is stopped
// by its PID.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/testkit/loadkit"
)

const usage = `Usage: parley-load [flags] LEVEL...

Runs the shared SIPp load script against Parley (and the peer, with
--servers parley,peer) at each LEVEL and prints one LOAD line per run, then
a table of the runs and the Parley ÷ peer ratios.

LEVEL is one of
  cps:N                  N calls/s of 10 s calls for 45 s (limit 15N, 45N calls)
  conc:N                 N concurrent 60 s calls ramped at 30 calls/s (N calls)
  CPS,LIMIT,TOTAL,HOLD_S the script's own four arguments

The script's other variables (CAPTURE, RMEM_DEFAULT, RTP_TASKS, KEEP,
MAX_RUN_S...) are passed through from the environment. Exit status: 0 when
every run passed, 1 when a run failed, 2 on bad arguments or a setup error.

Flags:
`

// Main is the load tool: the program as a struct so that tests can run it
// with their own ports and directories.
type Main struct {
	Levels     []Level
	Servers    []string // serverParley and/or serverPeer, in run order
	Reps       int
	Work       string // work directory (data directories, logs, results)
	Parley     string // parley binary; "" builds ./cmd/parley
	Script     string // the shared script; "" is ../shared/bench/... beside the module
	Results    string // LOAD and PEER lines are appended here
	Agents     int    // 0: enough for the largest level
	SIP        string // Parley's SIP address
	HTTP       string // Parley's HTTP address; "" picks a free port
	RTPPorts   string // Parley's RTP ports
	PeerPorts  string // rtpengine's RTP ports
	EarlyMedia bool
	LogLevel   string
	Pause      time.Duration // between runs, as run-matrix.sh does
	// Profile runs Parley with --pprof and saves, into each run's
	// directory, a CPU profile of ProfileFor taken ProfileAt into the load
	// and a heap profile right after it, and the mutex and block profiles
	// of the whole run at its end.
	Profile               bool
	ProfileAt, ProfileFor time.Duration

	UACPort, UACMediaPort, UASPort, UASMediaPort int

	Stdout io.Writer // LOAD lines and the tables
	Stderr io.Writer // progress

	results []*Result
	server  *loadkit.Process // the Parley of the run in progress
}

// NewMain returns a Main with the defaults.
func NewMain() *Main {
	return &Main{
		Servers: []string{serverParley}, Reps: 1, SIP: "127.0.0.1:5080", RTPPorts: "40000-49999", PeerPorts: "40000-59999",
		EarlyMedia: true, LogLevel: "info", Pause: 3 * time.Second, ProfileAt: 15 * time.Second, ProfileFor: 20 * time.Second,
		UACPort: 5070, UACMediaPort: 6000, UASPort: 5090, UASMediaPort: 16000,
		Stdout: os.Stdout, Stderr: os.Stderr,
	}
}

// errUsage reports a command-line mistake already explained on stderr.
var errUsage = errors.New("usage")

// ParseFlags reads the command line.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("parley-load", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, usage); fs.PrintDefaults() }
	servers := fs.String("servers", strings.Join(m.Servers, ","), "comma-separated `servers` to measure at each level, in order: parley, peer")
	fs.IntVar(&m.Reps, "reps", m.Reps, "`runs` of each server at each level")
	fs.StringVar(&m.Work, "work", m.Work, "work `directory` for data directories, logs and results (default: a new directory under $TMPDIR)")
	fs.StringVar(&m.Parley, "parley", m.Parley, "parley `binary` to run (default: go build ./cmd/parley of this checkout into the work directory)")
	fs.StringVar(&m.Script, "script", m.Script, "the shared load `script` (default: ../shared/bench/peer-kamailio-rtpengine.sh beside this checkout)")
	fs.StringVar(&m.Results, "results", m.Results, "`file` the LOAD and PEER lines are appended to (default: WORK/runs.log)")
	fs.IntVar(&m.Agents, "agents", m.Agents, "agents in the tenant (default: the largest level's concurrent calls plus a tenth, at least 10 more)")
	fs.StringVar(&m.SIP, "sip", m.SIP, "Parley's SIP `address` (loopback, UDP and TCP)")
	fs.StringVar(&m.HTTP, "http", m.HTTP, "Parley's HTTP `address` (loopback; default: a free port)")
	fs.StringVar(&m.RTPPorts, "rtp-ports", m.RTPPorts, "Parley's RTP port `range`")
	fs.StringVar(&m.PeerPorts, "peer-rtp-ports", m.PeerPorts, "rtpengine's RTP port `range` (the script's RTPE_PORT_MIN-RTPE_PORT_MAX)")
	fs.BoolVar(&m.EarlyMedia, "early-media", m.EarlyMedia, "answer the caller when the agent answers (queue audio as early media); false answers at once")
	fs.StringVar(&m.LogLevel, "log-level", m.LogLevel, "Parley's log `level`: debug, info, warn or error")
	fs.DurationVar(&m.Pause, "pause", m.Pause, "pause between runs")
	fs.BoolVar(&m.Profile, "profile", m.Profile, "profile Parley (serve --pprof) and save cpu, heap, mutex and block profiles in each run's directory")
	fs.DurationVar(&m.ProfileAt, "profile-at", m.ProfileAt, "with --profile: start the CPU profile this long into the load")
	fs.DurationVar(&m.ProfileFor, "profile-for", m.ProfileFor, "with --profile: length of the CPU profile")
	fs.IntVar(&m.UACPort, "uac-port", m.UACPort, "SIPp UAC SIP `port`")
	fs.IntVar(&m.UACMediaPort, "uac-media-port", m.UACMediaPort, "SIPp UAC media `port`")
	fs.IntVar(&m.UASPort, "uas-port", m.UASPort, "SIPp UAS SIP `port` (the agents' static contacts)")
	fs.IntVar(&m.UASMediaPort, "uas-media-port", m.UASMediaPort, "SIPp UAS media `port`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(m.Stderr, "parley-load: give at least one LEVEL, such as cps:50 or conc:300")
		return errUsage
	}
	m.Levels = nil
	for _, a := range fs.Args() {
		l, err := ParseLevel(a)
		if err != nil {
			return err
		}
		m.Levels = append(m.Levels, l)
	}
	m.Servers = splitList(*servers)
	return m.Validate()
}

// Validate checks the settings and names the first that is wrong.
func (m *Main) Validate() error {
	if len(m.Levels) == 0 {
		return cc.Errorf(cc.EINVALID, "no level: give at least one, such as cps:50 or conc:300")
	}
	if len(m.Servers) == 0 {
		return cc.Errorf(cc.EINVALID, "--servers is empty: give parley, peer or parley,peer")
	}
	for _, s := range m.Servers {
		if s != serverParley && s != serverPeer {
			return cc.Errorf(cc.EINVALID, "--servers: unknown server %q: use parley and/or peer", s)
		}
	}
	if m.Reps < 1 || m.Reps > 20 {
		return cc.Errorf(cc.EINVALID, "--reps %d: use 1 to 20", m.Reps)
	}
	if m.Agents < 0 || m.Agents > 100000 {
		return cc.Errorf(cc.EINVALID, "--agents %d: use 1 to 100000 (or 0 for enough)", m.Agents)
	}
	if err := loadkit.CheckLoopback("--sip", m.SIP); err != nil {
		return err
	}
	if m.HTTP != "" {
		if err := loadkit.CheckLoopback("--http", m.HTTP); err != nil {
			return err
		}
	}
	for _, r := range []struct{ flag, v string }{{"--rtp-ports", m.RTPPorts}, {"--peer-rtp-ports", m.PeerPorts}} {
		if _, _, err := parsePortRange(r.flag, r.v); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		flag string
		v    int
	}{{"--uac-port", m.UACPort}, {"--uac-media-port", m.UACMediaPort}, {"--uas-port", m.UASPort}, {"--uas-media-port", m.UASMediaPort}} {
		if p.v < 1024 || p.v > 65533 {
			return cc.Errorf(cc.EINVALID, "%s %d: use a port from 1024 to 65533", p.flag, p.v)
		}
	}
	if m.Profile && (m.ProfileAt < 0 || m.ProfileFor < time.Second || m.ProfileFor > 5*time.Minute) {
		return cc.Errorf(cc.EINVALID, "--profile-at %s --profile-for %s: start at 0 or later and profile for 1s to 5m", m.ProfileAt, m.ProfileFor)
	}
	switch m.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return cc.Errorf(cc.EINVALID, "--log-level %q: use debug, info, warn or error", m.LogLevel)
	}
	return nil
}

func parsePortRange(flagName, s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || hi-lo < 100 {
		return 0, 0, cc.Errorf(cc.EINVALID, "%s %q: write a range like 40000-49999 (at least 100 ports, within 1024-65535)", flagName, s)
	}
	return lo, hi, nil
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// Run carries out every run, prints each LOAD line as it comes and the
// tables at the end. It returns an error only when a run could not be
// carried out; failed levels are results (see Failed).
func (m *Main) Run(ctx context.Context) error {
	if err := m.setup(ctx); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "parley-load: work directory %s, results %s\n", m.Work, m.Results)
	n := 0
	for _, l := range m.Levels {
		for rep := 1; rep <= m.Reps; rep++ {
			for _, server := range m.Servers {
				if n > 0 {
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-time.After(m.Pause):
					}
				}
				n++
				r, err := m.runOnce(ctx, n, server, l, rep)
				if err != nil {
					return err
				}
				m.results = append(m.results, r)
				line := r.Line()
				fmt.Fprintln(m.Stdout, line)
				if err := appendLine(m.Results, time.Now().UTC().Format(time.RFC3339)+" "+line); err != nil {
					return err
				}
			}
		}
	}
	fmt.Fprintln(m.Stdout)
	WriteTable(m.Stdout, m.results)
	if rs := Ratios(m.results); len(rs) > 0 {
		fmt.Fprintln(m.Stdout)
		WriteRatios(m.Stdout, rs)
	}
	return nil
}

// Failed reports whether any run failed its level.
func (m *Main) Failed() bool {
	return slices.ContainsFunc(m.results, func(r *Result) bool { return !r.OK() })
}

// RunResults returns the runs carried out so far.
func (m *Main) RunResults() []*Result { return m.results }

func (m *Main) setup(ctx context.Context) error {
	var root string
	if m.Parley == "" || m.Script == "" {
		var err error
		if root, err = loadkit.ModuleRoot(ctx); err != nil {
			return err
		}
	}
	if m.Work == "" {
		dir, err := os.MkdirTemp("", "parley-load-"+time.Now().Format("20060102-150405")+"-")
		if err != nil {
			return fmt.Errorf("create work directory: %w", err)
		}
		m.Work = dir
	} else if err := os.MkdirAll(m.Work, 0o755); err != nil {
		return fmt.Errorf("create work directory: %w", err)
	}
	if m.Results == "" {
		m.Results = filepath.Join(m.Work, "runs.log")
	}
	if m.Script == "" {
		m.Script = filepath.Join(root, "..", "shared", "bench", "peer-kamailio-rtpengine.sh")
	}
	if _, err := os.Stat(m.Script); err != nil {
		return cc.Errorf(cc.EINVALID, "load script %s: %v; give its path with --script", m.Script, err)
	}
	if m.Agents == 0 {
		m.Agents = AgentsFor(m.Levels)
	}
	if slices.Contains(m.Servers, serverParley) {
		if m.Parley == "" {
			m.Parley = filepath.Join(m.Work, "parley")
			fmt.Fprintf(m.Stderr, "parley-load: building %s\n", m.Parley)
			if err := loadkit.BuildParley(ctx, root, m.Parley, m.Stderr); err != nil {
				return err
			}
		}
		_, port, _ := net.SplitHostPort(m.SIP)
		if p, _ := strconv.Atoi(port); !loadkit.UDPPortFree(p) {
			return cc.Errorf(cc.ECONFLICT, "--sip %s: the UDP port is in use; pick another", m.SIP)
		}
	}
	return nil
}

// runOnce measures one server at one level.
func (m *Main) runOnce(ctx context.Context, n int, server string, l Level, rep int) (*Result, error) {
	label := fmt.Sprintf("%s-%s", server, strings.NewReplacer(":", "", ",", "-").Replace(l.Name))
	dir := filepath.Join(m.Work, fmt.Sprintf("run%02d-%s", n, label))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run directory: %w", err)
	}
	progress, err := os.Create(filepath.Join(dir, "script.log"))
	if err != nil {
		return nil, fmt.Errorf("create run log: %w", err)
	}
	defer progress.Close()
	run := scriptRun{
		Script: m.Script, Level: l, Label: label, Results: m.Results,
		Env:      m.scriptEnv(),
		Progress: io.MultiWriter(progress, m.Stderr),
	}
	fmt.Fprintf(m.Stderr, "parley-load: run %d: %s at %s (%s), run %d of %d\n", n, server, l.Name, strings.Join(l.Args(), " "), rep, m.Reps)
	if server == serverPeer {
		run.Mode = modeRelay
		s, err := run.Run(ctx)
		if err != nil {
			return nil, err
		}
		return &Result{Server: server, Level: l, Rep: rep, Peer: s}, nil
	}
	return m.runParley(ctx, dir, run, rep)
}

func (m *Main) scriptEnv() []string {
	lo, hi, _ := parsePortRange("--peer-rtp-ports", m.PeerPorts)
	return []string{
		"UAC_PORT=" + strconv.Itoa(m.UACPort), "UAC_MEDIA_PORT=" + strconv.Itoa(m.UACMediaPort),
		"UAS_PORT=" + strconv.Itoa(m.UASPort), "UAS_MEDIA_PORT=" + strconv.Itoa(m.UASMediaPort),
		"RTPE_PORT_MIN=" + strconv.Itoa(lo), "RTPE_PORT_MAX=" + strconv.Itoa(hi),
	}
}

func (m *Main) runParley(ctx context.Context, dir string, run scriptRun, rep int) (*Result, error) {
	data := filepath.Join(dir, "data")
	start := time.Now()
	setup := loadkit.Setup{
		Tenant: "bench", Queue: "Bench", EntryPoint: "bench", EarlyMedia: m.EarlyMedia,
		TrunkSource: netip.MustParseAddr("127.0.0.1"), Agents: m.Agents,
		Endpoint: cc.EndpointSIP, AgentHost: "127.0.0.1:" + strconv.Itoa(m.UASPort), Available: true,
	}
	if err := loadkit.Prepare(ctx, data, setup); err != nil {
		return nil, err
	}
	fmt.Fprintf(m.Stderr, "parley-load: prepared %s with %d agents in %s\n", data, m.Agents, time.Since(start).Round(time.Millisecond))
	httpAddr := m.HTTP
	var err error
	if httpAddr == "" {
		if httpAddr, err = loadkit.FreeLoopbackAddr(); err != nil {
			return nil, err
		}
	}
	opts := loadkit.ServeOptions{
		Binary: m.Parley, DataDir: data, SIP: m.SIP, HTTP: httpAddr, RTPPorts: m.RTPPorts,
		LogLevel: m.LogLevel, LogPath: filepath.Join(dir, "parley.log"),
	}
	if m.Profile {
		if opts.Pprof, err = loadkit.FreeLoopbackAddr(); err != nil {
			return nil, err
		}
	}
	p, err := loadkit.StartParley(ctx, opts)
	if err != nil {
		return nil, err
	}
	m.server = p
	defer func() {
		if m.server != nil {
			m.server.Stop(45 * time.Second)
			m.server = nil
		}
	}()
	// Let start-up garbage settle before the idle figure.
	time.Sleep(2 * time.Second)
	idle, err := loadkit.ReadProcMem(p.PID())
	if err != nil {
		return nil, err
	}
	before, err := p.Metrics(ctx)
	if err != nil {
		return nil, err
	}
	cpu0, err := loadkit.ProcCPU(p.PID())
	if err != nil {
		return nil, err
	}
	placeholders, err := externalPlaceholders(filepath.Join(m.Work, "placeholders"))
	if err != nil {
		return nil, err
	}
	run.Mode, run.Target, run.ServerPIDs, run.PathPrefix = modeExternal, m.SIP, []int{p.PID()}, placeholders
	rtpLo, rtpHi, _ := parsePortRange("--rtp-ports", m.RTPPorts)
	_, sipPort, _ := net.SplitHostPort(m.SIP)
	sip, _ := strconv.Atoi(sipPort)
	sampler := loadkit.StartSampler(p.PID(), func(port int) bool { return port == sip || port >= rtpLo && port <= rtpHi }, time.Second)
	var prof *loadkit.Profiler
	if opts.Pprof != "" {
		prof = loadkit.StartProfiler(ctx, "http://"+opts.Pprof, dir, m.ProfileAt, m.ProfileFor, m.Stderr)
	}
	s, err := run.Run(ctx)
	peak, drops, _ := sampler.Stop()
	if prof != nil {
		prof.Finish(ctx)
	}
	if err != nil {
		return nil, err
	}
	r := &Result{Server: serverParley, Level: run.Level, Rep: rep, Peer: s, RSSIdleKB: idle.RSSKB, RSSPeakKB: peak, SocketDrops: drops}
	if p.Exited() {
		r.ServerError = "parley exited during the run: " + p.LogTail(5)
	} else {
		if cpu1, err := loadkit.ProcCPU(p.PID()); err == nil {
			r.CPU = cpu1 - cpu0
		}
		if mem, err := loadkit.ReadProcMem(p.PID()); err == nil {
			r.HWMKB = mem.HWMKB
			r.RSSPeakKB = max(r.RSSPeakKB, mem.RSSKB)
		}
		after, err := p.Metrics(ctx)
		if err != nil {
			r.ServerError = err.Error()
		} else {
			delta := func(name string, labels ...string) float64 {
				return after.Sum(name, labels...) - before.Sum(name, labels...)
			}
			r.Accepted = delta("parley_sip_invites_total", `result="accepted"`)
			r.Refused = delta("parley_sip_invites_total") - r.Accepted
			r.Answered = delta("parley_interactions_ended_total", `outcome="answered"`)
			r.Unanswered = delta("parley_interactions_ended_total") - r.Answered
		}
	}
	if err := p.Stop(45 * time.Second); err != nil {
		r.ExitError = err.Error()
	}
	m.server = nil
	return r, nil
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("append result: %w", err)
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return fmt.Errorf("append result: %w", err)
	}
	return f.Close()
}

// Close stops the Parley of a run still in progress.
func (m *Main) Close() error {
	if m.server != nil {
		err := m.server.Stop(45 * time.Second)
		m.server = nil
		return err
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	m := NewMain()
	defer m.Close()
	if err := m.ParseFlags(args); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintln(m.Stderr, "parley-load:", cc.ErrorMessage(err))
		return 2
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(m.Stderr, "parley-load:", err)
		return 2
	}
	if m.Failed() {
		return 1
	}
	return 0
}
