package qemu

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"minicloud/hypervisor"
)

// consoleLogMax is how much of the console log is read back: Nova's
// libvirt driver caps it at 100 KiB too.
const consoleLogMax = 100 << 10

// ConsoleLog returns the tail of the console log the serial hub writes.
func (d *Driver) ConsoleLog(ctx context.Context, id string) ([]byte, error) {
	if _, err := d.State(ctx, id); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(d.dir(id), fileConsoleLog))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("console log of %s: %w", id, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("console log of %s: %w", id, err)
	}
	off := st.Size() - consoleLogMax
	if off < 0 {
		off = 0
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return nil, fmt.Errorf("console log of %s: %w", id, err)
	}
	return b, nil
}

// OpenConsole connects a viewer: the serial console through the one
// reader that drains the guest's UART, VNC straight to QEMU's socket
// (QEMU serves several VNC clients at once).
func (d *Driver) OpenConsole(ctx context.Context, id string, kind hypervisor.ConsoleKind) (io.ReadWriteCloser, error) {
	g, err := d.runningGuest(id, "console")
	if err != nil {
		return nil, err
	}
	switch kind {
	case hypervisor.ConsoleSerial:
		return g.console().open()
	case hypervisor.ConsoleVNC:
		var dialer net.Dialer
		c, err := dialer.DialContext(ctx, "unix", filepath.Join(g.dir, fileVNC))
		if err != nil {
			return nil, fmt.Errorf("vnc console of %s: %w", id, err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("console %s of %s: %w", kind, id, hypervisor.ErrNotSupported)
}
