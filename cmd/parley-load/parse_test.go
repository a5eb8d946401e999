package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePeerLine(t *testing.T) {
	out := "noise before\nPEER mode=external target=127.0.0.1:5080 label=x cps=5 pass=yes media_ok=no setup_ms_p95=48\n"
	s, err := parsePeerLine(out)
	if err != nil {
		t.Fatal(err)
	}
	if s["mode"] != "external" || !s.Pass() || s["media_ok"] != "no" {
		t.Errorf("summary = %v", s)
	}
	if v, ok := s.Float("setup_ms_p95"); !ok || v != 48 {
		t.Errorf("Float(setup_ms_p95) = %v, %v", v, ok)
	}
	if _, ok := s.Float("missing"); ok {
		t.Error("Float of a missing field is a number")
	}
	for _, bad := range []string{"", "progress only\n", "PEER cps=5\n"} {
		if _, err := parsePeerLine(bad); err == nil {
			t.Errorf("parsePeerLine(%q) succeeded", bad)
		}
	}
}

func TestExternalPlaceholders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "placeholders")
	t.Setenv("PATH", t.TempDir()) // neither tool is installed here
	got, err := externalPlaceholders(dir)
	if err != nil || got != dir {
		t.Fatalf("externalPlaceholders = %q, %v; want %q", got, err, dir)
	}
	for _, tool := range externalTools {
		out, err := exec.Command(filepath.Join(dir, tool), "-v").CombinedOutput()
		var exit *exec.ExitError
		if !strings.Contains(string(out), "is not installed") || err == nil || !errors.As(err, &exit) || exit.ExitCode() != 127 {
			t.Errorf("placeholder %s: output %q, error %v; want a refusal with exit 127", tool, out, err)
		}
	}
	// With both installed there is nothing to add.
	bin := t.TempDir()
	for _, tool := range externalTools {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	if got, err := externalPlaceholders(filepath.Join(t.TempDir(), "p")); err != nil || got != "" {
		t.Errorf("with both installed: %q, %v; want no placeholders", got, err)
	}
}
