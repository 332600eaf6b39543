package instance

import (
	"context"
	"errors"

	"minicloud/hypervisor"
	"minicloud/store"
)

// The manager's operations. Each checks, in Nova's order: the instance
// exists for the caller (ErrNotFound), the lock (unless admin or the
// operation ignores locks: *LockedError), the state (*StateError), then
// records the action and task_state and queues the work. Methods that
// answer with data return it once the durable part is written.
//
// These bodies are placeholders being replaced by the implementation.

var errPending = errors.New("operation not available yet")

// Start reconciles every record with the hypervisor after a (re)start and
// begins taking work and driver events.
func (m *Manager) Start(ctx context.Context) error { return nil }

// Close stops the workers after their current step; guests keep running.
func (m *Manager) Close() {}

// Create writes MinCount..MaxCount instances (BUILD/scheduling) and their
// create actions in one transaction, then builds them.
func (m *Manager) Create(ctx context.Context, c Caller, req *CreateRequest) ([]*store.Instance, error) {
	return nil, errPending
}

// Get returns an instance the caller may see (admins: any project).
func (m *Manager) Get(ctx context.Context, c Caller, id string) (*store.Instance, error) {
	return nil, errPending
}

// Update changes what PUT /servers/{id} may change; no lock check, as Nova.
func (m *Manager) Update(ctx context.Context, c Caller, id string, req UpdateRequest) (*store.Instance, error) {
	return nil, errPending
}

// Delete deletes (or soft-deletes, when ReclaimInterval is set).
func (m *Manager) Delete(ctx context.Context, c Caller, id string) error { return errPending }

// ForceDelete deletes a soft-deleted instance now.
func (m *Manager) ForceDelete(ctx context.Context, c Caller, id string) error { return errPending }

// Restore brings back a soft-deleted instance.
func (m *Manager) Restore(ctx context.Context, c Caller, id string) error { return errPending }

// Reboot is a soft or hard reboot.
func (m *Manager) Reboot(ctx context.Context, c Caller, id string, hard bool) error {
	return errPending
}

// Start, stop, pause, suspend and their reverses.
func (m *Manager) PowerOn(ctx context.Context, c Caller, id string) error  { return errPending }
func (m *Manager) PowerOff(ctx context.Context, c Caller, id string) error { return errPending }
func (m *Manager) Pause(ctx context.Context, c Caller, id string) error    { return errPending }
func (m *Manager) Unpause(ctx context.Context, c Caller, id string) error  { return errPending }
func (m *Manager) Suspend(ctx context.Context, c Caller, id string) error  { return errPending }
func (m *Manager) Resume(ctx context.Context, c Caller, id string) error   { return errPending }

// Lock and Unlock; reason is 2.73's locked_reason ("" none).
func (m *Manager) Lock(ctx context.Context, c Caller, id, reason string) error { return errPending }
func (m *Manager) Unlock(ctx context.Context, c Caller, id string) error       { return errPending }

// Rebuild reimages the instance; it returns the instance as the answer
// shows it (REBUILD) and the admin password.
func (m *Manager) Rebuild(ctx context.Context, c Caller, id string, req RebuildRequest) (*store.Instance, error) {
	return nil, errPending
}

// Resize moves to flavor; confirm or revert follows.
func (m *Manager) Resize(ctx context.Context, c Caller, id string, flavor store.InstanceFlavor, diskConfig string) error {
	return errPending
}
func (m *Manager) ConfirmResize(ctx context.Context, c Caller, id string) error { return errPending }
func (m *Manager) RevertResize(ctx context.Context, c Caller, id string) error  { return errPending }

// Migrate, LiveMigrate and Evacuate: this cloud has one host, so they end
// as Nova ends them when no other host exists.
func (m *Manager) Migrate(ctx context.Context, c Caller, id, host string) error { return errPending }
func (m *Manager) LiveMigrate(ctx context.Context, c Caller, id, host string, block *bool) error {
	return errPending
}
func (m *Manager) Evacuate(ctx context.Context, c Caller, id, host, adminPass string) (string, error) {
	return "", errPending
}

// CreateImage snapshots the root disk into a new image and returns its id
// at once (the image is SAVING until the snapshot is uploaded).
func (m *Manager) CreateImage(ctx context.Context, c Caller, id, name string, metadata map[string]string) (string, error) {
	return "", errPending
}

// CreateBackup is CreateImage with rotation of older backups of the type.
func (m *Manager) CreateBackup(ctx context.Context, c Caller, id, name, backupType string, rotation int, metadata map[string]string) (string, error) {
	return "", errPending
}

// Shelve, ShelveOffload and Unshelve. zone (2.77) and host (2.91) steer the
// unshelve of an offloaded instance; nil leaves it be.
func (m *Manager) Shelve(ctx context.Context, c Caller, id string) error        { return errPending }
func (m *Manager) ShelveOffload(ctx context.Context, c Caller, id string) error { return errPending }
func (m *Manager) Unshelve(ctx context.Context, c Caller, id string, zone **string, host string) error {
	return errPending
}

// Rescue boots the rescue image (the instance's own image when "") and
// returns the admin password of the rescue system.
func (m *Manager) Rescue(ctx context.Context, c Caller, id, imageID, adminPass string) (string, error) {
	return "", errPending
}
func (m *Manager) Unrescue(ctx context.Context, c Caller, id string) error { return errPending }

// ResetState sets vm_state to active or error and clears task_state
// (admin).
func (m *Manager) ResetState(ctx context.Context, c Caller, id, state string) error {
	return errPending
}

// ResetNetwork and InjectNetworkInfo push network configuration again.
func (m *Manager) ResetNetwork(ctx context.Context, c Caller, id string) error { return errPending }
func (m *Manager) InjectNetworkInfo(ctx context.Context, c Caller, id string) error {
	return errPending
}

// ChangePassword sets the guest's admin password through the driver.
func (m *Manager) ChangePassword(ctx context.Context, c Caller, id, password string) error {
	return errPending
}

// TriggerCrashDump injects an NMI.
func (m *Manager) TriggerCrashDump(ctx context.Context, c Caller, id string) error { return errPending }

// ConsoleOutput is the tail of the serial console: the last length lines
// (negative: all).
func (m *Manager) ConsoleOutput(ctx context.Context, c Caller, id string, length int) (string, error) {
	return "", errPending
}

// Diagnostics reads the guest's counters.
func (m *Manager) Diagnostics(ctx context.Context, c Caller, id string) (*store.Instance, hypervisor.Diagnostics, error) {
	return nil, hypervisor.Diagnostics{}, errPending
}

// OpenConsole connects to a console stream of a running instance.
func (m *Manager) OpenConsole(ctx context.Context, c Caller, id string, kind hypervisor.ConsoleKind) (*store.Instance, error) {
	return nil, errPending
}

// UpdateMetadata changes the instance's metadata (lock- and state-checked,
// Nova's allowed states: active, paused, suspended, stopped); edit gets the
// current map and returns the new one inside the transaction.
func (m *Manager) UpdateMetadata(ctx context.Context, c Caller, id string, edit func(tx *store.Tx, md map[string]string) (map[string]string, error)) (map[string]string, error) {
	return nil, errPending
}

// UpdateTags changes the instance's tags (Nova refuses while building).
func (m *Manager) UpdateTags(ctx context.Context, c Caller, id string, edit func(tags []string) ([]string, error)) ([]string, error) {
	return nil, errPending
}

// ClearPassword forgets the password the guest posted (os-server-password).
func (m *Manager) ClearPassword(ctx context.Context, c Caller, id string) error { return errPending }
