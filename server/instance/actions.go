package instance

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"minicloud/store"
)

// Instance actions (nova/compute/instance_actions.py) and their events:
// every API operation records its action in the transaction that accepts
// it; the job records events named as Nova's @wrap_instance_event names
// them ("compute_" + the compute manager's method).

// Nova's instance action names.
const (
	ActionCreate          = "create"
	ActionDelete          = "delete"
	ActionEvacuate        = "evacuate"
	ActionRestore         = "restore"
	ActionStop            = "stop"
	ActionStart           = "start"
	ActionReboot          = "reboot"
	ActionRebuild         = "rebuild"
	ActionRevertResize    = "revertResize"
	ActionConfirmResize   = "confirmResize"
	ActionResize          = "resize"
	ActionMigrate         = "migrate"
	ActionPause           = "pause"
	ActionUnpause         = "unpause"
	ActionSuspend         = "suspend"
	ActionResume          = "resume"
	ActionRescue          = "rescue"
	ActionUnrescue        = "unrescue"
	ActionChangePassword  = "changePassword"
	ActionShelve          = "shelve"
	ActionShelveOffload   = "shelveOffload"
	ActionUnshelve        = "unshelve"
	ActionLiveMigration   = "live-migration"
	ActionTriggerCrash    = "trigger_crash_dump"
	ActionLock            = "lock"
	ActionUnlock          = "unlock"
	ActionBackup          = "createBackup"
	ActionCreateImage     = "createImage"
	ActionResetState      = "resetState"
	ActionAttachInterface = "attach_interface"
	ActionDetachInterface = "detach_interface"
	ActionAttachVolume    = "attach_volume"
	ActionDetachVolume    = "detach_volume"
)

// Event names: Nova's wrapped compute (and conductor, api) methods.
const (
	evBuild            = "compute__do_build_and_run_instance"
	evScheduleBuild    = "conductor_schedule_and_build_instances"
	evTerminate        = "compute_terminate_instance"
	evSoftDelete       = "compute_soft_delete_instance"
	evRestore          = "compute_restore_instance"
	evStop             = "compute_stop_instance"
	evStart            = "compute_start_instance"
	evReboot           = "compute_reboot_instance"
	evPause            = "compute_pause_instance"
	evUnpause          = "compute_unpause_instance"
	evSuspend          = "compute_suspend_instance"
	evResume           = "compute_resume_instance"
	evTriggerCrash     = "compute_trigger_crash_dump"
	evRebuild          = "compute_rebuild_instance"
	evRebuildServer    = "rebuild_server"
	evSnapshot         = "compute_snapshot_instance"
	evBackup           = "compute_backup_instance"
	evSetPassword      = "compute_set_admin_password"
	evRescue           = "compute_rescue_instance"
	evUnrescue         = "compute_unrescue_instance"
	evMigrateServer    = "conductor_migrate_server"
	evColdMigrate      = "cold_migrate"
	evPrepResize       = "compute_prep_resize"
	evResizeInstance   = "compute_resize_instance"
	evFinishResize     = "compute_finish_resize"
	evConfirmResize    = "compute_confirm_resize"
	evRevertResize     = "compute_revert_resize"
	evFinishRevert     = "compute_finish_revert_resize"
	evLiveMigrate      = "conductor_live_migrate_instance"
	evShelve           = "compute_shelve_instance"
	evShelveOffload    = "compute_shelve_offload_instance"
	evUnshelve         = "compute_unshelve_instance"
	evGetImageInfo     = "get_image_info"
	evScheduleInstance = "schedule_instances"
	evAPILock          = "api_lock"
	evAPIUnlock        = "api_unlock"
)

// recordAction writes a new action of inst for c and returns its key.
// Callers without a request id (the manager itself) get one.
func recordAction(tx *store.Tx, inst *store.Instance, c Caller, action string, t time.Time) (string, error) {
	reqID := c.RequestID
	if reqID == "" {
		reqID = newRequestID()
	}
	a := &store.InstanceAction{
		InstanceID: inst.ID, RequestID: reqID, Action: action,
		UserID: c.UserID, ProjectID: c.ProjectID, StartTime: t, UpdatedAt: timePtr(t),
	}
	// Two actions of one request (delete confirming a resize first) must
	// not share a key: the later one moves a nanosecond on.
	for store.InstanceActions.Has(tx, store.InstanceActionKey(inst.ID, a.StartTime, reqID)) {
		a.StartTime = a.StartTime.Add(time.Nanosecond)
	}
	if err := store.InstanceActions.Insert(tx, a); err != nil {
		return "", fmt.Errorf("record %s action of %s: %w", action, inst.ID, err)
	}
	return store.InstanceActionKey(inst.ID, a.StartTime, reqID), nil
}

