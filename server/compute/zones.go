package compute

import (
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// os-availability-zone: the zones made of the compute services. A zone is
// available while one of its services is enabled; the internal zone (the
// scheduler and conductor) only shows in the detailed list.

func (s *Service) zoneRoutes(g *echo.Group) {
	g.GET("/os-availability-zone", s.listZones)
	g.GET("/os-availability-zone/detail", s.listZonesDetail)
}

const zonePolicy = "os_compute_api:os-availability-zone:"

// zoneQuery is the query of both zone lists: nothing is expected, and from
// 2.102 anything is a 400.
func zoneQuery(minor int) *schema.Schema { return queryParamsSchema(minor >= 102) }

// zoneSplit is Nova's get_availability_zones: the zones of enabled
// services, and the zones that only have disabled ones, each sorted.
func zoneSplit(services []*store.Service) (available, unavailable []string) {
	enabled := map[string]bool{}
	for _, svc := range services {
		if !svc.Disabled {
			enabled[svc.Zone] = true
		}
	}
	disabled := map[string]bool{}
	for _, svc := range services {
		if svc.Disabled && !enabled[svc.Zone] {
			disabled[svc.Zone] = true
		}
	}
	for z := range enabled {
		available = append(available, z)
	}
	for z := range disabled {
		unavailable = append(unavailable, z)
	}
	slices.Sort(available)
	slices.Sort(unavailable)
	return available, unavailable
}

func zoneEntry(name string, available bool, hosts any) api.Object {
	return api.Object{{"zoneName", name}, {"zoneState", api.Object{{"available", available}}}, {"hosts", hosts}}
}

func (s *Service) zoneServices(c echo.Context) ([]*store.Service, error) {
	var services []*store.Service
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		services, err = allServices(tx)
		return err
	})
	return services, err
}

// listZones is GET /os-availability-zone: every caller may list zone names
// and states, without the internal zone.
func (s *Service) listZones(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, zoneQuery(minorVersion(r))); err != nil {
		return err
	}
	services, err := s.zoneServices(c)
	if err != nil {
		return err
	}
	available, unavailable := zoneSplit(services)
	items := []api.Object{}
	for _, z := range available {
		if z != internalZone {
			items = append(items, zoneEntry(z, true, nil))
		}
	}
	for _, z := range unavailable {
		if z != internalZone {
			items = append(items, zoneEntry(z, false, nil))
		}
	}
	return api.JSON(c, http.StatusOK, api.Object{{"availabilityZoneInfo", items}})
}

// listZonesDetail is GET /os-availability-zone/detail (admin): each
// available zone with its hosts and their enabled services.
func (s *Service) listZonesDetail(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, zoneQuery(minorVersion(r))); err != nil {
		return err
	}
	if !r.Auth.IsAdmin() {
		return api.PolicyForbidden(zonePolicy + "detail")
	}
	services, err := s.zoneServices(c)
	if err != nil {
		return err
	}
	now := time.Now()
	available, unavailable := zoneSplit(services)
	items := []api.Object{}
	for _, z := range available {
		var hosts []string
		byHost := map[string]api.Object{}
		for _, svc := range services {
			if svc.Disabled || svc.Zone != z {
				continue
			}
			if _, ok := byHost[svc.Host]; !ok {
				hosts = append(hosts, svc.Host)
			}
			var updated any
			if hb := s.serviceHeartbeat(svc, now); hb != nil {
				updated = hb.UTC().Format(serviceTimeFormat)
			}
			byHost[svc.Host] = append(byHost[svc.Host], api.Field{Key: svc.Binary, Value: api.Object{
				{"available", s.serviceIsUp(svc, now)},
				{"active", !svc.Disabled},
				{"updated_at", updated},
			}})
		}
		slices.Sort(hosts)
		hostsView := api.Object{}
		for _, h := range hosts {
			hostsView.Add(h, byHost[h])
		}
		items = append(items, zoneEntry(z, true, hostsView))
	}
	for _, z := range unavailable {
		items = append(items, zoneEntry(z, false, nil))
	}
	return api.JSON(c, http.StatusOK, api.Object{{"availabilityZoneInfo", items}})
}
