package compute

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// os-virtual-interfaces (until 2.43): the instance's NICs as virtual
// interfaces, their id being the port's; net_id from 2.12. Nova dropped
// the API with nova-network; this cloud keeps it working over its own
// NICs, as the old API did over nova-network's.

func (s *Service) virtualInterfaceRoutes(g *echo.Group) {
	g.GET("/servers/:id/os-virtual-interfaces", s.listVirtualInterfaces, until(43))
}

func (s *Service) listVirtualInterfaces(c echo.Context) error {
	r := api.From(c)
	inst, err := s.subInstance(c, c.Param("id"))
	if err != nil {
		return err
	}
	inst = s.liveNetwork(api.Ctx(c), inst)
	var nics []store.InstanceNIC
	for _, nic := range inst.NICs {
		if nic.DeletedAt == nil {
			nics = append(nics, nic)
		}
	}
	offset, limit, err := offsetLimit(c)
	if err != nil {
		return err
	}
	nics = pageSlice(nics, offset, limit)
	items := make([]api.Object, 0, len(nics))
	for _, nic := range nics {
		o := api.Object{{"id", nic.PortID}, {"mac_address", nic.MAC}}
		if r.Version.AtLeast(12) {
			o.Add("net_id", nic.NetworkID)
		}
		items = append(items, o)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"virtual_interfaces", items}})
}

// offsetLimit reads Nova's common.limited parameters: offset and limit,
// non-negative integers (the last value when repeated); a limit of 0 or
// above the maximum page size is the maximum page size.
func offsetLimit(c echo.Context) (offset, limit int, err error) {
	limit = maxPageSize
	q := c.QueryParams()
	read := func(name string) (int, bool, error) {
		vs := q[name]
		if len(vs) == 0 {
			return 0, false, nil
		}
		v := vs[len(vs)-1]
		n, perr := strconv.Atoi(v)
		if perr != nil {
			return 0, false, api.BadRequest("Invalid input received: %s must be an integer", name)
		}
		if n < 0 {
			return 0, false, api.BadRequest("Invalid input received: %s must be >= 0", name)
		}
		return n, true, nil
	}
	if offset, _, err = read("offset"); err != nil {
		return 0, 0, err
	}
	n, ok, err := read("limit")
	if err != nil {
		return 0, 0, err
	}
	if ok && n > 0 && n < limit {
		limit = n
	}
	return offset, limit, nil
}

// pageSlice is items[offset:offset+limit], clipped.
func pageSlice[T any](items []T, offset, limit int) []T {
	if offset >= len(items) {
		return nil
	}
	end := len(items)
	if limit < end-offset {
		end = offset + limit
	}
	return items[offset:end]
}
