package loadkit

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses, as /proc allows.
	stat := "4242 (parley (serve) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 1234 567 0 0 20 0 9 0 100 1000000 2000 18446744073709551615"
	got, err := ParseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 18010 * time.Millisecond; got != want { // (1234+567) ticks of 10 ms
		t.Errorf("ParseStatCPU = %s, want %s", got, want)
	}
	for _, bad := range []string{"", "4242 parley S 1", "4242 (parley) S 1 2 3", "4242 (parley) S 1 4242 4242 0 -1 4194560 1200 0 0 0 x 567"} {
		if _, err := ParseStatCPU(bad); err == nil {
			t.Errorf("ParseStatCPU(%q) succeeded", bad)
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
	cpu, err := ProcCPU(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Errorf("ProcCPU(self) = %s, %v; want some CPU time", cpu, err)
	}
	m, err := ReadProcMem(os.Getpid())
	if err != nil || m.RSSKB <= 0 || m.HWMKB < m.RSSKB {
		t.Errorf("ReadProcMem(self) = %+v, %v; want RSS > 0 and HWM >= RSS", m, err)
	}
	s := StartSampler(os.Getpid(), func(int) bool { return false }, 10*time.Millisecond)
	peak, drops, n := s.Stop()
	if peak <= 0 || n < 1 || drops != 0 {
		t.Errorf("sampler: peak %d kB, %d drops after %d samples", peak, drops, n)
	}
	if _, err := ProcCPU(-1); err == nil {
		t.Error("ProcCPU(-1) succeeded")
	}
}

func TestParseStatusMem(t *testing.T) {
	status := "Name:\tparley\nVmPeak:\t 2000000 kB\nVmHWM:\t  180224 kB\nVmRSS:\t  150016 kB\nThreads:\t9\n"
	m, err := ParseStatusMem(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if m.RSSKB != 150016 || m.HWMKB != 180224 {
		t.Errorf("ParseStatusMem = %+v", m)
	}
	if _, err := ParseStatusMem(strings.NewReader("Name:\tkthreadd\nThreads:\t1\n")); err == nil {
		t.Error("a status without VmRSS parsed")
	}
	if _, err := ParseStatusMem(strings.NewReader("VmRSS:\t lots kB\nVmHWM:\t 1 kB\n")); err == nil {
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
	got, err := UDPDrops(strings.NewReader(text), func(p int) bool { return p == 5060 || p >= 40000 && p <= 49999 })
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]int64{51234: 7, 51235: 0, 51236: 3}
	if len(got) != len(want) {
		t.Fatalf("UDPDrops = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("UDPDrops[%d] = %d, want %d", k, got[k], v)
		}
	}
	if _, err := UDPDrops(strings.NewReader("header\n  1: 0100007F:XYZ 0 0\n"), func(int) bool { return true }); err == nil {
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
	m, err := ParseMetrics(strings.NewReader(text))
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
	if _, err := ParseMetrics(strings.NewReader("parley_x{a=\"b\"}\n")); err == nil {
		t.Error("a series without a value parsed")
	}
	if _, err := ParseMetrics(strings.NewReader("parley_x many\n")); err == nil {
		t.Error("a value that is not a number parsed")
	}
}
