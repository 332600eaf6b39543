// Package image is the Glance v2 subset: image records in the store, image
// files under data-dir/images/, written atomically.
package image

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// mount is where the image API answers; the catalog's image URL is
// <base>/image and clients append /v2.
const mount = "/image"

// Service serves the image API and gives the compute side its images.
type Service struct {
	db   *store.DB
	dir  string
	auth api.TokenValidator
	// identityURL is where keystonemiddleware's 401 points clients.
	identityURL func(*api.Request) string
	// strictFormats refuses uploads whose data is not their disk_format.
	strictFormats bool
}

// New builds the image service; dir holds the image files.
func New(db *store.DB, dir string, auth api.TokenValidator, identityURL func(*api.Request) string) *Service {
	return &Service{db: db, dir: dir, auth: auth, identityURL: identityURL}
}

// RequireFormatMatch makes uploads whose data is not what their
// disk_format says fail (415), as Glance's require_image_format_match does.
// It is off by default: Tempest 33 uploads random bytes as its first
// configured disk format. Unsafe data (a qcow2 backing or data file, a VMDK
// that names other files) is refused either way.
func (s *Service) RequireFormatMatch(on bool) { s.strictFormats = on }

// Path is where the data of image id lives once the image is active.
func (s *Service) Path(id string) string { return filepath.Join(s.dir, id) }

// apiVersions are the URL prefixes Glance's version negotiation maps to
// its v2 API (without an image cache or multiple stores configured).
var apiVersions = []string{"v2", "v2.0", "v2.1", "v2.2", "v2.3", "v2.4", "v2.5", "v2.6", "v2.7", "v2.9", "v2.15", "v2.17"}

// route is one resource of the v2 API with its handlers by method.
type route struct {
	path     string
	handlers map[string]echo.HandlerFunc
}

// Register mounts /image: the version documents without a token, and the
// v2 API under every version prefix Glance accepts.
func (s *Service) Register(e *echo.Echo) {
	e.GET(mount, s.listVersions)
	e.GET(mount+"/", s.listVersions)
	// Glance answers the version list for /versions and for any path whose
	// first segment is not a version it serves, before authentication.
	e.Any(mount+"/versions", s.showVersions)
	e.Any(mount+"/*", s.listVersions)
	for _, v := range apiVersions {
		g := e.Group(mount+"/"+v, api.RequireAuth(s.auth, s.identityURL))
		for _, rt := range s.routes() {
			var allowed []string
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
				if h, ok := rt.handlers[m]; ok {
					allowed = append(allowed, m)
					g.Add(m, rt.path, h)
				}
			}
			reject := methodNotAllowed(strings.Join(allowed, ", "))
			for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
				if !slices.Contains(allowed, m) {
					g.Add(m, rt.path, reject)
				}
			}
		}
		g.Any("/*", func(echo.Context) error { return api.ResourceNotFound() })
	}
}

func (s *Service) routes() []route {
	return []route{
		{"/schemas/image", map[string]echo.HandlerFunc{http.MethodGet: s.imageSchema}},
		{"/schemas/images", map[string]echo.HandlerFunc{http.MethodGet: s.imagesSchema}},
		{"/schemas/member", map[string]echo.HandlerFunc{http.MethodGet: s.memberSchema}},
		{"/schemas/members", map[string]echo.HandlerFunc{http.MethodGet: s.membersSchema}},
		{"/info/import", map[string]echo.HandlerFunc{http.MethodGet: s.importInfo}},
		{"/images", map[string]echo.HandlerFunc{http.MethodGet: s.listImages, http.MethodPost: s.createImage}},
		{"/images/:id", map[string]echo.HandlerFunc{http.MethodGet: s.showImage, http.MethodPatch: s.updateImage, http.MethodDelete: s.deleteImage}},
		{"/images/:id/file", map[string]echo.HandlerFunc{http.MethodGet: s.download, http.MethodPut: s.upload}},
		{"/images/:id/tags/:tag", map[string]echo.HandlerFunc{http.MethodPut: s.addTag, http.MethodDelete: s.deleteTag}},
		{"/images/:id/actions/deactivate", map[string]echo.HandlerFunc{http.MethodPost: s.deactivate}},
		{"/images/:id/actions/reactivate", map[string]echo.HandlerFunc{http.MethodPost: s.reactivate}},
		{"/images/:id/members", map[string]echo.HandlerFunc{http.MethodGet: s.listMembers, http.MethodPost: s.addMember}},
		{"/images/:id/members/:member", map[string]echo.HandlerFunc{http.MethodGet: s.showMember, http.MethodPut: s.updateMember, http.MethodDelete: s.deleteMember}},
	}
}
