// Command parley-rtcload measures browser legs bridged to SIP calls: how
// many concurrent softphone calls one Parley carries on this machine, the
// CPU and memory each costs, the packet loss both ways, and the time from
// an agent's accept to two-way audio.
//
// For each level N it prepares a fresh data directory (a tenant "bench",
// one queue behind the entry point "bench", a trunk for 127.0.0.1 and N
// browser agents), starts `parley serve` on it as a child process on
// loopback, so that Parley's CPU (utime+stime) and memory (VmRSS) are read
// from /proc alone, and then, from this process:
//
//   - signs each agent in as the panel does (POST /api/v1/sessions, a
//     ticket, the events WebSocket, softphone.offer -> softphone.answer
//     from a Go WebRTC client that offers like Chromium, PUT
//     /api/v1/me/state available); each leg sends a 440 Hz tone;
//   - places N SIP calls to the entry point at --rate calls/s, each
//     sending 1000 Hz; each agent accepts the call it is offered (POST
//     /api/v1/interactions/{id}/accept) and the tool times, from just
//     before the accept, the first 1000 Hz at the browser leg and the
//     first 440 Hz at the caller: two-way audio is the later of the two;
//   - holds the N calls for --window and reads Parley's CPU and memory,
//     the packets each side received and lost (sequence gaps, and the
//     shortfall against one packet every 20 ms), and checks the tones of a
//     few legs with sippeer's analysis;
//   - hangs up and checks that Parley answered N interactions, still holds
//     N idle legs with the agents available again, and none once they
//     signed out.
//
// Levels climb until one fails (a call without two-way audio, loss over
// 1% either way, a wrong tone, or Parley not back to idle); the table
// names the last level that passed. Before each level the tool waits (up
// to --quiet-wait) for the 1-minute load average to fall to --max-load,
// and records the load it started at.
//
// Usage:
//
//	go build -o /tmp/parley ./cmd/parley
//	go run ./cmd/parley-rtcload --parley /tmp/parley --levels 50,100,150,200,250 --out /tmp/rtcload.md
//
// Everything stays on loopback; every process the tool starts is stopped
// by its PID. Exit status: 0 when every level passed, 1 when one failed,
// 2 on bad arguments or a setup error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/testkit/loadkit"
)

const usage = `Usage: parley-rtcload [flags]

Measures concurrent browser legs (Go WebRTC clients) bridged to SIP calls
through a parley serve child process, level by level, and prints one
RTCLOAD line per level and a Markdown table.

Flags:
`

// Main is the tool: the program as a struct so that tests can parse
// flags and write reports without running any load.
type Main struct {
	Parley    string // parley binary; "" builds ./cmd/parley
	Levels    []int
	Rate      float64       // calls placed per second
	Window    time.Duration // how long N calls are held and measured
	IdleFor   time.Duration // how long idle legs are measured
	Out       string        // Markdown table file
	Work      string
	RTPPorts  string // Parley's SIP RTP ports
	Spot      int    // legs whose tones are analysed
	MaxLoad   float64
	QuietWait time.Duration
	Profile   bool // CPU profile of Parley over each window (serve --pprof)
	LogLevel  string
	KeepGoing bool // run every level even after one failed

	Stdout, Stderr io.Writer

	results []*LevelResult
	server  *loadkit.Process
}

// NewMain returns a Main with the defaults.
func NewMain() *Main {
	return &Main{
		Levels: []int{50, 100, 150, 200, 250}, Rate: 10, Window: 20 * time.Second, IdleFor: 5 * time.Second,
		RTPPorts: "40000-44999", Spot: 5, MaxLoad: 1.0, QuietWait: 10 * time.Minute, LogLevel: "info",
		Stdout: os.Stdout, Stderr: os.Stderr,
	}
}

// errUsage reports a command-line mistake already explained on stderr.
var errUsage = errors.New("usage")

