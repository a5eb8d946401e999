package main

import (
	"fmt"
	"io"
	"os"

	"github.com/parley-cc/parley/internal/config"
)

// warnUnknownEnv warns on stderr of each PARLEY_* environment variable that
// is not a setting (a misspelt PARLEY_HTTP_LISEN would otherwise be ignored
// without a word).
func warnUnknownEnv(stderr io.Writer) {
	for _, w := range config.UnknownEnv(os.Environ()) {
		fmt.Fprintln(stderr, "parley: warning:", w)
	}
}
