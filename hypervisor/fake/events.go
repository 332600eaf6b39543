package fake

import (
	"time"

	"minicloud/hypervisor"
)

// Events delivers the power state changes nobody asked the driver for: a
// Crash or GuestShutdown, or `poweroff` typed on the serial console. It is
// closed by Close.
func (d *Driver) Events() <-chan hypervisor.Event { return d.events }

// Crash makes a running guest's kernel panic: the guest is Crashed, its
// console shows the panic, and Events reports it.
func (d *Driver) Crash(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.lookup(id)
	if err != nil {
		return err
	}
	if g.state != running {
		return needState(g, "crash", running)
	}
	now := d.now()
	g.say(now, panicLines...)
	g.setState(crashed, now)
	d.queueEvent(hypervisor.Event{ID: id, State: crashed, Reason: "guest kernel panic", Time: now})
	return nil
}

// GuestShutdown makes a running guest shut itself down, as `poweroff`
// inside it would: the guest is Shutdown and Events reports it.
func (d *Driver) GuestShutdown(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	g, err := d.lookup(id)
	if err != nil {
		return err
	}
	if g.state != running {
		return needState(g, "shut down", running)
	}
	d.guestPowerOff(g, d.now())
	return nil
}

// guestPowerOff is a shutdown the guest chose; d.mu is held.
func (d *Driver) guestPowerOff(g *guest, now time.Time) {
	g.say(now, shutdownLines...)
	g.setState(shutdown, now)
	d.queueEvent(hypervisor.Event{ID: g.spec.ID, State: shutdown, Reason: "guest shut itself down", Time: now})
}

// queueEvent hands an event to the forwarder without blocking; d.mu is held.
func (d *Driver) queueEvent(ev hypervisor.Event) {
	d.pending = append(d.pending, ev)
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// forwardEvents feeds queued events to the Events channel in order, so a
// slow reader never blocks a guest, and closes it when the driver closes.
func (d *Driver) forwardEvents() {
	defer d.wg.Done()
	defer close(d.events)
	for {
		d.mu.Lock()
		batch := d.pending
		d.pending = nil
		d.mu.Unlock()
		for _, ev := range batch {
			select {
			case d.events <- ev:
			case <-d.done:
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-d.wake:
		case <-d.done:
			return
		}
	}
}
