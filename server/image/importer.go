package image

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"

	"minicloud/server/identity"
)

// Importer uploads image files to a running cloud through its public API,
// as any client would: a running `minicloud serve` holds the state file.
type Importer struct {
	// URL is the cloud's base URL; the image endpoint comes from the
	// token's catalog.
	URL string
	// Credentials log in (the admin's, for public images).
	Credentials *identity.FileCredentials
	// Client makes the calls; http.DefaultClient when nil.
	Client *http.Client
}

// ImportFile is one file to import.
type ImportFile struct {
	Path string
	Name string
	// DiskFormat is qcow2 when the file starts with qcow2's magic, else
	// raw, unless set.
	DiskFormat string
	Public     bool
	// Reuse answers with an active image of the same name and checksum,
	// uploading nothing, when there is one.
	Reuse bool
	// HideOlder hides (os_hidden) the other active images of the same name
	// once the new one is active, so that the name finds one image.
	HideOlder bool
}

// Imported is the image a file became.
type Imported struct {
	ID, Name, DiskFormat, Checksum string
	Size                           int64
	// Reused is set when an existing image already had the file's data.
	Reused bool
	// Hidden are the older images HideOlder hid.
	Hidden []string
}

// remoteImage is the part of Glance's image view an import reads.
type remoteImage struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Checksum   string `json:"checksum"`
	DiskFormat string `json:"disk_format"`
	Size       int64  `json:"size"`
}

// Import uploads f as a new image (create, upload, check), or finds the
// image that already holds it when f.Reuse. An upload that fails deletes
// the image it created.
func (im *Importer) Import(ctx context.Context, f ImportFile) (*Imported, error) {
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("import %s: not a regular file", f.Path)
	}
	if f.Name == "" {
		return nil, fmt.Errorf("import %s: no image name", f.Path)
	}
	if f.DiskFormat == "" {
		if f.DiskFormat, err = sniffDiskFormat(file); err != nil {
			return nil, fmt.Errorf("import %s: %w", f.Path, err)
		}
	}
	sum, err := fileMD5(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", f.Path, err)
	}

	s, err := im.login(ctx)
	if err != nil {
		return nil, err
	}
	var same []remoteImage
	if f.Reuse || f.HideOlder {
		if same, err = s.activeNamed(ctx, f.Name); err != nil {
			return nil, err
		}
	}
	if f.Reuse {
		for _, img := range same {
			if img.Checksum == sum {
				return &Imported{ID: img.ID, Name: img.Name, DiskFormat: img.DiskFormat, Checksum: sum, Size: img.Size, Reused: true}, nil
			}
		}
	}

	img, err := s.upload(ctx, f, file, st.Size(), sum)
	if err != nil {
		return nil, err
	}
	out := &Imported{ID: img.ID, Name: img.Name, DiskFormat: img.DiskFormat, Checksum: img.Checksum, Size: img.Size}
	if f.HideOlder {
		for _, old := range same {
			if err := s.hide(ctx, old.ID); err != nil {
				return out, fmt.Errorf("imported %s, but hiding older image %s: %w", img.ID, old.ID, err)
			}
			out.Hidden = append(out.Hidden, old.ID)
		}
	}
	return out, nil
}

// upload creates the image, sends the data and checks what the cloud
// recorded; on any failure the image is deleted again.
func (s *session) upload(ctx context.Context, f ImportFile, file *os.File, size int64, sum string) (*remoteImage, error) {
	body := map[string]any{"name": f.Name, "disk_format": f.DiskFormat, "container_format": "bare"}
	if f.Public {
		body["visibility"] = "public"
	}
	var created remoteImage
	if err := s.call(ctx, http.MethodPost, s.image+"/v2/images", body, &created, http.StatusCreated); err != nil {
		return nil, fmt.Errorf("create image %s: %w", f.Name, err)
	}
	img, err := s.send(ctx, created.ID, file, size, sum)
	if err != nil {
		// Nothing half-made stays behind; the cleanup outlives a cancelled ctx.
		if derr := s.call(context.WithoutCancel(ctx), http.MethodDelete, s.image+"/v2/images/"+created.ID, nil, nil, http.StatusNoContent); derr != nil {
			err = fmt.Errorf("%w (and deleting it again: %v)", err, derr)
		}
		return nil, fmt.Errorf("upload %s to image %s: %w", f.Path, created.ID, err)
	}
	return img, nil
}

func (s *session) send(ctx context.Context, id string, file *os.File, size int64, sum string) (*remoteImage, error) {
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.image+"/v2/images/"+id+"/file", io.NopCloser(file))
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	if err := s.do(req, nil, http.StatusNoContent); err != nil {
		return nil, err
	}
	var img remoteImage
	if err := s.call(ctx, http.MethodGet, s.image+"/v2/images/"+id, nil, &img, http.StatusOK); err != nil {
		return nil, err
	}
	if img.Status != "active" {
		return nil, fmt.Errorf("image is %s after the upload, not active", img.Status)
	}
	if img.Checksum != sum || img.Size != size {
		return nil, fmt.Errorf("the cloud recorded %d bytes with MD5 %s; the file has %d bytes with MD5 %s", img.Size, img.Checksum, size, sum)
	}
	return &img, nil
}

