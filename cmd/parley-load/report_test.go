package main

import (
	"math"
	"strings"
	"testing"
)

func parleyResult(level string, peer string) *Result {
	l, _ := ParseLevel(level)
	s, err := parsePeerLine("PEER " + peer)
	if err != nil {
		panic(err)
	}
	calls, _ := s.Float("ok")
	return &Result{Server: serverParley, Level: l, Rep: 1, Peer: s, RSSIdleKB: 90_000, RSSPeakKB: 190_000, Accepted: calls, Answered: calls}
}

func peerResult(level string, peer string) *Result {
	l, _ := ParseLevel(level)
	s, err := parsePeerLine("PEER " + peer)
	if err != nil {
		panic(err)
	}
	return &Result{Server: serverPeer, Level: l, Rep: 1, Peer: s}
}

const (
	goodParley = "mode=external pass=yes media_ok=yes ok=1000 failed=0 peak_calls=1000 cpu_server_s=150 server_ms_per_call_s=2.5 setup_ms_p50=8 setup_ms_p95=40 setup_ms_p99=90"
	goodPeer   = "mode=relay pass=yes media_ok=yes ok=1000 failed=0 peak_calls=1000 cpu_server_s=68 server_ms_per_call_s=1.25 setup_ms_p50=8 setup_ms_p95=20 setup_ms_p99=148 " +
		"rss_rtpengine_idle_kb=37000 rss_rtpengine_peak_kb=78000 pss_kamailio_idle_kb=13000 pss_kamailio_peak_kb=22000"
)

func TestResultFigures(t *testing.T) {
	p := parleyResult("conc:1000", goodParley)
	if !p.OK() {
		t.Errorf("a clean Parley run is not OK: %s", p.Line())
	}
	if got := p.KBPerCall(); got != 100 { // (190000-90000) kB / 1000 calls
		t.Errorf("Parley KBPerCall = %v, want 100", got)
	}
	if got := p.ServerMsPerCall(); got != 150 {
		t.Errorf("Parley ServerMsPerCall = %v, want 150", got)
	}
	q := peerResult("conc:1000", goodPeer)
	if got := q.KBPerCall(); got != 50 { // (78000+22000-37000-13000) / 1000
		t.Errorf("peer KBPerCall = %v, want 50", got)
	}
	if !q.OK() {
		t.Error("a clean peer run is not OK")
	}
	line := p.Line()
	for _, want := range []string{"LOAD server=parley level=conc:1000 rep=1 ok=true", "kb_per_call=100.0", "answered=1000", "| cpu_server_s=150", " setup_ms_p95=40"} {
		if !strings.Contains(line, want) {
			t.Errorf("Line() lacks %q:\n%s", want, line)
		}
	}
}

func TestResultFailures(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    *Result
	}{
		{"SIPp failed calls", parleyResult("cps:70", strings.Replace(goodParley, "pass=yes", "pass=no", 1))},
		{"media lost", parleyResult("cps:70", strings.Replace(goodParley, "media_ok=yes", "media_ok=no", 1))},
		{"Parley refused INVITEs", func() *Result { r := parleyResult("cps:70", goodParley); r.Refused = 3; return r }()},
		{"calls abandoned in Parley", func() *Result { r := parleyResult("cps:70", goodParley); r.Unanswered = 1; return r }()},
		{"fewer answered than SIPp completed", func() *Result { r := parleyResult("cps:70", goodParley); r.Answered = 999; return r }()},
		{"server trouble", func() *Result { r := parleyResult("cps:70", goodParley); r.ServerError = "parley exited"; return r }()},
	} {
		if tt.r.OK() {
			t.Errorf("%s: OK() = true", tt.name)
		}
		if !strings.Contains(tt.r.Line(), " ok=false ") {
			t.Errorf("%s: line does not say ok=false", tt.name)
		}
	}
}

func TestRatiosAndTables(t *testing.T) {
	results := []*Result{
		parleyResult("conc:1000", goodParley),
		peerResult("conc:1000", goodPeer),
		parleyResult("conc:1000", strings.Replace(goodParley, "server_ms_per_call_s=2.5", "server_ms_per_call_s=3.5", 1)),
		parleyResult("cps:100", goodParley), // no peer at this level
	}
	rs := Ratios(results)
	if len(rs) != 1 {
		t.Fatalf("Ratios = %+v, want one level (the one measured for both)", rs)
	}
	r := rs[0]
	if r.Level.Name != "conc:1000" || r.CPU != 2.4 || r.Memory != 2 || r.SetupP95 != 2 || r.ParleyOK != "2/2" || r.PeerOK != "1/1" {
		t.Errorf("ratio = %+v; want CPU (2.5+3.5)/2 / 1.25 = 2.4, memory 2, setup p95 2", r)
	}
	var b strings.Builder
	WriteTable(&b, results)
	WriteRatios(&b, rs)
	out := b.String()
	for _, want := range []string{"| parley | conc:1000 | 30 | 1000 | 1000 | 60 | 1 | pass |", "| peer | conc:1000 |", "| 8/40/90 |", "87.9 → 185.5", "| conc:1000 | 2/2 | 1/1 | 2.40× | 2.00× | 2.00× |"} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
	if times(math.NaN()) != "-" || times(div(1, 0)) != "-" {
		t.Error("a ratio without a peer figure is not shown as -")
	}
}
