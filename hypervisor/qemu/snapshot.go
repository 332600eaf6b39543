package qemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"minicloud/hypervisor"
)

// Snapshot writes a standalone qcow2 copy of the guest's root disk to dst:
// qemu-img convert of a stopped guest's disk, or, while QEMU runs, a
// point-in-time block job (drive-backup) that the guest does not notice.
func (d *Driver) Snapshot(ctx context.Context, id string, dst string) (hypervisor.SnapshotInfo, error) {
	dir := d.dir(id)
	root := filepath.Join(dir, fileRoot)
	if !exists(root) {
		return hypervisor.SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", id, hypervisor.ErrNotFound)
	}
	_ = os.Remove(dst)
	if g := d.running(id); g != nil {
		if err := g.backup(ctx, dst); err != nil {
			_ = os.Remove(dst)
			return hypervisor.SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", id, err)
		}
	} else if err := d.flatten(ctx, root, dst); err != nil {
		_ = os.Remove(dst)
		return hypervisor.SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", id, err)
	}
	st, err := os.Stat(dst)
	if err != nil {
		return hypervisor.SnapshotInfo{}, fmt.Errorf("snapshot %s: %w", id, err)
	}
	return hypervisor.SnapshotInfo{Path: dst, DiskFormat: "qcow2", Size: st.Size()}, nil
}

// backup copies the running root disk with a full drive-backup job into a
// new qcow2 file and waits for the job to end.
func (g *guest) backup(ctx context.Context, dst string) error {
	job := fmt.Sprintf("snap-%d", time.Now().UnixNano())
	args := map[string]any{
		"job-id":       job,
		"device":       "disk0",
		"target":       dst,
		"format":       "qcow2",
		"sync":         "full",
		"mode":         "absolute-paths",
		"auto-dismiss": false,
	}
	if err := g.run(ctx, "drive-backup", args, nil); err != nil {
		return err
	}
	defer g.run(context.WithoutCancel(ctx), "job-dismiss", map[string]any{"id": job}, nil)
	for {
		var jobs []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Error  string `json:"error"`
		}
		if err := g.run(ctx, "query-jobs", nil, &jobs); err != nil {
			return err
		}
		found := false
		for _, j := range jobs {
			if j.ID != job {
				continue
			}
			found = true
			if j.Status == "concluded" || j.Status == "null" {
				if j.Error != "" {
					return fmt.Errorf("disk backup failed: %s", j.Error)
				}
				return nil
			}
		}
		if !found {
			return fmt.Errorf("disk backup job %s vanished", job)
		}
		select {
		case <-ctx.Done():
			_ = g.run(context.WithoutCancel(ctx), "job-cancel", map[string]any{"id": job}, nil)
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
