package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// LevelResult is what one level measured.
type LevelResult struct {
	Legs       int     // the level: browser legs, each bridged to one SIP call
	Load1      float64 // the 1-minute load average when the level started
	SignedIn   int     // agents whose audio connected and who went available
	CallsOK    int     // calls with two-way audio through the window
	Failed     int     // calls that did not
	FailWhy    string  // the first failure, for people
	Window     time.Duration
	IdleCPU    time.Duration // Parley's CPU over IdleFor with every leg connected and no call
	IdleFor    time.Duration
	CPU        time.Duration // Parley's CPU over the window
	HarnessCPU time.Duration // this tool's CPU over the window
	// Parley's memory after start-up, with every agent signed in and its
	// events socket open, with every audio leg connected too (no call), and
	// at the end of the window.
	Start, Sessions, LegsMem, Calls Mem
	RSSPeakKB                       int64 // the most seen during the window
	// Packets over the window, customer -> agent (sent by the SIP callers,
	// received at the browser legs) and agent -> customer (sent by the
	// browser legs, received at the callers).
	ToAgent, ToCustomer Flow
	// Accept -> first audio each way, and two-way (the later), per call.
	AgentHears, CustomerHears, TwoWay []time.Duration
	ToneChecked, ToneOK               int    // legs whose audio was analysed, and right
	ToneWhy                           string // the first wrong tone
	// After the hang-up: Parley's answered interactions (delta), the
	// browser legs it still holds (all agents still signed in), the agents
	// available again, and its legs after every agent signed out.
	Answered, LegsAfterCalls, LegsAfterSignOut float64
	AvailableAfter                             int
	CheckWhy                                   string // what was not as expected after the calls
	// SocketCloses counts the events WebSockets Parley closed from the
	// calls' start to the hang-up's end, by reason (parley_websocket_closes_total).
	SocketCloses map[string]float64
	// SIPSocketDrops are the receive-buffer drops of Parley's SIP RTP
	// sockets from the calls' start to the window's end (the largest count
	// seen per socket);
	// UDPDrops the growth of every UDP socket's on the machine.
	SIPSocketDrops, UDPDrops int64
}

// Mem is Parley's memory at one point.
type Mem struct {
	RSSKB      int64 // VmRSS
	FreeHeapKB int64 // heap the Go runtime holds free, not returned to the OS yet
	Collected  bool  // read right after a garbage collection (--profile)
	GCError    string
}

// UsedKB is VmRSS less the free heap: what Parley uses. Each sign-in
// verifies an argon2id hash in 64 MiB of heap; that garbage is resident
// until the runtime returns it, a little at a time, so VmRSS alone
// differs by hundreds of MiB depending on when it is read.
// Garbage not collected yet counts as used: only with Collected is the
// figure the live memory.
func (m Mem) UsedKB() int64 { return m.RSSKB - m.FreeHeapKB }

// Flow counts one direction's packets over the window.
type Flow struct {
	Expected uint64 // one every 20 ms
	Sent     uint64 // by the far end (this tool's sender)
	Received uint64
	Lost     uint64 // sequence gaps at the receiver
}

// Loss is the share of the packets sent that did not arrive, as a
// percentage: the larger of the sequence gaps (lost after Parley numbered
// them) and the shortfall against what the far end sent (dropped before,
// as Parley renumbers what it forwards).
func (f Flow) Loss() float64 {
	gaps := 0.0
	if f.Received+f.Lost > 0 {
		gaps = float64(f.Lost) / float64(f.Received+f.Lost)
	}
	short := 0.0
	if f.Received < f.Sent {
		short = float64(f.Sent-f.Received) / float64(f.Sent)
	}
	return 100 * max(gaps, short)
}

// SendShortfall is how far this tool's senders fell behind one packet
// every 20 ms, as a percentage: not Parley's loss, but a sign that the
// machine (or the tool) was out of CPU.
func (f Flow) SendShortfall() float64 {
	if f.Expected == 0 || f.Sent >= f.Expected {
		return 0
	}
	return 100 * float64(f.Expected-f.Sent) / float64(f.Expected)
}

// Add sums two flows.
func (f Flow) Add(g Flow) Flow {
	return Flow{f.Expected + g.Expected, f.Sent + g.Sent, f.Received + g.Received, f.Lost + g.Lost}
}

