package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Servers measured.
const (
	serverParley = "parley"
	serverPeer   = "peer"
)

// Result is one run of one server at one level.
type Result struct {
	Server string
	Level  Level
	Rep    int
	Peer   peerSummary // the script's summary line

	// Parley only, measured by parley-load around the script's run.
	RSSIdleKB   int64         // VmRSS before the load
	RSSPeakKB   int64         // largest VmRSS sampled once a second
	HWMKB       int64         // VmHWM after the load
	CPU         time.Duration // utime+stime over the script's whole run
	SocketDrops int64         // datagrams dropped at Parley's own full UDP sockets
	Accepted    float64       // INVITEs Parley accepted into a queue
	Refused     float64       // INVITEs Parley answered with an error
	Answered    float64       // interactions that ended answered
	Unanswered  float64       // interactions that ended otherwise
	ExitError   string        // how `parley serve` ended, when not cleanly
	ServerError string        // what went wrong with the server during the run
}

// Calls returns the calls SIPp completed.
func (r *Result) Calls() float64 { v, _ := r.Peer.Float("ok"); return v }

// Peak returns the most calls SIPp had up at once.
func (r *Result) Peak() float64 { v, _ := r.Peer.Float("peak_calls"); return v }

// ServerMsPerCallS is the server's CPU per call-second, as the script
// measures it (UAC start to end): ms of CPU per second of a call's media.
func (r *Result) ServerMsPerCallS() float64 { v, _ := r.Peer.Float("server_ms_per_call_s"); return v }

// ServerMsPerCall is the server's CPU per completed call.
func (r *Result) ServerMsPerCall() float64 {
	cpu, _ := r.Peer.Float("cpu_server_s")
	if c := r.Calls(); c > 0 {
		return 1000 * cpu / c
	}
	return 0
}

// MemPeakKB is the server's memory at its peak: Parley's VmRSS, or
// rtpengine's VmRSS plus Kamailio's PSS for the peer.
func (r *Result) MemPeakKB() float64 {
	return r.mem(r.RSSPeakKB, "rss_rtpengine_peak_kb", "pss_kamailio_peak_kb")
}

// MemIdleKB is the server's memory before the load.
func (r *Result) MemIdleKB() float64 {
	return r.mem(r.RSSIdleKB, "rss_rtpengine_idle_kb", "pss_kamailio_idle_kb")
}

func (r *Result) mem(parleyKB int64, rtpengine, kamailio string) float64 {
	if r.Server == serverParley {
		return float64(parleyKB)
	}
	a, _ := r.Peer.Float(rtpengine)
	b, _ := r.Peer.Float(kamailio)
	return a + b
}

// KBPerCall is the memory the load added, per call up at the peak.
func (r *Result) KBPerCall() float64 {
	if p := r.Peak(); p > 0 {
		return (r.MemPeakKB() - r.MemIdleKB()) / p
	}
	return 0
}

// OK reports whether the run passed: SIPp passed, media arrived (loss <
// 0.1 % and delivered), and for Parley the server saw every call answered,
// none of its sockets dropped a datagram, and it ran without trouble.
func (r *Result) OK() bool {
	if !r.Peer.Pass() || r.Peer["media_ok"] != "yes" {
		return false
	}
	if r.Server == serverParley {
		return r.ServerError == "" && r.Refused == 0 && r.Unanswered == 0 && r.Answered == r.Calls() && r.SocketDrops == 0
	}
	return true
}

// Line returns the result as one "LOAD key=value ..." line: the level, the
// verdict, the figures of the table and the whole PEER line after it.
func (r *Result) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "LOAD server=%s level=%s rep=%d ok=%t", r.Server, r.Level.Name, r.Rep, r.OK())
	fmt.Fprintf(&b, " server_ms_per_call_s=%.3f server_ms_per_call=%.3f mem_idle_kb=%.0f mem_peak_kb=%.0f kb_per_call=%.1f",
		r.ServerMsPerCallS(), r.ServerMsPerCall(), r.MemIdleKB(), r.MemPeakKB(), r.KBPerCall())
	if r.Server == serverParley {
		fmt.Fprintf(&b, " rss_idle_kb=%d rss_peak_kb=%d hwm_kb=%d cpu_run_s=%.2f invites_accepted=%.0f invites_refused=%.0f answered=%.0f unanswered=%.0f parley_sock_drops=%d",
			r.RSSIdleKB, r.RSSPeakKB, r.HWMKB, r.CPU.Seconds(), r.Accepted, r.Refused, r.Answered, r.Unanswered, r.SocketDrops)
		if r.ServerError != "" {
			fmt.Fprintf(&b, " server_error=%q", r.ServerError)
		}
		if r.ExitError != "" {
			fmt.Fprintf(&b, " exit_error=%q", r.ExitError)
		}
	}
	keys := make([]string, 0, len(r.Peer))
	for k := range r.Peer {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteString(" |")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, r.Peer[k])
	}
	return b.String()
}

