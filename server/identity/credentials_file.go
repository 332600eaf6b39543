package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FileCredentials is a user the first start created, as kept (mode 0600) in
// the data directory for `minicloud openrc`. A password changed through the
// API later is not reflected here.
type FileCredentials struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Project       string `json:"project"`
	UserDomain    string `json:"user_domain"`
	ProjectDomain string `json:"project_domain"`
	Region        string `json:"region"`
}

func credentialsFile(dataDir string) string { return filepath.Join(dataDir, "credentials.json") }

func writeCredentials(dataDir string, creds map[string]FileCredentials) error {
	data, err := json.MarshalIndent(creds, "", "  ")
	if err != nil {
		return err
	}
	path := credentialsFile(dataDir)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	return nil
}

// LoadCredentials reads the credentials of a user the first start created.
func LoadCredentials(dataDir, user string) (*FileCredentials, error) {
	data, err := os.ReadFile(credentialsFile(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no credentials in %s: start `minicloud serve --data-dir %s` once first", dataDir, dataDir)
	}
	if err != nil {
		return nil, err
	}
	var creds map[string]FileCredentials
	if err := json.Unmarshal(data, &creds); err != nil {
		return nil, fmt.Errorf("read %s: %w", credentialsFile(dataDir), err)
	}
	c, ok := creds[user]
	if !ok {
		names := make([]string, 0, len(creds))
		for k := range creds {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("no credentials for %q (have: %s)", user, strings.Join(names, ", "))
	}
	return &c, nil
}

// OpenRC renders shell exports for the OpenStack clients.
func (c *FileCredentials) OpenRC(authURL string) string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"OS_AUTH_URL", authURL},
		{"OS_AUTH_TYPE", "password"},
		{"OS_IDENTITY_API_VERSION", "3"},
		{"OS_USERNAME", c.Username},
		{"OS_PASSWORD", c.Password},
		{"OS_PROJECT_NAME", c.Project},
		{"OS_USER_DOMAIN_NAME", c.UserDomain},
		{"OS_PROJECT_DOMAIN_NAME", c.ProjectDomain},
		{"OS_REGION_NAME", c.Region},
		{"OS_INTERFACE", "public"},
	} {
		fmt.Fprintf(&b, "export %s='%s'\n", kv[0], strings.ReplaceAll(kv[1], "'", `'\''`))
	}
	return b.String()
}
