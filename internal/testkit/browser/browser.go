// Package browser runs real, headless Chromium for tests through chromedp.
//
// New starts one browser per test (a fresh profile in a temporary
// directory, so tests share no cookies or storage) and returns a context
// for chromedp.Run; Tab opens another tab in the same browser (same
// profile: shared localStorage and BroadcastChannel, as two CRM tabs of one
// agent). The browser is the Debian chromium package; a missing binary skips
// the test, or fails it when PARLEY_REQUIRE_PEERS=1 (as scripts/test sets),
// like the SIP peers of internal/testkit/sippeer.
//
// Flags: --no-sandbox when running as root (Chromium refuses to start
// otherwise), a fake microphone and camera (--use-fake-device-for-media-stream
// --use-fake-ui-for-media-stream, with Options.FakeAudio as the microphone's
// WAV file), autoplay without a gesture, and a fixed window size. With
// Options.WebRTC, also host ICE candidates on loopback
// (--disable-features=WebRtcHideLocalIpsWithMdns
// --allow-loopback-in-peer-connection), so a page's RTCPeerConnection
// reaches a Go peer (pion) on 127.0.0.1.
//
// Console messages and uncaught exceptions of every page are logged with
// t.Log, so a failing test shows what the page said.
//
// Until waits for a JavaScript condition in the page and Eval returns a
// JavaScript value; Screenshot and ElementScreenshot save PNGs (to
// PARLEY_SCREENSHOTS when set).
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-cc/parley/internal/testkit/sippeer"
)

// Chromium is the Debian package that provides the browser.
var Chromium = sippeer.Tool{Binary: "chromium", Package: "chromium"}

// Options tune the browser New starts.
type Options struct {
	// Width and Height are the window size; 0 means 1280x900.
	Width, Height int
	// FakeAudio is a WAV file the fake microphone plays; empty means
	// Chromium's own beep.
	FakeAudio string
	// DenyMedia makes getUserMedia fail as if the user refused.
	DenyMedia bool
	// WebRTC lets RTCPeerConnection use plain loopback host candidates
	// (no mDNS names), as a test against a local peer needs.
	WebRTC bool
	// Timeout bounds the whole browser context; 0 means 3 minutes.
	Timeout time.Duration
}

// New starts a headless Chromium for the test and returns its first tab's
// context. The browser is closed when the test ends.
func New(t testing.TB, opts Options) context.Context {
	t.Helper()
	bin := sippeer.RequireTool(t, Chromium)
	if opts.Width == 0 {
		opts.Width, opts.Height = 1280, 900
	}
	if opts.Timeout == 0 {
		opts.Timeout = 3 * time.Minute
	}
	disabled := "Translate,MediaRouter,OptimizationHints"
	if opts.WebRTC {
		disabled += ",WebRtcHideLocalIpsWithMdns"
	}
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(opts.Width, opts.Height),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("disable-features", disabled),
	)
	if opts.WebRTC {
		flags = append(flags, chromedp.Flag("allow-loopback-in-peer-connection", true))
	}
	if !opts.DenyMedia {
		flags = append(flags, chromedp.Flag("use-fake-ui-for-media-stream", true))
	} else {
		flags = append(flags, chromedp.Flag("deny-permission-prompts", true))
	}
	if opts.FakeAudio != "" {
		abs, err := filepath.Abs(opts.FakeAudio)
		if err != nil {
			t.Fatalf("browser: fake audio %s: %v", opts.FakeAudio, err)
		}
		flags = append(flags, chromedp.Flag("use-file-for-fake-audio-capture", abs))
	}
	if os.Geteuid() == 0 {
		flags = append(flags, chromedp.NoSandbox)
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), opts.Timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, flags...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf), chromedp.WithErrorf(func(f string, a ...any) {
		// chromedp reports protocol messages it does not know as errors;
		// they are noise for a test, but keep them visible.
		t.Logf("chromedp: "+f, a...)
	}))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("browser: start %s: %v (is the %s package installed? apt-get install -y %s)", bin, err, Chromium.Binary, Chromium.Package)
	}
	listen(t, bctx, "tab 1")
	return bctx
}

// Tab opens another tab in the browser of ctx (a context from New) and
// returns its context. It closes when the test ends.
func Tab(t testing.TB, ctx context.Context, name string) context.Context {
	t.Helper()
	tctx, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("browser: open %s: %v", name, err)
	}
	listen(t, tctx, name)
	return tctx
}

// listen logs the page's console messages and uncaught exceptions until
// the tab closes. It starts the tab when it is not running yet.
func listen(t testing.TB, ctx context.Context, name string) {
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			logf(t, "browser %s: %s", name, m)
		}
	}()
}

