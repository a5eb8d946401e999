// Package sipua is a small SIP user agent on diago for trying Parley and
// for its tests: it places a call (or registers and answers calls), plays a
// WAV file, records what it hears, sends RFC 4733 DTMF, and reports the SIP
// outcome and RTP packet counts. `parley call` is a thin wrapper around it.
package sipua

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Options configure the user agent.
type Options struct {
	// Bind is the local SIP address, "127.0.0.1:0" by default (any port).
	Bind string
	// Transport is udp (default) or tcp.
	Transport string
	// From is the caller's user part (a phone number or a name); empty
	// means "parley-call". "anonymous" withholds the number.
	From string
	// Display is the From display name.
	Display string
	// Headers are extra SIP headers for the INVITE, "Name: value".
	Headers []string
	// Play is an 8 kHz mono 16-bit WAV file to send (looped until the call
	// ends); empty sends silence.
	Play string
	// ToneHz sends a generated sine of this frequency instead of Play.
	ToneHz float64
	// Record writes what is received to this WAV file (8 kHz mono 16-bit).
	Record string
	// Duration is how long to stay in the call after answer before hanging
	// up; 0 waits for the other side to hang up.
	Duration time.Duration
	// DTMF digits to send (RFC 4733) one second after answer.
	DTMF string
	// Ring is how long to wait for an answer (default 60s).
	Ring time.Duration
	// Register, with Username and Password, registers to this registrar URI
	// before answering calls (Serve).
	Register string
	Username string
	Password string
	// OnRegistered is called each time the registration succeeds.
	OnRegistered func()
	Logger       *slog.Logger
}

// Result is the outcome of one call.
type Result struct {
	Status          int    // final SIP status of the INVITE (200 when answered)
	Reason          string // its reason phrase, or the error
	Answered        bool
	Early           bool // early media was received (183)
	PacketsSent     int64
	PacketsReceived int64
	Talk            time.Duration
	HungUpBy        string // "local" or "remote"
	DTMFReceived    string
	CallID          string
	// RequestURI is the URI an answered incoming call was sent to (Serve).
	RequestURI string
}

// String renders the result for people.
func (r *Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP %d %s", r.Status, r.Reason)
	if r.Answered {
		fmt.Fprintf(&b, "; talked %s; hung up by %s; RTP sent %d, received %d packets", r.Talk.Round(100*time.Millisecond), r.HungUpBy, r.PacketsSent, r.PacketsReceived)
	}
	if r.DTMFReceived != "" {
		fmt.Fprintf(&b, "; DTMF received %q", r.DTMFReceived)
	}
	return b.String()
}

// UA is a running user agent.
type UA struct {
	opts Options
	ua   *sipgo.UserAgent
	dg   *diago.Diago
	log  *slog.Logger
	host string
}

