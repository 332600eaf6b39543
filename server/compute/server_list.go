package compute

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// GET /servers and /servers/detail: Nova's search options, its status
// mapping, sort keys and marker pagination (servers.py _get_servers and
// the DB layer's instance_get_all_by_filters_sort).

// serverFilter is a parsed list query.
type serverFilter struct {
	// scope is the project whose servers are listed, or serverAllScope.
	scope string
	// exact are exact matches by column (project_id, user_id, image_ref,
	// uuid, host, vm_state, task_state).
	exact map[string]string
	// regex are regular-expression matches by column.
	regex map[string]*regexp.Regexp
	// vmStates and taskStates come from status (nil: no filter).
	vmStates, taskStates []string
	// deleted: nil lists everything (changes-since), false the live
	// servers, true the deleted and soft-deleted ones. softDeleted keeps
	// soft-deleted servers in a live list.
	deleted     *bool
	softDeleted *bool

	changesSince, changesBefore *time.Time
	tags, tagsAny, notTags      []string
	notTagsAny                  []string
	locked                      *bool
	// flavorID is the flavor filter's flavor id.
	flavorID string
	ip, ip6  string

	// empty: the filters cannot match anything.
	empty bool

	sortKeys []string
	sortDirs []string
	limit    int
	marker   string
}

// invalidInput is Nova's InvalidInput as a 400.
func invalidInput(msg string) error { return api.BadRequest("Invalid input received: %s", msg) }

// strictBool is oslo's bool_from_string(strict=True).
func strictBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return false, fmt.Errorf("Unrecognized value '%s', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'", s)
}

// statusStates is task_and_vm_state_from_status: the vm and task states
// whose status is one of statuses ("default" standing for any task
// state), sorted.
func statusStates(statuses []string) (vmStates, taskStates []string) {
	want := map[string]bool{}
	for _, s := range statuses {
		want[strings.ToLower(s)] = true
	}
	vm, task := map[string]bool{}, map[string]bool{}
	for vmState, tasks := range statusMap {
		for taskState, status := range tasks {
			if want[strings.ToLower(status)] {
				vm[vmState] = true
				task[taskState] = true
			}
		}
	}
	for k := range vm {
		vmStates = append(vmStates, k)
	}
	for k := range task {
		taskStates = append(taskStates, k)
	}
	slices.Sort(vmStates)
	slices.Sort(taskStates)
	return vmStates, taskStates
}

// statusMap is Nova's _STATE_MAP: vm_state → task_state ("default" for
// the rest) → status.
var statusMap = func() map[string]map[string]string {
	rebuild := map[string]string{instance.TaskRebuilding: "REBUILD", "rebuild_block_device_mapping": "REBUILD", instance.TaskRebuildSpawning: "REBUILD"}
	resize := map[string]string{instance.TaskResizePrep: "RESIZE", instance.TaskResizeMigrating: "RESIZE", instance.TaskResizeMigrated: "RESIZE", instance.TaskResizeFinish: "RESIZE"}
	with := func(def string, parts ...map[string]string) map[string]string {
		m := map[string]string{"default": def}
		for _, p := range parts {
			for k, v := range p {
				m[k] = v
			}
		}
		return m
	}
	return map[string]map[string]string{
		instance.Active: with("ACTIVE", rebuild, resize, map[string]string{
			instance.TaskRebooting: "REBOOT", instance.TaskRebootPending: "REBOOT", instance.TaskRebootStarted: "REBOOT",
			instance.TaskRebootingHard: "HARD_REBOOT", instance.TaskRebootPendingHard: "HARD_REBOOT", instance.TaskRebootStartedHard: "HARD_REBOOT",
			instance.TaskUpdatingPassword: "PASSWORD", instance.TaskMigrating: "MIGRATING",
		}),
		instance.Building:         with("BUILD"),
		instance.Stopped:          with("SHUTOFF", resize, rebuild),
		instance.Resized:          with("VERIFY_RESIZE", map[string]string{instance.TaskResizeReverting: "REVERT_RESIZE"}),
		instance.Paused:           with("PAUSED", map[string]string{instance.TaskMigrating: "MIGRATING"}),
		instance.Suspended:        with("SUSPENDED"),
		instance.Rescued:          with("RESCUE"),
		instance.Error:            with("ERROR", rebuild),
		instance.Deleted:          with("DELETED"),
		instance.SoftDeleted:      with("SOFT_DELETED"),
		instance.Shelved:          with("SHELVED"),
		instance.ShelvedOffloaded: with("SHELVED_OFFLOADED"),
	}
}()

