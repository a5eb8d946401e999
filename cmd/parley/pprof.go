package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"
)

// Profiling rates while --pprof is on: one in mutexProfileFraction
// contended unlocks is recorded, and blocking is sampled about once per
// blockProfileRate of time blocked. Both are off otherwise.
const (
	mutexProfileFraction = 10
	blockProfileRate     = int(100 * time.Microsecond)
)

// checkPprofAddr accepts only a loopback ip:port: profiles show internals
// (call ids, stacks) and must not be served to the network.
func checkPprofAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--pprof %q: give a loopback address such as 127.0.0.1:6060 (profiles are not for the network)", addr)
	}
	return nil
}

// startPprof serves net/http/pprof on addr, with mutex and block profiling
// on, until the returned server is closed. It returns the URL of the index.
func startPprof(addr string, log *slog.Logger) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen for profiles on %s: %w", addr, err)
	}
	runtime.SetMutexProfileFraction(mutexProfileFraction)
	runtime.SetBlockProfileRate(blockProfileRate)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("profile server stopped", "error", err)
		}
	}()
	url := "http://" + ln.Addr().String() + "/debug/pprof/"
	log.Info("serving Go profiles", "url", url)
	return srv, url, nil
}

// stopPprof closes the profile server and turns the extra profiling off.
func stopPprof(srv *http.Server) error {
	runtime.SetMutexProfileFraction(0)
	runtime.SetBlockProfileRate(0)
	return srv.Close()
}
