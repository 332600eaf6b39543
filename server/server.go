// Package server wires minicloud together: the store, the services that
// answer HTTP, the hypervisor driver and the network.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/hypervisor"
	"minicloud/hypervisor/fake"
	"minicloud/hypervisor/qemu"
	"minicloud/netcfg"
	"minicloud/server/api"
	"minicloud/server/compute"
	"minicloud/server/console"
	"minicloud/server/identity"
	"minicloud/server/image"
	"minicloud/server/instance"
	"minicloud/server/metadata"
	"minicloud/server/network"
	"minicloud/store"
)

// Config is how `minicloud serve` was asked to run.
type Config struct {
	Listen    string
	DataDir   string
	PublicURL string
	Driver    string
	// FakeDelay is the fake driver's per-operation delay: one duration, or
	// "spawn=2s,reboot=500ms,default=10ms".
	FakeDelay string
	Region    string
	Zone      string
	Host      string
	Logger    *slog.Logger
	// Network is the networks' configuration and the data plane's.
	Network NetworkConfig
}

// Server is one running cloud.
type Server struct {
	cfg       Config
	db        *store.DB
	echo      *echo.Echo
	identity  *identity.Service
	driver    hypervisor.Driver
	instances *instance.Manager
	consoles  *console.Service
	network   *network.Service
	// host is the data plane (nil without one).
	host *netcfg.Host
	// stopBackground ends the metadata service.
	stopBackground context.CancelFunc
	background     sync.WaitGroup
	// Bootstrap says what the first start created (passwords to show once).
	Bootstrap *identity.Bootstrap
}

// New opens the data directory and builds every service. The first start
// creates the identity defaults, flavors and zone.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Region == "" {
		cfg.Region = "RegionOne"
	}
	if cfg.Zone == "" {
		cfg.Zone = "nova"
	}
	if cfg.Host == "" {
		cfg.Host, _ = os.Hostname()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", cfg.DataDir, err)
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "minicloud.db"), time.Second)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, db: db}
	if err := s.build(ctx); err != nil {
		if s.stopBackground != nil {
			s.stopBackground()
			s.background.Wait()
		}
		if s.host != nil {
			s.host.Close()
		}
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) build(ctx context.Context) error {
	cfg := s.cfg
	drv, err := newDriver(ctx, cfg)
	if err != nil {
		return err
	}
	s.driver = drv
	s.identity = identity.New(s.db, identity.Config{
		Region:  cfg.Region,
		DataDir: cfg.DataDir,
		Catalog: []identity.CatalogService{
			{Type: "identity", Name: "keystone", Path: "/identity"},
			{Type: "compute", Name: "nova", Path: "/v2.1"},
			{Type: "image", Name: "glance", Path: "/image"},
			{Type: "network", Name: "neutron", Path: "/network"},
		},
	})
	boot, err := s.identity.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap identity: %w", err)
	}
	s.Bootstrap = boot
	images := image.New(s.db, filepath.Join(cfg.DataDir, "images"), s.identity, s.identity.URL)
	if err := images.Recover(ctx); err != nil {
		return err
	}
	nets, err := s.startNetwork(ctx)
	if err != nil {
		return err
	}
	// Hostnames on config drives end in Nova's default dhcp_domain.
	mdOptions := metadata.Options{DHCPDomain: "novalocal", MTU: cfg.Network.MTU}
	drives := &metadata.ConfigDrives{DB: s.db, Options: mdOptions, Instance: metadata.NetworkOptions(s.db)}
	s.instances = instance.New(s.db, s.driver, images, nets, instance.Config{
		Host: cfg.Host, Node: cfg.Host, Zone: cfg.Zone, DataDir: cfg.DataDir, Logger: cfg.Logger,
		ConfigDrive: drives.WriteWithAdminPass,
	})
	if err := s.instances.Start(ctx); err != nil {
		return fmt.Errorf("start instances: %w", err)
	}
	s.consoles = console.New(s.db, s.instances, console.Config{PublicURL: cfg.PublicURL, Logger: cfg.Logger})
	e := echo.New()
	nova := compute.New(s.db, s.identity, s.identity.URL, images, s.instances, s.driver, compute.Config{
		Zone: cfg.Zone, Host: cfg.Host, Network: nets, Neutron: e,
	})
	if err := nova.Bootstrap(ctx); err != nil {
		return fmt.Errorf("bootstrap compute: %w", err)
	}
	if s.host != nil {
		s.serveMetadata(ctx, mdOptions, nets)
	}

	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = api.ErrorHandler
	e.Pre(api.Begin(cfg.PublicURL, cfg.Logger), api.ComputePaths)
	e.Use(api.Recover)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	s.identity.Register(e)
	images.Register(e)
	s.network.Register(e)
	nova.Register(e)
	s.consoles.Register(e)
	s.echo = e
	return nil
}

