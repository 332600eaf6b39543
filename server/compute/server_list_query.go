package compute

import (
	"slices"
	"strings"

	"minicloud/server/api/schema"
)

// GET /servers' query: Nova's query schemas (index_query and its
// microversion variants) and the options a non-admin may use.

// serverJoinedParams are the joined-table filters Nova refuses.
var serverJoinedParams = []string{"block_device_mapping", "services", "metadata", "system_metadata",
	"info_cache", "security_groups", "pci_devices"}

// serverIgnoredSortKeys were valid sort keys once; Nova drops them (and
// from 2.75 refuses them). locked became a real one at 2.73.
var serverIgnoredSortKeys = []string{
	"architecture", "cell_name", "cleaned", "default_ephemeral_device",
	"default_swap_device", "deleted", "deleted_at", "disable_terminate",
	"ephemeral_gb", "ephemeral_key_uuid", "id", "key_data", "launched_on",
	"locked", "memory_mb", "os_type", "reservation_id", "root_gb",
	"shutdown_terminate", "user_data", "vcpus", "vm_mode",
}

// serverSortKeys are the sort keys Nova sorts by.
var serverSortKeys = []string{"access_ip_v4", "access_ip_v6", "auto_disk_config",
	"availability_zone", "config_drive", "created_at",
	"display_description", "display_name", "host", "hostname",
	"image_ref", "instance_type_id", "kernel_id", "key_name",
	"launch_index", "launched_at", "locked_by", "node", "power_state",
	"progress", "project_id", "ramdisk_id", "root_device_name",
	"task_state", "terminated_at", "updated_at", "user_id", "uuid",
	"vm_state"}

// ignoredSortKeys is the list Nova drops at a microversion.
func ignoredSortKeys(minor int) []string {
	if minor >= 73 {
		return slices.DeleteFunc(slices.Clone(serverIgnoredSortKeys), func(k string) bool { return k == "locked" })
	}
	return serverIgnoredSortKeys
}

// sortKeyEnum is the sort_key enum in Nova's order (where Nova builds it
// from a set, any order is Nova's).
func sortKeyEnum(minor int) []any {
	var keys []string
	switch {
	case minor >= 75:
		keys = append([]string{"locked"}, serverSortKeys...)
	case minor >= 73:
		keys = append(append([]string{"locked"}, serverSortKeys...), ignoredSortKeys(73)...)
	default:
		keys = append(slices.Clone(serverSortKeys), serverIgnoredSortKeys...)
	}
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// serverListQuerySchema is index_query at a microversion.
func serverListQuerySchema(minor int) *schema.Schema {
	param := func() *schema.Schema { return schema.MultiParams(&schema.Schema{Type: []string{"string"}}) }
	regex := func() *schema.Schema {
		return schema.MultiParams(&schema.Schema{Type: []string{"string"}, Format: "regex"})
	}
	dateTime := func() *schema.Schema {
		return schema.MultiParams(&schema.Schema{Type: []string{"string"}, Format: "date-time"})
	}
	p := func(name string, s *schema.Schema) schema.Property { return schema.Property{Name: name, Schema: s} }
	props := []schema.Property{
		p("user_id", param()), p("project_id", param()), p("tenant_id", param()),
		p("launch_index", param()), p("image_ref", param()), p("image", param()),
		p("kernel_id", regex()), p("ramdisk_id", regex()), p("hostname", regex()),
		p("key_name", regex()), p("power_state", regex()), p("vm_state", param()),
		p("task_state", param()), p("host", param()), p("node", regex()),
		p("flavor", regex()), p("reservation_id", regex()), p("launched_at", regex()),
		p("terminated_at", regex()), p("availability_zone", regex()), p("name", regex()),
		p("display_name", regex()), p("description", regex()), p("display_description", regex()),
		p("locked_by", regex()), p("uuid", param()), p("root_device_name", regex()),
		p("config_drive", regex()), p("access_ip_v4", regex()), p("access_ip_v6", regex()),
		p("auto_disk_config", regex()), p("progress", regex()),
		p("sort_key", schema.MultiParams(&schema.Schema{Type: []string{"string"}, Enum: sortKeyEnum(minor)})),
		p("sort_dir", param()), p("all_tenants", param()), p("soft_deleted", param()),
		p("deleted", param()), p("status", param()), p("changes-since", dateTime()),
		p("ip", regex()), p("ip6", regex()), p("created_at", regex()),
	}
	for _, j := range serverJoinedParams {
		props = append(props, p(j, param()))
	}
	props = append(props, p("limit", nonNegativeIntListParam), p("marker", param()))
	if minor >= 26 {
		props = append(props, p("tags", regex()), p("tags-any", regex()), p("not-tags", regex()), p("not-tags-any", regex()))
	}
	if minor >= 66 {
		props = append(props, p("changes-before", dateTime()))
	}
	if minor >= 73 {
		props = append(props, p("locked", param()))
	}
	s := queryParamsSchema(minor >= 75, props...)
	s.PatternProperties = []schema.PatternProperty{{Pattern: "^_", Schema: param()}}
	return s
}

// serverListQuerySchemas are built once per microversion, when first asked for.
var serverListQuerySchemas = newVersioned(serverListQuerySchema)

func serverListQuerySchemaFor(minor int) *schema.Schema {
	return serverListQuerySchemas.at(minor)
}

// serverUserOptions are the search options any caller may use at a
// microversion (Nova's _get_server_search_options); admins may use all.
func serverUserOptions(minor int) []string {
	opts := []string{"reservation_id", "name", "status", "image", "flavor", "ip", "changes-since", "all_tenants"}
	if minor >= 5 {
		opts = append(opts, "ip6")
	}
	if minor >= 26 {
		opts = append(opts, "tags", "tags-any", "not-tags", "not-tags-any")
	}
	if minor >= 66 {
		opts = append(opts, "changes-before")
	}
	if minor >= 73 {
		opts = append(opts, "locked")
	}
	if minor >= 83 {
		opts = append(opts, "availability_zone", "config_drive", "key_name",
			"created_at", "launched_at", "terminated_at",
			"power_state", "task_state", "vm_state", "progress",
			"user_id")
	}
	if minor >= 90 {
		opts = append(opts, "hostname")
	}
	return opts
}

// serverPagingParams are not search options.
var serverPagingParams = []string{"sort_key", "sort_dir", "limit", "marker"}

// serverTagFilters are 2.26's tag filters.
var serverTagFilters = []string{"tags", "tags-any", "not-tags", "not-tags-any"}

// pyStrip is Python's str.strip() of whitespace.
func pyStrip(s string) string { return strings.TrimSpace(s) }
