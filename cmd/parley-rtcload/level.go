package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/sipua"
	"github.com/parley-cc/parley/internal/testkit/loadkit"
	"github.com/parley-cc/parley/internal/testkit/rtcclient"
)

// benchPassword is every load agent's password.
const benchPassword = "rtcload-agent-password"

// Run measures every level (stopping after the first that fails, unless
// KeepGoing), prints each RTCLOAD line as it comes and the table at the
// end, and writes the table to Out.
func (m *Main) Run(ctx context.Context) error {
	if err := m.setup(ctx); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "parley-rtcload: work directory %s\n", m.Work)
	for _, n := range m.Levels {
		r, err := m.runLevel(ctx, n)
		if err != nil {
			return err
		}
		m.results = append(m.results, r)
		fmt.Fprintln(m.Stdout, r.Line())
		if !r.Passed() && !m.KeepGoing {
			fmt.Fprintf(m.Stderr, "parley-rtcload: %d legs failed (%s): not climbing further\n", n, r.Why())
			break
		}
	}
	fmt.Fprintln(m.Stdout)
	WriteTable(m.Stdout, m.results)
	if m.Out != "" {
		f, err := os.Create(m.Out)
		if err != nil {
			return fmt.Errorf("write --out: %w", err)
		}
		WriteTable(f, m.results)
		for _, r := range m.results {
			fmt.Fprintf(f, "\n    %s", r.Line())
		}
		fmt.Fprintln(f)
		if err := f.Close(); err != nil {
			return fmt.Errorf("write --out: %w", err)
		}
	}
	return nil
}

func (m *Main) setup(ctx context.Context) error {
	if m.Work == "" {
		dir, err := os.MkdirTemp("", "parley-rtcload-"+time.Now().Format("20060102-150405")+"-")
		if err != nil {
			return fmt.Errorf("create work directory: %w", err)
		}
		m.Work = dir
	} else if err := os.MkdirAll(m.Work, 0o755); err != nil {
		return fmt.Errorf("create work directory: %w", err)
	}
	if m.Parley == "" {
		root, err := loadkit.ModuleRoot(ctx)
		if err != nil {
			return err
		}
		m.Parley = filepath.Join(m.Work, "parley")
		fmt.Fprintf(m.Stderr, "parley-rtcload: building %s\n", m.Parley)
		if err := loadkit.BuildParley(ctx, root, m.Parley, m.Stderr); err != nil {
			return err
		}
	} else if st, err := os.Stat(m.Parley); err != nil || st.IsDir() {
		return cc.Errorf(cc.EINVALID, "--parley %s: not a parley binary (%v); build one with go build -o /tmp/parley ./cmd/parley", m.Parley, err)
	}
	// The agents talk from 127.0.1.x: Linux routes all of 127/8 to lo.
	for _, ip := range []int{0, maxLegs - 1} {
		if err := canBind(sourceAddr(ip).String()); err != nil {
			return fmt.Errorf("the agents' loopback address %s: %w", sourceAddr(ip), err)
		}
	}
	return nil
}

// loadAvg returns the 1-minute load average.
func loadAvg() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, fmt.Errorf("read the load average: %w", err)
	}
	return parseLoadAvg(string(b))
}

func parseLoadAvg(s string) (float64, error) {
	f := strings.Fields(s)
	if len(f) < 1 {
		return 0, fmt.Errorf("parse /proc/loadavg %q: no fields", s)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, fmt.Errorf("parse /proc/loadavg %q: %w", s, err)
	}
	return v, nil
}

// waitQuiet waits until the 1-minute load is at most MaxLoad, at most
// QuietWait, and returns the load it saw last.
func (m *Main) waitQuiet(ctx context.Context) (float64, error) {
	deadline := time.Now().Add(m.QuietWait)
	for {
		l, err := loadAvg()
		if err != nil {
			return 0, err
		}
		if l <= m.MaxLoad || !time.Now().Before(deadline) {
			if l > m.MaxLoad {
				fmt.Fprintf(m.Stderr, "parley-rtcload: load %.2f still above %.2f after %s: measuring anyway\n", l, m.MaxLoad, m.QuietWait)
			}
			return l, nil
		}
		fmt.Fprintf(m.Stderr, "parley-rtcload: load %.2f above %.2f: waiting\n", l, m.MaxLoad)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(15 * time.Second):
		}
	}
}

