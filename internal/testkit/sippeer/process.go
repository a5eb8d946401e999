package sippeer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// maxLog caps the output kept per process; later output is dropped.
const maxLog = 8 << 20

// stopGrace bounds how long a process is given to stop, and how long Wait
// waits for output pipes a child left open.
const stopGrace = 3 * time.Second

// ansiEscape matches the terminal colour and cursor sequences that baresip
// and SIPp print; they are removed from the kept output.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// logBuffer collects a process's output, without terminal escapes, and
// wakes waiters on every write.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped bool
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

// Write appends p, up to maxLog bytes in all.
func (l *logBuffer) Write(p []byte) (int, error) {
	n := len(p)
	p = ansiEscape.ReplaceAll(p, nil)
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := maxLog - l.buf.Len(); room < len(p) {
		l.buf.Write(p[:max(room, 0)])
		l.dropped = true
	} else {
		l.buf.Write(p)
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return n, nil
}

// snapshot returns the output so far and a channel closed at the next write.
func (l *logBuffer) snapshot() (string, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	if l.dropped {
		s += "\n[sippeer: output truncated]\n"
	}
	return s, l.changed
}

func (l *logBuffer) String() string {
	s, _ := l.snapshot()
	return s
}

// proc is an external program run for a test: started with a hard time
// limit, stopped by its PID when the test ends (its stop signals, each
// given stopGrace to work, then SIGKILL), and with its output logged when
// the test failed.
type proc struct {
	name    string
	cmd     *exec.Cmd
	out     *logBuffer
	done    chan struct{}
	waitErr error
	steps   []stopStep
	limit   *time.Timer

	termOnce sync.Once
	mu       sync.Mutex
	stopped  bool // stop or the time limit ended it, not the program itself
	timedOut bool // the time limit ended it
}

// procSpec describes a process to start.
type procSpec struct {
	name string // for logs, e.g. "baresip alice"
	dir  string
	bin  string
	args []string
	// limit is the hard time limit.
	limit time.Duration
	// stop are the signals sent in turn to stop the process, each with the
	// time it is given to work; SIGKILL follows.
	stop []stopStep
	// clean, when not nil, filters the output before it is logged.
	clean func(string) string
}

// stopStep is one signal of a process's stop sequence.
type stopStep struct {
	sig  os.Signal
	wait time.Duration
}

// startProc starts the process described by spec.
func startProc(tb testing.TB, spec procSpec) (*proc, error) {
	tb.Helper()
	cmd := exec.Command(spec.bin, spec.args...)
	cmd.Dir = spec.dir
	out := newLogBuffer()
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = stopGrace // do not wait long for pipes a child left open
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	p := &proc{name: spec.name, cmd: cmd, out: out, done: make(chan struct{}), steps: spec.stop}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	p.limit = time.AfterFunc(spec.limit, func() {
		p.mu.Lock()
		p.timedOut = !p.exited()
		p.mu.Unlock()
		p.terminate()
	})
	tb.Cleanup(func() {
		p.stop()
		if tb.Failed() {
			text := p.out.String()
			if spec.clean != nil {
				text = spec.clean(text)
			}
			tb.Logf("%s (pid %d, %s) output:\n%s", p.name, cmd.Process.Pid, p.state(), text)
		}
	})
	return p, nil
}

// terminate sends the stop signals, each given its time, then SIGKILL,
// until the process has ended. Only the first call acts.
func (p *proc) terminate() {
	p.termOnce.Do(func() {
		p.mu.Lock()
		p.stopped = !p.exited()
		p.mu.Unlock()
		for _, st := range p.steps {
			if p.cmd.Process.Signal(st.sig) != nil {
				break // it has ended
			}
			select {
			case <-p.done:
				return
			case <-time.After(st.wait):
			}
		}
		p.cmd.Process.Kill()
	})
}

// stop ends the process and waits for it. It may be called more than once.
func (p *proc) stop() {
	p.limit.Stop()
	p.terminate()
	<-p.done
}

// wait waits for the process to end by itself, or for ctx.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for %s to end: %w", p.name, ctx.Err())
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wasTimedOut reports whether the process was ended by its time limit.
func (p *proc) wasTimedOut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.timedOut
}

// exitCode returns the exit status of an ended process, or -1 when it was
// ended by a signal or is still running.
func (p *proc) exitCode() int {
	if !p.exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) state() string {
	switch {
	case !p.exited():
		return "running"
	case p.wasTimedOut():
		return "ended at its time limit"
	case p.waitErr != nil:
		return p.waitErr.Error()
	}
	return "exit status 0"
}

// waitOutput calls check with the output so far, and again after every
// write, until it returns true or an error, ctx ends, or the process ends.
func (p *proc) waitOutput(ctx context.Context, what string, check func(out string) (bool, error)) error {
	for {
		out, changed := p.out.snapshot()
		if ok, err := check(out); ok || err != nil {
			return err
		}
		select {
		case <-changed:
		case <-p.done:
			out, _ := p.out.snapshot()
			if ok, err := check(out); ok || err != nil {
				return err
			}
			return fmt.Errorf("wait for %s: %s ended (%s) first; last output:\n%s", what, p.name, p.state(), tail(out, 20))
		case <-ctx.Done():
			return fmt.Errorf("wait for %s from %s: %w; last output:\n%s", what, p.name, ctx.Err(), tail(out, 20))
		}
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