// maxLoss is the packet loss at which a level fails, in percent.
const maxLoss = 1.0

// Passed reports whether every call had two-way audio with less than 1%
// loss both ways, the tones were right and Parley was back to its idle
// state after the calls.
func (r *LevelResult) Passed() bool {
	return r.Why() == ""
}

// Why says why the level failed; "" when it passed.
func (r *LevelResult) Why() string {
	switch {
	case r.SignedIn < r.Legs:
		return fmt.Sprintf("%d of %d agents connected their audio", r.SignedIn, r.Legs)
	case r.CallsOK < r.Legs:
		return fmt.Sprintf("%d of %d calls had two-way audio: %s", r.CallsOK, r.Legs, r.FailWhy)
	case r.ToAgent.Loss() > maxLoss:
		return fmt.Sprintf("loss to the agents %.2f%% > %.0f%%", r.ToAgent.Loss(), maxLoss)
	case r.ToCustomer.Loss() > maxLoss:
		return fmt.Sprintf("loss to the customers %.2f%% > %.0f%%", r.ToCustomer.Loss(), maxLoss)
	case r.ToneOK < r.ToneChecked:
		return fmt.Sprintf("%d of %d spot-checked legs had the wrong audio: %s", r.ToneChecked-r.ToneOK, r.ToneChecked, r.ToneWhy)
	case r.CheckWhy != "":
		return r.CheckWhy
	}
	return ""
}

// cpuPercent is CPU time over a wall time, in % of one core.
func cpuPercent(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * cpu.Seconds() / wall.Seconds()
}

// CPUPerLegSecond is Parley's CPU milliseconds per leg and second of the
// window.
func (r *LevelResult) CPUPerLegSecond() float64 {
	if r.Legs == 0 || r.Window <= 0 {
		return 0
	}
	return float64(r.CPU.Milliseconds()) / float64(r.Legs) / r.Window.Seconds()
}

