// Package config is Parley's server configuration, layered: built-in
// defaults, then a YAML file, then PARLEY_* environment variables, then
// command-line flags. Unknown keys in the file are errors, and Validate names
// the setting that is wrong and the form it takes.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parley-cc/parley/internal/ctiurl"
)

// Config is the whole server configuration.
type Config struct {
	// DataDir holds the database, the secret key file and logs of state.
	DataDir string `yaml:"data_dir" env:"PARLEY_DATA_DIR"`
	// Database is the SQLite file; empty means DataDir/parley.db.
	Database string `yaml:"database" env:"PARLEY_DATABASE"`
	// DatabaseSync is SQLite's synchronous setting: full (a commit survives
	// a power cut) or normal (it survives a crash of Parley, not of the
	// machine; about a fifth more calls per second, see docs/benchmarks.md).
	DatabaseSync string  `yaml:"database_sync" env:"PARLEY_DATABASE_SYNC"`
	HTTP         HTTP    `yaml:"http"`
	SIP          SIP     `yaml:"sip"`
	Secrets      Secrets `yaml:"secrets"`
	CRM          CRM     `yaml:"crm"`
	Routing      Routing `yaml:"routing"`
	Sessions     Session `yaml:"sessions"`
	Log          Log     `yaml:"log"`
	Shutdown     Drain   `yaml:"shutdown"`
	WebRTC       WebRTC  `yaml:"webrtc"`
	// ClustersFile is the YAML table of the provider's clusters, which
	// gives each tenant's contact center domain (the vccDomain of the CTI
	// adapter URL); empty means the built-in table (ctiurl.Default,
	// the same as docs/clusters.sample.yaml).
	ClustersFile string `yaml:"clusters_file" env:"PARLEY_CLUSTERS_FILE"`
}

// HTTP is the API and web listener.
type HTTP struct {
	Listen string `yaml:"listen" env:"PARLEY_HTTP_LISTEN"`
	// PublicURL is how browsers and the CRM reach Parley (links in logs).
	PublicURL string `yaml:"public_url" env:"PARLEY_HTTP_PUBLIC_URL"`
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string `yaml:"metrics_token" env:"PARLEY_HTTP_METRICS_TOKEN"`
	// TLSCert and TLSKey (PEM files) serve HTTPS and WSS. Browsers give the
	// panel's softphone a microphone only on https pages (or on localhost).
	TLSCert string `yaml:"tls_cert" env:"PARLEY_HTTP_TLS_CERT"`
	TLSKey  string `yaml:"tls_key" env:"PARLEY_HTTP_TLS_KEY"`
}

// WebRTC configures the panel's browser audio.
type WebRTC struct {
	// ICEServers are STUN/TURN URLs, comma-separated (stun:host:3478,
	// turn:host:3478?transport=udp), for agents behind NAT; empty uses
	// host candidates only (a LAN).
	ICEServers string `yaml:"ice_servers" env:"PARLEY_WEBRTC_ICE_SERVERS"`
	// ICEUsername and ICECredential are the TURN servers' credentials.
	ICEUsername   string `yaml:"ice_username" env:"PARLEY_WEBRTC_ICE_USERNAME"`
	ICECredential string `yaml:"ice_credential" env:"PARLEY_WEBRTC_ICE_CREDENTIAL"`
	// PublicIPs are the addresses Parley announces to browsers when it is
	// behind NAT (1:1), comma-separated.
	PublicIPs string `yaml:"public_ips" env:"PARLEY_WEBRTC_PUBLIC_IPS"`
	// Ports is the UDP port range of browser audio ("40000-40999"); empty
	// is any port.
	Ports string `yaml:"ports" env:"PARLEY_WEBRTC_PORTS"`
	// Grace is how long a browser agent's audio may be gone (a reload)
	// before an available agent is made not ready.
	Grace Duration `yaml:"grace" env:"PARLEY_WEBRTC_GRACE"`
	// Rescue is how long, after Grace, an inbound call waits on hold for
	// its browser agent's audio to come back before it goes back to its
	// queue (keeping its place) and the agent is made not ready; 0 keeps
	// it on hold until the audio is back or the call ends.
	Rescue Duration `yaml:"rescue" env:"PARLEY_WEBRTC_RESCUE"`
}

