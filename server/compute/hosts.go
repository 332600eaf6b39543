package compute

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// os-hosts (admin, until 2.42): the hosts with their services and zones,
// a compute host's resources and their use by project, enabling or
// disabling a host. Maintenance mode and host power actions are what
// Nova's libvirt driver does not implement: 501.

const hostsPolicy = "os_compute_api:os-hosts:"

func (s *Service) hostRoutes(g *echo.Group) {
	removed := until(42)
	g.GET("/os-hosts", s.listHosts, removed)
	g.GET("/os-hosts/:id", s.showHost, removed)
	g.PUT("/os-hosts/:id", s.updateHost, removed)
	g.GET("/os-hosts/:id/reboot", s.hostPowerAction("reboot"), removed)
	g.GET("/os-hosts/:id/shutdown", s.hostPowerAction("shutdown"), removed)
	g.GET("/os-hosts/:id/startup", s.hostPowerAction("start"), removed)
}

// hostTopics are the RPC topics Nova lists services under.
var hostTopics = map[string]string{
	"nova-compute":   "compute",
	"nova-scheduler": "scheduler",
	"nova-conductor": "conductor",
}

func serviceTopic(binary string) string {
	if t, ok := hostTopics[binary]; ok {
		return t
	}
	return strings.TrimPrefix(binary, "nova-")
}

var hostListQuery = queryParamsSchema(false, schema.Property{Name: "zone", Schema: stringListParam})

// listHosts is GET /os-hosts: one entry per enabled service, filtered by
// zone (an empty zone lists all).
func (s *Service) listHosts(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, hostListQuery); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(hostsPolicy + "list")
	}
	zone, _ := queryLast(c, "zone")
	items := []api.Object{}
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		services, err := allServices(tx)
		if err != nil {
			return err
		}
		for _, svc := range services {
			if svc.Disabled {
				continue
			}
			z, err := s.serviceZone(tx, svc)
			if err != nil {
				return err
			}
			if zone != "" && z != zone {
				continue
			}
			items = append(items, api.Object{{"host_name", svc.Host}, {"service", serviceTopic(svc.Binary)}, {"zone", z}})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{"hosts", items}})
}

// hostResource is one entry of a host's resource list.
func hostResource(host, project string, cpu, memoryMB, diskGB int64) api.Object {
	return api.Object{{"resource", api.Object{
		{"host", host}, {"project", project}, {"cpu", cpu}, {"memory_mb", memoryMB}, {"disk_gb", diskGB},
	}}}
}

// showHost is GET /os-hosts/{host}: the compute host's capacity, its use
// now, what its instances' flavors add up to, and that per project.
func (s *Service) showHost(c echo.Context) error {
	r := api.From(c)
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(hostsPolicy + "show")
	}
	host := pathParam(c, "id")
	nodes, err := s.computeNodes(api.Ctx(c))
	if err != nil {
		return err
	}
	var node *computeNode
	for i := range nodes {
		if nodes[i].Service.Host == host {
			node = &nodes[i]
		}
	}
	if node == nil {
		if err := s.requireComputeHost(c, host); err != nil {
			return err
		}
		return api.NotFound("Compute host %s could not be found.", host)
	}
	u := node.Usage
	out := []api.Object{
		hostResource(host, "(total)", int64(node.Info.VCPUs), int64(node.Info.MemoryMB), int64(node.Info.DiskGB)),
		hostResource(host, "(used_now)", u.VCPUsUsed, u.MemoryMBUsed, u.LocalGBUsed),
	}
	var cpu, mem, disk int64
	type projectUse struct{ cpu, mem, disk int64 }
	var projects []string
	byProject := map[string]*projectUse{}
	for _, inst := range node.Instances {
		f := inst.Flavor
		cpu += f.VCPUs
		mem += f.MemoryMB
		disk += f.RootGB + f.EphemeralGB
		p, ok := byProject[inst.ProjectID]
		if !ok {
			p = &projectUse{}
			byProject[inst.ProjectID] = p
			projects = append(projects, inst.ProjectID)
		}
		p.cpu += f.VCPUs
		p.mem += f.MemoryMB
		p.disk += f.RootGB + f.EphemeralGB
	}
	out = append(out, hostResource(host, "(used_max)", cpu, mem, disk))
	for _, p := range projects {
		use := byProject[p]
		out = append(out, hostResource(host, p, use.cpu, use.mem, use.disk))
	}
	return api.JSON(c, http.StatusOK, api.Object{{"host", out}})
}

// requireComputeHost is Nova's host mapping lookup: a host without a
// compute service is not mapped to any cell (404).
func (s *Service) requireComputeHost(c echo.Context, host string) error {
	var ok bool
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		ok, err = computeHostExists(tx, host)
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		return hostNotMapped(host)
	}
	return nil
}

var hostUpdateEnum = []any{"enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"}

var hostUpdateSchema = &schema.Schema{
	Type: []string{"object"},
	Properties: []schema.Property{
		{Name: "status", Schema: &schema.Schema{Type: []string{"string"}, Enum: hostUpdateEnum}},
		{Name: "maintenance_mode", Schema: &schema.Schema{Type: []string{"string"}, Enum: hostUpdateEnum}},
	},
	AnyOf: []*schema.Schema{
		{Required: []string{"status"}},
		{Required: []string{"maintenance_mode"}},
	},
	AdditionalProperties: refOf(false),
}

// updateHost is PUT /os-hosts/{host}: status enables or disables the
// host's compute service (whether it takes new instances); maintenance
// mode is not supported by this hypervisor, and is refused before anything
// changes.
func (s *Service) updateHost(c echo.Context) error {
	r := api.From(c)
	var body struct {
		Status      *string `json:"status"`
		Maintenance *string `json:"maintenance_mode"`
	}
	if err := api.BodyInto(c, hostUpdateSchema, &body); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(hostsPolicy + "update")
	}
	host := pathParam(c, "id")
	if err := s.requireComputeHost(c, host); err != nil {
		return err
	}
	if body.Maintenance != nil {
		return api.NotImplemented("The requested functionality is not supported.")
	}
	enable := strings.ToLower(strings.TrimSpace(*body.Status)) == "enable"
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(host, computeBinary))
		if errors.Is(err, store.ErrNotFound) {
			return hostNotMapped(host)
		}
		if err != nil {
			return fmt.Errorf("compute service of %s: %w", host, err)
		}
		if svc.Disabled == !enable {
			return nil
		}
		svc.Disabled, svc.DisabledReason = !enable, nil
		return putService(tx, svc)
	})
	if err != nil {
		return err
	}
	status := "disabled"
	if enable {
		status = "enabled"
	}
	r.Log.Info("host updated", "host", host, "status", status)
	return api.JSON(c, http.StatusOK, api.Object{{"host", host}, {"status", status}})
}

// hostPowerAction is GET /os-hosts/{host}/{reboot,shutdown,startup}:
// powering the host itself is not something the hypervisor driver does.
func (s *Service) hostPowerAction(policy string) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := api.From(c)
		if !r.Auth.IsAdmin() {
			return api.PolicyForbidden(hostsPolicy + policy)
		}
		if err := s.requireComputeHost(c, pathParam(c, "id")); err != nil {
			return err
		}
		return api.NotImplemented("The requested functionality is not supported.")
	}
}