// activeNamed lists the active images called name, every page of them.
func (s *session) activeNamed(ctx context.Context, name string) ([]remoteImage, error) {
	var out []remoteImage
	next := s.image + "/v2/images?" + url.Values{"name": {name}, "status": {"active"}}.Encode()
	for next != "" {
		var page struct {
			Images []remoteImage `json:"images"`
			Next   string        `json:"next"`
		}
		if err := s.call(ctx, http.MethodGet, next, nil, &page, http.StatusOK); err != nil {
			return nil, fmt.Errorf("list images named %s: %w", name, err)
		}
		out = append(out, page.Images...)
		next = ""
		if page.Next != "" && len(page.Images) > 0 {
			next = s.image + page.Next
		}
	}
	return out, nil
}

func (s *session) hide(ctx context.Context, id string) error {
	patch := []byte(`[{"op": "replace", "path": "/os_hidden", "value": true}]`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, s.image+"/v2/images/"+id, bytes.NewReader(patch))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/openstack-images-v2.1-json-patch")
	return s.do(req, nil, http.StatusOK)
}

// session is a logged-in client: the token and the image endpoint.
type session struct {
	client *http.Client
	token  string
	image  string
}

// login gets a project-scoped token and finds the image service's public
// endpoint in its catalog.
func (im *Importer) login(ctx context.Context) (*session, error) {
	c := im.Credentials
	if c == nil {
		return nil, errors.New("import: no credentials")
	}
	s := &session{client: im.Client}
	if s.client == nil {
		s.client = http.DefaultClient
	}
	base := strings.TrimRight(im.URL, "/")
	domain := func(name string) map[string]any {
		if name == "" {
			name = "Default"
		}
		return map[string]any{"name": name}
	}
	auth := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": c.Username, "domain": domain(c.UserDomain), "password": c.Password}}},
		"scope": map[string]any{"project": map[string]any{"name": c.Project, "domain": domain(c.ProjectDomain)}},
	}}
	data, err := json.Marshal(auth)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/identity/v3/auth/tokens", bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("log in to %s: %w", base, err)
	}
	req.Header.Set("Content-Type", "application/json")
	var tok struct {
		Token struct {
			Catalog []struct {
				Type      string `json:"type"`
				Endpoints []struct {
					Interface string `json:"interface"`
					Region    string `json:"region"`
					URL       string `json:"url"`
				} `json:"endpoints"`
			} `json:"catalog"`
		} `json:"token"`
	}
	var header http.Header
	if err := s.doHeader(req, &tok, http.StatusCreated, &header); err != nil {
		return nil, fmt.Errorf("log in to %s as %s: %w", base, c.Username, err)
	}
	s.token = header.Get("X-Subject-Token")
	for _, svc := range tok.Token.Catalog {
		if svc.Type != "image" {
			continue
		}
		for _, ep := range svc.Endpoints {
			if ep.Interface == "public" && (c.Region == "" || ep.Region == c.Region) {
				s.image = strings.TrimRight(ep.URL, "/")
			}
		}
	}
	if s.token == "" || s.image == "" {
		return nil, fmt.Errorf("log in to %s: no token or no public image endpoint in the answer", base)
	}
	return s, nil
}

// call sends body as JSON (when not nil) and decodes the answer into out
// (when not nil), expecting status want.
func (s *session) call(ctx context.Context, method, u string, body, out any, want int) error {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return s.do(req, out, want)
}

func (s *session) do(req *http.Request, out any, want int) error {
	return s.doHeader(req, out, want, nil)
}

func (s *session) doHeader(req *http.Request, out any, want int, header *http.Header) error {
	req.Header.Set("Accept", "application/json")
	if s.token != "" {
		req.Header.Set("X-Auth-Token", s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, faultText(data))
	}
	if header != nil {
		*header = resp.Header
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
		}
	}
	return nil
}

var (
	htmlBreak = regexp.MustCompile(`\s*<br\s*/?>\s*`)
	spaces    = regexp.MustCompile(`\s+`)
)

// faultText is the message of a Keystone ({"error": {"message"}}) or
// Glance ({"message"}, webob's text with <br /> in it) fault, else the
// start of the body.
func faultText(body []byte) string {
	var f struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := string(body)
	if json.Unmarshal(body, &f) == nil {
		switch {
		case f.Error.Message != "":
			msg = f.Error.Message
		case f.Message != "":
			msg = f.Message
		}
	}
	msg = strings.TrimSpace(spaces.ReplaceAllString(htmlBreak.ReplaceAllString(msg, " "), " "))
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return msg
}

// sniffDiskFormat is qcow2 for a file with qcow2's magic, else raw.
func sniffDiskFormat(f *os.File) (string, error) {
	var magic [4]byte
	n, err := f.ReadAt(magic[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if n == 4 && string(magic[:]) == "QFI\xfb" {
		return "qcow2", nil
	}
	return "raw", nil
}

// fileMD5 is Glance's checksum of the file.
func fileMD5(ctx context.Context, f *os.File) (string, error) {
	h := md5.New()
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: io.NewSectionReader(f, 0, 1<<62)}); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
