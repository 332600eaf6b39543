package console

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/hypervisor"
	"minicloud/server/instance"
	"minicloud/store"
	"minicloud/webui"
)

// Opener connects to a console stream of an instance; the lifecycle
// manager is one.
type Opener interface {
	OpenConsole(ctx context.Context, c instance.Caller, id string, kind hypervisor.ConsoleKind) (io.ReadWriteCloser, error)
}

// Config tunes the console service; zero values are the defaults.
type Config struct {
	// TTL is how long a token lasts (DefaultTTL).
	TTL time.Duration
	// PublicURL is --public-url: browsers on its host may open consoles
	// even when a reverse proxy sends another Host header.
	PublicURL string
	// WriteTimeout is how long a client may take to accept one message
	// before it is disconnected (30 s).
	WriteTimeout time.Duration
	// VNCBuffer and SerialBuffer bound the bytes queued for one client: a
	// VNC client that falls further behind is disconnected (an RFB stream
	// cannot lose bytes), a serial client loses output as a UART overrun
	// does (16 MiB and 256 KiB).
	VNCBuffer, SerialBuffer int
	Logger                  *slog.Logger
}

// Service serves the console pages and websockets.
type Service struct {
	tokens  Tokens
	streams Opener
	cfg     Config
	origins []string

	// ctx ends every open console when the service closes: hijacked
	// websocket connections outlive the HTTP server's shutdown.
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // orders begin against Close
	wg     sync.WaitGroup
}

// New builds the console service over the store and whatever opens guest
// streams.
func New(db *store.DB, streams Opener, cfg Config) *Service {
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.VNCBuffer <= 0 {
		cfg.VNCBuffer = 16 << 20
	}
	if cfg.SerialBuffer <= 0 {
		cfg.SerialBuffer = 256 << 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{tokens: Tokens{DB: db, TTL: cfg.TTL}, streams: streams, cfg: cfg}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Host != "" {
		s.origins = []string{u.Host}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if _, ok := webui.NoVNC(); !ok {
		cfg.Logger.Warn("noVNC is not built in: the VNC console page only says how to install it (webui/install.sh, then rebuild)")
	}
	return s
}

// Tokens is the token store consoles are checked against; the compute API
// issues with it.
func (s *Service) Tokens() Tokens { return s.tokens }

// Register mounts the consoles under /console.
func (s *Service) Register(e *echo.Echo) {
	for _, p := range []string{PagePath, "/console/vnc.html", "/console/vnc_auto.html"} {
		e.GET(p, s.vncPage)
		e.HEAD(p, s.vncPage)
	}
	e.GET("/console/novnc/*", s.noVNCAsset)
	e.HEAD("/console/novnc/*", s.noVNCAsset)
	e.GET(WebsockifyPath, s.vncProxy)
	e.GET(SerialPath, s.serialProxy)
}

// Close ends every open console and waits for their relays to stop.
func (s *Service) Close() {
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
}