// SIP is the telephony listener.
type SIP struct {
	UDP            string `yaml:"udp" env:"PARLEY_SIP_UDP"`
	TCP            string `yaml:"tcp" env:"PARLEY_SIP_TCP"`
	Realm          string `yaml:"realm" env:"PARLEY_SIP_REALM"`
	ExternalHost   string `yaml:"external_host" env:"PARLEY_SIP_EXTERNAL_HOST"`
	RTPPorts       string `yaml:"rtp_ports" env:"PARLEY_SIP_RTP_PORTS"`
	SoundsDir      string `yaml:"sounds_dir" env:"PARLEY_SIP_SOUNDS_DIR"`
	RewriteContact bool   `yaml:"rewrite_contact" env:"PARLEY_SIP_REWRITE_CONTACT"`
}

// Secrets says where the key that seals secrets at rest lives.
type Secrets struct {
	// KeyFile is a keyring file (id:base64key lines); empty means
	// DataDir/secret.key, created on first start. PARLEY_SECRET_KEY
	// overrides the file.
	KeyFile string `yaml:"key_file" env:"PARLEY_SECRET_KEY_FILE"`
}

// CRM tunes CRM access.
type CRM struct {
	LookupTimeout Duration `yaml:"lookup_timeout" env:"PARLEY_CRM_LOOKUP_TIMEOUT"`
}

// Routing tunes the ACD.
type Routing struct {
	PriorityStep Duration `yaml:"priority_step" env:"PARLEY_ROUTING_PRIORITY_STEP"`
}

// Session tunes API sessions: a session lasts TTL unless the panel
// refreshes it (it does, before the expiry), and Max at most.
type Session struct {
	TTL Duration `yaml:"ttl" env:"PARLEY_SESSIONS_TTL"`
	Max Duration `yaml:"max" env:"PARLEY_SESSIONS_MAX"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level" env:"PARLEY_LOG_LEVEL"`
	Format string `yaml:"format" env:"PARLEY_LOG_FORMAT"`
}

// Drain bounds graceful shutdown.
type Drain struct {
	Timeout Duration `yaml:"drain_timeout" env:"PARLEY_SHUTDOWN_DRAIN_TIMEOUT"`
}

// Duration is a time.Duration written as "30s" or "5m".
type Duration time.Duration

// UnmarshalYAML reads "30s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration: write it like 30s, 5m or 1h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes "30s".
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		DataDir:      "./parley-data",
		DatabaseSync: "full",
		HTTP:         HTTP{Listen: "127.0.0.1:8080"},
		SIP:          SIP{UDP: "127.0.0.1:5060", TCP: "127.0.0.1:5060", Realm: "parley", RTPPorts: "20000-29999"},
		CRM:          CRM{LookupTimeout: Duration(3 * time.Second)},
		Routing:      Routing{PriorityStep: Duration(10 * time.Minute)},
		Sessions:     Session{TTL: Duration(time.Hour), Max: Duration(12 * time.Hour)},
		Log:          Log{Level: "info", Format: "text"},
		Shutdown:     Drain{Timeout: Duration(30 * time.Second)},
		WebRTC:       WebRTC{Grace: Duration(10 * time.Second), Rescue: Duration(60 * time.Second)},
	}
}

// LoadFile applies a YAML file over c. Unknown keys are errors; every
// error names the file, the line and the setting, such as
// `parley.yaml line 3: unknown key "lisen" under http (known: listen, ...)`.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	return c.loadYAML(path, b)
}

// LoadEnv applies PARLEY_* variables over c.
func (c *Config) LoadEnv(getenv func(string) string) error {
	return walkEnv(reflect.ValueOf(c).Elem(), getenv)
}

