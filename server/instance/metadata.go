package instance

import (
	"context"
	"slices"
	"time"

	"minicloud/store"
)

// States in which Nova lets metadata and tags change.
var metadataStates = []string{Active, Paused, Suspended, Stopped}

// UpdateMetadata changes the instance's metadata (lock- and state-checked,
// Nova's allowed states: active, paused, suspended, stopped); edit gets the
// current map and returns the new one inside the transaction.
func (m *Manager) UpdateMetadata(ctx context.Context, c Caller, id string, edit func(tx *store.Tx, md map[string]string) (map[string]string, error)) (map[string]string, error) {
	return m.EditMetadata(ctx, c, id, "update metadata", edit)
}

// EditMetadata is UpdateMetadata with the action named in state errors as
// the API names it: "update metadata" for POST and PUT, "delete metadata"
// for DELETE of a key.
func (m *Manager) EditMetadata(ctx context.Context, c Caller, id, action string, edit func(tx *store.Tx, md map[string]string) (map[string]string, error)) (map[string]string, error) {
	var out map[string]string
	ck := check{action: action, lock: true, vm: metadataStates, anyTask: true, launched: true}
	_, _, err := m.begin(ctx, c, id, ck, "", func(tx *store.Tx, inst *store.Instance, _ time.Time) error {
		md := cloneMap(inst.Metadata)
		if md == nil {
			md = map[string]string{}
		}
		md, err := edit(tx, md)
		if err != nil {
			return err
		}
		if len(md) == 0 {
			md = nil
		}
		inst.Metadata = md
		out = cloneMap(md)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]string{}
	}
	return out, nil
}

// UpdateTags changes the instance's tags (Nova refuses while building).
func (m *Manager) UpdateTags(ctx context.Context, c Caller, id string, edit func(tags []string) ([]string, error)) ([]string, error) {
	return m.EditTags(ctx, c, id, "update tags", edit)
}

// EditTags is UpdateTags with the action named in state errors as the API
// names it: "update tag", "update tags", "delete tag", "delete tags".
// Tags are not lock-checked.
func (m *Manager) EditTags(ctx context.Context, c Caller, id, action string, edit func(tags []string) ([]string, error)) ([]string, error) {
	var out []string
	ck := check{action: action, vm: metadataStates, anyTask: true}
	_, _, err := m.begin(ctx, c, id, ck, "", func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		tags, err := edit(slices.Clone(inst.Tags))
		if err != nil {
			return err
		}
		if len(tags) == 0 {
			tags = nil
		}
		inst.Tags = tags
		out = slices.Clone(tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// ClearPassword forgets the password the guest posted (os-server-password).
func (m *Manager) ClearPassword(ctx context.Context, c Caller, id string) error {
	_, _, err := m.begin(ctx, c, id, check{anyTask: true}, "", func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		inst.Password = ""
		return nil
	})
	return err
}

// SetPassword stores the encrypted password a guest posts to the metadata
// service; Nova accepts it once, until it is cleared.
func (m *Manager) SetPassword(ctx context.Context, id, password string) error {
	admin := Caller{Admin: true}
	_, _, err := m.begin(ctx, admin, id, check{anyTask: true}, "", func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		if inst.Password != "" {
			return Conflictf("Password already set")
		}
		inst.Password = password
		return nil
	})
	return err
}
