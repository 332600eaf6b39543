package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// start launches the guest's QEMU process, daemonised so it outlives
// minicloud, paused, attaches to its QMP and serial sockets and lets the
// guest run. It returns once QEMU runs the guest (or, restoring a saved
// state, once it is restored).
func (d *Driver) start(ctx context.Context, l launch) (*guest, error) {
	dir := l.spec.Dir
	args, err := d.args(l)
	if err != nil {
		return nil, err
	}
	// Sockets of an earlier process would make QEMU fail to bind.
	if err := removeFiles(dir, fileQMP, fileSerial, fileVNC, filePid); err != nil {
		return nil, fmt.Errorf("clean guest sockets: %w", err)
	}
	cmd := exec.Command(d.opts.QEMU, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// Its own session: a signal to minicloud's process group (Ctrl-C in a
	// terminal) must not reach the guests.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	t0 := time.Now()
	runErr := runUntil(ctx, cmd)
	msg := strings.TrimSpace(stderr.String())
	if msg != "" {
		// QEMU's warnings are kept beside the guest for whoever debugs it.
		_ = os.WriteFile(filepath.Join(dir, fileErrLog), []byte(msg+"\n"), 0o600)
	}
	if runErr != nil {
		if msg == "" {
			msg = runErr.Error()
		}
		return nil, fmt.Errorf("qemu failed to start: %s", lastLines(msg, 3))
	}
	pid, err := readPid(dir)
	if err != nil {
		return nil, err
	}
	g := newGuest(d, l.spec, pid)
	g.rescued = l.rescue
	if err := g.attach(ctx); err != nil {
		g.kill(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("attach to qemu: %w", err)
	}
	// The guest was started paused, or waits for its saved state: it
	// runs only now that the serial console is read, so none of its
	// output is lost.
	if l.incoming != "" {
		if err := g.restore(ctx, l.incoming); err != nil {
			g.kill(context.WithoutCancel(ctx))
			return nil, err
		}
	} else if err := g.run(ctx, "cont", nil, nil); err != nil {
		g.kill(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("start the guest's vCPUs: %w", err)
	}
	if err := d.register(g); err != nil {
		g.kill(context.WithoutCancel(ctx))
		return nil, err
	}
	d.log.Debug("guest started", "instance", l.spec.ID, "pid", pid, "took", time.Since(t0))
	return g, nil
}

// runUntil runs cmd (QEMU's foreground half, which exits once the daemon
// is ready) and gives up when ctx ends; the daemon, if it started, is found
// by its pid file and killed by the caller.
func runUntil(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// readPid reads the pid file QEMU wrote.
func readPid(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, filePid))
	if err != nil {
		return 0, fmt.Errorf("qemu pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("qemu pid file holds %q", b)
	}
	return pid, nil
}

// ourProcess says whether pid is alive and is this guest's QEMU: a pid
// file can outlive its process and the number be reused, so the command
// line must name the guest's QMP socket.
func ourProcess(pid int, dir string) bool {
	return cmdlineHas(pid, filepath.Join(dir, fileQMP)) && alive(pid)
}

// cmdlineHas says whether the command line of process pid contains s.
func cmdlineHas(pid int, s string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && bytes.Contains(b, []byte(s))
}

// alive says whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
}

// waitGone waits until pid has exited or ctx ends.
func waitGone(ctx context.Context, pid int) error {
	for alive(pid) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// killPid ends a guest's process for good.
func killPid(ctx context.Context, pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill qemu %d: %w", pid, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := waitGone(wctx, pid); err != nil {
		return fmt.Errorf("qemu %d did not exit: %w", pid, err)
	}
	return nil
}