// logf logs unless the test is over (t.Log then panics).
func logf(t testing.TB, format string, args ...any) {
	defer func() { _ = recover() }()
	t.Logf(format, args...)
}

// Screenshot saves a PNG of the page of ctx as dir/name.png and returns its
// path. With an empty dir it uses PARLEY_SCREENSHOTS, or the test's
// temporary directory.
func Screenshot(t testing.TB, ctx context.Context, dir, name string) string {
	t.Helper()
	if dir == "" {
		dir = os.Getenv("PARLEY_SCREENSHOTS")
	}
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browser: screenshot dir: %v", err)
	}
	// Quality 100 is what makes chromedp capture a PNG; below it is JPEG.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	t.Logf("browser: screenshot %s", path)
	return path
}

// ElementScreenshot saves a PNG of the first element matching sel (an
// iframe holding the panel, say) as dir/name.png, with the same directory
// rules as Screenshot.
func ElementScreenshot(t testing.TB, ctx context.Context, dir, name, sel string) string {
	t.Helper()
	if dir == "" {
		dir = os.Getenv("PARLEY_SCREENSHOTS")
	}
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browser: screenshot dir: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("browser: screenshot %s of %s: %v", name, sel, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	return path
}

// Until waits (up to 15 s) until the JavaScript expression expr is truthy
// in the top page of ctx, and fails the test otherwise, logging the page's
// URL and the start of its body so the failure shows where the page was.
// what names the awaited state in the message.
func Until(t testing.TB, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerHTML.slice(0, 3000)`))
		t.Fatalf("browser: waiting for %s (%s): %v\nthe page is at %s", what, expr, err, where)
	}
}

// Eval evaluates the JavaScript expression expr in the top page of ctx and
// returns its value decoded into T (a promise is awaited), failing the test
// on an error or an exception.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browser: evaluate %s: %v", expr, err)
	}
	return v
}

// Version returns the browser's version line (for benchmark reports).
func Version() (string, error) {
	out, err := exec.Command(Chromium.Binary, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("chromium --version: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// InFrame evaluates the JavaScript expression expr inside the document of
// the iframe that frameSel selects in the page of ctx (an iframe from the
// same site: a different port of 127.0.0.1 is the same site), polling every
// 50 ms until it is truthy or timeout passes, and returns its value. An
// expression with a side effect, such as `(el.click(), true)`, runs once.
// The iframe is looked up again on every call, so it may have reloaded.
func InFrame[T any](ctx context.Context, frameSel, expr string, timeout time.Duration) (T, error) {
	var zero T
	frames, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(frameSel), chromedp.NodeReady))
	if err != nil {
		return zero, fmt.Errorf("find frame %s: %w", frameSel, err)
	}
	if len(frames) == 0 {
		return zero, fmt.Errorf("find frame %s: no such element", frameSel)
	}
	docs, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("html"), chromedp.FromNode(frames[0]), chromedp.NodeReady))
	if err != nil {
		return zero, fmt.Errorf("find the document of frame %s: %w", frameSel, err)
	}
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInFrame(docs[0]),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		return zero, fmt.Errorf("in frame %s: %s: %w", frameSel, expr, err)
	}
	return v, nil
}

// WaitFor polls the JavaScript expression expr in the page of ctx every
// 50 ms until it is truthy or timeout passes, and returns its value.
func WaitFor[T any](ctx context.Context, expr string, timeout time.Duration) (T, error) {
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		return v, fmt.Errorf("wait for %s: %w", expr, err)
	}
	return v, nil
}

// Page returns a context on the browser page of ctx whose URL contains
// part, such as a popup the page opened, waiting up to timeout for it to
// open or navigate there. The context is cancelled when the test ends.
func Page(t testing.TB, ctx context.Context, part string, timeout time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		targets, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatalf("browser: list pages: %v", err)
		}
		for _, ti := range targets {
			if ti.Type == "page" && strings.Contains(ti.URL, part) {
				pctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(ti.TargetID))
				t.Cleanup(cancel)
				return pctx
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("browser: no page at %s opened within %s; the pages: %s", part, timeout, strings.Join(PageURLs(ctx), ", "))
	return nil
}

// PageURLs lists the URLs of the browser's pages (tabs and popups).
func PageURLs(ctx context.Context) []string {
	targets, _ := chromedp.Targets(ctx)
	var urls []string
	for _, ti := range targets {
		if ti.Type == "page" {
			urls = append(urls, ti.URL)
		}
	}
	return urls
}
