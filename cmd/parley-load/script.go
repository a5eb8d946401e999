package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Modes of the shared script.
const (
	modeExternal = "external" // another server (Parley) at TARGET
	modeRelay    = "relay"    // the peer: Kamailio + rtpengine, started by the script
)

// scriptRun is one run of the shared script at one level.
type scriptRun struct {
	Script     string
	Level      Level
	Mode       string
	Target     string // external: the server's SIP address
	ServerPIDs []int  // external: the server's processes
	Label      string
	Results    string   // the script appends its summary line here
	Env        []string // more of the script's variables (ports, CAPTURE, ...)
	// PathPrefix is put before PATH (placeholders for tools the mode does
	// not run; see externalPlaceholders).
	PathPrefix string
	Progress   io.Writer // the script's stderr (progress lines)
}

// peerSummary is the key=value fields of the script's "PEER ..." line.
type peerSummary map[string]string

// Float returns a field as a number, and whether it was one.
func (p peerSummary) Float(key string) (float64, bool) {
	v, err := strconv.ParseFloat(p[key], 64)
	return v, err == nil
}

// Pass reports whether SIPp passed the level (exit 0 and no failed call).
func (p peerSummary) Pass() bool { return p["pass"] == "yes" }

// errScriptSetup is returned when the script exits 2: bad arguments or a
// setup it could not make (a port in use, a tool it could not install).
var errScriptSetup = errors.New("the load script could not set the run up")

// Run runs the script and returns its summary. A level that fails (pass=no)
// is a result, not an error.
func (r scriptRun) Run(ctx context.Context) (peerSummary, error) {
	// The script bounds itself (SIPp -timeout, MAX_RUN_S); this is the
	// backstop if it hangs: generous, then SIGTERM, which its trap turns
	// into stopping everything it started.
	est := time.Duration(r.Level.Total/r.Level.CPS+2*r.Level.HoldS+180) * time.Second
	ctx, cancel := context.WithTimeout(ctx, est)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{r.Script}, r.Level.Args()...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 60 * time.Second
	cmd.Env = append(os.Environ(), "MODE="+r.Mode, "LABEL="+r.Label, "RESULTS="+r.Results)
	if r.Mode == modeExternal {
		cmd.Env = append(cmd.Env, "TARGET="+r.Target, "SERVER_PIDS="+joinInts(r.ServerPIDs))
	}
	if r.PathPrefix != "" {
		cmd.Env = append(cmd.Env, "PATH="+r.PathPrefix+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	cmd.Env = append(cmd.Env, r.Env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = r.Progress
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 1:
	case errors.As(err, &exit) && exit.ExitCode() == 2:
		return nil, fmt.Errorf("run %s %s: %w (its messages are above)", filepath.Base(r.Script), strings.Join(r.Level.Args(), " "), errScriptSetup)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("run %s: stopped after %s: %w", filepath.Base(r.Script), est, ctx.Err())
	default:
		return nil, fmt.Errorf("run %s: %w", filepath.Base(r.Script), err)
	}
	s, perr := parsePeerLine(out.String())
	if perr != nil {
		return nil, fmt.Errorf("run %s: %w", filepath.Base(r.Script), perr)
	}
	return s, nil
}

// parsePeerLine finds the line starting with "PEER " in the script's
// output and reads its key=value fields.
func parsePeerLine(out string) (peerSummary, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "PEER ")
		if !ok {
			continue
		}
		s := peerSummary{}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok && k != "" {
				s[k] = v
			}
		}
		if s["mode"] == "" || s["pass"] == "" {
			return nil, fmt.Errorf("summary line has no mode or pass field: %q", sc.Text())
		}
		return s, nil
	}
	return nil, fmt.Errorf("no PEER summary line in the script's output (%d bytes)", len(out))
}

// externalTools are run by the script only in relay mode, but it looks for
// all of them in every mode and installs what is missing.
var externalTools = []string{"kamailio", "rtpengine"}

// externalPlaceholders makes sure that a Parley-only run (MODE=external)
// needs neither Kamailio nor rtpengine: for each one not installed it
// writes, into dir, a placeholder command that fails loudly if it is ever
// run, and returns dir for the front of the script's PATH ("" when both
// are installed).
func externalPlaceholders(dir string) (string, error) {
	var missing []string
	for _, t := range externalTools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return "", nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write placeholders: %w", err)
	}
	for _, t := range missing {
		body := "#!/bin/sh\n" +
			"# Written by parley-load: " + t + " is not installed, and MODE=external never runs it.\n" +
			"echo \"parley-load: " + t + " is not installed (this placeholder only satisfies the script's tool check); install it for MODE=relay\" >&2\n" +
			"exit 127\n"
		if err := os.WriteFile(filepath.Join(dir, t), []byte(body), 0o755); err != nil {
			return "", fmt.Errorf("write placeholders: %w", err)
		}
	}
	return dir, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}
