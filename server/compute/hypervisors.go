package compute

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// os-hypervisors (admin): the compute nodes with their resources and
// usage. Integer ids before 2.53, uuids from 2.53; pagination from 2.33;
// search and servers move from their own routes into query parameters at
// 2.53; 2.88 drops the resource figures and statistics/uptime routes and
// adds uptime to the detail view.

const hypervisorsPolicy = "os_compute_api:os-hypervisors:"

func (s *Service) hypervisorRoutes(g *echo.Group) {
	g.GET("/os-hypervisors", s.listHypervisors)
	g.GET("/os-hypervisors/detail", s.listHypervisorsDetail)
	g.GET("/os-hypervisors/statistics", s.hypervisorStatistics, until(87))
	g.GET("/os-hypervisors/:id", s.showHypervisor)
	g.GET("/os-hypervisors/:id/uptime", s.hypervisorUptime, until(87))
	g.GET("/os-hypervisors/:id/search", s.searchHypervisors, until(52))
	g.GET("/os-hypervisors/:id/servers", s.hypervisorServers, until(52))
}

// hypervisorListQuery is the index and detail query per microversion.
func hypervisorListQuery(minor int) *schema.Schema {
	switch {
	case minor >= 53:
		return queryParamsSchema(true,
			schema.Property{Name: "limit", Schema: schema.SingleParam(schema.NonNegativeInteger())},
			schema.Property{Name: "marker", Schema: schema.SingleParam(&schema.Schema{Type: []string{"string"}})},
			schema.Property{Name: "hypervisor_hostname_pattern", Schema: schema.SingleParam(schema.FQDN())},
			schema.Property{Name: "with_servers", Schema: schema.SingleParam(schema.Boolean())},
		)
	case minor >= 33:
		return queryParamsSchema(false,
			schema.Property{Name: "limit", Schema: nonNegativeIntListParam},
			schema.Property{Name: "marker", Schema: stringListParam},
		)
	}
	return queryParamsSchema(false)
}

// hypervisorShowQuery: with_servers from 2.53, and nothing else.
func hypervisorShowQuery(minor int) *schema.Schema {
	if minor >= 53 {
		return queryParamsSchema(true, schema.Property{Name: "with_servers", Schema: schema.SingleParam(schema.Boolean())})
	}
	return queryParamsSchema(false)
}

// hypervisorViewOptions are what a view shows beyond the basic fields.
type hypervisorViewOptions struct {
	detail bool
	// servers are listed when withServers (2.53) or for the servers route.
	servers     []*store.Instance
	withServers bool
}

// hypervisorView is one hypervisor, keys in the order Nova's controller
// writes them.
func (s *Service) hypervisorView(r *api.Request, n computeNode, opt hypervisorViewOptions, now time.Time) api.Object {
	uuids := r.Version.AtLeast(53)
	var id, serviceID any = n.Service.ID, n.Service.ID
	if uuids {
		id, serviceID = n.Service.UUID, n.Service.UUID
	}
	up := s.serviceIsUp(n.Service, now)
	o := api.Object{
		{"id", id},
		{"hypervisor_hostname", n.Info.Hostname},
		{"state", map[bool]string{true: "up", false: "down"}[up]},
		{"status", map[bool]string{true: "disabled", false: "enabled"}[n.Service.Disabled]},
	}
	if opt.detail {
		var reason any
		if n.Service.DisabledReason != nil {
			reason = *n.Service.DisabledReason
		}
		var hostIP any
		if n.Info.HostIP != "" {
			hostIP = n.Info.HostIP
		}
		o = append(o,
			api.Field{Key: "hypervisor_type", Value: n.Info.Type},
			api.Field{Key: "hypervisor_version", Value: n.Info.Version},
			api.Field{Key: "host_ip", Value: hostIP},
			api.Field{Key: "service", Value: api.Object{{"id", serviceID}, {"host", n.Service.Host}, {"disabled_reason", reason}}},
		)
		if r.Version.AtLeast(88) {
			var uptime any
			if up {
				uptime = hostUptime(n.Info, now)
			}
			o.Add("uptime", uptime)
		} else {
			o = append(o, hypervisorResources(n)...)
			if r.Version.AtLeast(28) {
				o.Add("cpu_info", cpuInfoObject(n.Info.CPUInfo))
			} else {
				o.Add("cpu_info", pyJSON(cpuInfoObject(n.Info.CPUInfo)))
			}
		}
	}
	if len(opt.servers) > 0 {
		list := make([]api.Object, len(opt.servers))
		for i, inst := range opt.servers {
			list[i] = api.Object{{"name", inst.Name}, {"uuid", inst.ID}}
		}
		o.Add("servers", list)
	} else if opt.withServers && r.Version.AtLeast(75) {
		o.Add("servers", []api.Object{})
	}
	return o
}

