// Command minicloud turns one Linux machine into an OpenStack-compatible
// compute cloud. The commands here only parse flags and call the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"minicloud/hypervisor/qemu/guest"
	"minicloud/server"
	"minicloud/server/identity"
	"minicloud/server/image"
	"minicloud/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := &cobra.Command{
		Use:           "minicloud",
		Short:         "An OpenStack-compatible compute cloud in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("data-dir", defaultDataDir(), "where state, images and instances live")
	root.AddCommand(serveCmd(), openrcCmd(), imageCmd(), versionCmd(), backupCmd())
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "minicloud:", err)
		os.Exit(1)
	}
}

// defaultDataDir is /var/lib/minicloud for root, else under XDG_DATA_HOME.
func defaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/minicloud"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "minicloud")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "minicloud")
}

func dataDir(cmd *cobra.Command) string {
	d, _ := cmd.Flags().GetString("data-dir")
	return d
}

func serveCmd() *cobra.Command {
	var cfg server.Config
	var logLevel string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the cloud",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			cfg.DataDir = dataDir(cmd)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			srv, err := server.New(ctx, cfg)
			if err != nil {
				ln.Close()
				return err
			}
			defer srv.Close()
			url := cfg.PublicURL
			if url == "" {
				url = "http://" + ln.Addr().String()
			}
			if err := server.WriteEndpoint(cfg.DataDir, url); err != nil {
				return err
			}
			if b := srv.Bootstrap; b.Created {
				fmt.Fprintf(os.Stderr, "first start: created project admin (user admin, password %s) and project demo (user demo, password %s)\n", b.AdminPassword, b.DemoPassword)
				fmt.Fprintf(os.Stderr, "credentials: eval \"$(minicloud openrc admin --data-dir %s)\"\n", cfg.DataDir)
			}
			go func() {
				if err := srv.ServeControl(ctx); err != nil {
					cfg.Logger.Warn("control socket", "err", err)
				}
			}()
			cfg.Logger.Info("minicloud serving", "url", url, "data_dir", cfg.DataDir, "driver", cfg.Driver)
			return srv.Serve(ctx, ln)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:8774", "address to answer the APIs on")
	f.StringVar(&cfg.PublicURL, "public-url", "", "base URL clients reach the cloud at (default: the address each client used)")
	f.StringVar(&cfg.Driver, "driver", "qemu", "hypervisor driver: qemu (real guests), or fake (an in-memory API emulator)")
	// Snapshots take long enough on the fake driver for a client polling
	// once a second to see the image SAVING, as with a real one.
	f.StringVar(&cfg.FakeDelay, "fake-delay", "5ms,snapshot=1500ms", "fake driver: delay of every operation, or per operation (spawn=2s,reboot=500ms,default=10ms)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	n := &cfg.Network
	f.StringVar(&n.DataPlane, "dataplane", "auto", "network data plane (bridges, taps, DHCP, NAT, metadata service): auto (with the qemu driver, when root with br_netfilter loaded), on, or off (networks in the API only)")
	f.StringVar(&n.Uplink, "uplink", "", "the only interface guests' traffic is masqueraded through (default: any but the cloud's own bridges)")
	f.StringVar(&n.PrivateCIDR, "private-cidr", "10.0.0.0/24", "subnet of the shared network \"private\" the first start makes")
	f.StringSliceVar(&n.PrivateDNS, "private-dns", nil, "name servers DHCP gives guests on \"private\" (first start only)")
	f.StringVar(&n.PublicCIDR, "public-cidr", "172.24.4.0/24", "subnet of the external network \"public\" floating IPs come from (first start only)")
	f.IntVar(&n.MTU, "network-mtu", 1500, "MTU of new networks")
	f.StringVar(&n.MetadataAddr, "metadata-address", "169.254.169.254", "address guests reach the metadata service at (port 80)")
	return cmd
}

func openrcCmd() *cobra.Command {
	var url, file string
	cmd := &cobra.Command{
		Use:   "openrc [USER]",
		Short: "Print shell exports for a user the cloud created (admin or demo)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			user := "admin"
			if len(args) == 1 {
				user = args[0]
			}
			dir := dataDir(cmd)
			if url == "" {
				var err error
				if url, err = server.ReadEndpoint(dir); err != nil {
					return err
				}
			}
			cred, err := identity.LoadCredentials(dir, user)
			if err != nil {
				return err
			}
			rc := cred.OpenRC(url + "/identity/v3")
			if file != "" {
				return os.WriteFile(file, []byte(rc), 0o600)
			}
			_, err = io.WriteString(os.Stdout, rc)
			return err
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "the cloud's URL (default: where `minicloud serve` last listened)")
	cmd.Flags().StringVarP(&file, "file", "o", "", "write to this file (mode 0600) instead of standard output")
	return cmd
}

func imageCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Images of the running cloud"}
	cmd.AddCommand(imageImportCmd())
	return cmd
}

