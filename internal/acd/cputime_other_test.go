//go:build !unix

package acd

import "time"

// processCPU reports that CPU time is not known on this platform.
func processCPU() (time.Duration, bool) { return 0, false }