// parseServerListQuery reads a validated list query as Nova's
// _get_servers does. q maps each parameter to its values.
func parseServerListQuery(minor int, cred *api.Credentials, detail bool, q *schema.Object) (*serverFilter, error) {
	last := func(k string) (string, bool) {
		v, ok := q.Get(k)
		l, _ := v.([]any)
		if !ok || len(l) == 0 {
			return "", false
		}
		s, _ := l[len(l)-1].(string)
		return s, true
	}
	all := func(k string) []string {
		v, _ := q.Get(k)
		var out []string
		for _, e := range asList(v) {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	admin := cred.IsAdmin()

	// search_opts: every parameter, last value wins; remove_invalid_options.
	opts := map[string]string{}
	allowed := serverUserOptions(minor)
	for _, k := range q.Keys {
		if admin {
			if slices.Contains(serverPagingParams, k) {
				continue
			}
		} else if !slices.Contains(allowed, k) {
			continue
		}
		opts[k], _ = last(k)
	}
	for _, k := range sortedKeys(opts) {
		if slices.Contains(serverJoinedParams, k) || strings.HasPrefix(k, "_") {
			return nil, api.BadRequest("Invalid filter field: %s.", k)
		}
	}

	f := &serverFilter{exact: map[string]string{}, regex: map[string]*regexp.Regexp{}}
	delete(opts, "status")
	if _, ok := q.Get("status"); ok {
		vm, task := statusStates(all("status"))
		if len(vm) == 0 && len(task) == 0 {
			if minor >= 38 {
				return nil, api.BadRequest("Invalid status value")
			}
			f.empty = true
		}
		f.vmStates = vm
		if !slices.Contains(task, "default") {
			f.taskStates = task
		}
	}
	if v, ok := opts["changes-since"]; ok {
		t, err := parseChangesTime(v)
		if err != nil {
			return nil, api.BadRequest("Invalid filter field: changes-since.")
		}
		f.changesSince = &t
	}
	if v, ok := opts["changes-before"]; ok {
		t, err := parseChangesTime(v)
		if err != nil {
			return nil, api.BadRequest("Invalid filter field: changes-before.")
		}
		if f.changesSince != nil && t.Before(*f.changesSince) {
			return nil, api.BadRequest("The value of changes-since must be less than or equal to changes-before.")
		}
		f.changesBefore = &t
	}
	if v, ok := opts["deleted"]; ok {
		d := bdmBool(v)
		f.deleted = &d
	} else if f.changesSince == nil && f.changesBefore == nil {
		d := false
		f.deleted = &d
	}
	if v, ok := opts["soft_deleted"]; ok {
		// Nova tests the string's truth: any value but "" is true.
		sd := v != ""
		f.softDeleted = &sd
	}
	if len(f.vmStates) == 1 && f.vmStates[0] == instance.Deleted {
		if !admin {
			return nil, api.Forbidden("Only administrators may list deleted instances")
		}
		d := true
		f.deleted = &d
	}
	if minor >= 26 {
		split := func(k string) []string {
			if v, ok := opts[k]; ok {
				return strings.Split(v, ",")
			}
			return nil
		}
		f.tags, f.tagsAny, f.notTags, f.notTagsAny = split("tags"), split("tags-any"), split("not-tags"), split("not-tags-any")
	}

	allTenants := false
	if v, ok := opts["all_tenants"]; ok {
		if v != "" {
			b, err := strictBool(v)
			if err != nil {
				return nil, api.BadRequest("%s", err.Error())
			}
			allTenants = b
		} else {
			allTenants = true
		}
	}
	if v, ok := opts["locked"]; ok {
		b, err := strictBool(v)
		if err != nil {
			return nil, api.BadRequest("%s", err.Error())
		}
		f.locked = &b
	}
	if allTenants {
		rule := "index:get_all_tenants"
		if detail {
			rule = "detail:get_all_tenants"
		}
		if !admin {
			return nil, api.PolicyForbidden(serversPolicy + rule)
		}
		f.scope = serverAllScope
		if v, ok := opts["tenant_id"]; ok {
			f.exact["project_id"] = v
		}
		if v, ok := opts["project_id"]; ok {
			f.exact["project_id"] = v
		}
		if p, ok := f.exact["project_id"]; ok {
			f.scope = p
		}
	} else {
		f.scope = cred.ProjectID()
		f.exact["project_id"] = f.scope
	}

	// Pagination and sorting.
	f.limit = maxPageSize
	if v, ok := last("limit"); ok {
		if n, ok := schema.AsInt(v); ok && n < int64(f.limit) {
			f.limit = int(max(n, 0))
		}
	}
	f.marker, _ = last("marker")
	keys, dirs := all("sort_key"), all("sort_dir")
	for i := range keys {
		keys[i] = pyStrip(keys[i])
	}
	for i := range dirs {
		dirs[i] = pyStrip(dirs[i])
	}
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	if len(dirs) == 0 {
		dirs = []string{"desc"}
	}
	ignored := ignoredSortKeys(minor)
	for _, k := range slices.Clone(keys) {
		i := slices.Index(keys, k)
		switch {
		case slices.Contains(ignored, k):
			if len(dirs) > i {
				dirs = slices.Delete(dirs, i, i+1)
			}
			keys = slices.Delete(keys, i, i+1)
		case (k == "host" || k == "node") && !admin:
			return nil, api.Forbidden("Only administrators can sort servers by %s", k)
		}
	}
	var err error
	if f.sortKeys, f.sortDirs, err = processSortParams(keys, dirs); err != nil {
		return nil, err
	}

	// The remaining options, as compute API get_all and the DB layer read
	// them.
	for _, k := range sortedKeys(opts) {
		v := opts[k]
		switch k {
		case "changes-since", "changes-before", "deleted", "soft_deleted", "all_tenants", "locked",
			"tenant_id", "project_id", "tags", "tags-any", "not-tags", "not-tags-any":
		case "image", "image_ref":
			f.exact["image_ref"] = v
		case "name":
			f.addRegex("display_name", v)
		case "description":
			f.addRegex("display_description", v)
		case "flavor":
			f.flavorID = v
		case "ip":
			f.ip = v
		case "ip6":
			f.ip6 = v
		case "user_id", "uuid", "host", "vm_state", "task_state":
			f.exact[k] = v
		default:
			if _, ok := serverColumns[k]; ok {
				f.addRegex(k, v)
			}
		}
	}
	return f, nil
}

func (f *serverFilter) addRegex(column, pattern string) {
	re, err := flavorNameRegexp(pattern)
	if err != nil {
		// A pattern the database cannot use matches nothing.
		f.empty = true
		return
	}
	f.regex[column] = re
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// processSortParams is Nova's process_sort_params with the default keys
// created_at and id.
func processSortParams(keys, dirs []string) ([]string, []string, error) {
	def := "desc"
	if len(dirs) > 0 {
		def = dirs[0]
	}
	for _, d := range dirs {
		if d != "asc" && d != "desc" {
			return nil, nil, invalidInput("Unknown sort direction, must be 'desc' or 'asc'")
		}
	}
	outKeys := slices.Clone(keys)
	outDirs := slices.Clone(dirs)
	if len(dirs) == 0 {
		outDirs = make([]string, len(keys))
		for i := range outDirs {
			outDirs[i] = def
		}
	}
	for len(outDirs) < len(outKeys) {
		outDirs = append(outDirs, def)
	}
	if len(outDirs) > len(outKeys) {
		return nil, nil, invalidInput("Sort direction size exceeds sort key size")
	}
	for _, k := range []string{"created_at", "id"} {
		if !slices.Contains(outKeys, k) {
			outKeys = append(outKeys, k)
			outDirs = append(outDirs, def)
		}
	}
	return outKeys, outDirs, nil
}

// defaultOrder reports whether the list is in the order the list index
// keeps: created_at, then id, both descending.
func (f *serverFilter) defaultOrder() bool {
	return slices.Equal(f.sortKeys, []string{"created_at", "id"}) && slices.Equal(f.sortDirs, []string{"desc", "desc"})
}

// serverColumn is an instance column as the database holds it, for
// regular-expression filters and sorting; ok is false for NULL.
type serverColumn func(*store.Instance) (string, bool)

func notEmpty(s string) (string, bool) { return s, s != "" }

func dbTime(t *time.Time) (string, bool) {
	if t == nil {
		return "", false
	}
	return t.UTC().Format("2006-01-02 15:04:05"), true
}

func dbBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// serverColumns are the instance columns filters and sort keys name.
var serverColumns = map[string]serverColumn{
	"display_name": func(i *store.Instance) (string, bool) { return i.Name, true },
	"display_description": func(i *store.Instance) (string, bool) {
		if i.Description == nil {
			return "", false
		}
		return *i.Description, true
	},
	"hostname":          func(i *store.Instance) (string, bool) { return i.Hostname, true },
	"key_name":          func(i *store.Instance) (string, bool) { return notEmpty(i.KeyName) },
	"kernel_id":         func(i *store.Instance) (string, bool) { return i.KernelID, true },
	"ramdisk_id":        func(i *store.Instance) (string, bool) { return i.RamdiskID, true },
	"node":              func(i *store.Instance) (string, bool) { return notEmpty(i.Node) },
	"host":              func(i *store.Instance) (string, bool) { return notEmpty(i.Host) },
	"reservation_id":    func(i *store.Instance) (string, bool) { return i.ReservationID, true },
	"launched_at":       func(i *store.Instance) (string, bool) { return dbTime(i.LaunchedAt) },
	"terminated_at":     func(i *store.Instance) (string, bool) { return dbTime(i.TerminatedAt) },
	"created_at":        func(i *store.Instance) (string, bool) { t := i.CreatedAt; return dbTime(&t) },
	"updated_at":        func(i *store.Instance) (string, bool) { t := serverUpdated(i); return dbTime(&t) },
	"availability_zone": func(i *store.Instance) (string, bool) { return notEmpty(i.AvailabilityZone) },
	"locked_by":         func(i *store.Instance) (string, bool) { return notEmpty(i.LockedBy) },
	"root_device_name":  func(i *store.Instance) (string, bool) { return notEmpty(i.RootDeviceName) },
	"config_drive":      func(i *store.Instance) (string, bool) { return serverConfigDrive(i), true },
	"access_ip_v4":      func(i *store.Instance) (string, bool) { return notEmpty(i.AccessIPv4) },
	"access_ip_v6":      func(i *store.Instance) (string, bool) { return notEmpty(i.AccessIPv6) },
	"auto_disk_config":  func(i *store.Instance) (string, bool) { return dbBool(i.DiskConfig == "AUTO"), true },
	"progress":          func(i *store.Instance) (string, bool) { return strconv.Itoa(i.Progress), true },
	"power_state":       func(i *store.Instance) (string, bool) { return strconv.Itoa(i.PowerState), true },
	"launch_index":      func(i *store.Instance) (string, bool) { return strconv.Itoa(i.LaunchIndex), true },
	"user_data":         func(i *store.Instance) (string, bool) { return notEmpty(i.UserData) },
	"image_ref":         func(i *store.Instance) (string, bool) { return i.ImageID, true },
	"project_id":        func(i *store.Instance) (string, bool) { return i.ProjectID, true },
	"user_id":           func(i *store.Instance) (string, bool) { return i.UserID, true },
	"uuid":              func(i *store.Instance) (string, bool) { return i.ID, true },
	"vm_state":          func(i *store.Instance) (string, bool) { return i.VMState, true },
	"task_state":        func(i *store.Instance) (string, bool) { return notEmpty(i.TaskState) },
	"instance_type_id":  func(i *store.Instance) (string, bool) { return i.Flavor.FlavorID, true },
	"locked":            func(i *store.Instance) (string, bool) { return dbBool(i.Locked), true },
}

// match reports whether an instance passes every filter.
func (f *serverFilter) match(inst *store.Instance) bool {
	if f.changesSince != nil && serverUpdated(inst).Before(*f.changesSince) {
		return false
	}
	if f.changesBefore != nil && serverUpdated(inst).After(*f.changesBefore) {
		return false
	}
	softDeleted := inst.VMState == instance.SoftDeleted
	if f.deleted != nil {
		if *f.deleted {
			// Deleted, and soft-deleted unless soft_deleted says not.
			withSoft := f.softDeleted == nil || *f.softDeleted
			if !inst.Deleted && !(softDeleted && withSoft) {
				return false
			}
		} else if inst.Deleted || (softDeleted && (f.softDeleted == nil || !*f.softDeleted)) {
			return false
		}
	}
	if len(f.tags) > 0 && !hasAllTags(inst, f.tags) {
		return false
	}
	if len(f.tagsAny) > 0 && !slices.ContainsFunc(f.tagsAny, inst.HasTag) {
		return false
	}
	if len(f.notTags) > 0 && hasAllTags(inst, f.notTags) {
		return false
	}
	if len(f.notTagsAny) > 0 && slices.ContainsFunc(f.notTagsAny, inst.HasTag) {
		return false
	}
	for col, want := range f.exact {
		v, ok := serverColumns[col](inst)
		if !ok || v != want {
			return false
		}
	}
	if f.vmStates != nil && !slices.Contains(f.vmStates, inst.VMState) {
		return false
	}
	if f.taskStates != nil && (inst.TaskState == "" || !slices.Contains(f.taskStates, inst.TaskState)) {
		return false
	}
	if f.locked != nil && inst.Locked != *f.locked {
		return false
	}
	if f.flavorID != "" && inst.Flavor.FlavorID != f.flavorID {
		return false
	}
	for col, re := range f.regex {
		v, ok := serverColumns[col](inst)
		if !ok || !re.MatchString(v) {
			return false
		}
	}
	if f.ip != "" || f.ip6 != "" {
		return matchIP(inst, f.ip, f.ip6)
	}
	return true
}

func hasAllTags(inst *store.Instance, tags []string) bool {
	for _, t := range tags {
		if !inst.HasTag(t) {
			return false
		}
	}
	return true
}

// matchIP is the network service's ip_address_substr filter on the
// instance's ports: an address containing either value.
func matchIP(inst *store.Instance, ip, ip6 string) bool {
	for _, nic := range inst.NICs {
		if nic.DeletedAt != nil {
			continue
		}
		for _, a := range nic.IPs {
			if a.Type == "floating" {
				continue
			}
			if (ip != "" && strings.Contains(a.Address, ip)) || (ip6 != "" && strings.Contains(a.Address, ip6)) {
				return true
			}
		}
	}
	return false
}

// compareServers orders two instances by the filter's sort keys.
func (f *serverFilter) compareServers(a, b *store.Instance) int {
	for i, key := range f.sortKeys {
		c := compareColumn(key, a, b)
		if f.sortDirs[i] == "desc" {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	// The uuid settles instances alike in everything (Nova's integer ids
	// never are).
	return -strings.Compare(a.ID, b.ID)
}

// compareColumn compares one sort key; NULL sorts first, as in MySQL.
func compareColumn(key string, a, b *store.Instance) int {
	switch key {
	case "created_at":
		return a.CreatedAt.Compare(b.CreatedAt)
	case "updated_at":
		return serverUpdated(a).Compare(serverUpdated(b))
	case "id":
		return cmp.Compare(a.InternalID, b.InternalID)
	case "launched_at", "terminated_at":
		ta, tb := a.LaunchedAt, b.LaunchedAt
		if key == "terminated_at" {
			ta, tb = a.TerminatedAt, b.TerminatedAt
		}
		switch {
		case ta == nil && tb == nil:
			return 0
		case ta == nil:
			return -1
		case tb == nil:
			return 1
		}
		return ta.Compare(*tb)
	case "progress", "power_state", "launch_index":
		va, _ := serverColumns[key](a)
		vb, _ := serverColumns[key](b)
		na, _ := strconv.Atoi(va)
		nb, _ := strconv.Atoi(vb)
		return cmp.Compare(na, nb)
	}
	col, ok := serverColumns[key]
	if !ok {
		return 0
	}
	va, oka := col(a)
	vb, okb := col(b)
	switch {
	case !oka && !okb:
		return 0
	case !oka:
		return -1
	case !okb:
		return 1
	}
	return strings.Compare(va, vb)
}

// listServers answers a page of instances for a filter.
func (s *Service) listServers(tx *store.Tx, f *serverFilter) ([]*store.Instance, error) {
	if f.empty {
		return []*store.Instance{}, nil
	}
	if f.flavorID != "" && !store.Flavors.Has(tx, f.flavorID) {
		return []*store.Instance{}, nil
	}
	if f.limit == 0 {
		return []*store.Instance{}, nil
	}
	var marker *store.Instance
	if f.marker != "" {
		m, err := store.Instances.Get(tx, f.marker)
		if errors.Is(err, store.ErrNotFound) {
			return nil, api.BadRequest("marker [%s] not found", f.marker)
		}
		if err != nil {
			return nil, fmt.Errorf("get marker %s: %w", f.marker, err)
		}
		marker = m
	}
	out := make([]*store.Instance, 0, min(f.limit, 64))
	if f.defaultOrder() {
		after := ""
		if marker != nil {
			after = serverOrderKey(f.scope, marker.CreatedAt, marker.InternalID, marker.ID)
		}
		err := scanServerOrder(tx, f.scope, after, func(id string) (bool, error) {
			inst, err := store.Instances.Get(tx, id)
			if errors.Is(err, store.ErrNotFound) {
				return true, nil
			}
			if err != nil {
				return false, err
			}
			if f.match(inst) {
				out = append(out, inst)
			}
			return len(out) < f.limit, nil
		})
		return out, err
	}
	err := scanServerOrder(tx, f.scope, "", func(id string) (bool, error) {
		inst, err := store.Instances.Get(tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if f.match(inst) {
			out = append(out, inst)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, f.compareServers)
	if marker != nil {
		i, _ := slices.BinarySearchFunc(out, marker, func(e, m *store.Instance) int {
			if f.compareServers(e, m) <= 0 {
				return -1
			}
			return 1
		})
		out = out[i:]
	}
	if len(out) > f.limit {
		out = out[:f.limit]
	}
	return out, nil
}

func (s *Service) listServersBrief(c echo.Context) error  { return s.listServersPage(c, false) }
func (s *Service) listServersDetail(c echo.Context) error { return s.listServersPage(c, true) }

// listServersPage is GET /servers and GET /servers/detail.
func (s *Service) listServersPage(c echo.Context, detail bool) error {
	r := api.From(c)
	minor := minorVersion(r)
	q, err := queryObject(c.Request().URL.RawQuery)
	if err != nil {
		return err
	}
	if verr := serverListQuerySchemaFor(minor).ValidateQuery(q); verr != nil {
		return api.BadRequest("%s", verr.Error())
	}
	rule := "index"
	if detail {
		rule = "detail"
	}
	if err := serverReader(r.Auth, rule); err != nil {
		return err
	}
	f, err := parseServerListQuery(minor, r.Auth, detail, q)
	if err != nil {
		return err
	}
	ctx := api.Ctx(c)
	if err := s.serverOrderSync(ctx); err != nil {
		return err
	}
	var insts []*store.Instance
	err = s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		insts, err = s.listServers(tx, f)
		return err
	})
	if err != nil {
		return err
	}
	collection := "servers"
	servers := make([]api.Object, 0, len(insts))
	if detail {
		collection = "servers/detail"
		v := s.newServerViewer(r)
		opts := detailOptions()
		for _, inst := range insts {
			servers = append(servers, v.show(inst, opts))
		}
	} else {
		for _, inst := range insts {
			servers = append(servers, serverBasicView(r, inst))
		}
	}
	body := api.Object{{"servers", servers}}
	// A full page links to the next one.
	if len(insts) > 0 && len(insts) == f.limit {
		body.Add("servers_links", r.NextLink(collection, c.QueryParams(), insts[len(insts)-1].ID))
	}
	return api.JSON(c, http.StatusOK, body)
}
