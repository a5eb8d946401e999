package loadkit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// ProcCPU returns a process's CPU time (utime + stime) from /proc/PID/stat.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	return ParseStatCPU(string(b))
}

// ParseStatCPU reads utime and stime, fields 14 and 15 of a stat line. The
// command name (field 2) is in parentheses and may hold spaces, so fields
// are counted from the last ')'.
func ParseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc stat: no ')' after the command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the command name, want at least 13", len(f))
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc stat: utime %q or stime %q is not a number", f[11], f[12])
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// ProcMem is a process's resident memory from /proc/PID/status.
type ProcMem struct {
	RSSKB int64 // VmRSS: resident now
	HWMKB int64 // VmHWM: the most resident so far
}

// ReadProcMem reads a process's VmRSS and VmHWM from /proc/PID/status.
func ReadProcMem(pid int) (ProcMem, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcMem{}, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	defer f.Close()
	return ParseStatusMem(f)
}

// ParseStatusMem reads VmRSS and VmHWM from the text of /proc/PID/status.
func ParseStatusMem(r io.Reader) (ProcMem, error) {
	var m ProcMem
	var seen int
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return ProcMem{}, fmt.Errorf("parse /proc status: %s %q is not a size in kB", key, strings.TrimSpace(val))
		}
		if key == "VmRSS" {
			m.RSSKB = kb
		} else {
			m.HWMKB = kb
		}
		seen++
	}
	if err := sc.Err(); err != nil {
		return ProcMem{}, fmt.Errorf("parse /proc status: %w", err)
	}
	if seen < 2 {
		return ProcMem{}, fmt.Errorf("parse /proc status: no VmRSS and VmHWM (a kernel thread or a zombie?)")
	}
	return m, nil
}

// UDPDrops reads /proc/net/udp and returns, for every IPv4 UDP socket whose
// local port passes keep, its inode and the datagrams the kernel dropped
// because its receive buffer was full.
func UDPDrops(r io.Reader, keep func(port int) bool) (map[uint64]int64, error) {
	out := map[uint64]int64{}
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 13 {
			return nil, fmt.Errorf("parse /proc/net/udp: line %q has %d fields, want 13", sc.Text(), len(f))
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if !ok || err != nil {
			return nil, fmt.Errorf("parse /proc/net/udp: local address %q", f[1])
		}
		if !keep(int(port)) {
			continue
		}
		inode, err1 := strconv.ParseUint(f[9], 10, 64)
		drops, err2 := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("parse /proc/net/udp: inode %q or drops %q is not a number", f[9], f[len(f)-1])
		}
		out[inode] = drops
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse /proc/net/udp: %w", err)
	}
	return out, nil
}

// Sampler records, once a second until stopped, a process's largest
// VmRSS and the receive-buffer drops of its UDP sockets (by local port).
// A socket's drop counter vanishes with the socket, so the largest value
// seen while it lived is kept, per inode.
type Sampler struct {
	pid   int
	ports func(int) bool
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	peakKB  int64
	drops   map[uint64]int64
	samples int
}

// StartSampler samples process pid every interval until Stop; ports picks
// the local UDP ports whose receive-buffer drops count.
func StartSampler(pid int, ports func(int) bool, every time.Duration) *Sampler {
	s := &Sampler{pid: pid, ports: ports, stop: make(chan struct{}), done: make(chan struct{}), drops: map[uint64]int64{}}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *Sampler) sample() {
	m, merr := ReadProcMem(s.pid)
	var drops map[uint64]int64
	if f, err := os.Open("/proc/net/udp"); err == nil {
		drops, _ = UDPDrops(f, s.ports)
		f.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if merr == nil { // else the process is gone; the peak so far stands
		s.peakKB = max(s.peakKB, m.RSSKB)
		s.samples++
	}
	for inode, d := range drops {
		s.drops[inode] = max(s.drops[inode], d)
	}
}

// Stop ends the sampling and returns the peak VmRSS seen, the socket drops
// and the number of samples.
func (s *Sampler) Stop() (peakKB, drops int64, samples int) {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.drops {
		drops += d
	}
	return s.peakKB, drops, s.samples
}
