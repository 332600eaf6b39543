package compute

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// os-interface: the instance's NICs as the network service's ports
// (interfaceAttachments), tag from 2.70. Attaching and detaching ask the
// network service for the port or network; this cloud has none yet, so
// every port and network named is unknown and answers as Nova does for
// one it cannot find.

func (s *Service) serverInterfaceRoutes(g *echo.Group) {
	g.GET("/servers/:id/os-interface", s.listServerInterfaces)
	g.POST("/servers/:id/os-interface", s.attachServerInterface)
	g.GET("/servers/:id/os-interface/:port", s.showServerInterface)
	g.DELETE("/servers/:id/os-interface/:port", s.detachServerInterface)
}

// interfaceAttachBody is the POST body; tag from 2.49.
func interfaceAttachBody(r *api.Request) *schema.Schema {
	props := []schema.Property{
		{Name: "net_id", Schema: schema.UUID()},
		{Name: "port_id", Schema: schema.UUID()},
		{Name: "fixed_ips", Schema: &schema.Schema{
			Type: []string{"array"}, MinItems: refOf(1), MaxItems: refOf(1),
			Items: &schema.Schema{
				Type:                 []string{"object"},
				Properties:           []schema.Property{{Name: "ip_address", Schema: schema.IPAddress()}},
				Required:             []string{"ip_address"},
				AdditionalProperties: refOf(false),
			},
			Order: []string{schema.KwType, schema.KwMinItems, schema.KwMaxItems, schema.KwItems},
		}},
	}
	if r.Version.AtLeast(49) {
		props = append(props, schema.Property{Name: "tag", Schema: schema.Tag()})
	}
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "interfaceAttachment", Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           props,
			AdditionalProperties: refOf(false),
		}}},
		AdditionalProperties: refOf(false),
	}
}

// interfaceNICs are the instance's attached NICs.
func interfaceNICs(inst *store.Instance) []store.InstanceNIC {
	var out []store.InstanceNIC
	for _, nic := range inst.NICs {
		if nic.DeletedAt == nil {
			out = append(out, nic)
		}
	}
	return out
}

// interfacePortState is the port's status as the network service shows
// it: DOWN while the instance has no guest to plug it into.
func interfacePortState(inst *store.Instance) string {
	switch inst.VMState {
	case instance.Building, instance.ShelvedOffloaded, instance.Error:
		return "DOWN"
	}
	return "ACTIVE"
}

// interfaceView is one interfaceAttachment, keys in Nova's order.
func interfaceView(r *api.Request, inst *store.Instance, nic store.InstanceNIC) api.Object {
	ips := []api.Object{}
	for _, ip := range nic.IPs {
		if ip.Type == "floating" {
			continue
		}
		ips = append(ips, api.Object{{"subnet_id", ip.SubnetID}, {"ip_address", ip.Address}})
	}
	o := api.Object{
		{"net_id", nic.NetworkID},
		{"port_id", nic.PortID},
		{"mac_addr", nic.MAC},
		{"port_state", interfacePortState(inst)},
		{"fixed_ips", ips},
	}
	if r.Version.AtLeast(70) {
		o.Add("tag", orNull(nic.Tag))
	}
	return o
}

func (s *Service) listServerInterfaces(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	inst, err := s.subInstance(c, c.Param("id"))
	if err != nil {
		return err
	}
	nics := interfaceNICs(inst)
	items := make([]api.Object, 0, len(nics))
	for _, nic := range nics {
		items = append(items, interfaceView(r, inst, nic))
	}
	return api.JSON(c, http.StatusOK, api.Object{{"interfaceAttachments", items}})
}

func (s *Service) showServerInterface(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, queryParamsSchema(r.Version.AtLeast(102))); err != nil {
		return err
	}
	id, port := c.Param("id"), pathParam(c, "port")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(interfaceNICs(inst), func(n store.InstanceNIC) bool { return n.PortID == port })
	if i < 0 {
		return api.NotFound("Port id %s could not be found.", port)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"interfaceAttachment", interfaceView(r, inst, interfaceNICs(inst)[i])}})
}

// attachServerInterface is POST: Nova's checks in its order (the request,
// the lock, the state), then the port or network, which the network
// service would provide.
func (s *Service) attachServerInterface(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, interfaceAttachBody(r))
	if err != nil {
		return err
	}
	var req struct {
		Attachment struct {
			NetID    string `json:"net_id"`
			PortID   string `json:"port_id"`
			FixedIPs []struct {
				IPAddress string `json:"ip_address"`
			} `json:"fixed_ips"`
		} `json:"interfaceAttachment"`
	}
	if err := schema.Unmarshal(body, &req); err != nil {
		return api.BadRequest("Malformed request body")
	}
	id := c.Param("id")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:os-attach-interfaces:create"); err != nil {
		return err
	}
	a := req.Attachment
	if a.NetID != "" && a.PortID != "" {
		return api.BadRequest("Must not input both network_id and port_id")
	}
	if len(a.FixedIPs) > 0 && a.FixedIPs[0].IPAddress != "" && a.NetID == "" {
		return api.BadRequest("Must input network_id when request IP address")
	}
	if err := checkLockAndState(r, inst, "attach_interface", instance.Active, instance.Paused, instance.Stopped); err != nil {
		return err
	}
	switch {
	case a.PortID != "":
		return api.NotFound("Port id %s could not be found.", a.PortID)
	case a.NetID != "":
		return api.NotFound("Network %s could not be found.", a.NetID)
	}
	return api.BadRequest("No specific network was requested and none are available for project '%s'.", inst.ProjectID)
}

// detachServerInterface is DELETE: lock and state first, then the port.
// Detaching a NIC the instance has needs the network service to release
// the port; without one, Nova's answer for a driver that cannot.
func (s *Service) detachServerInterface(c echo.Context) error {
	r := api.From(c)
	id, port := c.Param("id"), pathParam(c, "port")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:os-attach-interfaces:delete"); err != nil {
		return err
	}
	if err := checkLockAndState(r, inst, "detach_interface", instance.Active, instance.Paused, instance.Stopped); err != nil {
		return err
	}
	if !slices.ContainsFunc(interfaceNICs(inst), func(n store.InstanceNIC) bool { return n.PortID == port }) {
		return api.NotFound("Port id %s could not be found.", port)
	}
	return api.NotImplemented("The requested functionality is not supported.")
}

// checkLockAndState is Nova's check_instance_lock and check_instance_state
// for an operation the API answers itself: the lock (admins pass), then
// vm_state among allowed, no task_state, and launched once.
func checkLockAndState(r *api.Request, inst *store.Instance, action string, allowed ...string) error {
	if inst.Locked && !r.Auth.IsAdmin() {
		return api.Conflict("Instance %s is locked", inst.ID)
	}
	if !slices.Contains(allowed, inst.VMState) {
		return api.Conflict("Cannot '%s' instance %s while it is in vm_state %s", action, inst.ID, inst.VMState)
	}
	if inst.TaskState != "" {
		return api.Conflict("Cannot '%s' instance %s while it is in task_state %s", action, inst.ID, inst.TaskState)
	}
	if inst.LaunchedAt == nil {
		return api.Conflict("Cannot '%s' instance %s while it is in launched_at None", action, inst.ID)
	}
	return nil
}
