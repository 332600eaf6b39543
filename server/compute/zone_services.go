package compute

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// Nova's compute services on this host. One minicloud process schedules,
// conducts and runs the hypervisor, so it keeps a nova-scheduler and a
// nova-conductor service in the internal zone and a nova-compute service
// in the configured zone, the way a one-host Nova lists them.

const (
	// internalZone is Nova's internal_service_availability_zone.
	internalZone = "internal"
	// serviceDownTime is Nova's service_down_time: a service whose last
	// heartbeat is older is down.
	serviceDownTime = 60 * time.Second
	// serviceTimeFormat is how Nova writes a service's updated_at.
	serviceTimeFormat = "2006-01-02T15:04:05.000000"
)

// hostServices are the services this process provides, in the order Nova
// starts them.
var hostServices = []struct{ binary, zone string }{
	{"nova-scheduler", internalZone},
	{"nova-conductor", internalZone},
	{"nova-compute", ""}, // the configured zone
}

// bootstrapServices makes sure this host's services exist, as each Nova
// service registers itself when it starts (so a renamed host gets its own
// records), and records the start as their heartbeat. nova-compute follows
// the configured zone.
func (s *Service) bootstrapServices(ctx context.Context) error {
	// Most starts find the services as they should be: a read, no write.
	current := true
	err := s.db.View(ctx, func(tx *store.Tx) error {
		for _, hs := range hostServices {
			svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(s.cfg.Host, hs.binary))
			if err != nil {
				current = false
				continue
			}
			want, err := s.bootZone(tx, hs.zone)
			if err != nil || svc.Zone != want {
				current = false
			}
		}
		return nil
	})
	if err != nil || current {
		return err
	}
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		now := time.Now().UTC().Truncate(time.Second)
		for _, hs := range hostServices {
			zone, err := s.bootZone(tx, hs.zone)
			if err != nil {
				return err
			}
			svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(s.cfg.Host, hs.binary))
			switch {
			case errors.Is(err, store.ErrNotFound):
				seq, err := tx.NextSeq("services")
				if err != nil {
					return err
				}
				svc = &store.Service{ID: int64(seq), UUID: api.NewUUID(), Binary: hs.binary, Host: s.cfg.Host, CreatedAt: now}
			case err != nil:
				return err
			}
			svc.Zone = zone
			svc.UpdatedAt = &now
			if err := store.Services.Put(tx, svc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bootstrap services on %s: %w", s.cfg.Host, err)
	}
	return nil
}

// allServices lists every service in id order (Nova's service_get_all).
func allServices(tx *store.Tx) ([]*store.Service, error) {
	all, err := store.Services.All(tx)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	slices.SortFunc(all, func(a, b *store.Service) int { return cmp.Compare(a.ID, b.ID) })
	return all, nil
}

// serviceHeartbeat is a service's last report: for this host's services,
// which live in the process answering, now; for others, the last one
// recorded (nil if never).
func (s *Service) serviceHeartbeat(svc *store.Service, now time.Time) *time.Time {
	if svc.Host == s.cfg.Host {
		t := now.UTC().Truncate(time.Second)
		return &t
	}
	return svc.UpdatedAt
}

// serviceIsUp is Nova's servicegroup check: not forced down, and a
// heartbeat within service_down_time (falling back to the creation time).
func (s *Service) serviceIsUp(svc *store.Service, now time.Time) bool {
	if svc.ForcedDown {
		return false
	}
	last := svc.CreatedAt
	if hb := s.serviceHeartbeat(svc, now); hb != nil {
		last = *hb
	}
	d := now.Sub(last)
	return d <= serviceDownTime && d >= -serviceDownTime
}

// bootZone is the zone a service of this host belongs in at start: its own
// (internal) when it has one, else the host's zone, which aggregates may
// have moved away from the configured default.
func (s *Service) bootZone(tx *store.Tx, zone string) (string, error) {
	if zone != "" {
		return zone, nil
	}
	return s.hostZone(tx, s.cfg.Host)
}
