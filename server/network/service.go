// Package network is the Neutron v2 subset the clients call, at
// /network/v2.0: networks, subnets, ports, floating IPs, security groups and
// their rules, tags, quotas and the extension list, with IPAM done in the
// same store transaction as the port it serves. It also gives the compute
// side a Go API for instance ports, and tells the data plane (a Plane)
// about every change.
package network

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// mount is where the network API answers; the catalog's network URL is
// <base>/network and clients append /v2.0.
const mount = "/network"

// Config is what the network service needs to know about this cloud.
type Config struct {
	// PrivateCIDR is the prefix of the shared tenant network made at first
	// start (default 10.0.0.0/24); PrivateDNS its subnet's name servers
	// (none by default, as a Neutron subnet made without any).
	PrivateCIDR string
	PrivateDNS  []string
	// PublicCIDR is the external network floating IPs come from (default
	// 172.24.4.0/24, a host-only range).
	PublicCIDR string
	// MTU is the MTU of new networks and the largest one may ask for
	// (default 1500).
	MTU int
	// Host is the compute host ports are bound to (binding:host_id).
	Host string
	// Zone is the availability zone of guest ports' device_owner
	// ("compute:<zone>", default "nova").
	Zone string
	// Logger receives data plane failures of API changes.
	Logger *slog.Logger
}

// Service serves the network API and the compute side's port calls.
type Service struct {
	db          *store.DB
	auth        api.TokenValidator
	identityURL func(*api.Request) string
	cfg         Config
	plane       Plane
	log         *slog.Logger
	// pushMu makes data plane calls one at a time, each with the newest
	// committed state.
	pushMu sync.Mutex
	// now is the clock (tests may replace it).
	now func() time.Time
}

// New builds the network service. plane may be nil (no data plane).
func New(db *store.DB, auth api.TokenValidator, identityURL func(*api.Request) string, plane Plane, cfg Config) *Service {
	if cfg.PrivateCIDR == "" {
		cfg.PrivateCIDR = "10.0.0.0/24"
	}
	if cfg.PublicCIDR == "" {
		cfg.PublicCIDR = "172.24.4.0/24"
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	if cfg.Zone == "" {
		cfg.Zone = "nova"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{db: db, auth: auth, identityURL: identityURL, cfg: cfg, plane: plane, log: cfg.Logger,
		now: func() time.Time { return time.Now().UTC() }}
}

// Start hands the data plane the whole desired state, so it can build what
// is missing and remove what a crash or a restart left behind.
func (s *Service) Start(ctx context.Context) error {
	if s.plane == nil {
		return nil
	}
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	var st State
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		st, err = s.fullState(tx)
		return err
	})
	if err != nil {
		return err
	}
	return s.plane.Reconcile(ctx, st)
}
