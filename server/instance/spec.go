package instance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"minicloud/hypervisor"
	"minicloud/store"
)

// Dir is the instance's own directory: data-dir/instances/<id>.
func (m *Manager) Dir(id string) string {
	return filepath.Join(m.cfg.DataDir, "instances", id)
}

// makeDir creates the instance directory (its parent too, the first
// time).
func (m *Manager) makeDir(id string) error {
	err := os.Mkdir(m.Dir(id), 0o700)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(m.Dir(id)), 0o700); err == nil {
			err = os.Mkdir(m.Dir(id), 0o700)
		}
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("instance directory of %s: %w", id, err)
	}
	return nil
}

// removeDir removes the instance directory and everything in it.
func (m *Manager) removeDir(id string) {
	if err := os.RemoveAll(m.Dir(id)); err != nil {
		m.log.Warn("remove instance directory", "instance", id, "err", err)
	}
}

// configDrivePath is where an instance's config drive is written.
func (m *Manager) configDrivePath(id string) string {
	return filepath.Join(m.Dir(id), "config.iso")
}

// writeConfigDrive writes the config drive of an instance that asked for
// one, from its record as it is now (rebuild and unshelve write it anew).
func (m *Manager) writeConfigDrive(ctx context.Context, inst *store.Instance, adminPass string) error {
	if !inst.ConfigDrive || m.cfg.ConfigDrive == nil {
		return nil
	}
	if err := m.cfg.ConfigDrive(ctx, inst, adminPass, m.configDrivePath(inst.ID)); err != nil {
		return fmt.Errorf("config drive of %s: %w", inst.ID, err)
	}
	return nil
}

// spec is the guest as the record describes it, with flavor f (the
// instance's own when nil) and image img.
func (m *Manager) specWith(inst *store.Instance, f *store.InstanceFlavor, img hypervisor.Image) hypervisor.Spec {
	if f == nil {
		f = &inst.Flavor
	}
	s := hypervisor.Spec{
		ID:          inst.ID,
		Name:        inst.Name,
		Dir:         m.Dir(inst.ID),
		VCPUs:       int(f.VCPUs),
		MemoryMB:    int(f.MemoryMB),
		RootGB:      int(f.RootGB),
		EphemeralGB: int(f.EphemeralGB),
		SwapMB:      int(f.SwapMB),
		ExtraSpecs:  cloneMap(f.ExtraSpecs),
		Image:       img,
	}
	if inst.ConfigDrive && m.cfg.ConfigDrive != nil {
		s.ConfigDrive = m.configDrivePath(inst.ID)
	}
	for _, n := range inst.NICs {
		if n.DeletedAt != nil {
			continue
		}
		s.NICs = append(s.NICs, hypervisor.NIC{PortID: n.PortID, MAC: n.MAC, Tap: n.Tap})
	}
	return s
}

// spec is the guest of an existing instance: the boot image is looked up
// for its path and properties, but a guest that already has its disks
// does not need it, so an image deleted since boot leaves only its id.
func (m *Manager) spec(ctx context.Context, inst *store.Instance) hypervisor.Spec {
	return m.specWith(inst, nil, m.knownImage(ctx, inst.ProjectID, inst.ImageID))
}

// knownImage is the image id with what the image service still knows of
// it.
func (m *Manager) knownImage(ctx context.Context, projectID, id string) hypervisor.Image {
	if id == "" {
		return hypervisor.Image{}
	}
	img, err := m.images.BootImage(ctx, projectID, id)
	if err != nil {
		return hypervisor.Image{ID: id}
	}
	return img
}

// bootImage is the image a guest is made from; its absence fails the
// operation.
func (m *Manager) bootImage(ctx context.Context, projectID, id string) (hypervisor.Image, error) {
	if id == "" {
		return hypervisor.Image{}, nil
	}
	img, err := m.images.BootImage(ctx, projectID, id)
	if err != nil {
		if errors.Is(err, ErrImageNotFound) {
			return hypervisor.Image{}, failure(err, "Image %s could not be found.", id)
		}
		return hypervisor.Image{}, fmt.Errorf("image %s: %w", id, err)
	}
	return img, nil
}

// callerImage looks an image up as the instance's project sees it, or
// as the caller's project does for an admin acting on another project's
// instance (Nova reads it with the request's credentials).
// It also says which project saw it, for the job that boots it.
func (m *Manager) callerImage(ctx context.Context, c Caller, inst *store.Instance, id string) (hypervisor.Image, string, error) {
	img, err := m.images.BootImage(ctx, inst.ProjectID, id)
	if err != nil && c.Admin && c.ProjectID != inst.ProjectID {
		if img2, err2 := m.images.BootImage(ctx, c.ProjectID, id); err2 == nil {
			return img2, c.ProjectID, nil
		}
	}
	return img, inst.ProjectID, err
}

// imageCache resolves one boot image once for the many instances of a
// multiple create.
type imageCache struct {
	once sync.Once
	img  hypervisor.Image
	err  error
}

func (c *imageCache) get(ctx context.Context, m *Manager, projectID, id string) (hypervisor.Image, error) {
	c.once.Do(func() { c.img, c.err = m.bootImage(ctx, projectID, id) })
	return c.img, c.err
}

// powerState asks the driver for the guest's power state; a guest the
// driver does not know has none.
func (m *Manager) powerState(ctx context.Context, id string) hypervisor.PowerState {
	s, err := m.driver.State(context.WithoutCancel(ctx), id)
	if err != nil {
		return hypervisor.NoState
	}
	return s
}

// driverErr maps what the driver says to the manager's errors.
func driverErr(err error) error {
	if errors.Is(err, hypervisor.ErrNotSupported) {
		return fmt.Errorf("%w: %v", ErrNotSupported, err)
	}
	return err
}
