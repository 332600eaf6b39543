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
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/hypervisor"
	"minicloud/hypervisor/fake"
	"minicloud/server/api"
	"minicloud/server/compute"
	"minicloud/server/console"
	"minicloud/server/identity"
	"minicloud/server/image"
	"minicloud/server/instance"
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
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) build(ctx context.Context) error {
	cfg := s.cfg
	drv, err := newDriver(cfg)
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
	s.instances = instance.New(s.db, s.driver, images, nil, instance.Config{
		Host: cfg.Host, Node: cfg.Host, Zone: cfg.Zone, DataDir: cfg.DataDir, Logger: cfg.Logger,
	})
	if err := s.instances.Start(ctx); err != nil {
		return fmt.Errorf("start instances: %w", err)
	}
	s.consoles = console.New(s.db, s.instances, console.Config{PublicURL: cfg.PublicURL, Logger: cfg.Logger})
	nova := compute.New(s.db, s.identity, s.identity.URL, images, s.instances, s.driver, compute.Config{Zone: cfg.Zone, Host: cfg.Host})
	if err := nova.Bootstrap(ctx); err != nil {
		return fmt.Errorf("bootstrap compute: %w", err)
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = api.ErrorHandler
	e.Pre(api.Begin(cfg.PublicURL, cfg.Logger), api.ComputePaths)
	e.Use(api.Recover)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	s.identity.Register(e)
	images.Register(e)
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
	if s.instances != nil {
		s.instances.Close()
	}
	if s.driver != nil {
		s.driver.Close()
	}
	return s.db.Close()
}

// newDriver builds the hypervisor driver the configuration names.
func newDriver(cfg Config) (hypervisor.Driver, error) {
	switch cfg.Driver {
	case "fake", "":
		opts, err := fake.ParseDelays(cfg.FakeDelay)
		if err != nil {
			return nil, fmt.Errorf("--fake-delay: %w", err)
		}
		opts.Host.Hostname = cfg.Host
		return fake.New(opts), nil
	}
	return nil, fmt.Errorf("unknown driver %q (have: fake)", cfg.Driver)
}
