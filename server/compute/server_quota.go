package compute

import (
	"fmt"

	"minicloud/server/instance"
	"minicloud/store"
)

// instanceUsage counts what a project's (or one user's) servers use of a
// resource, as Nova's instance counts do: servers neither deleted nor
// soft-deleted, each weighing what per returns (1, its vCPUs, its RAM).
func instanceUsage(per func(*store.Instance) int) usageCounter {
	return func(tx *store.Tx, projectID, userID string) (int, error) {
		n := 0
		err := store.Instances.ScanIndex(tx, "project", projectID, func(inst *store.Instance) (bool, error) {
			if inst.Deleted || inst.VMState == instance.SoftDeleted || inst.VMState == instance.Deleted {
				return true, nil
			}
			if userID == "" || inst.UserID == userID {
				n += per(inst)
			}
			return true, nil
		})
		if err != nil {
			return 0, fmt.Errorf("count servers of %s: %w", projectID, err)
		}
		return n, nil
	}
}
