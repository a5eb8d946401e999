package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLayers(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "parley.yaml")
	os.WriteFile(file, []byte("data_dir: /srv/parley\nhttp:\n  listen: 0.0.0.0:9000\ncrm:\n  lookup_timeout: 2s\n"), 0o600)
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PARLEY_HTTP_LISTEN": "127.0.0.1:9100", "PARLEY_SIP_REWRITE_CONTACT": "true", "PARLEY_SESSIONS_TTL": "1h"}
	if err := c.LoadEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/srv/parley" || c.HTTP.Listen != "127.0.0.1:9100" || !c.SIP.RewriteContact || c.Sessions.TTL.D() != time.Hour || c.CRM.LookupTimeout.D() != 2*time.Second {
		t.Fatalf("layers not applied: %+v", c)
	}
	if c.DatabasePath() != "/srv/parley/parley.db" || c.KeyFilePath() != "/srv/parley/secret.key" {
		t.Fatalf("paths: %s %s", c.DatabasePath(), c.KeyFilePath())
	}
	if !strings.Contains(c.YAML(), "lookup_timeout: 2s") {
		t.Fatalf("YAML: %s", c.YAML())
	}
}

func TestUnknownKeyFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "parley.yaml")
	os.WriteFile(file, []byte("http:\n  lisen: 1.2.3.4:80\n"), 0o600)
	c := Default()
	err := c.LoadFile(file)
	if err == nil || !strings.Contains(err.Error(), "lisen") {
		t.Fatalf("unknown key not reported: %v", err)
	}
	os.WriteFile(file, []byte("crm:\n  lookup_timeout: soon\n"), 0o600)
	if err := c.LoadFile(file); err == nil || !strings.Contains(err.Error(), "duration") {
		t.Fatalf("bad duration not reported: %v", err)
	}
}

func TestValidateNamesTheSetting(t *testing.T) {
	cases := map[string]func(*Config){
		"http.listen":        func(c *Config) { c.HTTP.Listen = "8080" },
		"http.public_url":    func(c *Config) { c.HTTP.PublicURL = "parley.example.com" },
		"sip: set":           func(c *Config) { c.SIP.UDP, c.SIP.TCP = "", "" },
		"sip.udp":            func(c *Config) { c.SIP.UDP = "example.com:5060" },
		"sip.rtp_ports":      func(c *Config) { c.SIP.RTPPorts = "20000-20010" },
		"sip.realm":          func(c *Config) { c.SIP.Realm = "a b" },
		"crm.lookup_timeout": func(c *Config) { c.CRM.LookupTimeout = Duration(time.Hour) },
		"log.level":          func(c *Config) { c.Log.Level = "loud" },
		"data_dir":           func(c *Config) { c.DataDir = " " },
		"sessions.ttl":       func(c *Config) { c.Sessions.TTL = 0 },
		"sessions.max":       func(c *Config) { c.Sessions.Max = Duration(time.Minute) },
		"database_sync":      func(c *Config) { c.DatabaseSync = "off" },
		"http.tls_cert":      func(c *Config) { c.HTTP.TLSCert = "cert.pem" },
		"webrtc.ice_servers": func(c *Config) { c.WebRTC.ICEServers = "stun:ok:3478, http://x" },
		"ice_credential":     func(c *Config) { c.WebRTC.ICEServers = "turn:turn.example.org:3478" },
		"webrtc.public_ips":  func(c *Config) { c.WebRTC.PublicIPs = "203.0.113.1,nat.example.org" },
		"webrtc.ports":       func(c *Config) { c.WebRTC.Ports = "40000" },
		"webrtc.grace":       func(c *Config) { c.WebRTC.Grace = 0 },
		"webrtc.rescue":      func(c *Config) { c.WebRTC.Rescue = Duration(time.Second) },
	}
	for want, mutate := range cases {
		c := Default()
		mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	c := Default()
	c.WebRTC.ICEServers = " stun:a.example.org:3478 ,turn:b.example.org:3478?transport=udp,"
	c.WebRTC.ICEUsername, c.WebRTC.ICECredential = "u", "p"
	if err := c.Validate(); err != nil {
		t.Fatalf("good ICE servers refused: %v", err)
	}
	if got := c.ICEServerURLs(); len(got) != 2 || got[1] != "turn:b.example.org:3478?transport=udp" {
		t.Fatalf("ICE server list %q", got)
	}
	c = Default()
	c.SIP.RTPPorts, c.WebRTC.Ports = "20000-20099", "40000-40099" // exactly 100 ports
	if err := c.Validate(); err != nil {
		t.Fatalf("100-port ranges refused: %v", err)
	}
	c = Default()
	bad := map[string]string{"PARLEY_SIP_REWRITE_CONTACT": "maybe"}
	if err := c.LoadEnv(func(k string) string { return bad[k] }); err == nil {
		t.Error("bad bool env accepted")
	}
}

func TestClustersFile(t *testing.T) {
	c := Default()
	if cs, err := c.Clusters(); err != nil || cs.Source != "built-in" {
		t.Fatalf("no clusters_file: %v %v", cs, err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "clusters.yaml")
	if err := os.WriteFile(good, []byte("domain: p.example\nlegacy: https://vcc-{cluster}.{domain}\nunified: https://sso.{domain}/login/vcc-{cluster}\nclusters:\n  - name: eu1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ClustersFile = good
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if cs, _ := c.Clusters(); len(cs.Names()) != 1 || cs.Names()[0] != "eu1" {
		t.Errorf("clusters %v", cs.Names())
	}
	c.ClustersFile = filepath.Join(dir, "missing.yaml")
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "clusters_file: read cluster file:") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("clusters:\n  - name: NA1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ClustersFile = bad
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `bad.yaml: cluster 1 (NA1): name "NA1"`) {
		t.Errorf("bad file: %v", err)
	}
}