// startEvents records that events of action key began (an event already
// open under the name is reused: a job resumed after a restart).
func startEvents(tx *store.Tx, key, host string, t time.Time, names ...string) error {
	if key == "" || len(names) == 0 {
		return nil
	}
	return editAction(tx, key, func(a *store.InstanceAction) {
		for _, name := range names {
			if openEvent(a, name) >= 0 {
				continue
			}
			a.Events = append(a.Events, store.ActionEvent{Event: name, StartTime: t, Host: host})
		}
		a.UpdatedAt = timePtr(t)
	})
}

// finishEvents records that events of action key ended: Success when err
// is nil, else Error with err's message as details, and the action's
// message "Error" (as Nova marks a failed action). An event never started
// is started and finished at t.
func finishEvents(tx *store.Tx, key, host string, t time.Time, err error, names ...string) error {
	if key == "" || len(names) == 0 {
		return nil
	}
	return editAction(tx, key, func(a *store.InstanceAction) {
		for _, name := range names {
			i := openEvent(a, name)
			if i < 0 {
				a.Events = append(a.Events, store.ActionEvent{Event: name, StartTime: t, Host: host})
				i = len(a.Events) - 1
			}
			ev := &a.Events[i]
			ev.FinishTime = timePtr(t)
			ev.Result = "Success"
			if err != nil {
				ev.Result = "Error"
				ev.Details = faultMessage(err)
				ev.Traceback = err.Error()
				a.Message = "Error"
			}
		}
		a.UpdatedAt = timePtr(t)
	})
}

// closeOpenEvents finishes every unfinished event of action key with err.
func closeOpenEvents(tx *store.Tx, key, host string, t time.Time, err error) error {
	if key == "" {
		return nil
	}
	var open []string
	a, gerr := store.InstanceActions.Get(tx, key)
	if errors.Is(gerr, store.ErrNotFound) {
		return nil
	}
	if gerr != nil {
		return gerr
	}
	for _, ev := range a.Events {
		if ev.FinishTime == nil {
			open = append(open, ev.Event)
		}
	}
	return finishEvents(tx, key, host, t, err, open...)
}

// openEvent is the index of the unfinished event name, or -1.
func openEvent(a *store.InstanceAction, name string) int {
	for i := range a.Events {
		if a.Events[i].Event == name && a.Events[i].FinishTime == nil {
			return i
		}
	}
	return -1
}

// editAction changes the action under key; a missing action (pruned, or
// never recorded) is not an error.
func editAction(tx *store.Tx, key string, fn func(a *store.InstanceAction)) error {
	a, err := store.InstanceActions.Get(tx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load instance action %s: %w", key, err)
	}
	fn(a)
	if err := store.InstanceActions.Put(tx, a); err != nil {
		return fmt.Errorf("save instance action %s: %w", key, err)
	}
	return nil
}

// lastActionKey is the key of the instance's most recent action ("" if
// none).
func lastActionKey(tx *store.Tx, id string) (string, error) {
	key := ""
	err := store.InstanceActions.ScanPrefix(tx, store.InstanceActionPrefix(id), true, func(a *store.InstanceAction) (bool, error) {
		key = store.InstanceActionKey(a.InstanceID, a.StartTime, a.RequestID)
		return false, nil
	})
	return key, err
}

// fault is the instance fault for err: Nova keeps at most 255 characters
// of the message, and the whole error as details.
func fault(err error, t time.Time) *store.InstanceFault {
	return &store.InstanceFault{Code: 500, Message: faultMessage(err), Details: err.Error(), Created: t}
}

// faultMessage is what a fault or an event shows of err: the message of a
// manager error, else the error text, cut to 255 characters as Nova cuts
// it.
func faultMessage(err error) string {
	msg := err.Error()
	var u *userError
	if errors.As(err, &u) {
		msg = u.msg
	}
	return truncate(msg, 255)
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// userError carries the message Nova would show for a failure (its
// NovaException text) over the underlying error.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string {
	// A message that already quotes the cause need not repeat it.
	if e.err == nil || strings.HasSuffix(e.msg, e.err.Error()) {
		return e.msg
	}
	return e.msg + ": " + e.err.Error()
}

func (e *userError) Unwrap() error { return e.err }

// failure wraps err with the message Nova shows for it.
func failure(err error, format string, a ...any) error {
	return &userError{msg: fmt.Sprintf(format, a...), err: err}
}
