package main

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/parley-cc/parley/internal/cc"
)

func parse(args ...string) (*Main, error, string) {
	var stderr bytes.Buffer
	m := NewMain()
	m.Stderr = &stderr
	err := m.ParseFlags(args)
	return m, err, stderr.String()
}

func TestParseFlags(t *testing.T) {
	m, err, _ := parse("--parley", "/tmp/parley", "--levels", "10, 20,200", "--window", "30s", "--rate", "5", "--out", "x.md", "--profile")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Levels, []int{10, 20, 200}) || m.Window != 30*time.Second || m.Rate != 5 || m.Out != "x.md" || !m.Profile || m.Parley != "/tmp/parley" {
		t.Errorf("parsed %+v", m)
	}
	if m, err, _ := parse(); err != nil || !slices.Equal(m.Levels, []int{50, 100, 150, 200, 250}) {
		t.Errorf("defaults: levels %v, %v", m.Levels, err)
	}
	if _, err, _ := parse("-h"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestParseFlagsExplainsBadValues(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--levels", "100,50"}, "rising"},
		{[]string{"--levels", "0"}, "from 1 to"},
		{[]string{"--levels", "ten"}, `"ten" is not a number`},
		{[]string{"--levels", ","}, "empty"},
		{[]string{"--rate", "0"}, "--rate 0"},
		{[]string{"--window", "10ms"}, "--window 10ms"},
		{[]string{"--rtp-ports", "5000"}, "write a range"},
		{[]string{"--levels", "200", "--rtp-ports", "40000-40200"}, "need at least 400 ports"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--max-load", "0"}, "--max-load"},
		{[]string{"--spot-check", "-1"}, "--spot-check"},
	} {
		_, err, _ := parse(tt.args...)
		if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want EINVALID saying %q", tt.args, err, tt.want)
		}
	}
	if _, err, stderr := parse("200"); !errors.Is(err, errUsage) || !strings.Contains(stderr, "--levels") {
		t.Errorf("a bare argument: %v, %q", err, stderr)
	}
}

func TestFlowLoss(t *testing.T) {
	for _, tt := range []struct {
		f    Flow
		want float64
	}{
		{Flow{Sent: 1000, Received: 1000}, 0},
		{Flow{Sent: 1000, Received: 990, Lost: 10}, 1}, // gaps
		{Flow{Sent: 1000, Received: 980}, 2},           // dropped before Parley renumbered them
		{Flow{Sent: 1000, Received: 1002, Lost: 0}, 0}, // a packet or two over the window
		{Flow{Sent: 1000, Received: 970, Lost: 30}, 3}, // both: the larger
		{Flow{}, 0},
	} {
		if got := tt.f.Loss(); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%+v.Loss() = %g, want %g", tt.f, got, tt.want)
		}
	}
	if got := (Flow{1, 2, 3, 4}).Add(Flow{10, 20, 30, 40}); got != (Flow{11, 22, 33, 44}) {
		t.Errorf("Add = %+v", got)
	}
	if got := (Flow{Expected: 1000, Sent: 900}).SendShortfall(); got != 10 {
		t.Errorf("SendShortfall = %g, want 10", got)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p50, p95, top := percentile(ds, 50), percentile(ds, 95), percentile(ds, 100); p50 != 50*time.Millisecond || p95 != 95*time.Millisecond || top != 100*time.Millisecond {
		t.Errorf("p50 %s p95 %s max %s", p50, p95, top)
	}
	if ds[0] != 100*time.Millisecond {
		t.Error("percentile sorted its argument")
	}
	if percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

func ulawTone(hz float64, n, from int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = g711.EncodeUlawFrame(int16(8000 * math.Sin(2*math.Pi*hz*float64(from+i)/8000)))
	}
	return b
}

func TestToneDetector(t *testing.T) {
	t0 := time.Now()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 20 * time.Millisecond) }
	d := toneDetector{hz: 440}
	frames := [][]byte{
		ulawTone(1000, 160, 0),          // the other tone
		bytes.Repeat([]byte{0xFF}, 160), // silence
		ulawTone(440, 160, 0),
		ulawTone(1000, 160, 0), // a stray frame breaks the run
		ulawTone(440, 160, 160), ulawTone(440, 160, 320), ulawTone(440, 160, 480),
	}
	for i, f := range frames {
		got := d.frame(f, at(i))
		if want := i == 6; got != want {
			t.Errorf("frame %d: found %v, want %v", i, got, want)
		}
	}
	if !d.found.Equal(at(4)) {
		t.Errorf("tone found at frame %s, want the run's first (frame 4)", d.found.Sub(t0))
	}
	if share, db := toneShare(ulawTone(1000, 160, 0), 1000); share < 0.95 || math.Abs(db+15.3) > 1 {
		t.Errorf("1000 Hz: share %.2f, level %.1f dB", share, db)
	}
}

func TestReport(t *testing.T) {
	pass := &LevelResult{Legs: 50, Load1: 0.4, SignedIn: 50, CallsOK: 50, Window: 20 * time.Second, CPU: 5 * time.Second,
		Sessions: Mem{RSSKB: 300_000, FreeHeapKB: 200_000}, LegsMem: Mem{RSSKB: 150_000, FreeHeapKB: 40_000}, Calls: Mem{RSSKB: 125_000, FreeHeapKB: 10_000},
		ToAgent: Flow{50_000, 50_000, 50_000, 0}, ToCustomer: Flow{50_000, 50_000, 49_900, 100}, TwoWay: []time.Duration{40 * time.Millisecond},
		ToneChecked: 5, ToneOK: 5, Answered: 50, LegsAfterCalls: 50, AvailableAfter: 50}
	lossy := *pass
	lossy.Legs, lossy.SignedIn, lossy.CallsOK, lossy.ToAgent = 100, 100, 100, Flow{100_000, 100_000, 97_000, 3000}
	if !pass.Passed() || lossy.Passed() || !strings.Contains(lossy.Why(), "loss to the agents 3.00%") {
		t.Errorf("pass %q, lossy %q", pass.Why(), lossy.Why())
	}
	if got := pass.CPUPerLegSecond(); got != 5 { // 5000 ms / 50 legs / 20 s
		t.Errorf("CPU per leg-second %g, want 5", got)
	}
	var b bytes.Buffer
	WriteTable(&b, []*LevelResult{pass, &lossy})
	out := b.String()
	for _, want := range []string{"| 50 | 0.40 | 50/50 | 25 | 5.00 | 100 KiB | 200 KiB | 0.000% | 0.200% | 0.0% / 0.0% | 40 / 40 / 40 | 5/5 |", "FAIL: loss to the agents", "Last level under 1% loss with every call two-way: 50 legs (target 200)."} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if line := lossy.Line(); !strings.HasPrefix(line, "RTCLOAD legs=100 ") || !strings.Contains(line, "pass=false") || !strings.Contains(line, `why="loss to the agents`) {
		t.Errorf("line %s", line)
	}
	if LastPassed([]*LevelResult{&lossy}) != nil {
		t.Error("LastPassed of a failed level")
	}
}

func TestParseLoadAvg(t *testing.T) {
	if v, err := parseLoadAvg("0.42 1.10 2.00 1/86 25393\n"); err != nil || v != 0.42 {
		t.Errorf("parseLoadAvg = %g, %v", v, err)
	}
	if _, err := parseLoadAvg("x"); err == nil {
		t.Error("parseLoadAvg(x) succeeded")
	}
}
