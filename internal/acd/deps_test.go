package acd

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the engine pure: the standard library and the domain
// package only, never a driver, a network stack or another adapter.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if path == "github.com/parley-cc/parley/internal/cc" {
				continue
			}
			io := first == "net" || first == "os" || first == "database" || first == "syscall" || first == "io"
			if strings.Contains(first, ".") || io {
				t.Errorf("%s imports %s: the routing engine may import only the standard library (no I/O packages) and internal/cc", name, path)
			}
		}
	}
}
