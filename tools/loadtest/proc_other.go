//go:build !linux

package main

import (
	"syscall"
	"time"
)

func childProcAttr() *syscall.SysProcAttr { return nil }

// clockTick is unknown off Linux: there is no /proc/PID/stat to read.
func clockTick() time.Duration { return 0 }

func selfCPU() (time.Duration, bool) { return 0, false }

func threadCPU() (time.Duration, bool) { return 0, false }
