package instance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"minicloud/store"
)

// pendingImageKey is the system metadata key holding the image a
// snapshot, backup or shelve is filling, so that a restart can abort it.
const pendingImageKey = "pending_image_id"

var (
	snapshotStates = []string{TaskImageSnapshotPending, TaskImageSnapshot, TaskImagePendingUpload, TaskImageUploading, TaskImageBackup}
	// Properties a snapshot never inherits (Nova's
	// NON_INHERITABLE_IMAGE_PROPERTIES and reserved namespaces).
	nonInheritable = []string{"cinder_encryption_key_id", "cinder_encryption_key_deletion_policy",
		"img_signature", "img_signature_hash_method", "img_signature_key_type", "img_signature_certificate_uuid"}
	// snapshotStatesAllowed are the vm_states createImage and createBackup
	// start from.
	snapshotStatesAllowed = []string{Active, Stopped, Paused, Suspended}
)

// CreateImage snapshots the root disk into a new image and returns its id
// at once (the image is SAVING until the snapshot is uploaded).
func (m *Manager) CreateImage(ctx context.Context, c Caller, id, name string, metadata map[string]string) (string, error) {
	ck := check{action: "createImage", vm: snapshotStatesAllowed, launched: true}
	return m.snapshot(ctx, c, id, name, ck, ActionCreateImage, TaskImageSnapshotPending, "snapshot", metadata, "", 0)
}

// CreateBackup is CreateImage with rotation of older backups of the type.
func (m *Manager) CreateBackup(ctx context.Context, c Caller, id, name, backupType string, rotation int, metadata map[string]string) (string, error) {
	ck := check{action: "createBackup", vm: snapshotStatesAllowed, launched: true}
	props := cloneMap(metadata)
	if props == nil {
		props = map[string]string{}
	}
	props["backup_type"] = backupType
	return m.snapshot(ctx, c, id, name, ck, ActionBackup, TaskImageBackup, "backup", props, backupType, rotation)
}

// snapshot is the API half of createImage and createBackup: Nova makes
// the image first (queued, shown SAVING), then the task state and action;
// if that fails the image goes again.
func (m *Manager) snapshot(ctx context.Context, c Caller, id, name string, ck check, action, task, imageType string,
	extra map[string]string, backupType string, rotation int) (string, error) {
	inst, err := m.view(ctx, c, id)
	if err != nil {
		return "", err
	}
	if err := ck.verify(c, inst); err != nil {
		return "", err
	}
	if inst.IsVolumeBacked() {
		if imageType == "backup" {
			return "", Invalidf("Backup is not supported for volume-backed instances.")
		}
		return "", fmt.Errorf("snapshot of volume-backed instance %s: %w", id, ErrNotSupported)
	}
	imageID, err := m.images.NewSnapshot(ctx, inst.ProjectID, name, snapshotProperties(inst, c, imageType, extra))
	if err != nil {
		return "", fmt.Errorf("create image for %s: %w", id, err)
	}
	_, key, err := m.begin(ctx, c, id, ck, action, func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		inst.TaskState = task
		setSys(inst, pendingImageKey, imageID)
		return nil
	})
	if err != nil {
		m.images.AbortSnapshot(context.WithoutCancel(ctx), imageID)
		return "", err
	}
	event := evSnapshot
	if imageType == "backup" {
		event = evBackup
	}
	o := &op{m: m, id: id, key: key, owns: snapshotStates}
	m.enqueue(&job{id: id, op: action, run: func(ctx context.Context) error {
		return m.snapshotJob(ctx, o, event, imageID, backupType, rotation)
	}})
	return imageID, nil
}

// snapshotProperties are the properties of an instance's snapshot, as
// Nova builds them: what the instance keeps of its image (system
// metadata without the image_ prefix) less what must not be inherited,
// the instance, user and type, what the libvirt driver adds, and the
// request's metadata over all.
func snapshotProperties(inst *store.Instance, c Caller, imageType string, extra map[string]string) map[string]string {
	props := map[string]string{}
	for k, v := range inst.SystemMetadata {
		if k == pendingImageKey {
			continue
		}
		k = strings.TrimPrefix(k, "image_")
		if slices.Contains(skipImageKeys, k) || slices.Contains(inheritableImageKeys, k) ||
			slices.Contains(nonInheritable, k) || strings.HasPrefix(k, "os_glance") {
			continue
		}
		props[k] = v
	}
	props["instance_uuid"] = inst.ID
	props["user_id"] = c.UserID
	props["image_type"] = imageType
	if c.ProjectID != inst.ProjectID {
		props["instance_owner"] = inst.ProjectID
	}
	props["image_location"] = "snapshot"
	props["image_state"] = "available"
	props["owner_id"] = inst.ProjectID
	if inst.KernelID != "" {
		props["kernel_id"] = inst.KernelID
	}
	if inst.RamdiskID != "" {
		props["ramdisk_id"] = inst.RamdiskID
	}
	for k, v := range extra {
		props[k] = v
	}
	return props
}

