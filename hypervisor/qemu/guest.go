package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/digitalocean/go-qemu/qemu"
	"github.com/digitalocean/go-qemu/qmp"

	"minicloud/hypervisor"
)

// errGone: the guest's process ended while a command waited on it.
var errGone = errors.New("qemu process exited")

// guest is one running QEMU process and minicloud's connections to it.
type guest struct {
	d   *Driver
	id  string
	dir string
	pid int
	// spec is what the process was started with.
	spec    hypervisor.Spec
	rescued bool

	mu  sync.Mutex
	dom *qemu.Domain
	// expectExit is set before minicloud itself makes QEMU exit, so the
	// exit is not reported as the guest stopping by itself.
	expectExit bool
	detached   bool
	// shutdownReason is the reason of QEMU's last SHUTDOWN event.
	shutdownReason string

	// ending is set when gone starts; exited is closed once the process
	// is gone and its console read to the end.
	ending bool
	exited chan struct{}
	// serial reads the serial console (set once connected).
	serial *serialHub
}

func newGuest(d *Driver, spec hypervisor.Spec, pid int) *guest {
	return &guest{d: d, id: spec.ID, dir: spec.Dir, pid: pid, spec: spec, exited: make(chan struct{})}
}

// attach connects to QMP and the serial socket and starts watching the
// process.
func (g *guest) attach(ctx context.Context) error {
	if err := g.attachQMP(ctx); err != nil {
		return err
	}
	return g.attachSerial(ctx)
}

// attachQMP connects to QMP and starts watching the process.
func (g *guest) attachQMP(ctx context.Context) error {
	dom, events, err := g.connect(ctx)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.dom = dom
	g.mu.Unlock()
	go g.watch(dom, events)
	return nil
}

// attachSerial connects the serial hub, which writes the console log from
// then on, unless the process writes it itself (started by an older
// minicloud with QEMU's logfile=).
func (g *guest) attachSerial(ctx context.Context) error {
	log := g.d.log.With("instance", g.id)
	path := filepath.Join(g.dir, fileConsoleLog)
	var out *consoleLog
	if !cmdlineHas(g.pid, "logfile="+path) {
		out = newConsoleLog(path, log)
	}
	hub := newSerialHub(filepath.Join(g.dir, fileSerial), out, log)
	if err := hub.start(ctx); err != nil {
		return fmt.Errorf("serial console: %w", err)
	}
	g.mu.Lock()
	if g.ending {
		// gone has run and found no hub to close: close this one.
		g.mu.Unlock()
		hub.close()
		return fmt.Errorf("serial console: %w", errGone)
	}
	g.serial = hub
	g.mu.Unlock()
	return nil
}

// console is the guest's serial hub; nil when it has none.
func (g *guest) console() *serialHub {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.serial
}

// connect opens the QMP socket (QEMU allows one client; it is there once
// the daemon is ready, but retry briefly in case of a slow start).
func (g *guest) connect(ctx context.Context) (*qemu.Domain, chan qmp.Event, error) {
	sock := filepath.Join(g.dir, fileQMP)
	var last error
	for i := 0; i < 50; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
		mon, err := qmp.NewSocketMonitor("unix", sock, 2*time.Second)
		if err != nil {
			last = err
			continue
		}
		if err := mon.Connect(); err != nil {
			mon.Disconnect()
			last = err
			continue
		}
		dom, err := qemu.NewDomain(mon, g.id)
		if err != nil {
			mon.Disconnect()
			return nil, nil, err
		}
		// The stream is read until the connection ends, which closes
		// it; signalling done would unsubscribe at once.
		events, _, err := dom.Events()
		if err != nil {
			dom.Close()
			return nil, nil, err
		}
		return dom, events, nil
	}
	return nil, nil, fmt.Errorf("connect %s: %w", sock, last)
}

// watch reads QMP events until the connection ends. The connection ends
// when QEMU exits, or when minicloud dropped it (a command that timed
// out): then it reconnects.
func (g *guest) watch(dom *qemu.Domain, events chan qmp.Event) {
	for ev := range events {
		if ev.Event == "SHUTDOWN" {
			reason, _ := ev.Data["reason"].(string)
			g.mu.Lock()
			g.shutdownReason = reason
			g.mu.Unlock()
		}
	}
	g.mu.Lock()
	detached, expected := g.detached, g.expectExit
	if g.dom == dom {
		g.dom = nil
	}
	g.mu.Unlock()
	if detached {
		return
	}
	// QEMU closes QMP and removes its socket as it exits: give it a
	// moment before deciding that only the connection was lost.
	if expected || !exists(filepath.Join(g.dir, fileQMP)) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = waitGone(ctx, g.pid)
		cancel()
	}
	if alive(g.pid) {
		// The connection was dropped, the process lives on: reconnect.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		dom, events, err := g.connect(ctx)
		cancel()
		if err == nil {
			g.mu.Lock()
			g.dom = dom
			g.mu.Unlock()
			go g.watch(dom, events)
			return
		}
		g.d.log.Warn("lost the guest's QMP connection", "instance", g.id, "err", err)
		// Without QMP the guest cannot be controlled: wait for its end.
		_ = waitGone(context.Background(), g.pid)
	}
	g.gone()
}