// runLevel measures one level in a fresh Parley.
func (m *Main) runLevel(ctx context.Context, n int) (*LevelResult, error) {
	dir := filepath.Join(m.Work, fmt.Sprintf("legs%04d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create level directory: %w", err)
	}
	r := &LevelResult{Legs: n, Window: m.Window, IdleFor: m.IdleFor}
	data := filepath.Join(dir, "data")
	if err := loadkit.Prepare(ctx, data, loadkit.Setup{
		Tenant: "bench", Queue: "Bench", EntryPoint: "bench", TrunkSource: netip.MustParseAddr("127.0.0.1"),
		Agents: n, Endpoint: cc.EndpointBrowser, Password: benchPassword,
	}); err != nil {
		return nil, err
	}
	load, err := m.waitQuiet(ctx)
	if err != nil {
		return nil, err
	}
	r.Load1 = load
	fmt.Fprintf(m.Stderr, "parley-rtcload: %d legs (load %.2f)\n", n, load)
	sipPort, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	httpPort, err := loadkit.FreeLoopbackPort()
	if err != nil {
		return nil, err
	}
	opts := loadkit.ServeOptions{
		Binary: m.Parley, DataDir: data, SIP: "127.0.0.1:" + strconv.Itoa(sipPort), HTTP: "127.0.0.1:" + strconv.Itoa(httpPort),
		RTPPorts: m.RTPPorts, LogLevel: m.LogLevel, LogPath: filepath.Join(dir, "parley.log"),
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
	defer m.Close()
	pid := p.PID()
	time.Sleep(2 * time.Second) // let start-up garbage settle
	r.Start = readMem(ctx, p, opts.Pprof)

	// Agents.
	book := &callBook{}
	agents := make([]*agent, n)
	for i := range agents {
		agents[i] = newAgent(i, p.URL(), book)
	}
	defer func() {
		var wg sync.WaitGroup
		for _, a := range agents {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				a.signOut(sctx)
			}()
		}
		wg.Wait()
	}()
	// Sessions first (each sign-in verifies an argon2id hash: 64 MiB of
	// heap), then the audio legs, with Parley's memory read in between.
	start := time.Now()
	errs := forEach(agents, 2, func(a *agent) error {
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		return a.signIn(sctx, "bench", benchPassword)
	})
	if len(errs) == 0 {
		time.Sleep(2 * time.Second)
		r.Sessions = readMem(ctx, p, opts.Pprof)
		errs = forEach(agents, 8, func(a *agent) error {
			sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			return a.connectAudio(sctx)
		})
	}
	r.SignedIn = n - len(errs)
	fmt.Fprintf(m.Stderr, "parley-rtcload: %d of %d agents signed in with audio in %s\n", r.SignedIn, n, time.Since(start).Round(time.Millisecond))
	if len(errs) > 0 {
		r.SignedIn = 0
		fmt.Fprintf(m.Stderr, "parley-rtcload: first sign-in error: %v\n", errs[0])
		return r, nil
	}
	time.Sleep(3 * time.Second)
	cpu0, _ := loadkit.ProcCPU(pid)
	time.Sleep(m.IdleFor)
	cpu1, _ := loadkit.ProcCPU(pid)
	r.IdleCPU = cpu1 - cpu0
	r.LegsMem = readMem(ctx, p, opts.Pprof)
	before, err := p.Metrics(ctx)
	if err != nil {
		return nil, err
	}

	// Calls.
	ua, err := sipua.New(ctx, sipua.Options{Bind: "127.0.0.1:0", Logger: nil}, nil)
	if err != nil {
		return nil, fmt.Errorf("start the SIP callers: %w", err)
	}
	defer ua.Close()
	calls := make([]*call, n)
	hangup := make(chan struct{})
	var callsDone sync.WaitGroup
	uri := "sip:bench@" + opts.SIP
	tick := time.NewTicker(time.Duration(float64(time.Second) / m.Rate))
	for i := range calls {
		calls[i] = newCall(i)
		book.add(calls[i])
		callsDone.Add(1)
		go func(c *call) {
			defer callsDone.Done()
			c.run(ctx, ua, uri, hangup)
		}(calls[i])
		<-tick.C
	}
	tick.Stop()
	hungUp := false
	endCalls := func() {
		if !hungUp {
			hungUp = true
			close(hangup)
			callsDone.Wait()
		}
	}
	defer endCalls()
	// Every call two-way (or failed), bounded.
	limit := time.After(30 * time.Second)
	for _, c := range calls {
		select {
		case <-c.twoWay:
		case <-limit:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	for _, c := range calls {
		if a, cu, ok := c.times(); ok {
			r.AgentHears, r.CustomerHears = append(r.AgentHears, a), append(r.CustomerHears, cu)
			r.TwoWay = append(r.TwoWay, max(a, cu))
		}
	}

	// The window.
	type snap struct{ agentSent, agentRecv, agentLost, custSent, custRecv, custLost uint64 }
	snapshot := func() []snap {
		s := make([]snap, n)
		for i, c := range calls {
			s[i].custSent, s[i].custRecv, s[i].custLost = c.counts()
			c.mu.Lock()
			a := c.agent
			c.mu.Unlock()
			if a != nil {
				st := a.rtc.Received()
				s[i].agentSent, s[i].agentRecv, s[i].agentLost = st.Sent, st.Packets, st.Lost
			}
		}
		return s
	}
	rtpLo, rtpHi, _ := parsePortRange(m.RTPPorts)
	sampler := loadkit.StartSampler(pid, func(port int) bool { return port >= rtpLo && port <= rtpHi }, time.Second)
	drops0 := udpDropsNow()
	var prof *loadkit.Profiler
	if opts.Pprof != "" {
		prof = loadkit.StartProfiler(ctx, "http://"+opts.Pprof, dir, 0, m.Window, m.Stderr)
	}
	s0 := snapshot()
	c0, _ := loadkit.ProcCPU(pid)
	h0, _ := loadkit.ProcCPU(os.Getpid())
	t0 := time.Now()
	select {
	case <-time.After(m.Window):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c1, _ := loadkit.ProcCPU(pid)
	h1, _ := loadkit.ProcCPU(os.Getpid())
	s1 := snapshot()
	wall := time.Since(t0)
	r.Window = wall
	r.CPU, r.HarnessCPU = c1-c0, h1-h0
	peak, sipDrops, _ := sampler.Stop()
	r.RSSPeakKB, r.SIPSocketDrops = peak, sipDrops
	r.UDPDrops = udpDropsNow() - drops0
	r.Calls = readMem(ctx, p, opts.Pprof)
	expected := uint64(math.Round(wall.Seconds() * 50))
	for i, c := range calls {
		if err := c.failure(); err != nil {
			r.Failed++
			if r.FailWhy == "" {
				r.FailWhy = fmt.Sprintf("call %d: %v", i+1, err)
			}
			continue
		}
		if _, _, ok := c.times(); !ok {
			r.Failed++
			if r.FailWhy == "" {
				r.FailWhy = fmt.Sprintf("call %d: no two-way audio within 30 s of the ramp", i+1)
			}
			continue
		}
		r.CallsOK++
		r.ToAgent = r.ToAgent.Add(Flow{Expected: expected, Sent: s1[i].custSent - s0[i].custSent, Received: s1[i].agentRecv - s0[i].agentRecv, Lost: s1[i].agentLost - s0[i].agentLost})
		r.ToCustomer = r.ToCustomer.Add(Flow{Expected: expected, Sent: s1[i].agentSent - s0[i].agentSent, Received: s1[i].custRecv - s0[i].custRecv, Lost: s1[i].custLost - s0[i].custLost})
	}
	if prof != nil {
		prof.Finish(ctx)
	}
	m.spotCheck(r, calls)

	// Hang up, then check that Parley is back to idle legs.
	endCalls()
	var after loadkit.Metrics
	r.Answered, r.LegsAfterCalls, r.AvailableAfter, after = m.settle(ctx, p, before, agents, r.CallsOK)
	r.SocketCloses = socketCloses(before, after)
	if r.Answered != float64(r.CallsOK) {
		r.CheckWhy = fmt.Sprintf("Parley counted %.0f answered interactions for %d calls", r.Answered, r.CallsOK)
	} else if r.LegsAfterCalls != float64(n) {
		r.CheckWhy = fmt.Sprintf("parley_softphone_legs %.0f after the calls, want %d (every agent still signed in)", r.LegsAfterCalls, n)
	} else if r.AvailableAfter != n {
		r.CheckWhy = fmt.Sprintf("%d of %d agents available again after the calls", r.AvailableAfter, n)
	}
	var wg sync.WaitGroup
	for _, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			a.signOut(sctx)
		}()
	}
	wg.Wait()
	r.LegsAfterSignOut = -1
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if ms, err := p.Metrics(ctx); err == nil {
			r.LegsAfterSignOut = ms.Sum("parley_softphone_legs")
			if r.LegsAfterSignOut == 0 {
				break
			}
		}
	}
	if r.CheckWhy == "" && r.LegsAfterSignOut != 0 {
		r.CheckWhy = fmt.Sprintf("parley_softphone_legs %.0f after every agent signed out, want 0", r.LegsAfterSignOut)
	}
	if p.Exited() {
		r.CheckWhy = "parley exited during the level: " + p.LogTail(5)
	}
	return r, nil
}

