package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// loadYAML applies the YAML document b, read from the file name, over c.
// It walks the document against Config itself rather than letting the YAML
// library decode it, so that every mistake is reported in the file's terms:
// the line, the key and its section, and what the setting takes.
func (c *Config) loadYAML(name string, b []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return syntaxError(name, err)
	}
	if len(doc.Content) == 0 {
		return nil // an empty file, or only comments
	}
	d := &fileDecoder{name: name}
	return d.section(doc.Content[0], reflect.ValueOf(c).Elem(), "")
}

// fileDecoder applies one configuration file.
type fileDecoder struct {
	name string
}

func (d *fileDecoder) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s line %d: %s", d.name, n.Line, fmt.Sprintf(format, args...))
}

// yamlLine matches the position the YAML library puts in its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// syntaxError rewrites the YAML library's message for a file that is not
// YAML as "FILE line N: what is wrong".
func syntaxError(name string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s line %s: %s (the file is not valid YAML)", name, m[1], msg[len(m[0]):])
	}
	return fmt.Errorf("%s: %s (the file is not valid YAML)", name, strings.TrimPrefix(msg, "yaml: "))
}

// resolve follows an alias (*name) to the node it stands for. The parser
// refuses an alias to an anchor not yet complete, so there are no cycles;
// the bound only guards against a node without a target.
func (d *fileDecoder) resolve(n *yaml.Node) (*yaml.Node, error) {
	for i := 0; n.Kind == yaml.AliasNode; i++ {
		if n.Alias == nil || i == 100 {
			return nil, d.errorf(n, "alias *%s does not lead to a value", n.Value)
		}
		n = n.Alias
	}
	return n, nil
}

