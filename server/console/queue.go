package console

import (
	"context"
	"sync"
)

// queue holds what the guest sent until the client's websocket takes it,
// up to a budget of bytes, so that a slow client costs a bounded amount of
// memory and never stops the guest's side from being read.
type queue struct {
	mu     sync.Mutex
	items  [][]byte
	size   int
	budget int
	closed bool
	// ready has a token while items is not empty or the queue is closed.
	ready chan struct{}
}

func newQueue(budget int) *queue {
	return &queue{budget: budget, ready: make(chan struct{}, 1)}
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// push queues p; false when that would pass the budget (an empty queue
// takes any one message, so a large one cannot wedge the stream).
func (q *queue) push(p []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if len(q.items) > 0 && q.size+len(p) > q.budget {
		return false
	}
	q.items = append(q.items, p)
	q.size += len(p)
	q.signal()
	return true
}

// close says no more will come; pop drains what is queued first.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.signal()
}

// pop returns the oldest message, waiting for one; false once the queue is
// closed and empty, or when ctx ends.
func (q *queue) pop(ctx context.Context) ([]byte, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			p := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			q.size -= len(p)
			if len(q.items) > 0 || q.closed {
				q.signal()
			}
			q.mu.Unlock()
			return p, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil, false
		}
	}
}
