package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parley-cc/parley/internal/cc"
)

// moduleRoot returns the directory of the Go module the working directory
// is in (where go.mod is).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module (go env GOMOD): %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("find the module: run parley-load inside the Parley checkout, or give --parley and --script")
	}
	return filepath.Dir(mod), nil
}

// buildParley builds cmd/parley of the module at root into out.
func buildParley(ctx context.Context, root, out string, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/parley")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build parley (go build ./cmd/parley in %s): %w", root, err)
	}
	return nil
}

// parleyProcess is a `parley serve` child process.
type parleyProcess struct {
	cmd     *exec.Cmd
	httpURL string
	logPath string
	exited  chan struct{}
	waitErr error
}

// serveOptions says how to run `parley serve`.
type serveOptions struct {
	Binary   string
	DataDir  string
	SIP      string // loopback host:port, UDP and TCP
	HTTP     string // loopback host:port
	RTPPorts string // "LO-HI"
	LogLevel string
	LogPath  string // the server's stderr goes here
	Pprof    string // serve profiles on this loopback address ("" off)
	// Env is added to the environment (after every inherited PARLEY_*
	// variable is removed, so that only what is given here configures it).
	Env []string
}

// startParley starts `parley serve` and waits until /readyz answers 200.
func startParley(ctx context.Context, o serveOptions) (*parleyProcess, error) {
	logf, err := os.Create(o.LogPath)
	if err != nil {
		return nil, fmt.Errorf("start parley: %w", err)
	}
	args := []string{"serve", "--data", o.DataDir, "--sip", o.SIP, "--http", o.HTTP}
	if o.Pprof != "" {
		args = append(args, "--pprof", o.Pprof)
	}
	cmd := exec.Command(o.Binary, args...)
	cmd.Env = append(withoutParleyEnv(os.Environ()), "PARLEY_SIP_RTP_PORTS="+o.RTPPorts, "PARLEY_LOG_LEVEL="+o.LogLevel)
	cmd.Env = append(cmd.Env, o.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start parley %s: %w", o.Binary, err)
	}
	p := &parleyProcess{cmd: cmd, httpURL: "http://" + o.HTTP, logPath: o.LogPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	if err := p.waitReady(ctx, 60*time.Second); err != nil {
		p.Stop(10 * time.Second)
		return nil, fmt.Errorf("start parley: %w\n%s", err, p.logTail(20))
	}
	return p, nil
}

func withoutParleyEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PARLEY_") {
			out = append(out, kv)
		}
	}
	return out
}

// PID returns the server's process id.
func (p *parleyProcess) PID() int { return p.cmd.Process.Pid }

func (p *parleyProcess) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.httpURL+"/readyz", nil)
		res, err := client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", res.StatusCode, strings.TrimSpace(string(b)))
		} else {
			last = err.Error()
		}
		select {
		case <-p.exited:
			return fmt.Errorf("parley exited before it was ready: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("parley not ready after %s (last /readyz: %s)", limit, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop asks the server to drain and stop (SIGTERM), and kills it when it
// has not exited within grace. It returns the exit error, nil for a clean
// exit.
func (p *parleyProcess) Stop(grace time.Duration) error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("parley did not stop within %s of SIGTERM and was killed", grace)
}

// Exited reports whether the server process has ended.
func (p *parleyProcess) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// logTail returns the last n lines of the server's log.
func (p *parleyProcess) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	return lastLines(string(b), n)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Metrics reads the server's Prometheus metrics.
func (p *parleyProcess) Metrics(ctx context.Context) (metricSet, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.httpURL+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read parley metrics: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read parley metrics: %s", res.Status)
	}
	return parseMetrics(res.Body)
}

// metricSet maps a series as written ("name" or `name{label="v"}`) to its value.
type metricSet map[string]float64

// parseMetrics reads the Prometheus text format: comments are skipped,
// every other line is a series, a space and a value (and maybe a time).
func parseMetrics(r io.Reader) (metricSet, error) {
	m := metricSet{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// Label values may hold spaces: the series ends at the last '}'.
		cut := strings.LastIndexByte(line, '}')
		if cut < 0 {
			cut = strings.IndexByte(line, ' ')
		} else {
			cut++
		}
		if cut <= 0 || cut >= len(line) {
			return nil, fmt.Errorf("parse metrics: line %q has no value", line)
		}
		fields := strings.Fields(line[cut:])
		if len(fields) == 0 {
			return nil, fmt.Errorf("parse metrics: line %q has no value", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("parse metrics: line %q: value %q is not a number", line, fields[0])
		}
		m[line[:cut]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return m, nil
}

// Sum adds the values of every series of the named metric whose labels
// include all of the given label="value" pairs.
func (m metricSet) Sum(name string, labels ...string) float64 {
	var sum float64
	for series, v := range m {
		base, rest, _ := strings.Cut(series, "{")
		if base != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(","+strings.TrimSuffix(rest, "}")+",", ","+l+",") {
				ok = false
				break
			}
		}
		if ok {
			sum += v
		}
	}
	return sum
}

// checkLoopback returns EINVALID unless addr is a loopback ip:port.
func checkLoopback(what, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	n, perr := strconv.Atoi(port)
	if err != nil || ip == nil || !ip.IsLoopback() || perr != nil || n < 1 || n > 65535 {
		return cc.Errorf(cc.EINVALID, "%s %q: give a loopback ip:port such as 127.0.0.1:5080 (the benchmark never leaves this machine)", what, addr)
	}
	return nil
}

// freeLoopbackPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// udpPortFree reports whether a UDP port on 127.0.0.1 can be bound now.
func udpPortFree(port int) bool {
	c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}
