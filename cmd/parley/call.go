package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-cc/parley/internal/sipua"
)

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

func runCall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("call", stderr)
	var o sipua.Options
	var hdrs headerList
	to := fs.String("to", "", "SIP `URI` to call, e.g. sip:+15550100@127.0.0.1:5060")
	fs.StringVar(&o.From, "from", "", "caller `number` (From user part); anonymous withholds it")
	fs.StringVar(&o.Display, "display", "", "caller display `name`")
	fs.StringVar(&o.Play, "play", "", "8 kHz mono 16-bit `WAV` to send (loops); default silence")
	fs.Float64Var(&o.ToneHz, "tone", 0, "send a sine of this `frequency` in Hz instead of --play (e.g. 440)")
	fs.StringVar(&o.Record, "record", "", "write the received audio to this `WAV`")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "hang up this long after answer (0 waits for the other side)")
	fs.StringVar(&o.DTMF, "dtmf", "", "`digits` to send (RFC 4733) one second after answer: 0-9, *, #, A-D")
	fs.DurationVar(&o.Ring, "ring", 60*time.Second, "how long to wait for an answer")
	fs.StringVar(&o.Transport, "transport", "udp", "udp or tcp")
	fs.StringVar(&o.Bind, "bind", "127.0.0.1:0", "local SIP `address`; an address that reaches the other side when it is not on loopback")
	fs.Var(&hdrs, "header", "extra SIP `header` \"Name: value\" (repeatable)")
	answer := fs.Bool("answer", false, "answer incoming calls instead of calling (a test phone)")
	fs.StringVar(&o.Register, "register", "", "with --answer: register to this `URI`, e.g. sip:alice@127.0.0.1:5060")
	fs.StringVar(&o.Username, "user", "", "digest `username` for --register")
	fs.StringVar(&o.Password, "password", "", "digest `password` for --register")
	verbose := fs.Bool("v", false, "log SIP activity")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o.Headers = hdrs
	if err := checkCallOptions(&o); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *answer {
		return answerCalls(ctx, o, *to, stdout)
	}
	if *to == "" {
		fmt.Fprintln(stderr, "parley call: --to is required, e.g. --to sip:+15550100@127.0.0.1:5060")
		return errUsage
	}
	host, err := checkSIPURI("--to", *to)
	if err != nil {
		return err
	}
	if err := checkBindReaches(ctx, "--to", o.Bind, host); err != nil {
		return err
	}
	if err := createRecording(o.Record); err != nil {
		return err
	}
	ua, err := sipua.New(ctx, o, nil)
	if err != nil {
		return exitError{1, err.Error()}
	}
	defer ua.Close()
	res, err := ua.Call(ctx, *to)
	if (err != nil || !res.Answered) && o.Record != "" {
		// Nothing was heard: do not leave the empty file behind.
		os.Remove(o.Record)
	}
	if err != nil {
		return exitError{1, err.Error()}
	}
	fmt.Fprintln(stdout, res)
	if !res.Answered {
		return exitError{1, ""}
	}
	return nil
}

// answerCalls is `parley call --answer`: a test phone that registers when
// asked to and answers every call until ctx ends.
func answerCalls(ctx context.Context, o sipua.Options, to string, stdout io.Writer) error {
	if to != "" {
		return exitError{2, "--answer and --to do not go together"}
	}
	if o.Register != "" {
		host, err := checkSIPURI("--register", o.Register)
		if err != nil {
			return err
		}
		if err := checkBindReaches(ctx, "--register", o.Bind, host); err != nil {
			return err
		}
		var once sync.Once
		o.OnRegistered = func() { once.Do(func() { fmt.Fprintf(stdout, "registered as %s\n", o.Register) }) }
	}
	if err := createRecording(o.Record); err != nil {
		return err
	}
	if o.Register != "" {
		fmt.Fprintf(stdout, "answering calls; registering as %s; Ctrl-C to stop\n", o.Register)
	} else {
		fmt.Fprintln(stdout, "answering calls; Ctrl-C to stop")
	}
	err := sipua.Serve(ctx, o, func(r *sipua.Result) { fmt.Fprintln(stdout, "call:", r) })
	if err != nil {
		return exitError{1, err.Error()}
	}
	return nil
}

// checkCallOptions refuses flag values that cannot work, before anything
// is sent.
func checkCallOptions(o *sipua.Options) error {
	if o.ToneHz < 0 || o.ToneHz > 3900 {
		return exitError{2, "--tone must be between 0 and 3900 Hz (8 kHz audio)"}
	}
	if o.ToneHz > 0 && o.Play != "" {
		return exitError{2, "give --tone or --play, not both"}
	}
	if o.Duration < 0 {
		return exitError{2, fmt.Sprintf("--duration %s: use 0 (wait for the other side to hang up) or more", o.Duration)}
	}
	if o.Ring <= 0 {
		return exitError{2, fmt.Sprintf("--ring %s: give how long to wait for an answer, such as 30s", o.Ring)}
	}
	dtmf, err := checkDTMF(o.DTMF)
	if err != nil {
		return err
	}
	o.DTMF = dtmf
	return nil
}

