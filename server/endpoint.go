package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The endpoint file records where `minicloud serve` last answered, so local
// commands (openrc) can point clients at it without being told.
func endpointFile(dataDir string) string { return filepath.Join(dataDir, "endpoint") }

// WriteEndpoint records the URL the server answers on.
func WriteEndpoint(dataDir, url string) error {
	tmp := endpointFile(dataDir) + ".tmp"
	if err := os.WriteFile(tmp, []byte(url+"\n"), 0o600); err != nil {
		return fmt.Errorf("write endpoint: %w", err)
	}
	return os.Rename(tmp, endpointFile(dataDir))
}

// ReadEndpoint returns the URL recorded by the last `minicloud serve`.
func ReadEndpoint(dataDir string) (string, error) {
	data, err := os.ReadFile(endpointFile(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no endpoint recorded in %s: start `minicloud serve` first or pass --url", dataDir)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}