// settle waits (up to 15 s) until Parley has ended the answered calls and
// every agent is available again, and returns the answered count since
// before, the legs Parley holds and the agents available.
func (m *Main) settle(ctx context.Context, p *loadkit.Process, before loadkit.Metrics, agents []*agent, ok int) (answered, legs float64, available int, after loadkit.Metrics) {
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		got, err := p.Metrics(ctx)
		if err == nil {
			after = got
			answered = after.Sum("parley_interactions_ended_total", `outcome="answered"`) - before.Sum("parley_interactions_ended_total", `outcome="answered"`)
			legs = after.Sum("parley_softphone_legs")
		}
		available = 0
		for _, a := range agents {
			if a.presence() == string(cc.StateAvailable) {
				available++
			}
		}
		if (answered == float64(ok) && available == len(agents)) || !time.Now().Before(deadline) {
			return answered, legs, available, after
		}
	}
}

// socketCloses returns the growth of parley_websocket_closes_total by
// reason.
func socketCloses(before, after loadkit.Metrics) map[string]float64 {
	out := map[string]float64{}
	for series, v := range after {
		name, labels, _ := strings.Cut(series, "{")
		if name != "parley_websocket_closes_total" {
			continue
		}
		_, reason, _ := strings.Cut(labels, `reason="`)
		reason, _, _ = strings.Cut(reason, `"`)
		out[reason] += v - before[series]
	}
	return out
}