// snapshotJob is Nova's snapshot_instance / backup_instance: the disk is
// copied while the task shows pending upload, then uploaded; a backup
// then rotates older backups of its type, and the task clears.
func (m *Manager) snapshotJob(ctx context.Context, o *op, event, imageID, backupType string, rotation int) error {
	state := m.powerState(ctx, o.id)
	_, err := o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		if inst.TaskState == TaskImageSnapshotPending {
			inst.TaskState = TaskImageSnapshot
		}
		inst.PowerState = int(state)
		return o.start(tx, t, event)
	})
	if err != nil {
		m.images.AbortSnapshot(context.WithoutCancel(ctx), imageID)
		return m.jobStopped(ctx, o, err, event)
	}
	if err := m.copyDisk(ctx, o, imageID, TaskImagePendingUpload, TaskImageUploading); err != nil {
		if errors.Is(err, ErrImageNotFound) {
			// Deleted while it was being made: Nova logs it and carries on.
			return m.snapshotDone(ctx, o, event, nil)
		}
		return m.snapshotFailed(ctx, o, imageID, err, event)
	}
	if backupType != "" {
		m.rotateBackups(ctx, o.id, backupType, rotation)
	}
	return m.snapshotDone(ctx, o, event, nil)
}

// copyDisk writes the guest's disk to a file in the instance directory
// and moves it into image imageID, stepping the task state through
// pending (before the copy) and uploading (before the upload).
func (m *Manager) copyDisk(ctx context.Context, o *op, imageID, pending, uploading string) error {
	if _, err := o.task(ctx, pending); err != nil {
		return err
	}
	if err := m.makeDir(o.id); err != nil {
		return err
	}
	tmp := filepath.Join(m.Dir(o.id), "snapshot-"+imageID)
	defer os.Remove(tmp)
	if _, err := m.driver.Snapshot(ctx, o.id, tmp); err != nil {
		return failure(driverErr(err), "Failed to snapshot the guest's disk: %v", err)
	}
	if _, err := o.task(ctx, uploading); err != nil {
		return err
	}
	if err := m.images.SaveSnapshot(ctx, imageID, tmp); err != nil {
		if errors.Is(err, ErrImageNotFound) {
			return err
		}
		return failure(err, "Failed to upload the snapshot to image %s", imageID)
	}
	return nil
}

// rotateBackups deletes the oldest backups of the type beyond rotation
// (Nova's _rotate_backups; rotation 0 keeps none).
func (m *Manager) rotateBackups(ctx context.Context, id, backupType string, rotation int) {
	ids, err := m.images.Backups(ctx, id, backupType)
	if err != nil {
		m.log.Warn("list backups for rotation", "instance", id, "err", err)
		return
	}
	for len(ids) > rotation {
		if err := m.images.DeleteImage(ctx, ids[0]); err != nil && !errors.Is(err, ErrImageNotFound) {
			m.log.Warn("rotate backup", "instance", id, "image", ids[0], "err", err)
		}
		ids = ids[1:]
	}
}

// snapshotDone clears the task state.
func (m *Manager) snapshotDone(ctx context.Context, o *op, event string, _ error) error {
	state := m.powerState(ctx, o.id)
	_, err := o.write(ctx, func(tx *store.Tx, inst *store.Instance, t time.Time) error {
		inst.TaskState = ""
		inst.PowerState = int(state)
		delete(inst.SystemMetadata, pendingImageKey)
		return o.finish(tx, t, nil, event)
	})
	return m.jobStopped(ctx, o, err, event)
}

// snapshotFailed removes the image and records the failure; the instance
// keeps its state (Nova's reverts_task_state).
func (m *Manager) snapshotFailed(ctx context.Context, o *op, imageID string, cause error, event string) error {
	m.images.AbortSnapshot(context.WithoutCancel(ctx), imageID)
	return m.opFailed(ctx, o, cause, nil, event)
}