// New starts a user agent listening on opts.Bind. handler (may be nil)
// receives inbound calls; Serve installs one that answers.
func New(ctx context.Context, opts Options, handler func(*diago.DialogServerSession)) (*UA, error) {
	if opts.Bind == "" {
		opts.Bind = "127.0.0.1:0"
	}
	if opts.Transport == "" {
		opts.Transport = "udp"
	}
	if opts.Transport != "udp" && opts.Transport != "tcp" {
		return nil, fmt.Errorf("transport %q: use udp or tcp", opts.Transport)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Ring == 0 {
		opts.Ring = 60 * time.Second
	}
	for _, p := range []string{opts.Play} {
		if p != "" {
			if err := checkWAV(p); err != nil {
				return nil, err
			}
		}
	}
	host, portS, err := net.SplitHostPort(opts.Bind)
	if err != nil {
		return nil, fmt.Errorf("bind %q: use host:port", opts.Bind)
	}
	port, _ := strconv.Atoi(portS)
	if port == 0 {
		// diago needs a known port for its Contact: pick a free one.
		port, err = freePort(host, opts.Transport)
		if err != nil {
			return nil, err
		}
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("parley-call"), sipgo.WithUserAgentHostname(host))
	if err != nil {
		return nil, err
	}
	dg := diago.NewDiago(ua,
		diago.WithLogger(opts.Logger),
		diago.WithTransport(diago.Transport{Transport: opts.Transport, BindHost: host, BindPort: port}),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
	)
	if handler == nil {
		handler = func(d *diago.DialogServerSession) { _ = d.Respond(sip.StatusBusyHere, "Busy Here", nil) }
	}
	if err := dg.ServeBackground(ctx, handler); err != nil {
		ua.Close()
		return nil, fmt.Errorf("listen on %s: %w", opts.Bind, err)
	}
	if opts.Transport == "udp" {
		waitPooled(ctx, ua)
	}
	return &UA{opts: opts, ua: ua, dg: dg, log: opts.Logger, host: host}, nil
}

// waitPooled waits until sipgo's UDP connection pool holds the listener.
// sipgo signals that it listens before it adds the listener to the pool
// (sipgo issue 367): a request sent in between finds no connection for its
// Via address, binds a new socket to the listener's own port and fails
// with "address already in use". The gap is microseconds; the bound is for
// a stalled machine, after which the request takes its chance.
func waitPooled(ctx context.Context, ua *sipgo.UserAgent) {
	pool := ua.TransportLayer().Pool("udp")
	deadline := time.Now().Add(2 * time.Second)
	for pool != nil && pool.Size() == 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
}

// Close stops the user agent.
func (u *UA) Close() error { return u.ua.Close() }

// Diago returns the user agent's diago, for a caller that runs its own
// dialogs and media (the load tool times and counts every packet).
func (u *UA) Diago() *diago.Diago { return u.dg }

// Host is the host the user agent listens on (its From and Contact host).
func (u *UA) Host() string { return u.host }

func freePort(host, transport string) (int, error) {
	if transport == "tcp" {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	l, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.LocalAddr().(*net.UDPAddr).Port, nil
}

// Call places a call to uri and runs it to its end.
func (u *UA) Call(ctx context.Context, uri string) (*Result, error) {
	var to sip.Uri
	if err := sip.ParseUri(uri, &to); err != nil {
		return nil, fmt.Errorf("--to %q is not a SIP URI: write it like sip:+15550100@127.0.0.1:5060", uri)
	}
	if u.opts.Transport == "tcp" && to.UriParams == nil {
		to.UriParams = sip.NewParams()
	}
	res := &Result{}
	from := u.opts.From
	if from == "" {
		from = "parley-call"
	}
	var hdrs []sip.Header
	fh := &sip.FromHeader{DisplayName: u.opts.Display, Address: sip.Uri{User: from, Host: u.host}, Params: sip.NewParams()}
	fh.Params.Add("tag", sip.GenerateTagN(16))
	hdrs = append(hdrs, fh)
	for _, h := range u.opts.Headers {
		name, val, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("header %q: write it as Name: value", h)
		}
		hdrs = append(hdrs, sip.NewHeader(strings.TrimSpace(name), strings.TrimSpace(val)))
	}
	// When the ring time runs out: CANCEL if the far end answered anything
	// (RFC 3261 allows CANCEL only after a provisional response), else give
	// up at once rather than wait out the INVITE transaction (32 s).
	var responded atomic.Bool
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ringTimer := time.AfterFunc(u.opts.Ring, func() {
		if responded.Load() {
			cancel(context.DeadlineExceeded)
		} else {
			cancel(sipgo.WaitAnswerForceCancelErr)
		}
	})
	defer ringTimer.Stop()
	dlg, err := u.dg.NewDialog(to, diago.NewDialogOptions{Transport: u.opts.Transport})
	if err != nil {
		return nil, err
	}
	defer dlg.Close()
	med, err := dlg.Invite(rctx, diago.InviteClientOptions{
		Headers: hdrs,
		OnResponse: func(r *sip.Response) error {
			responded.Store(true)
			res.Status, res.Reason = r.StatusCode, r.Reason
			if r.StatusCode == 183 {
				res.Early = true
			}
			return nil
		},
	})
	res.CallID = dlg.InviteRequest.CallID().Value()
	if err != nil {
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) && de.Res != nil {
			res.Status, res.Reason = de.Res.StatusCode, de.Res.Reason
			return res, nil
		}
		if res.Status == 0 || res.Status < 200 {
			res.Status, res.Reason = 0, err.Error()
		}
		if ctx.Err() == nil && rctx.Err() != nil {
			res.Reason = "no answer within " + u.opts.Ring.String()
		}
		return res, nil
	}
	ringTimer.Stop()
	if err := dlg.Ack(rctx); err != nil {
		return res, fmt.Errorf("ack: %w", err)
	}
	res.Status, res.Reason, res.Answered = 200, "OK", true
	u.talk(ctx, dlg.Context(), med, res, func(ctx context.Context) error { return dlg.Hangup(ctx) })
	return res, nil
}