// Handler is the whole HTTP API, for tests and for Serve.
func (s *Server) Handler() http.Handler { return s.echo }

// DB is the open store (for backups through a running server).
func (s *Server) DB() *store.DB { return s.db }

// Serve answers on ln until ctx ends, then drains for up to 5 s.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.echo, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the driver and the store; guests keep running.
func (s *Server) Close() error {
	// Console websockets were taken over from the HTTP server: its
	// shutdown does not end them.
	if s.consoles != nil {
		s.consoles.Close()
	}
	if s.stopBackground != nil {
		s.stopBackground()
		s.background.Wait()
	}
	if s.instances != nil {
		s.instances.Close()
	}
	if s.host != nil {
		s.host.Close()
	}
	if s.driver != nil {
		s.driver.Close()
	}
	return s.db.Close()
}

// newDriver builds the hypervisor driver the configuration names.
func newDriver(ctx context.Context, cfg Config) (hypervisor.Driver, error) {
	switch cfg.Driver {
	case "qemu", "":
		return qemu.New(ctx, qemu.Options{
			InstancesDir: filepath.Join(cfg.DataDir, "instances"),
			Hostname:     cfg.Host,
			Logger:       cfg.Logger,
		})
	case "fake":
		opts, err := fake.ParseDelays(cfg.FakeDelay)
		if err != nil {
			return nil, fmt.Errorf("--fake-delay: %w", err)
		}
		opts.Host.Hostname = cfg.Host
		return fake.New(opts), nil
	}
	return nil, fmt.Errorf("unknown driver %q (have: qemu, fake)", cfg.Driver)
}

// NetworkConfig is how `minicloud serve` was asked to run its networks.
type NetworkConfig struct {
	// DataPlane is "auto" (the default: bridges, taps, DHCP, NAT and the
	// metadata service on this host when the driver runs real guests and
	// the host allows it: root, br_netfilter), "on" (the same, and a
	// failure to start it is fatal) or "off" (networks and ports in the
	// API only; guests get NICs that lead nowhere).
	DataPlane string
	// Uplink is the only interface tenant networks are masqueraded
	// through ("" is any but the cloud's own bridges).
	Uplink string
	// PrivateCIDR, PrivateDNS, PublicCIDR and MTU shape the networks the
	// first start makes (see network.Config).
	PrivateCIDR string
	PrivateDNS  []string
	PublicCIDR  string
	MTU         int
	// MetadataAddr is where guests find the metadata service
	// (169.254.169.254; port 80).
	MetadataAddr string
}

// startNetwork builds the network service, its data plane when there can
// be one, and hands the data plane the records. Without a data plane (the
// fake driver, not root, no br_netfilter, or --dataplane off) networks and
// ports still exist in the API; guests get NICs without a host side.
func (s *Server) startNetwork(ctx context.Context) (*networks, error) {
	cfg := s.cfg
	ncfg := network.Config{
		PrivateCIDR: cfg.Network.PrivateCIDR, PrivateDNS: cfg.Network.PrivateDNS, PublicCIDR: cfg.Network.PublicCIDR,
		MTU: cfg.Network.MTU, Host: cfg.Host, Zone: cfg.Zone, Logger: cfg.Logger,
	}
	host, err := s.dataPlane(ctx)
	if err != nil {
		return nil, err
	}
	var plane network.Plane
	if host != nil {
		plane = network.NewNetcfgPlane(host, cfg.Logger)
	}
	s.network = network.New(s.db, s.identity, s.identity.URL, plane, ncfg)
	if err := s.network.Bootstrap(ctx); err != nil {
		if host != nil {
			host.Close()
		}
		return nil, fmt.Errorf("bootstrap network: %w", err)
	}
	err = s.network.Start(ctx)
	switch {
	case err != nil && host != nil && errors.Is(err, netcfg.ErrNoBridgeNetfilter):
		host.Close()
		if cfg.Network.DataPlane == "on" {
			return nil, fmt.Errorf("network data plane: %w", err)
		}
		cfg.Logger.Error("no network data plane: guests get NICs that lead nowhere", "err", err)
		host = nil
		s.network = network.New(s.db, s.identity, s.identity.URL, nil, ncfg)
	case err != nil:
		// Some objects could not be plugged; the others are.
		cfg.Logger.Error("network data plane: not everything could be plugged", "err", err)
	}
	s.host = host
	if host != nil {
		cfg.Logger.Info("network data plane up", "uplink", cfg.Network.Uplink)
	}
	return &networks{Service: s.network, taps: host != nil}, nil
}

