package instance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"minicloud/hypervisor"
	"minicloud/store"
)

// ConsoleOutput is the tail of the serial console: the last length lines
// (negative: all). As Nova, an instance on no host is not ready (409);
// the text is ASCII with anything else replaced, and control characters
// other than tab and newline removed.
func (m *Manager) ConsoleOutput(ctx context.Context, c Caller, id string, length int) (string, error) {
	inst, err := m.view(ctx, c, id)
	if err != nil {
		return "", err
	}
	if inst.Host == "" {
		return "", notReady(id)
	}
	out, err := m.driver.ConsoleLog(ctx, id)
	if err != nil {
		if errors.Is(err, hypervisor.ErrNotFound) {
			return "", notReady(id)
		}
		return "", fmt.Errorf("console output of %s: %w", id, driverErr(err))
	}
	if length >= 0 {
		out = tailLines(out, length)
	}
	return consoleText(out), nil
}

// tailLines is Nova's _tail_log: the last n '\n'-separated pieces.
func tailLines(b []byte, n int) []byte {
	if n == 0 {
		return nil
	}
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}

// consoleText decodes as ASCII with replacement and drops the control
// characters Nova's API drops ([\x00-\x08\x0B-\x1F]).
func consoleText(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		switch {
		case c >= 0x80:
			sb.WriteRune('\uFFFD')
		case c <= 0x08 || (c >= 0x0b && c <= 0x1f):
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// notReady is Nova's InstanceNotReady.
func notReady(id string) error { return Conflictf("Instance %s is not ready", id) }

// Diagnostics reads the guest's counters. As Nova, the instance must be
// on a host and its guest running.
func (m *Manager) Diagnostics(ctx context.Context, c Caller, id string) (*store.Instance, hypervisor.Diagnostics, error) {
	inst, err := m.view(ctx, c, id)
	if err != nil {
		return nil, hypervisor.Diagnostics{}, err
	}
	if inst.Host == "" {
		return nil, hypervisor.Diagnostics{}, notReady(id)
	}
	if s := m.powerState(ctx, id); s != hypervisor.Running {
		return nil, hypervisor.Diagnostics{}, &StateError{Action: "get_diagnostics", ID: id, Attr: "power state", State: hypervisor.PowerState(inst.PowerState).String()}
	}
	d, err := m.driver.Diagnostics(ctx, id)
	if err != nil {
		return nil, hypervisor.Diagnostics{}, fmt.Errorf("diagnostics of %s: %w", id, driverErr(err))
	}
	d.ConfigDrive = inst.ConfigDrive
	return inst, d, nil
}

// OpenConsole connects to a console stream of a running instance (the
// console proxy calls it with an admin Caller once a console token has
// been checked). Nova refuses consoles while the instance is deleted or
// migrating.
func (m *Manager) OpenConsole(ctx context.Context, c Caller, id string, kind hypervisor.ConsoleKind) (io.ReadWriteCloser, error) {
	inst, err := m.view(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if inst.Host == "" {
		return nil, notReady(id)
	}
	if inst.TaskState == TaskDeleting || inst.TaskState == TaskMigrating {
		return nil, &StateError{Action: "get_vnc_console", ID: id, Attr: "task_state", State: inst.TaskState}
	}
	rw, err := m.driver.OpenConsole(ctx, id, kind)
	if err != nil {
		if errors.Is(err, hypervisor.ErrNotFound) || errors.Is(err, hypervisor.ErrInvalidState) {
			return nil, notReady(id)
		}
		return nil, fmt.Errorf("console of %s: %w", id, driverErr(err))
	}
	return rw, nil
}