// talk runs the media of an answered call until it ends.
func (u *UA) talk(ctx, callCtx context.Context, med *diago.DialogMedia, res *Result, hangup func(context.Context) error) {
	start := time.Now()
	var sent, recv atomic.Int64
	w, err := med.AudioWriter()
	if err == nil {
		med.SetAudioWriter(countingWriter{w, &sent})
	}
	var dtmfMu sync.Mutex
	var wg sync.WaitGroup
	stopped := make(chan struct{})
	// receive: count, collect DTMF, record
	dr, err := med.AudioReaderDTMF()
	if err == nil {
		dr.OnDTMF(func(d rune) error {
			dtmfMu.Lock()
			res.DTMFReceived += string(d)
			dtmfMu.Unlock()
			return nil
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.receive(dr, med, &recv)
		}()
	}
	// send: DTMF first, then the WAV in a loop
	wg.Add(1)
	go func() {
		defer wg.Done()
		if u.opts.DTMF != "" {
			select {
			case <-time.After(time.Second):
			case <-stopped:
				return
			}
			if dw, err := med.AudioWriterDTMF(); err == nil {
				for _, d := range u.opts.DTMF {
					if err := dw.WriteDTMF(d); err != nil {
						u.log.Warn("send DTMF", "error", err)
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		}
		u.play(med, stopped)
	}()
	var limit <-chan time.Time
	if u.opts.Duration > 0 {
		t := time.NewTimer(u.opts.Duration)
		defer t.Stop()
		limit = t.C
	}
	select {
	case <-callCtx.Done():
		res.HungUpBy = "remote"
	case <-limit:
		res.HungUpBy = "local"
	case <-ctx.Done():
		res.HungUpBy = "local"
	}
	res.Talk = time.Since(start)
	close(stopped)
	if res.HungUpBy == "local" {
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = hangup(hctx)
		cancel()
	}
	_ = med.Close()
	wg.Wait()
	res.PacketsSent, res.PacketsReceived = sent.Load(), recv.Load()
}

func (u *UA) receive(r io.Reader, med *diago.DialogMedia, count *atomic.Int64) {
	var wav *audio.WavWriter
	var dec *audio.PCMDecoder
	if u.opts.Record != "" {
		f, err := os.Create(u.opts.Record)
		if err != nil {
			u.log.Error("create recording", "error", err)
		} else {
			defer f.Close()
			wav = audio.NewWavWriter(f)
			wav.NumChans = 1
			defer wav.Close()
			codec := media.CodecAudioUlaw
			if s := med.MediaSession(); s != nil {
				if cs := s.CommonCodecs(); len(cs) > 0 {
					codec = cs[0]
				}
			}
			dec = &audio.PCMDecoder{}
			if err := dec.Init(codec); err != nil {
				u.log.Error("decoder", "error", err)
				wav = nil
			}
		}
	}
	buf := make([]byte, media.RTPBufSize)
	pcm := make([]byte, 2*media.RTPBufSize)
	for {
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		if n == 0 {
			continue
		}
		count.Add(1)
		if wav != nil {
			m, err := dec.DecoderTo(pcm, buf[:n])
			if err == nil {
				_, _ = wav.Write(pcm[:m])
			}
		}
	}
}

func (u *UA) play(med *diago.DialogMedia, stopped chan struct{}) {
	pb, err := med.PlaybackCreate()
	if err != nil {
		return
	}
	for {
		select {
		case <-stopped:
			return
		default:
		}
		if u.opts.Play == "" {
			// a generated tone (or silence), one second at a time, so the
			// other side sees RTP flowing
			if _, err := pb.Play(bytes.NewReader(tone(u.opts.ToneHz)), "audio/pcm"); err != nil {
				return
			}
			continue
		}
		f, err := os.Open(u.opts.Play)
		if err != nil {
			return
		}
		_, err = pb.Play(f, "audio/wav")
		f.Close()
		if err != nil {
			return
		}
	}
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	if err == nil {
		c.n.Add(1)
	}
	return n, err
}

// Serve registers (when Register is set) and answers every inbound call,
// calling onCall with each call's result, until ctx ends.
func Serve(ctx context.Context, opts Options, onCall func(*Result)) error {
	var u *UA
	ready := make(chan struct{})
	handler := func(d *diago.DialogServerSession) {
		<-ready
		res := &Result{CallID: d.InviteRequest.CallID().Value(), RequestURI: d.InviteRequest.Recipient.String()}
		_ = d.Ringing()
		med, err := d.Answer(diago.AnswerOptions{})
		if err != nil {
			res.Reason = err.Error()
			onCall(res)
			return
		}
		res.Status, res.Reason, res.Answered = 200, "OK", true
		u.talk(ctx, d.Context(), med, res, func(ctx context.Context) error { return d.Hangup(ctx) })
		onCall(res)
	}
	// The listener outlives ctx: when ctx ends, diago's Register sends the
	// un-REGISTER (Contact: *, Expires: 0) through it and waits for the
	// answer, so the registrar forgets this phone at once. It stops with
	// Serve.
	lctx, lcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer lcancel()
	u, err := New(lctx, opts, handler)
	close(ready)
	if err != nil {
		return err
	}
	defer u.Close()
	if opts.Register == "" {
		<-ctx.Done()
		return nil
	}
	var reg sip.Uri
	if err := sip.ParseUri(opts.Register, &reg); err != nil {
		return fmt.Errorf("--register %q is not a SIP URI: write it like sip:alice@127.0.0.1:5060", opts.Register)
	}
	err = u.dg.Register(ctx, reg, diago.RegisterOptions{Username: opts.Username, Password: opts.Password, Expiry: 120 * time.Second,
		OnRegistered: func() {
			opts.Logger.Info("registered", "registrar", opts.Register)
			if opts.OnRegistered != nil {
				opts.OnRegistered()
			}
		}})
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("registration failed: %w", err)
}

func checkWAV(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--play: %w", err)
	}
	defer f.Close()
	r := audio.NewWavReader(f)
	if err := r.ReadHeaders(); err != nil {
		return fmt.Errorf("--play %s is not a WAV file: %w", path, err)
	}
	if r.SampleRate != 8000 || r.NumChannels != 1 || r.BitsPerSample != 16 {
		return fmt.Errorf("--play %s is %d Hz, %d channels, %d bits: convert it with sox %s -r 8000 -c 1 -b 16 out.wav", path, r.SampleRate, r.NumChannels, r.BitsPerSample, path)
	}
	return nil
}

// tone returns one second of 8 kHz 16-bit little-endian PCM: a sine of hz
// at half scale, or silence when hz is 0. A whole number of periods per
// second keeps the loop seamless for whole-number frequencies.
func tone(hz float64) []byte {
	const rate = 8000
	b := make([]byte, 2*rate)
	for i := 0; i < rate; i++ {
		v := int16(0)
		if hz > 0 {
			v = int16(0.5 * 32767 * math.Sin(2*math.Pi*hz*float64(i)/rate))
		}
		b[2*i], b[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	return b
}
