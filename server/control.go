package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// ControlSocket is the unix socket a running server answers local commands
// on (backup), in its data directory; only the owner may connect.
func ControlSocket(dataDir string) string { return dataDir + "/control.sock" }

// ServeControl answers local commands until ctx ends. The database file is
// locked by the running server, so commands that read it go through here.
func (s *Server) ServeControl(ctx context.Context) error {
	path := ControlSocket(s.cfg.DataDir)
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	os.Chmod(path, 0o600)
	go func() {
		<-ctx.Done()
		ln.Close()
		os.Remove(path)
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control socket: %w", err)
		}
		go s.control(ctx, conn)
	}
}

func (s *Server) control(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return
	}
	conn.SetReadDeadline(time.Time{})
	switch strings.TrimSpace(line) {
	case "backup":
		if _, err := s.db.Backup(ctx, conn); err != nil {
			s.cfg.Logger.Error("backup through control socket", "err", err)
		}
	default:
		fmt.Fprintf(conn, "unknown command\n")
	}
}

// RemoteBackup asks the server running on dataDir for a hot copy of its
// database and writes it to w.
func RemoteBackup(ctx context.Context, dataDir string, w io.Writer) (int64, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", ControlSocket(dataDir))
	if err != nil {
		return 0, fmt.Errorf("reach running server: %w", err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "backup\n"); err != nil {
		return 0, fmt.Errorf("reach running server: %w", err)
	}
	n, err := io.Copy(w, conn)
	if err == nil && n == 0 {
		err = errors.New("server sent no data")
	}
	return n, err
}