func walkEnv(v reflect.Value, getenv func(string) string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := walkEnv(fv, getenv); err != nil {
				return err
			}
			continue
		}
		name := f.Tag.Get("env")
		val := getenv(name)
		if name == "" || val == "" {
			continue
		}
		switch fv.Interface().(type) {
		case string:
			fv.SetString(val)
		case bool:
			b, err := strconv.ParseBool(val)
			if err != nil {
				return fmt.Errorf("%s=%q: use true or false", name, val)
			}
			fv.SetBool(b)
		case Duration:
			d, err := time.ParseDuration(val)
			if err != nil {
				return fmt.Errorf("%s=%q: write a duration like 30s, 5m or 1h", name, val)
			}
			fv.SetInt(int64(d))
		}
	}
	return nil
}

// DatabasePath returns the SQLite file.
func (c *Config) DatabasePath() string {
	if c.Database != "" {
		return c.Database
	}
	return filepath.Join(c.DataDir, "parley.db")
}

// KeyFilePath returns the secret keyring file.
func (c *Config) KeyFilePath() string {
	if c.Secrets.KeyFile != "" {
		return c.Secrets.KeyFile
	}
	return filepath.Join(c.DataDir, "secret.key")
}

// PublicURL returns the configured public URL or one built from the listener.
func (c *Config) PublicURL() string {
	if c.HTTP.PublicURL != "" {
		return strings.TrimRight(c.HTTP.PublicURL, "/")
	}
	if c.HTTP.TLSCert != "" {
		return "https://" + c.HTTP.Listen
	}
	return "http://" + c.HTTP.Listen
}

// Clusters loads the cluster table: clusters_file, or the built-in one
// when it is empty.
func (c *Config) Clusters() (*ctiurl.Clusters, error) {
	cs, err := ctiurl.Load(c.ClustersFile)
	if err != nil {
		return nil, fmt.Errorf("clusters_file: %w", err)
	}
	return cs, nil
}

// RTPRange parses sip.rtp_ports ("20000-29999"); "" is any port.
func (c *Config) RTPRange() (int, int, error) {
	return portRange("sip.rtp_ports", c.SIP.RTPPorts, "20000-29999")
}

// WebRTCPorts parses webrtc.ports ("40000-40999"); "" is any port.
func (c *Config) WebRTCPorts() (int, int, error) {
	return portRange("webrtc.ports", c.WebRTC.Ports, "40000-40999")
}

// portRange parses a port range setting; "" is any port (0, 0).
func portRange(name, v, example string) (int, int, error) {
	if v == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(v, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || hi-lo+1 < 100 {
		return 0, 0, fmt.Errorf("%s %q: write a range like %s (at least 100 ports, within 1024-65535)", name, v, example)
	}
	return lo, hi, nil
}

// ICEServerURLs returns webrtc.ice_servers as a list.
func (c *Config) ICEServerURLs() []string { return splitList(c.WebRTC.ICEServers) }

// WebRTCPublicIPs returns webrtc.public_ips as a list.
func (c *Config) WebRTCPublicIPs() []string { return splitList(c.WebRTC.PublicIPs) }

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// checkWebRTC validates the webrtc section and the TLS files.
func (c *Config) checkWebRTC() error {
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		return errors.New("http.tls_cert and http.tls_key: give both (a PEM certificate and its key) or neither")
	}
	turn := false
	for _, u := range c.ICEServerURLs() {
		scheme, rest, ok := strings.Cut(u, ":")
		if !ok || rest == "" || (scheme != "stun" && scheme != "stuns" && scheme != "turn" && scheme != "turns") {
			return fmt.Errorf("webrtc.ice_servers %q: each server is a stun:, stuns:, turn: or turns: URL such as stun:stun.example.org:3478", u)
		}
		turn = turn || strings.HasPrefix(scheme, "turn")
	}
	if turn && (c.WebRTC.ICEUsername == "" || c.WebRTC.ICECredential == "") {
		return errors.New("webrtc.ice_servers has a TURN server: set webrtc.ice_username and webrtc.ice_credential too")
	}
	for _, ip := range c.WebRTCPublicIPs() {
		if _, err := netip.ParseAddr(ip); err != nil {
			return fmt.Errorf("webrtc.public_ips %q: give IP addresses, comma-separated, such as 203.0.113.10", ip)
		}
	}
	if _, _, err := c.WebRTCPorts(); err != nil {
		return err
	}
	if g := c.WebRTC.Grace.D(); g < time.Second || g > 10*time.Minute {
		return fmt.Errorf("webrtc.grace %s: use 1s to 10m", g)
	}
	if r := c.WebRTC.Rescue.D(); r != 0 && (r < 5*time.Second || r > time.Hour) {
		return fmt.Errorf("webrtc.rescue %s: use 5s to 1h, or 0s to keep the call on hold until the agent's audio is back", r)
	}
	return nil
}

