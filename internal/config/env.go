package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// NonSettingEnv are the PARLEY_* environment variables Parley reads that are
// not settings of Config, with where they are read. UnknownEnv does not
// report them; a new variable of this kind belongs in this list.
var NonSettingEnv = map[string]string{
	"PARLEY_CONFIG":        "the configuration file (--config)",
	"PARLEY_SECRET_KEY":    "the keyring, overriding secrets.key_file (package secret)",
	"PARLEY_REQUIRE_PEERS": "tests: fail instead of skip without baresip and SIPp (scripts/test)",
	"PARLEY_SCREENSHOTS":   "tests: the directory for browser tests' screenshots (internal/testkit/browser)",
	"PARLEY_PANEL_BENCH":   "tests: the number of calls of the offer-to-screen-pop measurement (docs/benchmarks.md)",
}

// EnvNames returns the environment variable of every setting, sorted.
func EnvNames() []string {
	var names []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type)
			} else if e := f.Tag.Get("env"); e != "" {
				names = append(names, e)
			}
		}
	}
	walk(reflect.TypeOf(Config{}))
	sort.Strings(names)
	return names
}

// UnknownEnv returns a warning for each PARLEY_* variable in environ
// ("NAME=value" entries, as os.Environ returns them) that is neither a
// setting nor in NonSettingEnv: most likely a misspelt setting, which would
// otherwise be ignored without a word. A warning names the closest known
// variable when one is a few letters away.
func UnknownEnv(environ []string) []string {
	known := map[string]bool{}
	all := EnvNames()
	for _, n := range all {
		known[n] = true
	}
	for n := range NonSettingEnv {
		known[n] = true
		all = append(all, n)
	}
	var warnings []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "PARLEY_") || known[name] {
			continue
		}
		w := fmt.Sprintf("%s is not a Parley setting and is ignored", name)
		if near := closest(name, all); near != "" {
			w += fmt.Sprintf(" (did you mean %s?)", near)
		}
		warnings = append(warnings, w)
	}
	sort.Strings(warnings)
	return warnings
}

// closest returns the name in names nearest to s by edit distance, when it
// is at most a third of s's length away; else "".
func closest(s string, names []string) string {
	best, bestD := "", len(s)/3+1
	for _, n := range names {
		if d := editDistance(s, n); d < bestD || (d == bestD && best != "" && n < best) {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
