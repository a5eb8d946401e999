package cc_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/parley-cc/parley"

// ioPackages are standard packages (with "/..." their subtrees) that mean a
// network stack, a database driver or a subprocess: the domain and the
// routing engine stay pure logic. net/netip and net/url are only parsers.
var ioPackages = []string{"net", "net/http/...", "net/rpc/...", "net/smtp", "net/mail", "crypto/tls", "database/sql/...", "os/exec", "os/signal", "plugin", "log/syslog"}

// TestDomainDependencies holds STYLE habit 15: internal/cc depends on the
// standard library only, internal/acd on the standard library and
// internal/cc, and neither on a network, database or process package, not
// even through another package.
func TestDomainDependencies(t *testing.T) {
	for _, tc := range []struct {
		pkg     string
		allowed []string // packages of this module it may depend on
	}{
		{module + "/internal/cc", nil},
		{module + "/internal/acd", []string{module + "/internal/cc"}},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			pkgs := listDeps(t, tc.pkg)
			for path, p := range pkgs {
				if p.Error != nil {
					t.Errorf("go list %s: %s", path, p.Error.Err)
					continue
				}
				var why string
				switch {
				case path == tc.pkg:
				case p.Standard:
					if isIOPackage(path) {
						why = "a network, database or process package"
					}
				case path == module || strings.HasPrefix(path, module+"/"):
					if !slices.Contains(tc.allowed, path) {
						why = "another Parley package"
					}
				default:
					why = "outside the standard library"
				}
				if why != "" {
					t.Errorf("%s depends on %s, %s (import chain %s)", tc.pkg, path, why, strings.Join(importChain(pkgs, tc.pkg, path), " -> "))
				}
			}
		})
	}
}

func isIOPackage(path string) bool {
	for _, p := range ioPackages {
		if tree, ok := strings.CutSuffix(p, "/..."); ok && (path == tree || strings.HasPrefix(path, tree+"/")) || path == p {
			return true
		}
	}
	return false
}

type listedPackage struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Error      *struct{ Err string }
}

// listDeps returns pkg and everything it depends on (not its tests), by import path.
func listDeps(t *testing.T, pkg string) map[string]*listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-deps", "-json=ImportPath,Standard,Imports,Error", pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr.Bytes())
	}
	pkgs := make(map[string]*listedPackage)
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[p.ImportPath] = &p
	}
	if pkgs[pkg] == nil {
		t.Fatalf("go list -deps %s did not list the package itself", pkg)
	}
	return pkgs
}

// importChain returns the shortest chain of imports from root to target.
func importChain(pkgs map[string]*listedPackage, root, target string) []string {
	prev := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == target {
			var chain []string
			for p := target; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		if p := pkgs[cur]; p != nil {
			for _, imp := range p.Imports {
				if _, seen := prev[imp]; !seen {
					prev[imp] = cur
					queue = append(queue, imp)
				}
			}
		}
	}
	return []string{root, "?", target}
}
