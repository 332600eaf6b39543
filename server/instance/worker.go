package instance

import (
	"context"
	"errors"
	"fmt"
)

// One worker per instance: a queue of jobs run one at a time by a
// goroutine that exists only while the queue is not empty. Jobs of
// different instances run in parallel; nothing global is held while a job
// calls the driver.

// errClosed answers a job queued or waiting when the manager closes.
var errClosed = errors.New("instance manager is closed")

// job is one piece of queued work for an instance.
type job struct {
	id string
	// op names the job in logs.
	op  string
	run func(ctx context.Context) error
	// preemptible jobs (builds) are cancelled by a delete of the
	// instance: the delete finishes what they leave.
	preemptible bool
	// done, when set, receives the job's result (synchronous callers).
	done chan error

	cancel context.CancelFunc
}

// worker is an instance's queue.
type worker struct {
	queue   []*job
	running *job
}

// enqueue hands j to its instance's worker, starting one if none runs.
func (m *Manager) enqueue(j *job) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		if j.done != nil {
			j.done <- errClosed
		}
		return
	}
	w := m.workers[j.id]
	if w == nil {
		w = &worker{}
		m.workers[j.id] = w
		m.jobs.Add(1)
		go m.work(j.id, w)
	}
	w.queue = append(w.queue, j)
}

// do queues j and waits for its result.
func (m *Manager) do(ctx context.Context, j *job) error {
	j.done = make(chan error, 1)
	m.enqueue(j)
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// work runs an instance's jobs until its queue is empty, then forgets the
// worker: the next job starts a new one.
func (m *Manager) work(id string, w *worker) {
	defer m.jobs.Done()
	for {
		m.mu.Lock()
		if m.closed || len(w.queue) == 0 {
			for _, j := range w.queue {
				if j.done != nil {
					j.done <- errClosed
				}
			}
			w.queue = nil
			delete(m.workers, id)
			m.mu.Unlock()
			return
		}
		j := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		ctx, cancel := context.WithCancel(m.base)
		j.cancel = cancel
		w.running = j
		m.mu.Unlock()

		err := m.runJob(ctx, j)
		cancel()

		m.mu.Lock()
		w.running = nil
		m.mu.Unlock()
		if j.done != nil {
			j.done <- err
		}
	}
}

// runJob runs j, turning a panic into an error so that one bad job
// cannot take the process down.
func (m *Manager) runJob(ctx context.Context, j *job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s of instance %s panicked: %v", j.op, j.id, r)
			m.log.Error("job panicked", "instance", j.id, "op", j.op, "panic", r)
		}
	}()
	err = j.run(ctx)
	switch {
	case err == nil:
	case errors.Is(err, errPreempted), errors.Is(err, errGone):
		m.log.Info("job stopped: instance is being deleted", "instance", j.id, "op", j.op)
	case errors.Is(err, errStopping):
		m.log.Info("job stopped: shutting down", "instance", j.id, "op", j.op)
	default:
		m.log.Warn("job failed", "instance", j.id, "op", j.op, "err", err)
	}
	return err
}

// preempt cancels the running job of instance id if it may be cut short.
func (m *Manager) preempt(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.workers[id]; w != nil && w.running != nil && w.running.preemptible {
		w.running.cancel()
	}
}

// stopping reports whether Close has been called: jobs stop at their next
// step and leave the record for Start to reconcile.
func (m *Manager) stopping() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// Close stops the workers after their current step and the background
// loops; guests keep running. Queued jobs are dropped: their records keep
// the task state they were given, and the next Start finishes or fails
// them.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.mu.Unlock()
	m.stop()
	m.loops.Wait()
	m.jobs.Wait()
	m.writer.close()
}

// idle reports whether no worker runs (tests wait for it).
func (m *Manager) idle() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.workers) == 0
}
