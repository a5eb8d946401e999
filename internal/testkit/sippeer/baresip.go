package sippeer

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// BaresipModules is where Debian's baresip-core installs its modules.
const BaresipModules = "/usr/lib/baresip/modules"

// baresipModules are the modules every instance loads. stdio.so is left out
// on purpose: without a TTY its epoll on fd 0 fails and baresip exits.
var baresipModules = []string{"g711.so", "aufile.so", "alsa.so", "sndfile.so", "cons.so", "account.so", "menu.so"}

// Default limits of a baresip instance.
const (
	DefaultBaresipTimeout = 2 * time.Minute
	baresipStartTimeout   = 15 * time.Second
)

// BaresipConfig describes one baresip softphone.
type BaresipConfig struct {
	// Name labels the instance in logs and names its directory, e.g.
	// "alice"; default "baresip".
	Name string
	// Account is the line of baresip's accounts file, e.g.
	// "<sip:alice@127.0.0.1>;regint=0" for a caller that dials directly,
	// "<sip:agent@127.0.0.1>;regint=0;answermode=auto" for an agent that
	// answers by itself, or
	// "<sip:alice@127.0.0.1:5080>;auth_user=alice;auth_pass=pw;regint=60;answermode=auto"
	// for a phone that registers with Parley. Required.
	Account string
	// SourceWAV is the microphone: an 8 kHz mono 16-bit WAV (see
	// [WriteToneWAV]). baresip hangs up when it reaches the end of the
	// file, so pad it with silence ([WithSilence]) to outlast the call.
	// Empty means silence for the whole Timeout.
	SourceWAV string
	// Timeout is a hard limit on the process; default DefaultBaresipTimeout.
	Timeout time.Duration
	// Config holds extra lines for baresip's config file.
	Config []string
}

// Baresip is a running baresip 1.0 softphone on 127.0.0.1, driven through
// its UDP console (the cons module) and watched through its log.
//
// Quirks of baresip 1.0.0 that the kit works around: stdio.so is not
// loaded (it fails without a TTY); the call ends when the aufile source
// reaches its end; a DTMF digit ends only when the next key arrives, so
// [Baresip.SendDTMF] follows each digit with a key release; sndfile writes
// its dumps only while a call is established; SIP listens on SIPPort and,
// for TLS, SIPPort+1.
type Baresip struct {
	Name string
	// SIPPort is the SIP port (UDP and TCP) on 127.0.0.1.
	SIPPort int
	// ConsPort is the UDP console port.
	ConsPort int
	// RTPPorts is the range baresip takes RTP ports from.
	RTPPorts PortBlock
	// Dir is the config directory; the audio dumps are in Dir/dumps.
	Dir string

	tb   testing.TB
	proc *proc

	mu      sync.Mutex
	cursors map[string]int // per kind of wait, the log offset consumed so far
}

// Lines of baresip 1.0's log that the kit waits for.
var (
	bsReady       = regexp.MustCompile(`(?m)^baresip is ready\.`)
	bsRegistered  = regexp.MustCompile(`(?m)\{\d+/[A-Z]+/v[46]\} 2\d\d [^\n]*\[\d+ bindings?\]`)
	bsRegFailed   = regexp.MustCompile(`(?m)^reg: [^\n]*: (?:[3-6]\d\d [^\n]*|Register: [^\n]*)$`)
	bsIncoming    = regexp.MustCompile(`(?m)Incoming call from: |^call: answering call on line`)
	bsEstablished = regexp.MustCompile(`(?m): Call established: `)
	bsRemoteEnd   = regexp.MustCompile(`(?m): session closed: ([^\n]*)$`)
	bsLocalEnd    = regexp.MustCompile(`(?m)^call: terminate call |^call: rejecting incoming call `)
	bsTerminated  = regexp.MustCompile(`(?m): Call with \S+ terminated \(duration: `)
	bsStatsEnd    = regexp.MustCompile(`(?m)^errors:\s+\d+\s+\d+`)
	bsDecDump     = regexp.MustCompile(`(?m)^sndfile: dumping decode audio to (\S+)$`)
	bsEncDump     = regexp.MustCompile(`(?m)^sndfile: dumping encode audio to (\S+)$`)
	bsDTMF        = regexp.MustCompile(`(?m)^received event: '(.)' \(end=1\)`)
	bsStatsHead   = regexp.MustCompile(`^audio\s+Transmit:\s+Receive:\s*$`)
	bsStatsRow    = regexp.MustCompile(`^([a-z. ]+):\s+(-?[\d.]+)\s+(-?[\d.]+)`)
)