// hypervisorResources are the figures 2.88 removed: capacity from the
// driver, usage from the instances.
func hypervisorResources(n computeNode) []api.Field {
	u := n.Usage
	memory, disk := int64(n.Info.MemoryMB), int64(n.Info.DiskGB)
	return []api.Field{
		{Key: "vcpus", Value: int64(n.Info.VCPUs)},
		{Key: "memory_mb", Value: memory},
		{Key: "local_gb", Value: disk},
		{Key: "vcpus_used", Value: u.VCPUsUsed},
		{Key: "memory_mb_used", Value: u.MemoryMBUsed},
		{Key: "local_gb_used", Value: u.LocalGBUsed},
		{Key: "free_ram_mb", Value: memory - u.MemoryMBUsed},
		{Key: "free_disk_gb", Value: disk - u.LocalGBUsed},
		{Key: "current_workload", Value: u.Workload},
		{Key: "running_vms", Value: u.RunningVMs},
		// The driver does not measure the disk apart from what instances
		// are given, so the least available is the free space.
		{Key: "disk_available_least", Value: disk - u.LocalGBUsed},
	}
}

// hypervisorIDMatches compares a hypervisor with an id from a URL or a
// marker at the request's microversion.
func hypervisorIDMatches(r *api.Request, n computeNode, id string) bool {
	if r.Version.AtLeast(53) {
		return canonicalUUID(id) == n.Service.UUID
	}
	v, ok := pyIntString(id)
	return ok && v == n.Service.ID
}

// checkHypervisorID is Nova's _validate_id: a uuid from 2.53 (400), an
// integer before (404).
func checkHypervisorID(r *api.Request, id string) error {
	if r.Version.AtLeast(53) {
		if !uuidLike(id) {
			return api.BadRequest("Invalid uuid %s", id)
		}
		return nil
	}
	if _, ok := pyIntString(id); !ok {
		return hypervisorNotFound(id)
	}
	return nil
}

func hypervisorNotFound(id string) error {
	return api.NotFound("Hypervisor with ID '%s' could not be found.", id)
}

// hostnameLike is the database's case-insensitive LIKE '%pattern%' that
// Nova's hypervisor search runs ('_' matches one character).
func hostnameLike(pattern, hostname string) bool {
	var b strings.Builder
	b.WriteString("(?is)")
	for _, r := range pattern {
		switch r {
		case '_':
			b.WriteString(".")
		case '%':
			b.WriteString(".*")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(hostname)
}

// nodesMatching is Nova's compute_node_search_by_hypervisor: 404 when no
// hypervisor hostname matches.
func nodesMatching(nodes []computeNode, pattern string) ([]computeNode, error) {
	var out []computeNode
	for _, n := range nodes {
		if hostnameLike(pattern, n.Info.Hostname) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, api.NotFound("No hypervisor matching '%s' could be found.", pattern)
	}
	return out, nil
}

func (s *Service) listHypervisors(c echo.Context) error { return s.hypervisorList(c, false) }

func (s *Service) listHypervisorsDetail(c echo.Context) error { return s.hypervisorList(c, true) }

// hypervisorList is GET /os-hypervisors and /os-hypervisors/detail.
func (s *Service) hypervisorList(c echo.Context, detail bool) error {
	r := api.From(c)
	if err := validateQuery(c, hypervisorListQuery(minorVersion(r))); err != nil {
		return err
	}
	policy := "list"
	if detail {
		policy = "list-detail"
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(hypervisorsPolicy + policy)
	}
	paged := r.Version.AtLeast(33)
	limit, marker, hasMarker := maxPageSize, "", false
	_, hasLimit := queryLast(c, "limit")
	if paged {
		if v, ok := queryLast(c, "limit"); ok {
			// The schema let only digits through; more than any page
			// holds is the largest page.
			if n, err := strconv.Atoi(v); err == nil {
				limit = min(n, maxPageSize)
			}
		}
		marker, hasMarker = queryLast(c, "marker")
	}
	pattern, withServers := "", false
	if r.Version.AtLeast(53) {
		pattern, _ = queryLast(c, "hypervisor_hostname_pattern")
		if v, ok := queryLast(c, "with_servers"); ok {
			withServers, _ = schema.AsBool(v)
		}
	}
	nodes, err := s.computeNodes(api.Ctx(c))
	if err != nil {
		return err
	}
	links := paged
	if pattern != "" {
		if hasLimit || marker != "" {
			return api.BadRequest("Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.")
		}
		links = false
		if nodes, err = nodesMatching(nodes, pattern); err != nil {
			return err
		}
	} else if paged {
		if hasMarker && marker != "" {
			i := slices.IndexFunc(nodes, func(n computeNode) bool { return hypervisorIDMatches(r, n, marker) })
			if i < 0 {
				return api.BadRequest("marker [%s] not found", marker)
			}
			nodes = nodes[i+1:]
		}
		nodes = nodes[:min(len(nodes), limit)]
	}
	now := time.Now()
	items := make([]api.Object, 0, len(nodes))
	for _, n := range nodes {
		opt := hypervisorViewOptions{detail: detail, withServers: withServers}
		if withServers {
			opt.servers = n.Instances
		}
		items = append(items, s.hypervisorView(r, n, opt, now))
	}
	out := api.Object{{"hypervisors", items}}
	if links {
		if v, ok := queryLast(c, "limit"); ok && len(items) > 0 {
			if n, _ := strconv.Atoi(v); n == len(items) {
				last, _ := items[len(items)-1].Get("id")
				collection := "os-hypervisors"
				if detail {
					collection += "/detail"
				}
				out.Add("hypervisors_links", r.NextLink(collection, c.QueryParams(), strings.TrimSpace(anyString(last))))
			}
		}
	}
	return api.JSON(c, http.StatusOK, out)
}

// anyString prints an id (integer or string) for a link.
func anyString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

// showHypervisor is GET /os-hypervisors/{id}.
func (s *Service) showHypervisor(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, hypervisorShowQuery(minorVersion(r))); err != nil {
		return err
	}
	withServers := false
	if r.Version.AtLeast(53) {
		if v, ok := queryLast(c, "with_servers"); ok {
			withServers, _ = schema.AsBool(v)
		}
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(hypervisorsPolicy + "show")
	}
	n, err := s.findHypervisor(c, r)
	if err != nil {
		return err
	}
	opt := hypervisorViewOptions{detail: true, withServers: withServers}
	if withServers {
		opt.servers = n.Instances
	}
	return api.JSON(c, http.StatusOK, api.Object{{"hypervisor", s.hypervisorView(r, n, opt, time.Now())}})
}

// findHypervisor checks the id in the path and finds its hypervisor.
func (s *Service) findHypervisor(c echo.Context, r *api.Request) (computeNode, error) {
	id := pathParam(c, "id")
	if err := checkHypervisorID(r, id); err != nil {
		return computeNode{}, err
	}
	nodes, err := s.computeNodes(api.Ctx(c))
	if err != nil {
		return computeNode{}, err
	}
	for _, n := range nodes {
		if hypervisorIDMatches(r, n, id) {
			return n, nil
		}
	}
	return computeNode{}, hypervisorNotFound(id)
}

// hypervisorUptime is GET /os-hypervisors/{id}/uptime (until 2.87): the
// basic view with the host's uptime, 400 while its compute service is down.
func (s *Service) hypervisorUptime(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(hypervisorsPolicy + "uptime")
	}
	n, err := s.findHypervisor(c, r)
	if err != nil {
		return err
	}
	now := time.Now()
	if !s.serviceIsUp(n.Service, now) {
		return api.BadRequest("Compute service of %s is unavailable at this time.", n.Service.Host)
	}
	v := s.hypervisorView(r, n, hypervisorViewOptions{}, now)
	v.Add("uptime", hostUptime(n.Info, now))
	return api.JSON(c, http.StatusOK, api.Object{{"hypervisor", v}})
}

