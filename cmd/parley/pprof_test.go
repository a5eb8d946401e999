package main

import (
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func TestServePprofFlag(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:6060", true},
		{"[::1]:6060", true},
		{"0.0.0.0:6060", false},
		{"192.0.2.10:6060", false},
		{"localhost:6060", false}, // a name may resolve anywhere
		{"127.0.0.1", false},
	} {
		m := NewMain()
		var stderr strings.Builder
		err := m.ParseFlags([]string{"--data", t.TempDir(), "--pprof", tt.addr}, &stderr)
		if tt.ok && err != nil {
			t.Errorf("--pprof %s: %v", tt.addr, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "loopback")) {
			t.Errorf("--pprof %s: err = %v, want an error asking for a loopback address", tt.addr, err)
		}
		if tt.ok && m.PprofAddr != tt.addr {
			t.Errorf("--pprof %s: PprofAddr = %q", tt.addr, m.PprofAddr)
		}
	}
}

func TestPprofServesProfiles(t *testing.T) {
	srv, index, err := startPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", "mutex?debug=1", "block?debug=1", "heap?debug=1"} {
		res, err := http.Get(index + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s: %s", index+q, res.Status, b)
		}
	}
	if got := runtime.SetMutexProfileFraction(-1); got != mutexProfileFraction {
		t.Errorf("mutex profile fraction while serving = %d, want %d", got, mutexProfileFraction)
	}
	if err := stopPprof(srv); err != nil {
		t.Fatal(err)
	}
	if got := runtime.SetMutexProfileFraction(-1); got != 0 {
		t.Errorf("mutex profile fraction after stopPprof = %d, want 0", got)
	}
	if res, err := http.Get(index); err == nil {
		res.Body.Close()
		t.Error("profiles still served after stopPprof")
	}
}