// gone records the end of the process, and reports it when minicloud did
// not cause it.
func (g *guest) gone() {
	// Unregistered before exited is closed: whoever waits for the exit
	// must then find no running guest.
	g.d.unregister(g)
	g.mu.Lock()
	if g.ending {
		g.mu.Unlock()
		<-g.exited
		return
	}
	g.ending = true
	expected, reason, hub := g.expectExit, g.shutdownReason, g.serial
	g.mu.Unlock()
	// The console log gets the last of the output before the exit is
	// known: whoever waits for it then finds the log complete, and no
	// reader of this process connects to the socket of the next one.
	hub.finish(2 * time.Second)
	close(g.exited)
	_ = removeFiles(g.dir, fileQMP, fileSerial, fileVNC, filePid)
	if expected {
		return
	}
	if reason == "" {
		reason = "qemu process exited"
	} else {
		reason = "guest shut down: " + reason
	}
	g.d.emit(hypervisor.Event{ID: g.id, State: hypervisor.Shutdown, Reason: reason, Time: time.Now()})
}

// detach lets go of the guest's sockets without stopping it.
func (g *guest) detach() {
	g.mu.Lock()
	g.detached = true
	dom, hub := g.dom, g.serial
	g.dom = nil
	g.mu.Unlock()
	if dom != nil {
		dom.Close()
	}
	hub.close()
}

// domain is the guest's QMP connection.
func (g *guest) domain() (*qemu.Domain, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.dom == nil {
		select {
		case <-g.exited:
			return nil, errGone
		default:
		}
		return nil, errors.New("no QMP connection to the guest")
	}
	return g.dom, nil
}

// run executes one QMP command and decodes its "return" into out (when
// not nil). The library's calls cannot be cancelled, so an expired ctx
// drops the connection, which ends the call; the watcher reconnects.
func (g *guest) run(ctx context.Context, cmd string, args any, out any) error {
	dom, err := g.domain()
	if err != nil {
		return err
	}
	c := qmp.Command{Execute: cmd}
	if args != nil {
		c.Args = args
	}
	type result struct {
		raw []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		raw, err := dom.Run(c)
		done <- result{raw, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		dom.Close()
		return fmt.Errorf("qmp %s: %w", cmd, ctx.Err())
	case <-g.exited:
		return fmt.Errorf("qmp %s: %w", cmd, errGone)
	}
	if r.err != nil {
		return fmt.Errorf("qmp %s: %w", cmd, r.err)
	}
	if out != nil {
		var resp struct {
			Return json.RawMessage `json:"return"`
		}
		if err := json.Unmarshal(r.raw, &resp); err != nil {
			return fmt.Errorf("qmp %s: %w", cmd, err)
		}
		if err := json.Unmarshal(resp.Return, out); err != nil {
			return fmt.Errorf("qmp %s answer: %w", cmd, err)
		}
	}
	return nil
}

// status is QEMU's run state ("running", "paused", "shutdown", ...).
func (g *guest) status(ctx context.Context) (string, error) {
	var st struct {
		Status string `json:"status"`
	}
	if err := g.run(ctx, "query-status", nil, &st); err != nil {
		return "", err
	}
	return st.Status, nil
}

// powerState maps QEMU's run state to Nova's power state.
func powerState(status string) hypervisor.PowerState {
	switch status {
	case "running":
		return hypervisor.Running
	case "paused", "suspended", "finish-migrate", "postmigrate", "save-vm", "restore-vm", "debug", "colo":
		return hypervisor.Paused
	case "shutdown":
		return hypervisor.Shutdown
	case "guest-panicked", "internal-error", "io-error", "watchdog":
		return hypervisor.Crashed
	}
	return hypervisor.NoState
}

// shutdownRetry is how often a clean shutdown presses the power button
// again (Nova's shutdown_retry_interval).
const shutdownRetry = 10 * time.Second

// stopProcess makes QEMU exit: a clean guest shutdown first when timeout
// is positive (the ACPI power button), then QMP quit, then SIGKILL.
func (g *guest) stopProcess(ctx context.Context, timeout time.Duration) error {
	g.mu.Lock()
	g.expectExit = true
	g.mu.Unlock()
	// The power button is pressed again every retry interval, as Nova's
	// libvirt driver does: a guest still booting has nothing listening
	// to it yet and loses the first press.
	for left := timeout; left > 0; left -= shutdownRetry {
		if err := g.run(ctx, "system_powerdown", nil, nil); err != nil {
			break
		}
		if g.waitExit(ctx, min(left, shutdownRetry)) {
			return nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := g.run(ctx, "quit", nil, nil); err == nil || errors.Is(err, errGone) {
		if g.waitExit(ctx, 5*time.Second) {
			return nil
		}
	}
	return g.kill(ctx)
}

// waitExit waits up to timeout for the process to end.
func (g *guest) waitExit(ctx context.Context, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-g.exited:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// kill ends the process with SIGKILL and waits until it is gone.
func (g *guest) kill(ctx context.Context) error {
	g.mu.Lock()
	g.expectExit = true
	g.mu.Unlock()
	if err := killPid(ctx, g.pid); err != nil {
		return err
	}
	// The watcher sees the connection end; do not wait on it for long.
	select {
	case <-g.exited:
	case <-time.After(2 * time.Second):
		g.gone()
	}
	return nil
}