// WriteTable writes the results as a Markdown table, one row per run.
// "server drops" are datagrams dropped at Parley's own full sockets, or
// rtpengine's "discarding packet" log lines for the peer.
func WriteTable(w io.Writer, results []*Result) {
	fmt.Fprintln(w, "| server | level | CPS | limit | calls | hold s | run | result | SIP pass | media ok | failed | peak calls | setup p50/p95/p99 ms | loss % | delivered % | server drops | server ms CPU / call-s | server ms CPU / call | memory idle → peak MB | KB / call at peak | generators ms CPU / call-s | box busy % |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		p := r.Peer
		verdict := "pass"
		if !r.OK() {
			verdict = "**fail**"
		}
		drops := p["rtpe_overload_log_lines"]
		if r.Server == serverParley {
			drops = strconv.FormatInt(r.SocketDrops, 10)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s/%s/%s | %s | %s | %s | %.3f | %.3f | %.1f → %.1f | %.1f | %s | %s |\n",
			r.Server, r.Level.Name, r.Level.CPS, r.Level.Limit, r.Level.Total, r.Level.HoldS, r.Rep, verdict,
			p["pass"], p["media_ok"], p["failed"], p["peak_calls"],
			p["setup_ms_p50"], p["setup_ms_p95"], p["setup_ms_p99"], p["loss_pct"], p["sample_delivered_pct"], drops,
			r.ServerMsPerCallS(), r.ServerMsPerCall(), r.MemIdleKB()/1024, r.MemPeakKB()/1024, r.KBPerCall(),
			p["generators_ms_per_call_s"], p["box_busy_pct"])
	}
}

// Ratio compares Parley with the peer at one level.
type Ratio struct {
	Level Level
	// CPU is Parley's server CPU per call-second over the peer's
	// (rtpengine + Kamailio); Memory the memory each added per call at the
	// peak; SetupP95 the 95th percentile of INVITE -> 200.
	CPU, Memory, SetupP95 float64
	ParleyOK, PeerOK      string // passed runs of all runs, e.g. "1/1"
}

// Ratios pairs the Parley and peer results of each level measured for both,
// taking the median of each figure over the runs.
func Ratios(results []*Result) []Ratio {
	var out []Ratio
	var names []string
	for _, r := range results {
		if !slices.Contains(names, r.Level.Name) {
			names = append(names, r.Level.Name)
		}
	}
	for _, name := range names {
		var pa, pe []*Result
		for _, r := range results {
			if r.Level.Name != name {
				continue
			}
			if r.Server == serverParley {
				pa = append(pa, r)
			} else {
				pe = append(pe, r)
			}
		}
		if len(pa) == 0 || len(pe) == 0 {
			continue
		}
		setup := func(r *Result) float64 { v, _ := r.Peer.Float("setup_ms_p95"); return v }
		out = append(out, Ratio{
			Level:    pa[0].Level,
			CPU:      div(median(pa, (*Result).ServerMsPerCallS), median(pe, (*Result).ServerMsPerCallS)),
			Memory:   div(median(pa, (*Result).KBPerCall), median(pe, (*Result).KBPerCall)),
			SetupP95: div(median(pa, setup), median(pe, setup)),
			ParleyOK: passed(pa),
			PeerOK:   passed(pe),
		})
	}
	return out
}

// WriteRatios writes the ratios as a Markdown table.
func WriteRatios(w io.Writer, ratios []Ratio) {
	if len(ratios) == 0 {
		return
	}
	fmt.Fprintln(w, "| level | Parley passed | peer passed | CPU per call-second, Parley ÷ peer | memory per call, Parley ÷ peer | setup p95, Parley ÷ peer |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range ratios {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.Level.Name, r.ParleyOK, r.PeerOK, times(r.CPU), times(r.Memory), times(r.SetupP95))
	}
}

func times(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.2f×", v)
}

func div(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func median(rs []*Result, f func(*Result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func passed(rs []*Result) string {
	n := 0
	for _, r := range rs {
		if r.OK() {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(rs))
}
