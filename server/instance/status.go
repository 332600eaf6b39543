package instance

import "minicloud/store"

// Status is the API's "status" for an instance: Nova's mapping of vm_state
// and task_state (nova/api/openstack/common.py _STATE_MAP).
func Status(i *store.Instance) string {
	switch i.VMState {
	case Active:
		switch i.TaskState {
		case TaskRebooting, TaskRebootPending, TaskRebootStarted:
			return "REBOOT"
		case TaskRebootingHard, TaskRebootPendingHard, TaskRebootStartedHard:
			return "HARD_REBOOT"
		case TaskUpdatingPassword:
			return "PASSWORD"
		case TaskRebuilding, TaskRebuildSpawning, "rebuild_block_device_mapping":
			return "REBUILD"
		case TaskMigrating:
			return "MIGRATING"
		case TaskResizePrep, TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish:
			return "RESIZE"
		}
		return "ACTIVE"
	case Building:
		return "BUILD"
	case Stopped:
		switch i.TaskState {
		case TaskResizePrep, TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish:
			return "RESIZE"
		case TaskRebuilding, TaskRebuildSpawning, "rebuild_block_device_mapping":
			return "REBUILD"
		}
		return "SHUTOFF"
	case Resized:
		if i.TaskState == TaskResizeReverting {
			return "REVERT_RESIZE"
		}
		return "VERIFY_RESIZE"
	case Paused:
		if i.TaskState == TaskMigrating {
			return "MIGRATING"
		}
		return "PAUSED"
	case Suspended:
		return "SUSPENDED"
	case Rescued:
		return "RESCUE"
	case Error:
		switch i.TaskState {
		case TaskRebuilding, TaskRebuildSpawning, "rebuild_block_device_mapping":
			return "REBUILD"
		}
		return "ERROR"
	case Deleted:
		return "DELETED"
	case SoftDeleted:
		return "SOFT_DELETED"
	case Shelved:
		return "SHELVED"
	case ShelvedOffloaded:
		return "SHELVED_OFFLOADED"
	}
	return "UNKNOWN"
}