// StartBaresip writes a config directory for one baresip instance with its
// own ports, starts it and waits until it is ready. It skips or fails the
// test when baresip is not installed (see [RequireTool]) and fails it when
// the config is wrong or baresip does not start. The instance is stopped
// when the test ends and its log is shown if the test failed.
func StartBaresip(tb testing.TB, cfg BaresipConfig) *Baresip {
	tb.Helper()
	bin := RequireTool(tb, ToolBaresip)
	for _, m := range baresipModules {
		if _, err := os.Stat(filepath.Join(BaresipModules, m)); err != nil {
			msg := fmt.Sprintf("sippeer: baresip module %s missing in %s; install it with: apt-get install -y baresip-core", m, BaresipModules)
			if PeersRequired() {
				tb.Fatal(msg)
			}
			tb.Skip(msg)
		}
	}
	if err := cfg.validate(); err != nil {
		tb.Fatalf("sippeer: StartBaresip: %v", err)
	}
	if cfg.Name == "" {
		cfg.Name = "baresip"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultBaresipTimeout
	}
	ports := FreePorts(tb, 2*slotSize)
	b := &Baresip{
		Name:     cfg.Name,
		SIPPort:  ports.Port(0),
		ConsPort: ports.Port(2),
		RTPPorts: PortBlock{First: ports.Port(8), Count: ports.Count - 8},
		Dir:      filepath.Join(tb.TempDir(), cfg.Name),
		tb:       tb,
		cursors:  map[string]int{},
	}
	if err := b.writeConfig(cfg); err != nil {
		tb.Fatalf("sippeer: StartBaresip %s: %v", cfg.Name, err)
	}
	secs := strconv.Itoa(int(cfg.Timeout.Seconds()) + 1)
	p, err := startProc(tb, procSpec{
		name:  "baresip " + cfg.Name,
		dir:   b.Dir,
		bin:   bin,
		args:  []string{"-f", b.Dir, "-t", secs},
		limit: cfg.Timeout + stopGrace,
		// The first SIGTERM unregisters and ends calls cleanly; a second
		// one exits at once (when a registrar no longer answers).
		stop: []stopStep{{syscall.SIGTERM, time.Second}, {syscall.SIGTERM, stopGrace}},
	})
	if err != nil {
		tb.Fatalf("sippeer: %v", err)
	}
	b.proc = p
	ctx, cancel := context.WithTimeout(context.Background(), baresipStartTimeout)
	defer cancel()
	if err := p.waitOutput(ctx, "start-up", match(bsReady)); err != nil {
		tb.Fatalf("sippeer: baresip %s did not start: %v", cfg.Name, err)
	}
	return b
}

