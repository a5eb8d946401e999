package loadkit

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

// ModuleRoot returns the directory of the Go module the working directory
// is in (where go.mod is).
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module (go env GOMOD): %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("find the module: run the load tool inside the Parley checkout, or give it a parley binary (--parley)")
	}
	return filepath.Dir(mod), nil
}

// BuildParley builds cmd/parley of the module at root into out.
func BuildParley(ctx context.Context, root, out string, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/parley")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build parley (go build ./cmd/parley in %s): %w", root, err)
	}
	return nil
}

// Process is a `parley serve` child process.
type Process struct {
	cmd     *exec.Cmd
	httpURL string
	logPath string
	exited  chan struct{}
	waitErr error
}

// ServeOptions says how to run `parley serve`.
type ServeOptions struct {
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

// StartParley starts `parley serve` and waits until /readyz answers 200.
func StartParley(ctx context.Context, o ServeOptions) (*Process, error) {
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
	p := &Process{cmd: cmd, httpURL: "http://" + o.HTTP, logPath: o.LogPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	if err := p.waitReady(ctx, 60*time.Second); err != nil {
		p.Stop(10 * time.Second)
		return nil, fmt.Errorf("start parley: %w\n%s", err, p.LogTail(20))
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

// URL is the server's HTTP base URL, such as http://127.0.0.1:8080.
func (p *Process) URL() string { return p.httpURL }

// PID returns the server's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

func (p *Process) waitReady(ctx context.Context, limit time.Duration) error {
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
func (p *Process) Stop(grace time.Duration) error {
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
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// LogTail returns the last n lines of the server's log.
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	return LastLines(string(b), n)
}

// LastLines returns the last n lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Metrics reads the server's Prometheus metrics.
func (p *Process) Metrics(ctx context.Context) (Metrics, error) {
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
	return ParseMetrics(res.Body)
}

// Metrics maps a series as written ("name" or `name{label="v"}`) to its value.
type Metrics map[string]float64

// ParseMetrics reads the Prometheus text format: comments are skipped,
// every other line is a series, a space and a value (and maybe a time).
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
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
func (m Metrics) Sum(name string, labels ...string) float64 {
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

// CheckLoopback returns EINVALID unless addr is a loopback ip:port.
func CheckLoopback(what, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	n, perr := strconv.Atoi(port)
	if err != nil || ip == nil || !ip.IsLoopback() || perr != nil || n < 1 || n > 65535 {
		return cc.Errorf(cc.EINVALID, "%s %q: give a loopback ip:port such as 127.0.0.1:5080 (the benchmark never leaves this machine)", what, addr)
	}
	return nil
}

// FreeLoopbackPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// FreeLoopbackAddr returns "127.0.0.1:PORT" with a TCP port free now.
func FreeLoopbackAddr() (string, error) {
	port, err := FreeLoopbackPort()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(port), nil
}

// UDPPortFree reports whether a UDP port on 127.0.0.1 can be bound now.
func UDPPortFree(port int) bool {
	c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}
