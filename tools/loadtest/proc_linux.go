package main

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// childProcAttr puts the child in its own process group (a terminal's Ctrl-C reaches
// only the load test, which then stops the child gracefully) and has the kernel kill it
// if the load test dies without cleaning up.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// clockTick is the unit of /proc/PID/stat times (getconf CLK_TCK, almost always 100 Hz).
func clockTick() time.Duration {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 10 * time.Millisecond
	}
	hz, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || hz <= 0 || hz > 1_000_000 {
		return 10 * time.Millisecond
	}
	return time.Second / time.Duration(hz)
}

// selfCPU is this process's user+system CPU time.
func selfCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID (not exported by package syscall).
const clockThreadCPUTime = 3

// threadCPU is the calling OS thread's CPU time (nanosecond precision, unlike
// getrusage); the caller locks its goroutine to the thread around the measurement.
func threadCPU() (time.Duration, bool) {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
