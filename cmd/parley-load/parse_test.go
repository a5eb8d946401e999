package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses, as /proc allows.
	stat := "4242 (parley (serve) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 1234 567 0 0 20 0 9 0 100 1000000 2000 18446744073709551615"
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 18010 * time.Millisecond; got != want { // (1234+567) ticks of 10 ms
		t.Errorf("parseStatCPU = %s, want %s", got, want)
	}
	for _, bad := range []string{"", "4242 parley S 1", "4242 (parley) S 1 2 3", "4242 (parley) S 1 4242 4242 0 -1 4194560 1200 0 0 0 x 567"} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q) succeeded", bad)
		}
	}
}

func TestProcOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	// Burn a little CPU so that utime+stime is above zero.
	x := 0
	for i := range 50_000_000 {
		x += i % 7
	}
	_ = x
	cpu, err := procCPU(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Errorf("procCPU(self) = %s, %v; want some CPU time", cpu, err)
	}
	m, err := readProcMem(os.Getpid())
	if err != nil || m.RSSKB <= 0 || m.HWMKB < m.RSSKB {
		t.Errorf("readProcMem(self) = %+v, %v; want RSS > 0 and HWM >= RSS", m, err)
	}
	s := startServerSampler(os.Getpid(), func(int) bool { return false }, 10*time.Millisecond)
	peak, drops, n := s.Stop()
	if peak <= 0 || n < 1 || drops != 0 {
		t.Errorf("sampler: peak %d kB, %d drops after %d samples", peak, drops, n)
	}
	if _, err := procCPU(-1); err == nil {
		t.Error("procCPU(-1) succeeded")
	}
}

func TestParseStatusMem(t *testing.T) {
	status := "Name:\tparley\nVmPeak:\t 2000000 kB\nVmHWM:\t  180224 kB\nVmRSS:\t  150016 kB\nThreads:\t9\n"
	m, err := parseStatusMem(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if m.RSSKB != 150016 || m.HWMKB != 180224 {
		t.Errorf("parseStatusMem = %+v", m)
	}
	if _, err := parseStatusMem(strings.NewReader("Name:\tkthreadd\nThreads:\t1\n")); err == nil {
		t.Error("a status without VmRSS parsed")
	}
	if _, err := parseStatusMem(strings.NewReader("VmRSS:\t lots kB\nVmHWM:\t 1 kB\n")); err == nil {
		t.Error("a VmRSS that is not a number parsed")
	}
}

func TestUDPDrops(t *testing.T) {
	text := `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 0100007F:9C40 0100007F:3E80 01 00000000:00000000 00:00000000 00000000     0        0 51234 2 0000000000000000 7
  101: 0100007F:9C41 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51235 2 0000000000000000 0
  102: 0100007F:13C4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51236 2 0000000000000000 3
  103: 0100007F:1770 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51237 2 0000000000000000 9
`
	// 0x9C40 = 40000, 0x9C41 = 40001 (Parley's RTP), 0x13C4 = 5060 (its SIP), 0x1770 = 6000 (SIPp's).
	got, err := udpDrops(strings.NewReader(text), func(p int) bool { return p == 5060 || p >= 40000 && p <= 49999 })
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]int64{51234: 7, 51235: 0, 51236: 3}
	if len(got) != len(want) {
		t.Fatalf("udpDrops = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("udpDrops[%d] = %d, want %d", k, got[k], v)
		}
	}
	if _, err := udpDrops(strings.NewReader("header\n  1: 0100007F:XYZ 0 0\n"), func(int) bool { return true }); err == nil {
		t.Error("a short line parsed")
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP parley_sip_invites_total Inbound INVITEs, by result.
# TYPE parley_sip_invites_total counter
parley_sip_invites_total{result="accepted"} 900
parley_sip_invites_total{result="503"} 4
parley_interactions_ended_total{outcome="answered"} 898
parley_interactions_ended_total{outcome="abandoned"} 2
parley_sip_active_calls 0
odd_label{reason="a, b c"} 1.5e+00
`
	m, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"parley_sip_invites_total", nil, 904},
		{"parley_sip_invites_total", []string{`result="accepted"`}, 900},
		{"parley_interactions_ended_total", []string{`outcome="answered"`}, 898},
		{"parley_interactions_ended_total", []string{`outcome="answer"`}, 0},
		{"parley_sip_active_calls", nil, 0},
		{"odd_label", nil, 1.5},
		{"parley_sip", nil, 0}, // a prefix is not a name
	} {
		if got := m.Sum(tt.name, tt.labels...); got != tt.want {
			t.Errorf("Sum(%s, %v) = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if _, err := parseMetrics(strings.NewReader("parley_x{a=\"b\"}\n")); err == nil {
		t.Error("a series without a value parsed")
	}
	if _, err := parseMetrics(strings.NewReader("parley_x many\n")); err == nil {
		t.Error("a value that is not a number parsed")
	}
}

func TestParsePeerLine(t *testing.T) {
	out := "noise before\nPEER mode=external target=127.0.0.1:5080 label=x cps=5 pass=yes media_ok=no setup_ms_p95=48\n"
	s, err := parsePeerLine(out)
	if err != nil {
		t.Fatal(err)
	}
	if s["mode"] != "external" || !s.Pass() || s["media_ok"] != "no" {
		t.Errorf("summary = %v", s)
	}
	if v, ok := s.Float("setup_ms_p95"); !ok || v != 48 {
		t.Errorf("Float(setup_ms_p95) = %v, %v", v, ok)
	}
	if _, ok := s.Float("missing"); ok {
		t.Error("Float of a missing field is a number")
	}
	for _, bad := range []string{"", "progress only\n", "PEER cps=5\n"} {
		if _, err := parsePeerLine(bad); err == nil {
			t.Errorf("parsePeerLine(%q) succeeded", bad)
		}
	}
}

func TestExternalPlaceholders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "placeholders")
	t.Setenv("PATH", t.TempDir()) // neither tool is installed here
	got, err := externalPlaceholders(dir)
	if err != nil || got != dir {
		t.Fatalf("externalPlaceholders = %q, %v; want %q", got, err, dir)
	}
	for _, tool := range externalTools {
		out, err := exec.Command(filepath.Join(dir, tool), "-v").CombinedOutput()
		var exit *exec.ExitError
		if !strings.Contains(string(out), "is not installed") || err == nil || !errors.As(err, &exit) || exit.ExitCode() != 127 {
			t.Errorf("placeholder %s: output %q, error %v; want a refusal with exit 127", tool, out, err)
		}
	}
	// With both installed there is nothing to add.
	bin := t.TempDir()
	for _, tool := range externalTools {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	if got, err := externalPlaceholders(filepath.Join(t.TempDir(), "p")); err != nil || got != "" {
		t.Errorf("with both installed: %q, %v; want no placeholders", got, err)
	}
}
