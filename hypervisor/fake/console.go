package fake

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"minicloud/hypervisor"
)

// watcher is one open console stream's link to its guest.
type watcher struct {
	// out carries serial output; nil for a VNC stream.
	out chan []byte
	// pokes says the guest's state changed (buffered, coalescing).
	pokes chan struct{}
	// gone is closed when the stream must end: the client closed it, the
	// guest's process ended, or the driver closed.
	gone chan struct{}
	once sync.Once
}

func newWatcher(serial bool) *watcher {
	w := &watcher{pokes: make(chan struct{}, 1), gone: make(chan struct{})}
	if serial {
		w.out = make(chan []byte, 256)
	}
	return w
}

// send queues output without blocking: a client that does not read loses
// output, as a serial port's overrun does.
func (w *watcher) send(p []byte) {
	if w.out == nil {
		return
	}
	select {
	case w.out <- p:
	default:
	}
}

func (w *watcher) poke() {
	select {
	case w.pokes <- struct{}{}:
	default:
	}
}

func (w *watcher) close() { w.once.Do(func() { close(w.gone) }) }

// OpenConsole connects to the guest's serial console or VNC display. Both
// exist only while the guest has a process (running, paused or crashed)
// and end when it stops. Each stream is one end of a net.Pipe; every
// message the VNC server sends is a single write, so a proxy that frames
// each read gets one RFB message per frame.
func (d *Driver) OpenConsole(ctx context.Context, id string, kind hypervisor.ConsoleKind) (io.ReadWriteCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if kind != hypervisor.ConsoleSerial && kind != hypervisor.ConsoleVNC {
		return nil, fmt.Errorf("console %q of guest %s: %w", kind, id, hypervisor.ErrNotSupported)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.lookup(id)
	if err != nil {
		return nil, err
	}
	if !g.hasProcess() {
		return nil, needState(g, Op("open "+string(kind)+" console"), running, paused, crashed)
	}
	client, server := net.Pipe()
	w := newWatcher(kind == hypervisor.ConsoleSerial)
	g.addWatcher(w)
	if kind == hypervisor.ConsoleSerial {
		d.wg.Add(3)
		go func() {
			defer d.wg.Done()
			// The output goroutine closes the stream once it has flushed
			// the guest's last words; a client that does not read them
			// gets a second.
			<-w.gone
			server.SetWriteDeadline(time.Now().Add(time.Second))
		}()
		go d.serialOutput(w, server)
		go d.serialInput(g, w, server)
	} else {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			<-w.gone
			server.Close()
		}()
		name := g.spec.Name
		if name == "" {
			name = g.spec.ID
		}
		s := &rfbSession{d: d, g: g, w: w, conn: server, name: name}
		d.wg.Add(2)
		go s.serve()
		go s.watch()
	}
	return client, nil
}

// detach ends a stream its client closed.
func (d *Driver) detach(g *guest, w *watcher) {
	d.mu.Lock()
	g.removeWatcher(w)
	d.mu.Unlock()
	w.close()
}

// serialOutput copies guest output to the stream until the stream ends,
// then flushes what is queued and closes it.
func (d *Driver) serialOutput(w *watcher, conn net.Conn) {
	defer d.wg.Done()
	defer conn.Close()
	for {
		select {
		case p := <-w.out:
			if _, err := conn.Write(p); err != nil {
				return
			}
		case <-w.gone:
			for {
				select {
				case p := <-w.out:
					if _, err := conn.Write(p); err != nil {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// serialInput feeds what the client types to the guest's terminal.
func (d *Driver) serialInput(g *guest, w *watcher, conn net.Conn) {
	defer d.wg.Done()
	defer d.detach(g, w)
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			d.mu.Lock()
			if _, open := g.watchers[w]; open {
				for _, c := range buf[:n] {
					// A paused or crashed guest reads nothing; what it
					// would have buffered is lost.
					if g.state != running {
						break
					}
					d.typeByte(g, c)
				}
			}
			d.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}
