package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/keylessdev/keyless/internal/config"
)

const (
	listenPrefix = "keyless listening on "
	startTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
)

// child is a `keyless serve` process on loopback with its own temp directory.
type child struct {
	cmd  *exec.Cmd
	url  string
	dir  string
	logf *os.File
	done chan struct{} // closed when the process has been waited for
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// startChild builds keyless (unless bin is given), writes cfg and starts `keyless serve`
// on 127.0.0.1:0, returning once it has printed its listening line.
func startChild(ctx context.Context, bin string, cfg *config.Config, stderr io.Writer) (_ *child, err error) {
	dir, err := os.MkdirTemp("", "keyless-loadtest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if bin == "" {
		bin = filepath.Join(dir, "keyless")
		fmt.Fprintln(stderr, "loadtest: building keyless…")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/keylessdev/keyless/cmd/keyless")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("go build keyless: %w", err)
		}
	}
	doc, err := config.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "keyless.yaml")
	if err := os.WriteFile(cfgPath, doc, 0o600); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath, "--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0")
	cmd.Stderr = logf
	cmd.SysProcAttr = childProcAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start keyless: %w", err)
	}
	c := &child{cmd: cmd, dir: dir, logf: logf, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		// Read the listening line, then drain stdout so the child never blocks on it.
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			if u, ok := parseListenLine(sc.Text()); ok && !found {
				found = true
				urls <- u
			}
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(c.done)
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case c.url = <-urls:
		return c, nil
	case <-c.done:
		err = fmt.Errorf("keyless exited before listening (%v):\n%s", cmd.ProcessState, c.logTail())
	case <-timer.C:
		err = fmt.Errorf("keyless did not print %q within %s:\n%s", listenPrefix+"URL", startTimeout, c.logTail())
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.stop(io.Discard)
	return nil, err
}

// parseListenLine extracts the URL from "keyless listening on URL"; only http URLs on
// loopback are accepted.
func parseListenLine(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), listenPrefix)
	if !ok {
		return "", false
	}
	u, err := checkLoopbackURL(strings.TrimSpace(rest))
	if err != nil {
		return "", false
	}
	return u, true
}

// stop sends SIGTERM (graceful shutdown flushes audit), kills after stopTimeout, and
// removes the temp directory.
func (c *child) stop(stderr io.Writer) {
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(stopTimeout):
			fmt.Fprintln(stderr, "loadtest: keyless did not stop in time; killing it")
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
	if st := c.cmd.ProcessState; st != nil && !st.Success() && !signaled(st) {
		fmt.Fprintf(stderr, "loadtest: keyless exited with %v:\n%s\n", st, c.logTail())
	}
	_ = c.logf.Close()
	_ = os.RemoveAll(c.dir)
}

func signaled(st *os.ProcessState) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

// logTail is the end of the child's stderr, for error messages.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.logf.Name())
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	const max = 4 << 10
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// procCPU is the child's utime+stime from /proc/PID/stat, when available.
func (c *child) procCPU(tick time.Duration) (time.Duration, error) {
	if tick <= 0 {
		return 0, errors.New("clock tick unknown")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.pid()))
	if err != nil {
		return 0, err
	}
	ticks, err := parseProcStat(b)
	if err != nil {
		return 0, err
	}
	return time.Duration(ticks) * tick, nil
}
