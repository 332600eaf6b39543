package network

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/store"
)

// handler adapts a handler returning Faults to the shared error handler.
func handler(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := h(c)
		var f *Fault
		if errors.As(err, &f) {
			return f.apiError()
		}
		return err
	}
}

// ifMatch reads an If-Match "revision_number=N" constraint; nil when none.
func ifMatch(c echo.Context) (*int64, error) {
	h := c.Request().Header.Get("If-Match")
	if h == "" {
		return nil, nil
	}
	var found *int64
	for _, tag := range strings.Split(h, ",") {
		tag = strings.Trim(strings.TrimSpace(tag), `"`)
		tag = strings.TrimPrefix(tag, "W/")
		tag = strings.Trim(tag, `"`)
		rest, ok := strings.CutPrefix(tag, "revision_number=")
		if !ok {
			continue
		}
		if found != nil {
			return nil, badRequest("if-match", "Multiple revision_number etags are not supported.")
		}
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return nil, badRequest("if-match", "Revision number etag must be in the format of revision_number=<int>")
		}
		found = &n
	}
	return found, nil
}

func checkRevision(want *int64, have int64) error {
	if want != nil && *want != have {
		return revisionConstraintFailed(*want, have)
	}
	return nil
}

// touch marks a record changed: a new revision and update time.
func (s *Service) touch(st *store.Standard) {
	st.Revision++
	st.UpdatedAt = s.now()
}

func (s *Service) newStandard(description string) store.Standard {
	now := s.now()
	return store.Standard{Description: description, CreatedAt: now, UpdatedAt: now, Revision: 1}
}

// Loaders that answer the resource's NotFound when the record is missing
// or the caller may not see it (Neutron scopes its queries the same way).

func (s *Service) network(tx *store.Tx, who caller, id string) (*store.Network, error) {
	n, err := store.Networks.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !who.seesNetwork(n)) {
		return nil, networkNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get network %s: %w", id, err)
	}
	return n, nil
}

func (s *Service) subnet(tx *store.Tx, who caller, id string) (*store.Subnet, *store.Network, error) {
	sub, err := store.Subnets.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, subnetNotFound(id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get subnet %s: %w", id, err)
	}
	n, err := store.Networks.Get(tx, sub.NetworkID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("get network %s: %w", sub.NetworkID, err)
	}
	if !who.seesSubnet(sub, n) {
		return nil, nil, subnetNotFound(id)
	}
	return sub, n, nil
}

func (s *Service) port(tx *store.Tx, who caller, id string) (*store.Port, *store.Network, error) {
	p, err := store.Ports.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, portNotFound(id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get port %s: %w", id, err)
	}
	n, err := store.Networks.Get(tx, p.NetworkID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("get network %s: %w", p.NetworkID, err)
	}
	if !who.seesPort(p, n) {
		return nil, nil, portNotFound(id)
	}
	return p, n, nil
}

func (s *Service) floatingIP(tx *store.Tx, who caller, id string) (*store.FloatingIP, error) {
	f, err := store.FloatingIPs.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !who.seesFloatingIP(f)) {
		return nil, floatingIPNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get floating IP %s: %w", id, err)
	}
	return f, nil
}

func (s *Service) group(tx *store.Tx, who caller, id string) (*store.SecurityGroup, error) {
	g, err := store.SecurityGroups.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !who.seesGroup(g)) {
		return nil, securityGroupNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get security group %s: %w", id, err)
	}
	return g, nil
}

// byIndex returns the records of table under one key of an index.
func byIndex[T any](tx *store.Tx, table *store.Table[T], index, key string) ([]*T, error) {
	var out []*T
	err := table.ScanIndex(tx, index, key, func(v *T) (bool, error) {
		out = append(out, v)
		return true, nil
	})
	return out, err
}

// subnetsOf returns a network's subnets in creation order.
func subnetsOf(tx *store.Tx, networkID string) ([]*store.Subnet, error) {
	out, err := byIndex(tx, store.Subnets, "network", networkID)
	sortSubnets(out)
	return out, err
}

func portsOn(tx *store.Tx, networkID string) ([]*store.Port, error) {
	return byIndex(tx, store.Ports, "network", networkID)
}

// portsOfDevice returns the ports bound to a device (an instance's id).
func portsOfDevice(tx *store.Tx, deviceID string) ([]*store.Port, error) {
	return byIndex(tx, store.Ports, "device", deviceID)
}

func rulesOf(tx *store.Tx, groupID string) ([]*store.SecurityGroupRule, error) {
	out, err := byIndex(tx, store.SecurityGroupRules, "group", groupID)
	sortRules(out)
	return out, err
}

// conflictFault turns a unique index conflict on a port into Neutron's
// fault: an address or a MAC already held on the network.
func conflictFault(tx *store.Tx, err error, p *store.Port) error {
	var ic *store.IndexConflict
	if !errors.As(err, &ic) {
		return err
	}
	switch ic.Index {
	case "mac":
		return macAddressInUse(p.NetworkID, p.MAC)
	case "ip":
		_, ip, _ := strings.Cut(ic.Key, "|")
		subnetID := ""
		for _, f := range p.FixedIPs {
			if f.IPAddress == ip {
				subnetID = f.SubnetID
			}
		}
		return ipAddressAlreadyAllocated(ip, subnetID)
	}
	return err
}
