package compute

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/server/network"
	"minicloud/store"
)

// os-interface: the instance's ports as interface attachments (tag from
// 2.70); attach makes or binds a port and hot-plugs it, detach unplugs
// and releases it, both through the lifecycle manager.

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

// interfaceView is one interfaceAttachment, keys in Nova's order:
// the port as the network service shows it, with the NIC's tag.
func interfaceView(r *api.Request, nic store.InstanceNIC, status string) api.Object {
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
		{"port_state", status},
		{"fixed_ips", ips},
	}
	if r.Version.AtLeast(70) {
		o.Add("tag", orNull(nic.Tag))
	}
	return o
}

// portStatus is the port's status ("DOWN" when the network service cannot
// say).
func (s *Service) portStatus(ctx context.Context, portID string) string {
	if s.net == nil {
		return "DOWN"
	}
	p, err := s.net.Port(ctx, portID)
	if err != nil {
		return "DOWN"
	}
	return p.Status
}

// liveNICs are the instance's NICs as its ports show them now.
func (s *Service) liveNICs(ctx context.Context, inst *store.Instance) []store.InstanceNIC {
	var out []store.InstanceNIC
	for _, nic := range s.liveNetwork(ctx, inst).NICs {
		if nic.DeletedAt == nil {
			out = append(out, nic)
		}
	}
	return out
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
	ctx := api.Ctx(c)
	nics := s.liveNICs(ctx, inst)
	items := make([]api.Object, 0, len(nics))
	for _, nic := range nics {
		items = append(items, interfaceView(r, nic, s.portStatus(ctx, nic.PortID)))
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
	return s.interfaceAnswer(c, r, inst, port, http.StatusOK)
}

// interfaceAnswer shows one port of the instance.
func (s *Service) interfaceAnswer(c echo.Context, r *api.Request, inst *store.Instance, port string, status int) error {
	ctx := api.Ctx(c)
	nics := s.liveNICs(ctx, inst)
	i := slices.IndexFunc(nics, func(n store.InstanceNIC) bool { return n.PortID == port })
	if i < 0 {
		if s.net != nil {
			if _, err := s.net.Port(ctx, port); err == nil {
				return api.NotFound("Instance %s does not have a port with id %s", inst.ID, port)
			}
		}
		return api.NotFound("Port id %s could not be found.", port)
	}
	return api.JSON(c, status, api.Object{{"interfaceAttachment", interfaceView(r, nics[i], s.portStatus(ctx, port))}})
}

// attachServerInterface is POST: Nova's checks in its order (the request,
// the lock and the state), then the port or network the network service
// makes or binds, hot-plugged into the guest.
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
			Tag      string `json:"tag"`
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
	fixed := ""
	if len(a.FixedIPs) > 0 {
		fixed = a.FixedIPs[0].IPAddress
	}
	if fixed != "" && a.NetID == "" {
		return api.BadRequest("Must input network_id when request IP address")
	}
	if err := checkLockAndState(r, inst, "attach_interface", instance.Active, instance.Paused, instance.Stopped); err != nil {
		return err
	}
	if s.net == nil {
		return api.BadRequest("No specific network was requested and none are available for project '%s'.", inst.ProjectID)
	}
	nr := instance.NetworkRequest{NetworkID: a.NetID, PortID: a.PortID, FixedIP: fixed, Tag: a.Tag}
	if a.PortID != "" {
		// Nova shows the port first; one bound to anything is in use.
		p, err := s.net.Port(api.Ctx(c), a.PortID)
		if err != nil {
			return s.attachErr(api.Ctx(c), inst, nr, err)
		}
		if p.DeviceID != "" {
			return api.Conflict("Port %s is still in use.", a.PortID)
		}
	}
	nic, err := s.instances.AttachInterface(api.Ctx(c), caller(r), id, nr)
	if err != nil {
		return s.attachErr(api.Ctx(c), inst, nr, err)
	}
	inst, err = s.subInstance(c, id)
	if err != nil {
		return err
	}
	return s.interfaceAnswer(c, r, inst, nic.PortID, http.StatusOK)
}

// attachErr is Nova's fault for a failed attach.
func (s *Service) attachErr(ctx context.Context, inst *store.Instance, r instance.NetworkRequest, err error) error {
	switch {
	case errors.Is(err, network.ErrPortNotFound):
		return api.NotFound("Port id %s could not be found.", r.PortID)
	case errors.Is(err, network.ErrNetworkNotFound):
		return api.NotFound("Network %s could not be found.", r.NetworkID)
	case errors.Is(err, network.ErrPortInUse):
		return api.Conflict("Port %s is still in use.", r.PortID)
	case errors.Is(err, network.ErrIPInUse):
		return api.Conflict("Fixed IP address %s is already in use on instance %s.", r.FixedIP, s.instanceHolding(ctx, r.NetworkID, r.FixedIP))
	case errors.Is(err, network.ErrNoNetwork):
		return api.BadRequest("No specific network was requested and none are available for project '%s'.", inst.ProjectID)
	case errors.Is(err, network.ErrNetworkAmbiguous):
		return api.BadRequest("More than one possible network found. Specify network ID(s) to select which one(s) to connect to.")
	case errors.Is(err, network.ErrNoMoreAddresses):
		return api.BadRequest("No fixed IP addresses available for network: %s", r.NetworkID)
	case errors.Is(err, network.ErrPortNotUsable):
		return api.BadRequest("Port %s not usable for instance %s.", r.PortID, inst.ID)
	case errors.Is(err, network.ErrNoSubnet):
		return api.BadRequest("Network %s requires a subnet in order to boot instances on.", r.NetworkID)
	case errors.Is(err, network.ErrExternalNetwork):
		return api.Forbidden("It is not allowed to create an interface on external network %s", r.NetworkID)
	case errors.Is(err, network.ErrOverQuota):
		return api.Forbidden("Maximum number of ports exceeded")
	case errors.Is(err, network.ErrInvalidIP):
		return api.BadRequest("%s", err.Error())
	}
	if _, ok := asNeutronFault(err); ok {
		return api.BadRequest("%s", err.Error())
	}
	if errors.Is(err, instance.ErrInterfaceAttachFailed) && errors.Is(err, instance.ErrNotSupported) {
		// A guest whose NICs lead nowhere (no data plane) takes no more.
		return api.BadRequest("Attaching interfaces is not supported for instance %s.", inst.ID)
	}
	if errors.Is(err, instance.ErrInterfaceAttachFailed) {
		return api.Errorf(http.StatusInternalServerError, "Failed to attach network adapter device to %s", inst.ID)
	}
	return instanceErr(inst.ID, err)
}

// detachServerInterface is DELETE: lock and state first, then the port;
// the manager unplugs and releases it after the answer.
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
	if !slices.ContainsFunc(s.liveNICs(api.Ctx(c), inst), func(n store.InstanceNIC) bool { return n.PortID == port }) {
		return api.NotFound("Port id %s could not be found.", port)
	}
	err = s.instances.DetachInterface(api.Ctx(c), caller(r), id, port)
	switch {
	case errors.Is(err, instance.ErrPortNotAttached):
		return api.NotFound("Port id %s could not be found.", port)
	case errors.Is(err, instance.ErrNoInterfaceNetworks):
		return api.NotImplemented("The requested functionality is not supported.")
	case err != nil:
		return instanceErr(id, err)
	}
	return c.NoContent(http.StatusAccepted)
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