// searchHypervisors is GET /os-hypervisors/{pattern}/search (until 2.52).
func (s *Service) searchHypervisors(c echo.Context) error { return s.hypervisorSearch(c, "search") }

// hypervisorServers is GET /os-hypervisors/{pattern}/servers (until 2.52):
// the search with each hypervisor's servers.
func (s *Service) hypervisorServers(c echo.Context) error { return s.hypervisorSearch(c, "servers") }

func (s *Service) hypervisorSearch(c echo.Context, policy string) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(hypervisorsPolicy + policy)
	}
	nodes, err := s.computeNodes(api.Ctx(c))
	if err != nil {
		return err
	}
	if nodes, err = nodesMatching(nodes, pathParam(c, "id")); err != nil {
		return err
	}
	now := time.Now()
	items := make([]api.Object, 0, len(nodes))
	for _, n := range nodes {
		var opt hypervisorViewOptions
		if policy == "servers" {
			opt.servers = n.Instances
		}
		items = append(items, s.hypervisorView(r, n, opt, now))
	}
	return api.JSON(c, http.StatusOK, api.Object{{"hypervisors", items}})
}

// hypervisorStatistics is GET /os-hypervisors/statistics (until 2.87): the
// figures summed over the hypervisors of enabled compute services.
func (s *Service) hypervisorStatistics(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(hypervisorsPolicy + "statistics")
	}
	nodes, err := s.computeNodes(api.Ctx(c))
	if err != nil {
		return err
	}
	sum := map[string]int64{}
	var count int64
	for _, n := range nodes {
		if n.Service.Disabled {
			continue
		}
		count++
		for _, f := range hypervisorResources(n) {
			sum[f.Key] += f.Value.(int64)
		}
	}
	out := api.Object{{"count", count}}
	for _, k := range []string{"current_workload", "disk_available_least", "free_disk_gb", "free_ram_mb", "local_gb",
		"local_gb_used", "memory_mb", "memory_mb_used", "running_vms", "vcpus", "vcpus_used"} {
		out.Add(k, sum[k])
	}
	return api.JSON(c, http.StatusOK, api.Object{{"hypervisor_statistics", out}})
}
