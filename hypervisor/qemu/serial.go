package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// serialHub is the one reader of a guest's serial socket. A client that
// connects to the socket and stops reading stalls the guest's UART (and
// every guest process writing to the console), so minicloud keeps exactly
// one connection that always drains it. Every byte read goes first to the
// console log, then to the console clients, a client that does not keep
// up losing bytes: the log and the consoles see the same bytes, exactly
// as the guest sent them.
//
// QEMU's own logfile= is not used: QEMU 7.2 logs a byte again each time
// the UART retries it after the socket was full (EAGAIN), so its log
// repeats characters whenever this reader lags. The price is that output
// printed while minicloud is not attached (between a crash and its
// restart) is dropped by QEMU's socket backend, which never makes the
// guest wait for a client.
type serialHub struct {
	path string
	// out is the console log; nil when QEMU writes it itself (a process
	// started by an older minicloud with logfile=).
	out *consoleLog
	log *slog.Logger

	// ctx ends with close or finish: it stops a reconnect.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	conn    net.Conn
	clients map[*serialClient]struct{}
	closed  bool
	// finishing: the process has exited; read to the end, no reconnect.
	finishing bool
	// done is closed when the reader has stopped; nil until it started.
	done chan struct{}
}

func newSerialHub(path string, out *consoleLog, log *slog.Logger) *serialHub {
	ctx, cancel := context.WithCancel(context.Background())
	return &serialHub{path: path, out: out, log: log, ctx: ctx, cancel: cancel, clients: map[*serialClient]struct{}{}}
}

// start connects to the socket and starts reading; it returns once
// connected, so whoever then lets the guest run loses none of its output.
func (h *serialHub) start(ctx context.Context) error {
	c, err := dialSerial(ctx, h.path)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		c.Close()
		return errors.New("serial console closed")
	}
	h.conn = c
	h.done = make(chan struct{})
	go h.run(c)
	return nil
}

// dialSerial connects to QEMU's serial socket, retrying briefly: QEMU
// takes a new client a moment after the last one left.
func dialSerial(ctx context.Context, path string) (net.Conn, error) {
	var last error
	for i := 0; i < 50; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("connect %s: %w", path, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
		var d net.Dialer
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "unix", path)
		cancel()
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, fmt.Errorf("connect %s: %w", path, last)
}

// run reads until close. Should QEMU drop the connection while it runs,
// the clients are ended and the hub connects again (QEMU's socket then
// discards the guest's output until it has a client).
func (h *serialHub) run(c net.Conn) {
	defer close(h.done)
	if h.out != nil {
		defer h.out.close()
	}
	for {
		h.read(c)
		h.endClients()
		h.mu.Lock()
		stop := h.closed || h.finishing
		h.mu.Unlock()
		if stop {
			return
		}
		var err error
		if c, err = dialSerial(h.ctx, h.path); err != nil {
			// QEMU exited, most likely; its watcher closes the hub.
			h.log.Debug("serial console connection ended", "err", err)
			return
		}
		h.mu.Lock()
		if h.closed || h.finishing {
			h.mu.Unlock()
			c.Close()
			return
		}
		h.conn = c
		h.mu.Unlock()
		h.log.Info("serial console reconnected")
	}
}

// read copies the guest's output to the log and the clients until the
// connection ends.
func (h *serialHub) read(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if h.out != nil {
				h.out.write(buf[:n])
			}
			h.mu.Lock()
			for cl := range h.clients {
				cl.deliver(buf[:n])
			}
			h.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// endClients ends every client (their connection is gone).
func (h *serialHub) endClients() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conn = nil
	for cl := range h.clients {
		cl.end()
	}
	h.clients = map[*serialClient]struct{}{}
}

// finish is close for a process that has exited: the reader first gets
// what the process left in the socket, up to its end or for timeout.
func (h *serialHub) finish(timeout time.Duration) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.finishing = true
	h.cancel()
	done := h.done
	h.mu.Unlock()
	if done != nil {
		t := time.NewTimer(timeout)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
	h.close()
}

// close drops the connection and every client, and waits until the
// reader has stopped: nothing is appended to the log after it returns.
func (h *serialHub) close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.cancel()
	if h.conn != nil {
		h.conn.Close()
	}
	for cl := range h.clients {
		cl.end()
	}
	h.clients = map[*serialClient]struct{}{}
	done := h.done
	h.mu.Unlock()
	if done != nil {
		<-done
	}
}

// open adds a console client.
func (h *serialHub) open() (io.ReadWriteCloser, error) {
	if h == nil {
		return nil, errors.New("guest has no serial console")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errors.New("guest's serial console is closed")
	}
	if h.conn == nil {
		return nil, errors.New("guest's serial console is not connected")
	}
	cl := newSerialClient(h)
	h.clients[cl] = struct{}{}
	return cl, nil
}

// write types into the guest's serial port.
func (h *serialHub) write(p []byte) (int, error) {
	h.mu.Lock()
	c := h.conn
	h.mu.Unlock()
	if c == nil {
		return 0, errors.New("serial console not connected")
	}
	return c.Write(p)
}

// clientBuffer bounds what a console client has not read yet: beyond it
// the client loses output. It is counted in bytes, not in reads: the
// guest's UART sends one byte at a time, so the hub often reads one.
const clientBuffer = 256 << 10

// serialClient is one console viewer.
type serialClient struct {
	hub *serialHub
	// ready holds a token while buf may have bytes for Read.
	ready chan struct{}
	quit  chan struct{}
	once  sync.Once

	mu  sync.Mutex
	buf []byte // buf[off:] is not read yet
	off int
}

func newSerialClient(h *serialHub) *serialClient {
	return &serialClient{hub: h, ready: make(chan struct{}, 1), quit: make(chan struct{})}
}

// deliver hands bytes over without blocking the hub (called with the
// hub's lock held): a slow client loses output, the guest never waits.
func (c *serialClient) deliver(p []byte) {
	c.mu.Lock()
	if len(c.buf)-c.off+len(p) <= clientBuffer {
		c.buf = append(c.buf, p...)
	}
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

func (c *serialClient) end() { c.once.Do(func() { close(c.quit) }) }

// Read returns what the guest printed since the last Read, waiting for
// output; io.EOF once the client was ended and all was read.
func (c *serialClient) Read(p []byte) (int, error) {
	for {
		c.mu.Lock()
		if c.off < len(c.buf) {
			n := copy(p, c.buf[c.off:])
			c.off += n
			if c.off == len(c.buf) {
				c.buf, c.off = c.buf[:0], 0
			}
			c.mu.Unlock()
			return n, nil
		}
		c.mu.Unlock()
		select {
		case <-c.ready:
		case <-c.quit:
			// Nothing is delivered after the end: what is left is all.
			c.mu.Lock()
			empty := c.off == len(c.buf)
			c.mu.Unlock()
			if empty {
				return 0, io.EOF
			}
		}
	}
}

func (c *serialClient) Write(p []byte) (int, error) {
	select {
	case <-c.quit:
		return 0, io.ErrClosedPipe
	default:
	}
	return c.hub.write(p)
}

func (c *serialClient) Close() error {
	c.hub.mu.Lock()
	delete(c.hub.clients, c)
	c.hub.mu.Unlock()
	c.end()
	return nil
}