// Validate checks every setting and names the first that is wrong.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.DataDir) == "" {
		return errors.New("data_dir is empty: give a directory for the database and keys")
	}
	if c.DatabaseSync != "full" && c.DatabaseSync != "normal" {
		return fmt.Errorf("database_sync %q: use full (survives a power cut) or normal (survives a crash of Parley, faster)", c.DatabaseSync)
	}
	if _, err := c.Clusters(); err != nil {
		return err
	}
	if err := checkHostPort("http.listen", c.HTTP.Listen, false); err != nil {
		return err
	}
	if c.HTTP.PublicURL != "" {
		u, err := url.Parse(c.HTTP.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("http.public_url %q: give an absolute URL such as https://parley.example.com", c.HTTP.PublicURL)
		}
	}
	if c.SIP.UDP == "" && c.SIP.TCP == "" {
		return errors.New("sip: set sip.udp or sip.tcp (or both), such as 0.0.0.0:5060")
	}
	if err := checkHostPort("sip.udp", c.SIP.UDP, true); err != nil {
		return err
	}
	if err := checkHostPort("sip.tcp", c.SIP.TCP, true); err != nil {
		return err
	}
	if c.SIP.Realm == "" || strings.ContainsAny(c.SIP.Realm, "\" \t\r\n") {
		return fmt.Errorf("sip.realm %q: give a word without quotes or spaces, such as parley", c.SIP.Realm)
	}
	if _, _, err := c.RTPRange(); err != nil {
		return err
	}
	if err := c.checkWebRTC(); err != nil {
		return err
	}
	if c.CRM.LookupTimeout.D() < 100*time.Millisecond || c.CRM.LookupTimeout.D() > 30*time.Second {
		return fmt.Errorf("crm.lookup_timeout %s: use 100ms to 30s", c.CRM.LookupTimeout.D())
	}
	if c.Routing.PriorityStep.D() <= 0 {
		return fmt.Errorf("routing.priority_step %s: use a positive duration such as 10m", c.Routing.PriorityStep.D())
	}
	if c.Sessions.TTL.D() < time.Minute || c.Sessions.TTL.D() > 30*24*time.Hour {
		return fmt.Errorf("sessions.ttl %s: use 1m to 720h", c.Sessions.TTL.D())
	}
	if c.Sessions.Max.D() < c.Sessions.TTL.D() || c.Sessions.Max.D() > 90*24*time.Hour {
		return fmt.Errorf("sessions.max %s: use sessions.ttl (%s) to 2160h: it is the longest a session lives, refreshes included", c.Sessions.Max.D(), c.Sessions.TTL.D())
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q: use debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format %q: use text or json", c.Log.Format)
	}
	if c.Shutdown.Timeout.D() < 0 || c.Shutdown.Timeout.D() > time.Hour {
		return fmt.Errorf("shutdown.drain_timeout %s: use 0 to 1h", c.Shutdown.Timeout.D())
	}
	return nil
}

func checkHostPort(name, v string, optional bool) error {
	if v == "" && optional {
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%s %q: write host:port such as 127.0.0.1:8080", name, v)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%s %q: the port must be 0-65535", name, v)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil && host != "localhost" {
			return fmt.Errorf("%s %q: the host must be an IP address (or localhost)", name, v)
		}
	}
	return nil
}
