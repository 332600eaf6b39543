package qemu

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// The files of a guest, in its directory. The presence of rescue, resize
// and suspend files is the driver's whole memory of those states, so a
// restarted minicloud knows them again.
const (
	fileRoot       = "disk.qcow2"
	fileEphemeral  = "disk.eph0.qcow2"
	fileSwap       = "disk.swap.qcow2"
	fileRescue     = "rescue.qcow2"      // present while rescued
	fileResizeOld  = "disk.pre-resize"   // the disk before a resize, until confirmed or reverted
	fileSuspend    = "suspend.state"     // saved guest state of a suspended guest
	fileSuspendTmp = "suspend.state.tmp" // a save in progress
	fileVars       = "uefi-vars.fd"
	fileQMP        = "qmp.sock"
	fileSerial     = "serial.sock"
	fileVNC        = "vnc.sock"
	fileConsoleLog = "console.log"
	filePid        = "qemu.pid"
	fileErrLog     = "qemu.err"
)

// maxSocketPath is the longest path a unix socket can be bound to.
const maxSocketPath = 107

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// removeFiles deletes the named files of dir; missing ones are fine.
func removeFiles(dir string, names ...string) error {
	var errs []error
	for _, n := range names {
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