// spotCheck analyses the audio of the first Spot calls that went through:
// the agent must hear 1000 Hz and the caller 440 Hz.
func (m *Main) spotCheck(r *LevelResult, calls []*call) {
	for _, c := range calls {
		if r.ToneChecked >= m.Spot {
			return
		}
		if _, _, ok := c.times(); !ok {
			continue
		}
		c.mu.Lock()
		a := c.agent
		c.mu.Unlock()
		r.ToneChecked++
		agentHz, err1 := rtcclient.ULawAudio(tail(a.rtc.Received().Audio, 8000)).DominantFrequency(0, 0, 0)
		callerHz, err2 := rtcclient.ULawAudio(tail(c.receivedAudio(), 8000)).DominantFrequency(0, 0, 0)
		if err1 == nil && err2 == nil && math.Abs(agentHz-callerToneHz) < 10 && math.Abs(callerHz-agentToneHz) < 10 {
			r.ToneOK++
		} else if r.ToneWhy == "" {
			r.ToneWhy = fmt.Sprintf("call %d: the agent heard %.0f Hz (%v), the caller %.0f Hz (%v)", c.i+1, agentHz, err1, callerHz, err2)
		}
	}
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// forEach runs f on every item, at most par at a time, and returns the
// errors.
func forEach[T any](items []T, par int, f func(T) error) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, par)
	for _, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(it); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// readMem reads Parley's VmRSS and, from its Go metrics, the free heap it
// still holds (go_memstats_heap_idle_bytes - heap_released_bytes). With
// pprof (--profile) it collects the garbage first (heap?gc=1), so that the
// free heap includes it: the sign-ins' argon2 garbage is otherwise in use
// until the next collection.
func readMem(ctx context.Context, p *loadkit.Process, pprof string) Mem {
	var m Mem
	if pprof != "" {
		if err := collectGarbage(ctx, pprof); err != nil {
			m.GCError = err.Error()
		} else {
			m.Collected = true
		}
	}
	if mem, err := loadkit.ReadProcMem(p.PID()); err == nil {
		m.RSSKB = mem.RSSKB
	}
	if ms, err := p.Metrics(ctx); err == nil {
		m.FreeHeapKB = int64(ms.Sum("go_memstats_heap_idle_bytes")-ms.Sum("go_memstats_heap_released_bytes")) / 1024
	}
	return m
}

// collectGarbage makes the server at pprof (host:port) run a collection.
func collectGarbage(ctx context.Context, pprof string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+pprof+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("collect garbage: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("collect garbage: %s", res.Status)
	}
	return nil
}

// udpDropsNow sums the receive-buffer drops of every IPv4 UDP socket on
// the machine (this tool's, Parley's and anyone else's).
func udpDropsNow() int64 {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return 0
	}
	defer f.Close()
	d, err := loadkit.UDPDrops(f, func(int) bool { return true })
	if err != nil {
		return 0
	}
	var n int64
	for _, v := range d {
		n += v
	}
	return n
}
