// Package compute answers the Nova API: validation, policy and views per
// microversion. It keeps no lifecycle logic of its own: servers are handed to
// the instance manager, images to the image service.
package compute

import (
	"net/http"

	"minicloud/hypervisor"
	"minicloud/server/api"
	"minicloud/server/image"
	"minicloud/server/instance"
	"minicloud/store"
)

// Config is what the compute API needs to know about this cloud.
type Config struct {
	// Zone is the availability zone every host is in ("nova").
	Zone string
	// Host is the compute host's name (os-hypervisors, OS-EXT-SRV-ATTR:host).
	Host string
	// Network is the network service (ports, floating IPs, security
	// groups); nil leaves servers without networks.
	Network Networks
	// Neutron answers the network API (/network/v2.0) in process: the
	// proxy APIs call it with the caller's token, as Nova calls Neutron.
	Neutron http.Handler
}

// Service serves the compute API.
type Service struct {
	db        *store.DB
	auth      api.TokenValidator
	images    *image.Service
	instances *instance.Manager
	// driver answers the host questions (os-hypervisors).
	driver hypervisor.Driver
	cfg    Config
	quota  *quotaEngine
	// net is cfg.Network.
	net Networks
	// identityURL is where keystonemiddleware's 401 points clients.
	identityURL func(*api.Request) string
}

// New builds the compute API over the store and the other services.
func New(db *store.DB, auth api.TokenValidator, identityURL func(*api.Request) string, images *image.Service,
	instances *instance.Manager, driver hypervisor.Driver, cfg Config) *Service {
	return &Service{db: db, auth: auth, images: images, instances: instances, driver: driver, cfg: cfg,
		identityURL: identityURL, quota: newQuotaEngine(), net: cfg.Network}
}