// section applies a mapping node to the struct v, whose settings are under
// path ("" at the top, "http", ...).
func (d *fileDecoder) section(n *yaml.Node, v reflect.Value, path string) error {
	at := n
	n, err := d.resolve(n)
	if err != nil {
		return err
	}
	if isNull(n) {
		return nil // "http:" with nothing under it keeps the defaults
	}
	if n.Kind != yaml.MappingNode {
		if path == "" {
			return d.errorf(at, "the file must be a mapping of settings such as data_dir: and http:, not %s", describe(n))
		}
		return d.errorf(at, "%s must hold settings (%s), not %s", path, strings.Join(keys(v.Type()), ", "), describe(n))
	}
	// Merged mappings (<<: *defaults) first, so the mapping's own keys
	// override them, as in YAML.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			if err := d.merge(n.Content[i+1], v, path); err != nil {
				return err
			}
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return d.errorf(k, "a key%s must be a name, not %s", under(path), describe(k))
		}
		if line, dup := seen[k.Value]; dup {
			return d.errorf(k, "%s is set twice (first on line %d)", join(path, k.Value), line)
		}
		seen[k.Value] = k.Line
		f, ok := fieldByKey(v.Type(), k.Value)
		if !ok {
			return d.errorf(k, "unknown key %q%s (known: %s)", k.Value, under(path), strings.Join(keys(v.Type()), ", "))
		}
		fv := v.FieldByIndex(f.Index)
		if f.Type.Kind() == reflect.Struct {
			err = d.section(val, fv, join(path, k.Value))
		} else {
			err = d.setting(val, fv, join(path, k.Value))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// merge applies the value of a merge key: a mapping or a list of them.
func (d *fileDecoder) merge(n *yaml.Node, v reflect.Value, path string) error {
	r, err := d.resolve(n)
	if err != nil {
		return err
	}
	if r.Kind == yaml.SequenceNode {
		for _, m := range r.Content {
			if err := d.section(m, v, path); err != nil {
				return err
			}
		}
		return nil
	}
	return d.section(n, v, path)
}

// setting applies a scalar node to the field v of the setting path.
func (d *fileDecoder) setting(n *yaml.Node, v reflect.Value, path string) error {
	at := n
	n, err := d.resolve(n)
	if err != nil {
		return err
	}
	if n.Kind != yaml.ScalarNode {
		return d.errorf(at, "%s takes a single value, not %s", path, describe(n))
	}
	switch v.Interface().(type) {
	case string:
		if isNull(n) {
			v.SetString("")
		} else {
			v.SetString(n.Value)
		}
	case bool:
		var b bool
		if err := n.Decode(&b); err != nil {
			return d.errorf(at, "%s %q: use true or false", path, n.Value)
		}
		v.SetBool(b)
	case Duration:
		t, err := time.ParseDuration(n.Value)
		if err != nil {
			return d.errorf(at, "%s %q is not a duration: write it like 30s, 5m or 1h", path, n.Value)
		}
		v.SetInt(int64(t))
	default:
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return d.errorf(at, "%s %q: %v", path, n.Value, err)
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// describe names a node's kind for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func under(path string) string {
	if path == "" {
		return ""
	}
	return " under " + path
}

// yamlKey returns the key of a field's yaml tag.
func yamlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return k
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); yamlKey(f) == key && key != "" && key != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// keys lists the keys a section takes, in the order of the struct.
func keys(t reflect.Type) []string {
	var ks []string
	for i := 0; i < t.NumField(); i++ {
		if k := yamlKey(t.Field(i)); k != "" && k != "-" {
			ks = append(ks, k)
		}
	}
	return ks
}

// Effective returns c with the settings whose empty value stands for a
// derived one filled in: database (data_dir/parley.db), http.public_url
// (http:// or https:// and http.listen) and secrets.key_file (data_dir/secret.key).
func (c Config) Effective() Config {
	c.Database = c.DatabasePath()
	c.HTTP.PublicURL = c.PublicURL()
	c.Secrets.KeyFile = c.KeyFilePath()
	return c
}

// derivedComments say where a value YAML prints came from, when it is
// empty in c: the keys of Effective, and settings whose empty value means
// something that is not itself a setting.
var derivedComments = []struct {
	path    string
	empty   func(c *Config) bool
	comment string
}{
	{"database", func(c *Config) bool { return c.Database == "" }, "data_dir/parley.db"},
	{"http.public_url", func(c *Config) bool { return c.HTTP.PublicURL == "" && c.HTTP.TLSCert == "" }, "http:// and http.listen"},
	{"http.public_url", func(c *Config) bool { return c.HTTP.PublicURL == "" && c.HTTP.TLSCert != "" }, "https:// (http.tls_cert is set) and http.listen"},
	{"secrets.key_file", func(c *Config) bool { return c.Secrets.KeyFile == "" }, "data_dir/secret.key"},
	{"sip.external_host", func(c *Config) bool { return c.SIP.ExternalHost == "" }, "empty: the listen addresses"},
	{"sip.sounds_dir", func(c *Config) bool { return c.SIP.SoundsDir == "" }, "empty: only the bundled sounds"},
	{"sip.rtp_ports", func(c *Config) bool { return c.SIP.RTPPorts == "" }, "empty: any port"},
	{"webrtc.ports", func(c *Config) bool { return c.WebRTC.Ports == "" }, "empty: any port"},
	{"webrtc.ice_servers", func(c *Config) bool { return c.WebRTC.ICEServers == "" }, "empty: host candidates only"},
	{"clusters_file", func(c *Config) bool { return c.ClustersFile == "" }, "empty: the built-in clusters na1-na12 (docs/clusters.sample.yaml)"},
}

// hiddenComments mark the secret settings YAML leaves out: a set secret
// is printed empty, with this comment, so check-config's output can be
// shared without leaking it.
var hiddenComments = []struct {
	path  string
	clear func(c *Config) bool // empties the setting; reports whether it was set
}{
	{"http.metrics_token", func(c *Config) bool {
		set := c.HTTP.MetricsToken != ""
		c.HTTP.MetricsToken = ""
		return set
	}},
	{"webrtc.ice_credential", func(c *Config) bool {
		set := c.WebRTC.ICECredential != ""
		c.WebRTC.ICECredential = ""
		return set
	}},
}

// YAML renders the effective configuration (for check-config): the values
// Parley runs with, the derived ones filled in and commented with where
// they come from. Secrets are not printed (hiddenComments). The result
// loads as a configuration file; a hidden secret must be added back.
func (c *Config) YAML() string {
	var root yaml.Node
	eff := c.Effective()
	var hidden []string
	for _, h := range hiddenComments {
		if h.clear(&eff) {
			hidden = append(hidden, h.path)
		}
	}
	if err := root.Encode(eff); err != nil {
		return "# cannot render the configuration: " + err.Error() + "\n"
	}
	for _, path := range hidden {
		if n := lookup(&root, path); n != nil {
			n.LineComment = "set, not printed"
		}
	}
	for _, dc := range derivedComments {
		if dc.empty(c) {
			if n := lookup(&root, dc.path); n != nil {
				n.LineComment = dc.comment
			}
		}
	}
	b, err := yaml.Marshal(&root)
	if err != nil {
		return "# cannot render the configuration: " + err.Error() + "\n"
	}
	return string(b)
}

// lookup returns the value node of a dotted path in a mapping node.
func lookup(n *yaml.Node, path string) *yaml.Node {
	for _, key := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