// dataPlane opens this host's data plane, or says why there is none.
func (s *Server) dataPlane(ctx context.Context) (*netcfg.Host, error) {
	cfg := s.cfg
	mode := cfg.Network.DataPlane
	switch mode {
	case "off":
		cfg.Logger.Info("no network data plane (--dataplane off): networks and ports exist in the API only")
		return nil, nil
	case "", "auto":
		mode = "auto"
	case "on":
	default:
		return nil, fmt.Errorf("--dataplane %q: want auto, on or off", mode)
	}
	why := ""
	switch {
	case mode == "auto" && cfg.Driver == "fake":
		why = "the fake driver runs no guests"
	case os.Geteuid() != 0:
		why = "not running as root: bridges, taps and nftables rules need it"
	default:
		if _, err := os.Stat("/proc/sys/net/bridge"); err != nil {
			why = netcfg.ErrNoBridgeNetfilter.Error()
		}
	}
	if why != "" {
		if mode == "on" {
			return nil, fmt.Errorf("network data plane: %s", why)
		}
		if cfg.Driver == "fake" {
			cfg.Logger.Info("no network data plane: " + why + "; networks and ports exist in the API only")
		} else {
			cfg.Logger.Warn("no network data plane: "+why+"; networks and ports exist in the API only and guests get NICs that lead nowhere", "hint", "run as root with br_netfilter loaded (modprobe br_netfilter)")
		}
		return nil, nil
	}
	opts := netcfg.Options{Uplink: cfg.Network.Uplink, Logger: cfg.Logger}
	if cfg.Network.MetadataAddr != "" {
		a, err := netip.ParseAddr(cfg.Network.MetadataAddr)
		if err != nil {
			return nil, fmt.Errorf("metadata address %q: %w", cfg.Network.MetadataAddr, err)
		}
		opts.MetadataAddr = a
	}
	host, err := netcfg.New(ctx, opts)
	if err != nil {
		if mode == "on" {
			return nil, fmt.Errorf("network data plane: %w", err)
		}
		cfg.Logger.Error("no network data plane: guests get NICs that lead nowhere", "err", err)
		return nil, nil
	}
	return host, nil
}

// serveMetadata runs the metadata service on the metadata address until
// Close; a failure to listen leaves guests without it (logged).
func (s *Server) serveMetadata(ctx context.Context, opts metadata.Options, nets *networks) {
	addr := s.cfg.Network.MetadataAddr
	if addr == "" {
		addr = "169.254.169.254"
	}
	ln, err := metadata.Listen(ctx, net.JoinHostPort(addr, "80"))
	if err != nil {
		s.cfg.Logger.Error("no metadata service", "err", err)
		return
	}
	svc := &metadata.Service{
		DB: s.db, PortByAddr: s.host.PortByAddr, Options: opts, Instance: metadata.NetworkOptions(s.db),
		Live:        metadata.LiveNetwork(s.db, nets.InstanceNICs),
		SetPassword: s.instances.SetPassword,
		IsConflict: func(err error) bool {
			var c *instance.Conflict
			return errors.As(err, &c)
		},
		Logger: s.cfg.Logger.With("component", "metadata"),
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopBackground = stop
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		if err := svc.Serve(bg, ln); err != nil {
			s.cfg.Logger.Error("metadata service stopped", "err", err)
		}
	}()
	s.cfg.Logger.Info("metadata service up", "addr", ln.Addr().String())
}

// networks is the network service as the instance manager and the
// compute API use it. Without a data plane no tap exists: NICs carry no
// tap name, so that a hypervisor gives the guest a NIC with no host side
// rather than making a tap of its own.
type networks struct {
	*network.Service
	taps bool
}

func (n *networks) strip(nics []store.InstanceNIC) []store.InstanceNIC {
	if !n.taps {
		for i := range nics {
			nics[i].Tap = ""
		}
	}
	return nics
}

// Allocate is the service's, without taps when there are none.
func (n *networks) Allocate(ctx context.Context, inst *store.Instance, reqs []instance.NetworkRequest) ([]store.InstanceNIC, error) {
	nics, err := n.Service.Allocate(ctx, inst, reqs)
	return n.strip(nics), err
}

// AttachInterface is the service's, without a tap when there is none.
func (n *networks) AttachInterface(ctx context.Context, inst *store.Instance, r instance.NetworkRequest) (store.InstanceNIC, error) {
	nic, err := n.Service.AttachInterface(ctx, inst, r)
	if !n.taps {
		nic.Tap = ""
	}
	return nic, err
}

// InstanceNICs is the service's, without taps when there are none.
func (n *networks) InstanceNICs(ctx context.Context, inst *store.Instance) ([]store.InstanceNIC, error) {
	nics, err := n.Service.InstanceNICs(ctx, inst)
	return n.strip(nics), err
}

// Replug hands the data plane the whole desired state again
// (injectNetworkInfo).
func (n *networks) Replug(ctx context.Context) error {
	return n.Service.Start(ctx)
}