// ParseFlags reads the command line.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("parley-rtcload", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, usage); fs.PrintDefaults() }
	levels := fs.String("levels", joinInts(m.Levels), "comma-separated `legs` per level, rising, such as 50,100,200")
	fs.StringVar(&m.Parley, "parley", m.Parley, "parley `binary` to run (default: go build ./cmd/parley of this checkout into the work directory)")
	fs.Float64Var(&m.Rate, "rate", m.Rate, "calls placed per `second`")
	fs.DurationVar(&m.Window, "window", m.Window, "how long the calls are held and measured")
	fs.DurationVar(&m.IdleFor, "idle-for", m.IdleFor, "how long Parley's CPU is measured with the legs connected and no call")
	fs.StringVar(&m.Out, "out", m.Out, "write the Markdown table to this `file` too")
	fs.StringVar(&m.Work, "work", m.Work, "work `directory` for data directories, logs and profiles (default: a new directory under $TMPDIR)")
	fs.StringVar(&m.RTPPorts, "rtp-ports", m.RTPPorts, "Parley's SIP RTP port `range`")
	fs.IntVar(&m.Spot, "spot-check", m.Spot, "`legs` per level whose audio is analysed for the right tone both ways")
	fs.Float64Var(&m.MaxLoad, "max-load", m.MaxLoad, "wait before each level until the 1-minute load average is at most this")
	fs.DurationVar(&m.QuietWait, "quiet-wait", m.QuietWait, "the longest wait for --max-load; the level then runs anyway (its load is recorded)")
	fs.BoolVar(&m.Profile, "profile", m.Profile, "save a CPU profile of Parley over each window (serve --pprof) in the level's directory")
	fs.StringVar(&m.LogLevel, "log-level", m.LogLevel, "Parley's log `level`: debug, info, warn or error")
	fs.BoolVar(&m.KeepGoing, "keep-going", m.KeepGoing, "run every level even after one failed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(m.Stderr, "parley-rtcload: unexpected argument %q: the levels go in --levels\n", fs.Arg(0))
		return errUsage
	}
	var err error
	if m.Levels, err = ParseLevels(*levels); err != nil {
		return err
	}
	return m.Validate()
}

// maxLegs bounds a level: each leg holds a WebRTC connection, a SIP call
// and their sockets in this process and in Parley's.
const maxLegs = 2000

// ParseLevels reads --levels: rising leg counts from 1 to maxLegs.
func ParseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > maxLegs {
			return nil, cc.Errorf(cc.EINVALID, "--levels: %q is not a number of legs from 1 to %d", f, maxLegs)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, cc.Errorf(cc.EINVALID, "--levels: %d after %d: give the levels rising, such as 50,100,200", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, cc.Errorf(cc.EINVALID, "--levels is empty: give legs per level, such as 50,100,200")
	}
	return out, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Validate checks the settings and names the first that is wrong.
func (m *Main) Validate() error {
	switch {
	case len(m.Levels) == 0:
		return cc.Errorf(cc.EINVALID, "no level: give --levels, such as 50,100,200")
	case m.Rate <= 0 || m.Rate > 200:
		return cc.Errorf(cc.EINVALID, "--rate %g: place from more than 0 to 200 calls a second", m.Rate)
	case m.Window < time.Second || m.Window > 10*time.Minute:
		return cc.Errorf(cc.EINVALID, "--window %s: hold the calls for 1s to 10m", m.Window)
	case m.IdleFor < time.Second || m.IdleFor > 5*time.Minute:
		return cc.Errorf(cc.EINVALID, "--idle-for %s: use 1s to 5m", m.IdleFor)
	case m.Spot < 0:
		return cc.Errorf(cc.EINVALID, "--spot-check %d: give 0 or more legs", m.Spot)
	case m.MaxLoad <= 0:
		return cc.Errorf(cc.EINVALID, "--max-load %g: give a load average above 0, such as 1.0", m.MaxLoad)
	case m.QuietWait < 0:
		return cc.Errorf(cc.EINVALID, "--quiet-wait %s: give 0 or more", m.QuietWait)
	}
	if _, _, err := parsePortRange(m.RTPPorts); err != nil {
		return err
	}
	if need := 2 * slices.Max(m.Levels); func() bool { lo, hi, _ := parsePortRange(m.RTPPorts); return hi-lo+1 < need }() {
		return cc.Errorf(cc.EINVALID, "--rtp-ports %s: %d legs need at least %d ports (two per call)", m.RTPPorts, slices.Max(m.Levels), need)
	}
	if slices.Max(m.Levels) > 250*signInsPerSource {
		return cc.Errorf(cc.EINVALID, "--levels: at most %d legs (the agents' loopback addresses run out)", 250*signInsPerSource)
	}
	switch m.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return cc.Errorf(cc.EINVALID, "--log-level %q: use debug, info, warn or error", m.LogLevel)
	}
	return nil
}

// parsePortRange reads a port range "LO-HI" (at least 100 ports, within
// 1024-65535).
func parsePortRange(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || hi-lo < 100 {
		return 0, 0, cc.Errorf(cc.EINVALID, "--rtp-ports %q: write a range like 40000-44999 (at least 100 ports, within 1024-65535)", s)
	}
	return lo, hi, nil
}

// Failed reports whether a level failed.
func (m *Main) Failed() bool {
	return slices.ContainsFunc(m.results, func(r *LevelResult) bool { return !r.Passed() })
}

// Close stops the Parley of a level still in progress.
func (m *Main) Close() {
	if m.server != nil {
		_ = m.server.Stop(30 * time.Second)
		m.server = nil
	}
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
		fmt.Fprintln(m.Stderr, "parley-rtcload:", cc.ErrorMessage(err))
		return 2
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(m.Stderr, "parley-rtcload:", err)
		return 2
	}
	if m.Failed() {
		return 1
	}
	return 0
}
