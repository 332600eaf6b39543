package instance

import (
	"context"
	"errors"
	"sync"

	"minicloud/store"
)

// Group commit of the workers' writes. Every step of every job is a small
// transaction that must be durable before the job's next side effect;
// with many instances busy at once (a create of 1,000) one sync per step
// would be the bottleneck. The committer takes every write waiting when
// the previous commit ends and commits them together: no added delay for
// a lone write, one sync for many under load.

// maxGroup bounds the writes of one commit.
const maxGroup = 2000

type write struct {
	fn   func(*store.Tx) error
	done chan error
}

// committer serialises job writes into group commits.
type committer struct {
	db   *store.DB
	once sync.Once
	in   chan write
	stop chan struct{}
	wg   sync.WaitGroup

	// mu orders sends against close: once closed, writes commit alone.
	mu     sync.RWMutex
	closed bool
}

func newCommitter(db *store.DB) *committer {
	return &committer{db: db, in: make(chan write, maxGroup), stop: make(chan struct{})}
}

// commit runs fn in a transaction shared with the other writes waiting at
// the same time. fn may run more than once (when another write of its
// group fails), so it must touch nothing but the store.
func (c *committer) commit(ctx context.Context, fn func(*store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return c.db.Update(ctx, fn)
	}
	c.once.Do(func() {
		c.wg.Add(1)
		go c.run()
	})
	w := write{fn: fn, done: make(chan error, 1)}
	c.in <- w
	c.mu.RUnlock()
	return <-w.done
}

// close stops the committer once every write it took is committed; later
// writes commit on their own.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	c.wg.Wait()
}

func (c *committer) run() {
	defer c.wg.Done()
	group := make([]write, 0, maxGroup)
	for {
		var first write
		select {
		case first = <-c.in:
		case <-c.stop:
			// Writes sent before the close still get committed.
			for {
				select {
				case w := <-c.in:
					c.flush([]write{w})
				default:
					return
				}
			}
		}
		group = append(group[:0], first)
	gather:
		for len(group) < maxGroup {
			select {
			case w := <-c.in:
				group = append(group, w)
			default:
				break gather
			}
		}
		c.flush(group)
	}
}

// errGroupFailed aborts a group commit whose write failed: the others
// are committed again without it.
var errGroupFailed = errors.New("a write of the group failed")

// flush commits a group; a failing write gets its error and the rest are
// committed without it.
func (c *committer) flush(group []write) {
	for len(group) > 0 {
		failed, failErr := -1, error(nil)
		err := c.db.Update(context.Background(), func(tx *store.Tx) error {
			for i, w := range group {
				if err := safeCall(w.fn, tx); err != nil {
					failed, failErr = i, err
					return errGroupFailed
				}
			}
			return nil
		})
		if failed >= 0 {
			group[failed].done <- failErr
			group = append(group[:failed], group[failed+1:]...)
			continue
		}
		for _, w := range group {
			w.done <- err
		}
		return
	}
}

// safeCall runs fn, turning a panic into an error for that write alone.
func safeCall(fn func(*store.Tx) error, tx *store.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("write panicked")
		}
	}()
	return fn(tx)
}
