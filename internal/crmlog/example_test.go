package crmlog_test

import (
	"fmt"

	"github.com/parley-cc/parley/internal/crmlog"
)

func ExampleCutBytes() {
	s, cut := crmlog.CutBytes("Grüezi 🇨🇭 Zürich", 14, "…")
	fmt.Printf("%q %v\n", s, cut)
	// Output: "Grüezi …" true
}
