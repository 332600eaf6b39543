package instance

import (
	"context"
	"errors"
	"time"

	"minicloud/hypervisor"
	"minicloud/store"
)

// Driver events: a guest that shut itself down, crashed or whose process
// died. As Nova's lifecycle events and _sync_instance_power_state, the
// power state is recorded, and an instance that should run but does not
// (or should not but does) is stopped through the stop operation, which
// records a "stop" action. An instance with a task in progress is left to
// its task.

// watchEvents handles the driver's events until the manager closes or
// the driver's channel does.
func (m *Manager) watchEvents() {
	defer m.loops.Done()
	events := m.driver.Events()
	for {
		select {
		case <-m.base.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if err := m.handleEvent(m.base, ev); err != nil && !errors.Is(err, context.Canceled) {
				m.log.Warn("handle driver event", "instance", ev.ID, "state", ev.State.String(), "err", err)
			}
		}
	}
}

// handleEvent applies one driver event.
func (m *Manager) handleEvent(ctx context.Context, ev hypervisor.Event) error {
	stop := false
	var key string
	err := m.db.Update(ctx, func(tx *store.Tx) error {
		inst, err := store.Instances.Get(tx, ev.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if inst.Deleted || inst.Host != m.cfg.Host || inst.TaskState != "" {
			return nil
		}
		t := now()
		inst.PowerState = int(ev.State)
		off := ev.State == hypervisor.Shutdown || ev.State == hypervisor.Crashed
		switch inst.VMState {
		case Active:
			stop = off || ev.State == hypervisor.Suspended
		case Paused:
			stop = off
		case Stopped:
			stop = ev.State == hypervisor.Running || ev.State == hypervisor.Paused || ev.State == hypervisor.Suspended
		}
		if stop {
			inst.TaskState = TaskPoweringOff
			if key, err = recordAction(tx, inst, Caller{}, ActionStop, t); err != nil {
				return err
			}
		}
		inst.UpdatedAt = t
		return store.Instances.Put(tx, inst)
	})
	if err != nil || !stop {
		return err
	}
	m.log.Info("guest changed state by itself: stopping the instance", "instance", ev.ID, "state", ev.State.String(), "reason", ev.Reason)
	o := &op{m: m, id: ev.ID, key: key, owns: []string{TaskPoweringOff}}
	m.enqueue(&job{id: ev.ID, op: "stop", run: func(ctx context.Context) error { return m.runSimple(ctx, o, m.stopOp(check{})) }})
	return nil
}

// periodic runs Nova's periodic tasks this manager needs: reclaiming
// soft-deleted instances and offloading shelved ones.
func (m *Manager) periodic() {
	defer m.loops.Done()
	every := time.Minute
	for _, d := range []time.Duration{m.cfg.ReclaimInterval, m.cfg.ShelvedOffloadTime} {
		if d > 0 && d/4 < every {
			every = d / 4
		}
	}
	every = max(every, 10*time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-m.base.Done():
			return
		case <-tick.C:
			m.reclaim(m.base)
			m.offloadShelved(m.base)
		}
	}
}
