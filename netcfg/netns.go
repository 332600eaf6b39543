package netcfg

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNS runs fn on an OS thread that has entered ns, for the few kernel
// interfaces that act on the calling thread's namespace rather than on a
// socket's: /dev/net/tun, /proc/sys/net and new sockets. The thread is
// never handed back to the scheduler (the goroutine exits locked, so Go
// ends the thread), which keeps the namespace switch from leaking into
// other goroutines whatever happens in fn.
func inNS(ns netns.NsHandle, fn func() error) error {
	if !ns.IsOpen() {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter network namespace: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

func (h *Host) inNS(fn func() error) error { return inNS(h.ns, fn) }
