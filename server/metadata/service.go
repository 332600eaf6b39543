package metadata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"syscall"
	"time"

	"minicloud/store"
)

// Service is the metadata service guests reach at http://169.254.169.254/:
// Nova's metadata API (EC2 and OpenStack formats, the password a guest
// posts) over the same documents as the config drive. A guest is known by
// the source address of its connection alone, which the data plane's
// anti-spoofing rules tie to one port; nothing in the request (headers,
// path) can make it another instance.
type Service struct {
	// DB holds the ports and instances.
	DB *store.DB
	// PortByAddr names the port holding a fixed address, and whether
	// anti-spoofing guarantees that only that port sends from it (the data
	// plane's netcfg.Host.PortByAddr). Untrusted ports are not served.
	PortByAddr func(netip.Addr) (portID string, trusted, ok bool)
	// Options are the documents' options for every instance (DHCPDomain,
	// MTU, ...); Address is set per request.
	Options Options
	// Instance, when set, completes the options for one instance (its
	// subnets and network MTUs), as for config drives.
	Instance func(ctx context.Context, inst *store.Instance, opts *Options) error
	// Live, when set, updates the instance's NICs and security groups
	// to what its ports say now (floating IPs come and go).
	Live func(ctx context.Context, inst *store.Instance) error
	// SetPassword stores the password a guest posts; it fails with an
	// error satisfying IsConflict when one is set already.
	SetPassword func(ctx context.Context, instanceID, password string) error
	// IsConflict recognises SetPassword's "already set".
	IsConflict func(error) bool
	Logger     *slog.Logger
}

// maxPassword is Nova's limit on a posted password: four system metadata
// chunks of 255 characters.
const maxPassword = 4 * 255

// Listen opens the service's socket on addr (169.254.169.254:80). The
// address may not exist yet (the data plane puts it on each bridge as the
// bridge is made), so the socket binds with IP_FREEBIND.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_IP, syscall.IP_FREEBIND, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(ctx, "tcp4", addr)
	if err != nil {
		return nil, fmt.Errorf("metadata service on %s: %w", addr, err)
	}
	return ln, nil
}

// Serve answers on ln until ctx ends.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// ServeHTTP is Nova's MetadataRequestHandler: the version list at /, else
// the document of the caller's instance at the path.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if path.Clean("/"+r.URL.Path) == "/" {
		writeText(w, r, textPlain, []byte(strings.Join(append(EC2Versions(), Latest), "\n")))
		return
	}
	ctx := r.Context()
	inst, addr, err := s.caller(ctx, r)
	if err != nil {
		s.log().Warn("metadata request not served", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
		notFound(w)
		return
	}
	opts, err := s.options(ctx, inst, addr)
	if err != nil {
		s.fail(w, r, inst, err)
		return
	}
	m, err := New(inst, opts)
	if err != nil {
		s.fail(w, r, inst, err)
		return
	}
	res, err := lookup(m, inst, r.URL.Path)
	if errors.Is(err, errNoPath) {
		notFound(w)
		return
	}
	if err != nil {
		s.fail(w, r, inst, err)
		return
	}
	if res.password {
		s.password(w, r, inst)
		return
	}
	if r.Method == http.MethodPost {
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	writeText(w, r, res.mime, res.body)
}

// caller is the instance whose port holds the connection's source
// address.
func (s *Service) caller(ctx context.Context, r *http.Request) (*store.Instance, netip.Addr, error) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("remote address %q: %w", r.RemoteAddr, err)
	}
	addr := ap.Addr().Unmap()
	if s.PortByAddr == nil {
		return nil, addr, errors.New("no data plane to name the port")
	}
	portID, trusted, ok := s.PortByAddr(addr)
	if !ok {
		return nil, addr, fmt.Errorf("no port holds %s", addr)
	}
	if !trusted {
		return nil, addr, fmt.Errorf("port %s has no port security: its address could be anyone's", portID)
	}
	var inst *store.Instance
	err = s.DB.View(ctx, func(tx *store.Tx) error {
		p, err := store.Ports.Get(tx, portID)
		if err != nil {
			return fmt.Errorf("port %s: %w", portID, err)
		}
		if p.DeviceID == "" || !strings.HasPrefix(p.DeviceOwner, "compute:") {
			return fmt.Errorf("port %s belongs to no instance", portID)
		}
		inst, err = store.Instances.Get(tx, p.DeviceID)
		if err != nil {
			return fmt.Errorf("instance %s of port %s: %w", p.DeviceID, portID, err)
		}
		if inst.Deleted {
			return fmt.Errorf("instance %s of port %s is deleted", p.DeviceID, portID)
		}
		return nil
	})
	if err != nil {
		return nil, addr, err
	}
	if s.Live != nil {
		if err := s.Live(ctx, inst); err != nil {
			return nil, addr, fmt.Errorf("network of instance %s: %w", inst.ID, err)
		}
	}
	return inst, addr, nil
}

func (s *Service) options(ctx context.Context, inst *store.Instance, addr netip.Addr) (Options, error) {
	d := &ConfigDrives{Options: s.Options, DB: s.DB, Instance: s.Instance}
	opts, err := d.options(ctx, inst)
	if err != nil {
		return opts, err
	}
	// The service never shows the admin password (config drives do).
	opts.AdminPass = ""
	opts.Address = addr.String()
	return opts, nil
}

// password is Nova's handle_password: GET reads what the guest posted,
// POST stores it once.
func (s *Service) password(w http.ResponseWriter, r *http.Request, inst *store.Instance) {
	if r.Method != http.MethodPost {
		writeText(w, r, textPlain, []byte(inst.Password))
		return
	}
	if inst.Password != "" {
		httpError(w, http.StatusConflict, "There was a conflict when trying to complete your request.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPassword+1))
	if err != nil {
		httpError(w, http.StatusBadRequest, "Request is too large.")
		return
	}
	if r.ContentLength > maxPassword || len(body) > maxPassword {
		httpError(w, http.StatusBadRequest, "Request is too large.")
		return
	}
	if s.SetPassword == nil {
		httpError(w, http.StatusBadRequest, "GET and POST only are supported.")
		return
	}
	if err := s.SetPassword(r.Context(), inst.ID, string(body)); err != nil {
		if s.IsConflict != nil && s.IsConflict(err) {
			httpError(w, http.StatusConflict, "There was a conflict when trying to complete your request.")
			return
		}
		s.fail(w, r, inst, err)
		return
	}
	writeText(w, r, textPlain, nil)
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, inst *store.Instance, err error) {
	s.log().Error("metadata request failed", "instance", inst.ID, "path", r.URL.Path, "err", err)
	httpError(w, http.StatusInternalServerError, "An unknown error has occurred. Please try your request again.")
}

const (
	textPlain = "text/plain; charset=UTF-8"
	appJSON   = "application/json"
)

func writeText(w http.ResponseWriter, r *http.Request, mime string, body []byte) {
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// httpError is webob's plain error page.
func httpError(w http.ResponseWriter, status int, detail string) {
	title := http.StatusText(status)
	body := fmt.Sprintf("%d %s\n\n%s\n\n   ", status, title, detail)
	w.Header().Set("Content-Type", textPlain)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func notFound(w http.ResponseWriter) {
	httpError(w, http.StatusNotFound, "The resource could not be found.")
}
