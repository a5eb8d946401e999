// Package loadkit is what Parley's load tools (cmd/parley-load,
// cmd/parley-rtcload) share: a benchmark data directory written through
// Parley's own store (Prepare), `parley serve` as a child process on
// loopback (StartParley) whose CPU time and resident memory are read from
// /proc (ProcCPU, ReadProcMem, Sampler), its Prometheus metrics (Metrics)
// and Go profiles (Profiler).
package loadkit
