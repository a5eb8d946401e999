package main

import (
	"strings"
	"testing"

	"github.com/parley-cc/parley/internal/cc"
)

func TestParseLevel(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Level
		peak int
	}{
		// The rows of run-matrix.sh.
		{"cps:70", Level{Name: "cps:70", CPS: 70, Limit: 1050, Total: 3150, HoldS: 10}, 700},
		{"conc:1000", Level{Name: "conc:1000", CPS: 30, Limit: 1000, Total: 1000, HoldS: 60}, 1000},
		{" 30,1000,1000,60 ", Level{Name: "30,1000,1000,60", CPS: 30, Limit: 1000, Total: 1000, HoldS: 60}, 1000},
		{"5,20,12,5", Level{Name: "5,20,12,5", CPS: 5, Limit: 20, Total: 12, HoldS: 5}, 12},
	} {
		got, err := ParseLevel(tt.in)
		if err != nil {
			t.Errorf("ParseLevel(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseLevel(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if p := got.Peak(); p != tt.peak {
			t.Errorf("ParseLevel(%q).Peak() = %d, want %d", tt.in, p, tt.peak)
		}
	}
}

func TestParseLevelErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "use cps:N, conc:N"},
		{"cps:", `"" is not a whole number`},
		{"cps:0", `"0" is not a whole number`},
		{"cps:-5", `"-5" is not a whole number`},
		{"conc:lots", `"lots" is not a whole number`},
		{"rate:50", "use cps:N, conc:N"},
		{"70,1050,3150", "four numbers"},
		{"70,1050,x,10", "in place 3"},
		{"70,1050,3150,1000000", "1 to 100000"},
	} {
		_, err := ParseLevel(tt.in)
		if err == nil {
			t.Errorf("ParseLevel(%q) succeeded, want an error", tt.in)
			continue
		}
		if !cc.IsCode(err, cc.EINVALID) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseLevel(%q) = %v, want EINVALID saying %q", tt.in, err, tt.want)
		}
	}
}

func TestLevelArgs(t *testing.T) {
	l, _ := ParseLevel("cps:40")
	if got := strings.Join(l.Args(), " "); got != "40 600 1800 10" {
		t.Errorf("Args = %q, want the script's CPS LIMIT TOTAL HOLD_S", got)
	}
}

func TestAgentsFor(t *testing.T) {
	for _, tt := range []struct {
		levels []string
		want   int
	}{
		{[]string{"5,20,12,5"}, 22},                     // 12 up at once, at least 10 spare
		{[]string{"cps:70"}, 770},                       // 700 up at once, a tenth spare
		{[]string{"cps:20", "conc:500", "cps:50"}, 550}, // the largest level counts
	} {
		var ls []Level
		for _, s := range tt.levels {
			l, err := ParseLevel(s)
			if err != nil {
				t.Fatal(err)
			}
			ls = append(ls, l)
		}
		if got := AgentsFor(ls); got != tt.want {
			t.Errorf("AgentsFor(%v) = %d, want %d", tt.levels, got, tt.want)
		}
	}
}