// guestImageName is what `image import --guest` calls the test guest.
const guestImageName = "minicloud-guest"

func imageImportCmd() *cobra.Command {
	var url string
	var testGuest bool
	var f image.ImportFile
	cmd := &cobra.Command{
		Use:   "import [FILE]",
		Short: "Upload a disk image to the running cloud as its admin; without FILE (or with --guest), build the test guest and upload that",
		Long: `Upload a disk image to the running cloud (minicloud serve) through its image API, as the admin
the first start created. Without FILE, or with --guest, build the cloud's own small test guest from
Debian packages into DATA-DIR/guest/ and upload it as the public image ` + guestImageName + `; doing so again
prints the same image's id and uploads nothing. The image id goes to standard output.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && testGuest {
				return errors.New("--guest takes no FILE")
			}
			ctx := cmd.Context()
			dir := dataDir(cmd)
			if url == "" {
				var err error
				if url, err = server.ReadEndpoint(dir); err != nil {
					return err
				}
			}
			cred, err := identity.LoadCredentials(dir, "admin")
			if err != nil {
				return err
			}
			if len(args) == 1 {
				f.Path = args[0]
				if f.Name == "" {
					f.Name = filepath.Base(f.Path)
				}
			} else {
				gdir := filepath.Join(dir, "guest")
				fmt.Fprintf(os.Stderr, "building the test guest in %s\n", gdir)
				files, err := guest.BuildLogged(ctx, gdir, filepath.Join(gdir, "cache"), os.Stderr)
				if err != nil {
					return err
				}
				f.Path, f.Public, f.Reuse, f.HideOlder = files.Disk, true, true, true
				if f.Name == "" {
					f.Name = guestImageName
				}
			}
			im := &image.Importer{URL: url, Credentials: cred}
			res, err := im.Import(ctx, f)
			if err != nil {
				return err
			}
			if res.Reused {
				fmt.Fprintf(os.Stderr, "image %s (%s) already holds %s\n", res.ID, res.Name, f.Path)
			} else {
				fmt.Fprintf(os.Stderr, "imported %s as image %s (%s, %d bytes, md5 %s)\n", f.Path, res.ID, res.DiskFormat, res.Size, res.Checksum)
			}
			for _, id := range res.Hidden {
				fmt.Fprintf(os.Stderr, "hid older image %s of the same name (os_hidden=true)\n", id)
			}
			fmt.Println(res.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Name, "name", "", "image name (default: the file's name, or "+guestImageName+" for the test guest)")
	fl.StringVar(&f.DiskFormat, "disk-format", "", "disk format (default: qcow2 when the file is one, else raw)")
	fl.BoolVar(&f.Public, "public", false, "make the image public")
	fl.BoolVar(&testGuest, "guest", false, "build the test guest and import it (the default without FILE)")
	fl.StringVar(&url, "url", "", "the cloud's URL (default: where minicloud serve last listened)")
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Printf("minicloud %s (%s, store schema %d)\n", version, runtime.Version(), store.SchemaVersion())
		},
	}
}

func backupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the state file, while the cloud runs or not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			dir := dataDir(cmd)
			out := args[0]
			tmp, err := os.CreateTemp(filepath.Dir(out), ".backup-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			n, err := backup(ctx, dir, tmp)
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "wrote %s (%d bytes)\n", out, n)
			return nil
		},
	}
}

// backup copies the state file directly when no server holds it, else
// through the running server's control socket.
func backup(ctx context.Context, dir string, w io.Writer) (int64, error) {
	db, err := store.Open(filepath.Join(dir, "minicloud.db"), 200*time.Millisecond)
	if errors.Is(err, store.ErrLocked) {
		return server.RemoteBackup(ctx, dir, w)
	}
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.Backup(ctx, w)
}
