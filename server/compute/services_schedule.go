package compute

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// What Nova's scheduler decides from the compute services: whether this
// host takes new instances, and in which zones instances can be asked for.
// Disabling or forcing down the compute service (os-services, os-hosts)
// and the zones of aggregates (os-aggregates) act on new servers through
// these functions.

// noHostError is the scheduler's refusal: no compute host can take the
// instance. Like the server-group check's error it offers NoValidHost(),
// the fault message the lifecycle manager writes when it puts the new
// instances in ERROR (code 500), so the manager handles both alike:
//
//	var nvh interface{ NoValidHost() string }
//	if errors.As(err, &nvh) { ... }
type noHostError struct{}

// The message of Nova's filter scheduler when the filters leave fewer hosts
// than instances.
func (*noHostError) Error() string {
	return "No valid host was found. There are not enough hosts available."
}

// NoValidHost is the fault message.
func (e *noHostError) NoValidHost() string { return e.Error() }

// errNoHost is the scheduler's refusal (match with errors.As on a
// *noHostError, or the NoValidHost interface).
var errNoHost error = &noHostError{}

// computeServiceUsable reports whether this host's nova-compute service
// takes new instances: it exists, is enabled, and is up (not forced down).
func (s *Service) computeServiceUsable(tx *store.Tx) (bool, error) {
	svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(s.cfg.Host, computeBinary))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("compute service of %s: %w", s.cfg.Host, err)
	}
	return !svc.Disabled && s.serviceIsUp(svc, time.Now()), nil
}

// scheduleHost picks the compute host for a new instance asked for in zone
// ("" for any): this host when its compute service is usable and the host
// is in that zone, else a *noHostError. It returns the host and the zone
// the instance lands in.
func (s *Service) scheduleHost(tx *store.Tx, zone string) (host, hostZone string, err error) {
	ok, err := s.computeServiceUsable(tx)
	if err != nil || !ok {
		return "", "", cmpErr(err, errNoHost)
	}
	hz, err := s.hostZone(tx, s.cfg.Host)
	if err != nil {
		return "", "", err
	}
	if zone != "" && zone != hz {
		return "", "", errNoHost
	}
	return s.cfg.Host, hz, nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// availableZones are the zones new servers may name (Nova's
// get_availability_zones with get_only_available): the zones of enabled
// services, sorted. Server create refuses any other zone with 400 "The
// requested availability zone is not available".
func (s *Service) availableZones(tx *store.Tx) ([]string, error) {
	services, err := allServices(tx)
	if err != nil {
		return nil, err
	}
	var zones []string
	for _, svc := range services {
		if svc.Disabled {
			continue
		}
		z, err := s.serviceZone(tx, svc)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
	}
	slices.Sort(zones)
	return zones, nil
}

// HostZone is the availability zone this host is in now (its aggregates
// can move it): what the lifecycle manager's Config.HostZone asks, to give
// a server booted without a zone the zone it lands in.
func (s *Service) HostZone(ctx context.Context) string {
	zone := s.cfg.Zone
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		zone, err = s.hostZone(tx, s.cfg.Host)
		return err
	})
	if err != nil {
		api.Logger(ctx).Warn("read the host's zone", "host", s.cfg.Host, "err", err)
		return s.cfg.Zone
	}
	return zone
}