func (c *BaresipConfig) validate() error {
	if strings.TrimSpace(c.Account) == "" || !strings.HasPrefix(strings.TrimSpace(c.Account), "<sip") || strings.ContainsAny(c.Account, "\r\n") {
		return cc.Errorf(cc.EINVALID, "baresip account %q: give one accounts line such as <sip:alice@127.0.0.1>;regint=0", c.Account)
	}
	if c.Name != "" && (strings.ContainsAny(c.Name, `/\`) || c.Name == "." || c.Name == "..") {
		return cc.Errorf(cc.EINVALID, "baresip name %q: use a plain word such as alice", c.Name)
	}
	if c.Timeout < 0 {
		return cc.Errorf(cc.EINVALID, "baresip timeout %s: use 0 (the default, %s) or more", c.Timeout, DefaultBaresipTimeout)
	}
	for _, l := range c.Config {
		if strings.ContainsAny(l, "\r\n") {
			return cc.Errorf(cc.EINVALID, "baresip config line %q: give one line per entry", l)
		}
	}
	if c.SourceWAV != "" {
		a, err := ReadWAV(c.SourceWAV)
		if err != nil {
			return cc.WrapError(cc.EINVALID, err, "baresip source %s: give an 8 kHz mono 16-bit WAV", c.SourceWAV)
		}
		if a.Rate != 8000 || len(a.Channels) != 1 {
			return cc.Errorf(cc.EINVALID, "baresip source %s is %d Hz with %d channels: give 8000 Hz mono (WriteToneWAV writes it)", c.SourceWAV, a.Rate, len(a.Channels))
		}
	}
	return nil
}

func (b *Baresip) writeConfig(cfg BaresipConfig) error {
	dumps := filepath.Join(b.Dir, "dumps")
	if err := os.MkdirAll(dumps, 0o755); err != nil {
		return fmt.Errorf("write baresip config: %w", err)
	}
	source := cfg.SourceWAV
	if source == "" {
		source = filepath.Join(b.Dir, "silence.wav")
		n := int(cfg.Timeout.Seconds()+10) * 8000
		if err := WriteWAV(source, &Audio{Rate: 8000, Channels: [][]float64{make([]float64, n)}}, PCM16); err != nil {
			return err
		}
	} else if abs, err := filepath.Abs(source); err == nil {
		source = abs
	}
	lines := []string{
		"sip_listen 127.0.0.1:" + strconv.Itoa(b.SIPPort),
		"net_interface 127.0.0.1", // without it the SDP carries the first interface's address
		"audio_source aufile," + source,
		"audio_player alsa,null", // ALSA's null device: no sound card needed
		"audio_alert alsa,null",
		"ausrc_srate 8000",
		"auplay_srate 8000",
		"ausrc_channels 1",
		"auplay_channels 1",
		"rtp_ports " + b.RTPPorts.Range(),
		"rtp_stats yes", // prints packet counts when a call ends
		"statmode_default off",
		"module_path " + BaresipModules,
		"module g711.so",
		"module aufile.so",
		"module alsa.so",
		"module sndfile.so", // dumps what is sent (-enc.wav) and received (-dec.wav)
		"module cons.so",
		"module_tmp account.so",
		"module_app menu.so",
		"snd_path " + dumps,
		"cons_listen 127.0.0.1:" + strconv.Itoa(b.ConsPort),
	}
	lines = append(lines, cfg.Config...)
	if err := os.WriteFile(filepath.Join(b.Dir, "config"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("write baresip config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "accounts"), []byte(strings.TrimSpace(cfg.Account)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write baresip accounts: %w", err)
	}
	return nil
}

// Addr returns baresip's SIP address, "127.0.0.1:port".
func (b *Baresip) Addr() string { return "127.0.0.1:" + strconv.Itoa(b.SIPPort) }

// URI returns a SIP URI that reaches this instance directly, such as
// "sip:agent@127.0.0.1:20016": a static contact, or a target for Dial.
func (b *Baresip) URI(user string) string { return "sip:" + user + "@" + b.Addr() }

// Log returns baresip's output so far.
func (b *Baresip) Log() string { return b.proc.out.String() }

// SendKeys sends keys to baresip's console as they are, in one datagram:
// digits, '*', '#' and A-D send DTMF during a call, 'x' holds and 'X'
// resumes, 'a' answers, 'b' hangs up; a line starting with '/' is a long
// command, such as "/dial sip:100@127.0.0.1:5080\n".
func (b *Baresip) SendKeys(keys string) error {
	if b.proc.exited() {
		return fmt.Errorf("send keys to baresip %s: it has ended (%s)", b.Name, b.proc.state())
	}
	conn, err := net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(b.ConsPort))
	if err != nil {
		return fmt.Errorf("send keys to baresip %s: %w", b.Name, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(keys)); err != nil {
		return fmt.Errorf("send keys to baresip %s: %w", b.Name, err)
	}
	return nil
}

// Dial calls uri, e.g. "sip:100@127.0.0.1:5080".
func (b *Baresip) Dial(uri string) error {
	if err := cc.ValidateSIPURI(uri); err != nil {
		return err
	}
	return b.SendKeys("/dial " + uri + "\n")
}

// Answer answers the ringing incoming call (for accounts without
// answermode=auto).
func (b *Baresip) Answer() error { return b.SendKeys("/accept\n") }

// Hangup ends the current call, or rejects the ringing one.
func (b *Baresip) Hangup() error { return b.SendKeys("/hangup\n") }

// Hold puts the current call on hold (a re-INVITE with a=sendonly). Give
// the re-INVITE a second to complete before Resume: baresip 1.0 drops a
// key that arrives while one is in progress.
func (b *Baresip) Hold() error { return b.SendKeys("x") }

// Resume takes the current call off hold (a re-INVITE with a=sendrecv).
func (b *Baresip) Resume() error { return b.SendKeys("X") }

// dtmfTone and dtmfGap time the digits of SendDTMF.
const (
	dtmfTone = 120 * time.Millisecond
	dtmfGap  = 200 * time.Millisecond // the end packets go out over the next frames
)

// keyRelease is baresip's KEYCODE_REL: it ends the DTMF digit in progress.
const keyRelease = "\x04"

// SendDTMF sends digits (0-9, *, #, A-D) as RFC 4733 events in the current
// call, each held for 120 ms and ended by a key release, so that the last
// digit is delivered too. It blocks while it sends; the far end receives
// the digits somewhat later (see [Baresip.WaitDTMF]).
func (b *Baresip) SendDTMF(digits string) error {
	for _, d := range digits {
		if !strings.ContainsRune("0123456789*#ABCD", d) {
			return cc.Errorf(cc.EINVALID, "DTMF digit %q: use 0-9, *, # or A-D", d)
		}
	}
	for _, d := range digits {
		if err := b.SendKeys(string(d)); err != nil {
			return err
		}
		time.Sleep(dtmfTone)
		if err := b.SendKeys(keyRelease); err != nil {
			return err
		}
		time.Sleep(dtmfGap)
	}
	return nil
}

// match returns a waitOutput check for any match of re.
func match(re *regexp.Regexp) func(string) (bool, error) {
	return func(out string) (bool, error) { return re.MatchString(out), nil }
}

// waitNext waits for the first match of any of res in the log after the
// part that earlier waits of the same kind consumed, consumes the log up to
// its end and returns the index of the expression that matched and the log
// from the cursor through the match.
func (b *Baresip) waitNext(ctx context.Context, kind string, res ...*regexp.Regexp) (int, string, error) {
	b.mu.Lock()
	from := b.cursors[kind]
	b.mu.Unlock()
	which, end := -1, 0
	var seen string
	err := b.proc.waitOutput(ctx, kind, func(out string) (bool, error) {
		for i, re := range res {
			if loc := re.FindStringIndex(out[from:]); loc != nil && (which < 0 || from+loc[1] < end) {
				which, end = i, from+loc[1]
			}
		}
		seen = out
		return which >= 0, nil
	})
	if err != nil {
		return -1, "", err
	}
	b.mu.Lock()
	b.cursors[kind] = end
	b.mu.Unlock()
	return which, seen[from:end], nil
}

// lastLine returns the last match of re in s, trimmed.
func lastLine(re *regexp.Regexp, s string) string {
	m := re.FindAllString(s, -1)
	if len(m) == 0 {
		return ""
	}
	return strings.TrimSpace(m[len(m)-1])
}

// WaitRegistered waits for the account's next registration outcome and
// returns an error unless it succeeded: a registrar that rejects the
// account (e.g. 403 after a wrong password) fails the wait at once.
func (b *Baresip) WaitRegistered(ctx context.Context) error {
	which, seen, err := b.waitNext(ctx, "registration", bsRegistered, bsRegFailed)
	if err != nil {
		return err
	}
	if which != 0 {
		return fmt.Errorf("wait for registration of baresip %s: rejected: %s", b.Name, lastLine(bsRegFailed, seen))
	}
	return nil
}

// WaitRegistrationFailed waits for the account's next registration outcome
// and returns baresip's line about the rejection, such as
// "reg: sip:alice@127.0.0.1: 403 Forbidden (SIPp)"; it returns an error if
// the registration succeeded instead.
func (b *Baresip) WaitRegistrationFailed(ctx context.Context) (string, error) {
	which, seen, err := b.waitNext(ctx, "registration", bsRegistered, bsRegFailed)
	if err != nil {
		return "", err
	}
	if which != 1 {
		return "", fmt.Errorf("wait for a rejected registration of baresip %s: it succeeded: %s", b.Name, lastLine(bsRegistered, seen))
	}
	return lastLine(bsRegFailed, seen), nil
}

// WaitIncomingCall waits for the next incoming call (ringing, or being
// answered automatically).
func (b *Baresip) WaitIncomingCall(ctx context.Context) error {
	_, _, err := b.waitNext(ctx, "an incoming call", bsIncoming)
	return err
}

// WaitCallEstablished waits until the next call is established.
func (b *Baresip) WaitCallEstablished(ctx context.Context) error {
	_, _, err := b.waitNext(ctx, "an established call", bsEstablished)
	return err
}

// WaitCallClosed waits until the next call ends, also one that was never
// established, and returns why when the other side ended it, as baresip
// puts it: "Connection reset by peer" for a BYE or a CANCEL, a status such
// as "486 Rejected" for a rejected call; "" when this side hung up or
// rejected. For an established call it also waits (up to 2 s) for the RTP
// counters, so [Baresip.RTPStats] is complete afterwards.
func (b *Baresip) WaitCallClosed(ctx context.Context) (reason string, err error) {
	const kind = "the end of a call"
	which, seen, err := b.waitNext(ctx, kind, bsRemoteEnd, bsLocalEnd, bsTerminated)
	if err != nil {
		return "", err
	}
	if which == 0 {
		m := bsRemoteEnd.FindAllStringSubmatch(seen, -1)
		reason = strings.TrimSpace(m[len(m)-1][1])
	}
	if bsEstablished.MatchString(seen) {
		// An established call goes on to print its end and its counters
		// (which end with the "errors:" row; none without rtp_stats).
		tailCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if which != 2 {
			b.waitNext(tailCtx, kind, bsTerminated)
		}
		b.waitNext(tailCtx, kind, bsStatsEnd)
	}
	return reason, nil
}

// ReceivedDTMF returns the DTMF digits baresip received so far, in order.
func (b *Baresip) ReceivedDTMF() string {
	var s strings.Builder
	for _, m := range bsDTMF.FindAllStringSubmatch(b.Log(), -1) {
		s.WriteString(m[1])
	}
	return s.String()
}

// WaitDTMF waits until the digits received so far ([Baresip.ReceivedDTMF])
// are want, and fails at once when they can no longer become want. The
// digits arrive some time after the sender pressed them: they travel
// behind the audio the sender has buffered.
func (b *Baresip) WaitDTMF(ctx context.Context, want string) error {
	return b.proc.waitOutput(ctx, "DTMF "+want, func(string) (bool, error) {
		got := b.ReceivedDTMF()
		if !strings.HasPrefix(want, got) {
			return false, fmt.Errorf("wait for DTMF from baresip %s: received %q, want %q", b.Name, got, want)
		}
		return got == want, nil
	})
}

// RTPStats are the packet counters baresip prints when a call ends.
type RTPStats struct {
	Sent, Received int
	// SentLost is what the far end reported lost; ReceivedLost what this
	// end counted lost.
	SentLost, ReceivedLost int
	// ReceiveJitter is this end's jitter estimate.
	ReceiveJitter time.Duration
}

// RTPStats returns the counters of every ended call, oldest first. The
// lost and jitter figures come from RTCP and stay 0 when the call was too
// short for a report.
func (b *Baresip) RTPStats() []RTPStats {
	var out []RTPStats
	lines := strings.Split(b.Log(), "\n")
	for i, l := range lines {
		if !bsStatsHead.MatchString(l) {
			continue
		}
		var st RTPStats
		for _, row := range lines[i+1:] {
			m := bsStatsRow.FindStringSubmatch(row)
			if m == nil {
				break
			}
			a, _ := strconv.ParseFloat(m[2], 64)
			c, _ := strconv.ParseFloat(m[3], 64)
			switch m[1] {
			case "packets":
				st.Sent, st.Received = int(a), int(c)
			case "lost":
				st.SentLost, st.ReceivedLost = int(a), int(c)
			case "jitter":
				st.ReceiveJitter = time.Duration(c * float64(time.Millisecond))
			}
		}
		out = append(out, st)
	}
	return out
}

// ReceivedWAV returns the path of the audio baresip received in its latest
// call (sndfile's *-dec.wav dump: 8 kHz mono 16-bit). The file is complete
// once the call has ended ([Baresip.WaitCallClosed]). It returns an error
// when no call was established, since sndfile then writes nothing.
func (b *Baresip) ReceivedWAV() (string, error) { return b.dump(bsDecDump, "received") }

// SentWAV returns the path of the audio baresip sent in its latest call
// (sndfile's *-enc.wav dump).
func (b *Baresip) SentWAV() (string, error) { return b.dump(bsEncDump, "sent") }

func (b *Baresip) dump(re *regexp.Regexp, what string) (string, error) {
	m := re.FindAllStringSubmatch(b.Log(), -1)
	if len(m) == 0 {
		return "", fmt.Errorf("%s audio of baresip %s: no dump was written (sndfile writes one only for an established call)", what, b.Name)
	}
	return m[len(m)-1][1], nil
}

// Stop ends baresip (SIGTERM to its PID, SIGKILL after 3 s) and waits for
// it. It is called when the test ends; calling it earlier lets a test read
// the final log and dumps.
func (b *Baresip) Stop() { b.proc.stop() }
