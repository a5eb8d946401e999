package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
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
	fs.StringVar(&o.DTMF, "dtmf", "", "`digits` to send (RFC 4733) one second after answer")
	fs.DurationVar(&o.Ring, "ring", 60*time.Second, "how long to wait for an answer")
	fs.StringVar(&o.Transport, "transport", "udp", "udp or tcp")
	fs.StringVar(&o.Bind, "bind", "127.0.0.1:0", "local SIP `address`")
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
	if o.ToneHz < 0 || o.ToneHz > 3900 {
		return exitError{2, "--tone must be between 0 and 3900 Hz (8 kHz audio)"}
	}
	if o.ToneHz > 0 && o.Play != "" {
		return exitError{2, "give --tone or --play, not both"}
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *answer {
		if *to != "" {
			return exitError{2, "--answer and --to do not go together"}
		}
		fmt.Fprintln(stdout, "answering calls; Ctrl-C to stop")
		err := sipua.Serve(ctx, o, func(r *sipua.Result) { fmt.Fprintln(stdout, "call:", r) })
		if err != nil {
			return exitError{1, err.Error()}
		}
		return nil
	}
	if *to == "" {
		fmt.Fprintln(stderr, "parley call: --to is required, e.g. --to sip:+15550100@127.0.0.1:5060")
		return errUsage
	}
	ua, err := sipua.New(ctx, o, nil)
	if err != nil {
		return exitError{1, err.Error()}
	}
	defer ua.Close()
	res, err := ua.Call(ctx, *to)
	if err != nil {
		return exitError{1, err.Error()}
	}
	fmt.Fprintln(stdout, res)
	if !res.Answered {
		return exitError{1, ""}
	}
	return nil
}
