package loadkit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Profiler saves Parley's Go profiles during one run: a CPU profile taken
// a while into the load and a heap profile right after it (near the peak),
// then, at the end of the run, the mutex and block profiles, which count
// from the server's start and so cover the whole run.
type Profiler struct {
	base, dir string
	log       io.Writer
	done      chan struct{}
}

// StartProfiler starts saving the profiles of the server whose pprof is at
// base (http://host:port) into dir: the CPU profile of dur from at into
// the run; log hears of profiles that could not be had.
func StartProfiler(ctx context.Context, base, dir string, at, dur time.Duration, log io.Writer) *Profiler {
	p := &Profiler{base: base + "/debug/pprof/", dir: dir, log: log, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		select {
		case <-ctx.Done():
			return
		case <-time.After(at):
		}
		secs := strconv.Itoa(max(1, int(dur.Seconds())))
		p.save(ctx, "profile?seconds="+secs, "cpu.pprof", dur+30*time.Second)
		p.save(ctx, "heap", "heap.pprof", 30*time.Second)
		p.save(ctx, "goroutine", "goroutine.pprof", 30*time.Second)
	}()
	return p
}

// Finish waits for the CPU and heap profiles and saves the mutex and block
// profiles.
func (p *Profiler) Finish(ctx context.Context) {
	<-p.done
	p.save(ctx, "mutex", "mutex.pprof", 30*time.Second)
	p.save(ctx, "block", "block.pprof", 30*time.Second)
}

// save fetches one profile into the run directory. A profile that cannot
// be had is reported, not fatal: the run's figures stand without it.
func (p *Profiler) save(ctx context.Context, query, file string, limit time.Duration) {
	if err := p.fetch(ctx, query, filepath.Join(p.dir, file), limit); err != nil {
		fmt.Fprintf(p.log, "profile %s: %v\n", file, err)
	}
}

func (p *Profiler) fetch(ctx context.Context, query, path string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+query, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", query, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("fetch %s: %s: %s", query, res.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save %s: %w", query, err)
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", query, err)
	}
	return f.Close()
}
