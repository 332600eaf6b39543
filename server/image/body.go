package image

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
)

// maxJSONBody bounds the JSON documents the image API reads (image data
// goes through the streaming upload, never here).
const maxJSONBody = 1 << 20

var errNoBody = errors.New("no body")

// readJSON reads a request body as Glance's JSON deserializer does: no
// Content-Type check, 400 for text that is not JSON or not an object or
// array. It returns errNoBody when the request has none.
func readJSON(c echo.Context) (any, error) {
	req := c.Request()
	chunked := false
	for _, te := range req.TransferEncoding {
		if strings.EqualFold(te, "chunked") {
			chunked = true
		}
	}
	if req.ContentLength <= 0 && !chunked {
		return nil, errNoBody
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, maxJSONBody+1))
	if err != nil {
		return nil, api.BadRequest("Malformed JSON in request body.")
	}
	if len(data) > maxJSONBody {
		return nil, api.OverLimit("The body of your request was too large for this server.")
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, errNoBody
	}
	v, err := schema.Decode(data)
	if err != nil {
		return nil, api.BadRequest("Malformed JSON in request body.")
	}
	switch v.(type) {
	case *schema.Object, []any:
		return v, nil
	}
	return nil, api.BadRequest("Unexpected body type. Expected list/dict.")
}

// requireJSON is readJSON for handlers that need a body.
func requireJSON(c echo.Context) (any, error) {
	v, err := readJSON(c)
	if errors.Is(err, errNoBody) {
		return nil, api.BadRequest("Body expected in request.")
	}
	return v, err
}

// methodNotAllowed is Glance's 405 with the Allow header of the resource.
func methodNotAllowed(allow string) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := http.Header{}
		h.Set("Allow", allow)
		return &api.Error{
			Status:  http.StatusMethodNotAllowed,
			Message: "The method " + c.Request().Method + " is not allowed for this resource.",
			Header:  h,
		}
	}
}
