package qemu

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// Bounds of a guest's console log: once it passes consoleLogLimit bytes,
// only its newest consoleLogKeep bytes are kept (from the first line that
// starts within them). Both are far above the consoleLogMax that
// ConsoleLog reads back.
const (
	consoleLogLimit = 4 << 20
	consoleLogKeep  = 1 << 20
)

// consoleLog appends a guest's serial output to its console log file. Its
// one writer is the serial hub's reader, so it needs no lock. Appending
// never fails its caller: the guest's output must go on being drained
// whatever the disk does, so a failed write loses that output, says so in
// minicloud's log once, and the next write tries again.
type consoleLog struct {
	path        string
	limit, keep int64
	log         *slog.Logger

	f    *os.File
	size int64 // of the file f appends to, as far as minicloud wrote it
	// trimAt is the size at which the file is cut down next; it moves on
	// after a cut that failed, so a failing cut is not retried at every
	// write.
	trimAt int64
	// failing is set while writes fail, so the failure is logged once.
	failing bool
}

func newConsoleLog(path string, log *slog.Logger) *consoleLog {
	return &consoleLog{path: path, limit: consoleLogLimit, keep: consoleLogKeep, log: log}
}

// write appends p to the log.
func (l *consoleLog) write(p []byte) {
	if err := l.append(p); err != nil {
		if !l.failing {
			l.log.Warn("console log: write failed; guest output is lost until a write works again", "path", l.path, "err", err)
		}
		l.failing = true
		return
	}
	if l.failing {
		l.log.Info("console log: writes work again", "path", l.path)
		l.failing = false
	}
	if l.size >= l.trimAt {
		if err := l.trim(); err != nil {
			l.log.Warn("console log: cutting it down failed", "path", l.path, "size", l.size, "err", err)
			l.trimAt = l.size + l.limit - l.keep
		}
	}
}

// append writes p at the end of the file, opening it first when needed
// (O_APPEND: whatever else appends, nothing is overwritten).
func (l *consoleLog) append(p []byte) error {
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		l.f, l.size, l.trimAt = f, st.Size(), l.limit
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	if err != nil {
		// Opened again at the next write, whatever happened to the file.
		l.close()
		return err
	}
	return nil
}

// trim replaces the file with its newest part: written beside it and
// renamed over it, so a reader sees either the whole old file or the
// whole new one.
func (l *consoleLog) trim() error {
	src, err := os.Open(l.path)
	if err != nil {
		return err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return err
	}
	if st.Size() <= l.keep {
		l.size = st.Size()
		return nil
	}
	tail := make([]byte, l.keep)
	n, err := src.ReadAt(tail, st.Size()-l.keep)
	if err != nil && err != io.EOF {
		return err
	}
	tail = tail[:n]
	// Start at a line, when one starts in the part kept.
	if i := bytes.IndexByte(tail, '\n'); i >= 0 && i+1 < len(tail) {
		tail = tail[i+1:]
	}
	tmp := l.path + ".tmp"
	if err := os.WriteFile(tmp, tail, 0o600); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, l.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace %s: %w", l.path, err)
	}
	// The next write opens the new file.
	l.close()
	return nil
}

// close lets go of the file; a later write opens it again.
func (l *consoleLog) close() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
