package image

import (
	"embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// The JSON schemas Glance publishes for its documents (glanceclient fetches
// them to build its models). They are fixed for a given configuration, so
// they are served as stored: Glance's base image properties, its default
// schema-image.json custom properties (marked "is_base": false) and the
// default disk and container formats.
//
//go:embed schemas/*.json
var schemaFiles embed.FS

func serveSchema(name string) echo.HandlerFunc {
	data, err := schemaFiles.ReadFile("schemas/" + name + ".json")
	if err != nil {
		panic("image: missing embedded schema " + name)
	}
	return func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, data)
	}
}

var (
	imageSchemaHandler   = serveSchema("image")
	imagesSchemaHandler  = serveSchema("images")
	memberSchemaHandler  = serveSchema("member")
	membersSchemaHandler = serveSchema("members")
)

func (s *Service) imageSchema(c echo.Context) error   { return imageSchemaHandler(c) }
func (s *Service) imagesSchema(c echo.Context) error  { return imagesSchemaHandler(c) }
func (s *Service) memberSchema(c echo.Context) error  { return memberSchemaHandler(c) }
func (s *Service) membersSchema(c echo.Context) error { return membersSchemaHandler(c) }
