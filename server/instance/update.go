package instance

import (
	"context"
	"time"

	"minicloud/store"
)

// Get returns an instance the caller may see (admins: any project).
func (m *Manager) Get(ctx context.Context, c Caller, id string) (*store.Instance, error) {
	return m.view(ctx, c, id)
}

// Update changes what PUT /servers/{id} may change; no lock check, as Nova.
// Pinning an availability zone (2.104) follows Nova's rules: only to the
// zone the server is in, and never from one pinned zone to another.
func (m *Manager) Update(ctx context.Context, c Caller, id string, req UpdateRequest) (*store.Instance, error) {
	inst, _, err := m.begin(ctx, c, id, check{anyTask: true}, "", func(_ *store.Tx, inst *store.Instance, _ time.Time) error {
		if req.PinnedAZ != nil {
			if err := pinZone(inst, *req.PinnedAZ); err != nil {
				return err
			}
		}
		if req.Name != nil {
			inst.Name = *req.Name
		}
		if req.Description != nil {
			inst.Description = *req.Description
		}
		if req.Hostname != nil {
			inst.Hostname = *req.Hostname
		}
		if req.AccessIPv4 != nil {
			inst.AccessIPv4 = normalIP(*req.AccessIPv4)
		}
		if req.AccessIPv6 != nil {
			inst.AccessIPv6 = normalIP(*req.AccessIPv6)
		}
		if req.DiskConfig != nil {
			inst.DiskConfig = *req.DiskConfig
		}
		return nil
	})
	return inst, err
}

// pinZone applies pinned_availability_zone (nil unpins).
func pinZone(inst *store.Instance, zone *string) error {
	if zone == nil {
		inst.PinnedAZ = ""
		return nil
	}
	switch {
	case inst.PinnedAZ != "" && *zone != inst.PinnedAZ:
		return Conflictf("Cannot change pinned availability zone directly. Unpin first by setting pinned_availability_zone to null.")
	case inst.PinnedAZ == "" && *zone != inst.AvailabilityZone:
		return Conflictf("Server can only be pinned to its current availability zone '%s', but '%s' was requested.", inst.AvailabilityZone, *zone)
	}
	inst.PinnedAZ = *zone
	return nil
}