// perLegKB divides a growth in kB by the legs (0 when there are none).
func (r *LevelResult) perLegKB(kb int64) float64 {
	if r.Legs == 0 {
		return 0
	}
	return float64(kb) / float64(r.Legs)
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%d", d.Round(time.Millisecond).Milliseconds()) }

// Line renders the result as one RTCLOAD line of key=value fields.
func (r *LevelResult) Line() string {
	f := []string{
		fmt.Sprintf("legs=%d", r.Legs), fmt.Sprintf("load1=%.2f", r.Load1),
		fmt.Sprintf("signed_in=%d", r.SignedIn), fmt.Sprintf("calls_ok=%d", r.CallsOK), fmt.Sprintf("failed=%d", r.Failed),
		fmt.Sprintf("window_s=%.0f", r.Window.Seconds()),
		fmt.Sprintf("cpu_pct=%.1f", cpuPercent(r.CPU, r.Window)), fmt.Sprintf("cpu_ms_per_leg_s=%.3f", r.CPUPerLegSecond()),
		fmt.Sprintf("idle_cpu_pct=%.1f", cpuPercent(r.IdleCPU, r.IdleFor)), fmt.Sprintf("harness_cpu_pct=%.1f", cpuPercent(r.HarnessCPU, r.Window)),
		fmt.Sprintf("rss_kb=%d/%d/%d/%d", r.Start.RSSKB, r.Sessions.RSSKB, r.LegsMem.RSSKB, r.Calls.RSSKB),
		fmt.Sprintf("free_heap_kb=%d/%d/%d/%d", r.Start.FreeHeapKB, r.Sessions.FreeHeapKB, r.LegsMem.FreeHeapKB, r.Calls.FreeHeapKB), fmt.Sprintf("rss_peak_kb=%d", r.RSSPeakKB), fmt.Sprintf("mem_after_gc=%v", r.Calls.Collected),
		fmt.Sprintf("to_agent_recv_sent_expected_gaps=%d/%d/%d/%d", r.ToAgent.Received, r.ToAgent.Sent, r.ToAgent.Expected, r.ToAgent.Lost), fmt.Sprintf("to_agent_loss_pct=%.3f", r.ToAgent.Loss()),
		fmt.Sprintf("to_customer_recv_sent_expected_gaps=%d/%d/%d/%d", r.ToCustomer.Received, r.ToCustomer.Sent, r.ToCustomer.Expected, r.ToCustomer.Lost), fmt.Sprintf("to_customer_loss_pct=%.3f", r.ToCustomer.Loss()),
		fmt.Sprintf("send_shortfall_pct=%.2f/%.2f", r.ToAgent.SendShortfall(), r.ToCustomer.SendShortfall()),
		"agent_hears_ms=" + ms(percentile(r.AgentHears, 50)) + "/" + ms(percentile(r.AgentHears, 95)) + "/" + ms(percentile(r.AgentHears, 100)),
		"customer_hears_ms=" + ms(percentile(r.CustomerHears, 50)) + "/" + ms(percentile(r.CustomerHears, 95)) + "/" + ms(percentile(r.CustomerHears, 100)),
		"two_way_ms=" + ms(percentile(r.TwoWay, 50)) + "/" + ms(percentile(r.TwoWay, 95)) + "/" + ms(percentile(r.TwoWay, 100)),
		fmt.Sprintf("tones=%d/%d", r.ToneOK, r.ToneChecked),
		fmt.Sprintf("answered=%.0f", r.Answered), fmt.Sprintf("legs_after_calls=%.0f", r.LegsAfterCalls),
		fmt.Sprintf("available_after=%d", r.AvailableAfter), fmt.Sprintf("legs_after_signout=%.0f", r.LegsAfterSignOut),
		"ws_closes=" + formatCounts(r.SocketCloses),
		fmt.Sprintf("parley_rtp_sock_drops=%d", r.SIPSocketDrops), fmt.Sprintf("udp_drops=%d", r.UDPDrops),
		fmt.Sprintf("pass=%v", r.Passed()),
	}
	if why := r.Why(); why != "" {
		f = append(f, fmt.Sprintf("why=%q", why))
	}
	return "RTCLOAD " + strings.Join(f, " ")
}

// WriteTable writes the levels as a Markdown table, then the last level
// that passed.
func WriteTable(w io.Writer, rs []*LevelResult) {
	fmt.Fprintln(w, "| legs | load (1 min) | calls ok | Parley CPU % of a core | CPU ms per leg-second | memory per call (RSS less free heap) | memory per idle leg | loss to agent | loss to customer | tool's send shortfall | accept → two-way p50 / p95 / max (ms) | tones | after hang-up | result |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
	for _, r := range rs {
		after := fmt.Sprintf("legs %.0f, available %d, legs after sign-out %.0f", r.LegsAfterCalls, r.AvailableAfter, r.LegsAfterSignOut)
		result := "pass"
		if why := r.Why(); why != "" {
			result = "FAIL: " + strings.ReplaceAll(why, "|", "/")
		}
		fmt.Fprintf(w, "| %d | %.2f | %d/%d | %.0f | %.2f | %.0f KiB | %.0f KiB | %.3f%% | %.3f%% | %.1f%% / %.1f%% | %s / %s / %s | %d/%d | %s | %s |\n",
			r.Legs, r.Load1, r.CallsOK, r.Legs, cpuPercent(r.CPU, r.Window), r.CPUPerLegSecond(),
			r.perLegKB(r.Calls.UsedKB()-r.LegsMem.UsedKB()), r.perLegKB(r.LegsMem.UsedKB()-r.Sessions.UsedKB()),
			r.ToAgent.Loss(), r.ToCustomer.Loss(), r.ToAgent.SendShortfall(), r.ToCustomer.SendShortfall(),
			ms(percentile(r.TwoWay, 50)), ms(percentile(r.TwoWay, 95)), ms(percentile(r.TwoWay, 100)),
			r.ToneOK, r.ToneChecked, after, result)
	}
	fmt.Fprintln(w)
	if last := LastPassed(rs); last != nil {
		fmt.Fprintf(w, "Last level under %.0f%% loss with every call two-way: %d legs (target 200).\n", maxLoss, last.Legs)
	} else {
		fmt.Fprintf(w, "No level passed (target 200 legs).\n")
	}
}

// LastPassed returns the largest level that passed, nil if none did.
func LastPassed(rs []*LevelResult) *LevelResult {
	var last *LevelResult
	for _, r := range rs {
		if r.Passed() && (last == nil || r.Legs > last.Legs) {
			last = r
		}
	}
	return last
}

// formatCounts renders counts as reason:n,... in name order ("none" when
// there are none).
func formatCounts(m map[string]float64) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			out = append(out, fmt.Sprintf("%s:%.0f", k, m[k]))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}