// checkDTMF returns digits in upper case, or an error naming the first
// character that is not an RFC 4733 DTMF event.
func checkDTMF(digits string) (string, error) {
	up := strings.ToUpper(digits)
	for _, r := range digits {
		if !strings.ContainsRune("0123456789*#ABCDabcd", r) {
			return "", exitError{2, fmt.Sprintf("--dtmf %q: %q is not a DTMF digit: use 0-9, *, # and A-D", digits, r)}
		}
	}
	return up, nil
}

// checkSIPURI checks a SIP URI given with flag and returns its host: sip:
// or sips:, an optional user@, a host (a name, an IPv4 address or an IPv6
// address in brackets) and an optional port 1-65535, then any ;parameters
// and ?headers.
func checkSIPURI(flag, uri string) (string, error) {
	bad := func(why string) error {
		return exitError{2, fmt.Sprintf("%s %q %s; write it like sip:+15550100@127.0.0.1:5060", flag, uri, why)}
	}
	s := strings.TrimSpace(uri)
	var rest string
	switch l := strings.ToLower(s); {
	case strings.HasPrefix(l, "sip:"):
		rest = s[len("sip:"):]
	case strings.HasPrefix(l, "sips:"):
		rest = s[len("sips:"):]
	default:
		return "", bad("does not start with sip: or sips:")
	}
	// '@' is not allowed unescaped in parameters or headers: the last one
	// ends the user part.
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if at == 0 {
			return "", bad("has an empty user before @")
		}
		rest = rest[at+1:]
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	var host, port string
	hasPort := false
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.Index(rest, "]")
		if end < 0 {
			return "", bad("has an unclosed [ in its host")
		}
		host = rest[1:end]
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return "", bad("has a host in brackets that is not an IPv6 address")
		}
		if after := rest[end+1:]; after != "" {
			if !strings.HasPrefix(after, ":") {
				return "", bad("has something other than :PORT after its host")
			}
			port, hasPort = after[1:], true
		}
	case strings.Count(rest, ":") > 1:
		return "", bad("has an IPv6 host without brackets (write sip:alice@[2001:db8::1]:5060)")
	default:
		host, port, hasPort = strings.Cut(rest, ":")
		if host == "" {
			return "", bad("has no host")
		}
		for _, r := range host {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
				return "", bad(fmt.Sprintf("has %q in its host", r))
			}
		}
	}
	if hasPort {
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return "", bad("has a port that is not 1-65535")
		}
	}
	return host, nil
}

// checkBindReaches refuses a loopback --bind when host is not on loopback:
// packets from 127.0.0.1 cannot reach another machine, and the call would
// only time out. It suggests the local address that routes to host.
func checkBindReaches(ctx context.Context, flag, bind, host string) error {
	bindHost, _, err := net.SplitHostPort(bind)
	if err != nil {
		return exitError{2, fmt.Sprintf("--bind %q: write host:port, such as 127.0.0.1:0", bind)}
	}
	if !isLoopback(bindHost) {
		return nil
	}
	onLoopback, err := resolvesToLoopback(ctx, host)
	if err != nil {
		return exitError{1, flag + ": " + err.Error()}
	}
	if onLoopback {
		return nil
	}
	msg := fmt.Sprintf("--bind %s is a loopback address, from which %s cannot be reached: bind to an address that reaches %s with --bind", bind, host, host)
	if local := routeTo(host); local != "" {
		msg += ", such as --bind " + net.JoinHostPort(local, "0")
	}
	return exitError{2, msg}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// resolvesToLoopback reports whether every address of host is a loopback
// address.
func resolvesToLoopback(ctx context.Context, host string) (bool, error) {
	if isLoopback(host) {
		return true, nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return false, fmt.Errorf("host %s is not known to DNS", host)
		}
		return false, fmt.Errorf("look up %s: %w", host, err)
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return false, nil
		}
	}
	return true, nil
}

// routeTo returns the local address the system would send from to reach
// host, or "" when there is no route. A UDP "connection" sends nothing.
func routeTo(host string) string {
	c, err := net.Dial("udp", net.JoinHostPort(host, "5060"))
	if err != nil {
		return ""
	}
	defer c.Close()
	a, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok || a.IP.IsLoopback() {
		return ""
	}
	return a.IP.String()
}

// createRecording creates (or empties) the --record file before the call,
// so that a directory that does not exist fails now and not after answer.
func createRecording(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return exitError{1, fmt.Sprintf("--record: %v", err)}
	}
	return f.Close()
}
