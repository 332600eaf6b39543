package api

import (
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api/schema"
)

// MaxBodyBytes is the largest JSON body accepted, as oslo's sizelimit
// middleware in front of Nova (it leaves room for 64 KiB of user_data).
const MaxBodyBytes = 114688

// ReadBody reads a JSON request body in document order: 415 for a content
// type that is not JSON, 413 when too large, 400 "Malformed request body" when
// not JSON. An empty body is nil (the schema then says "None is not of type
// 'object'", as Nova does).
func ReadBody(c echo.Context) (any, error) {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return nil, Errorf(http.StatusUnsupportedMediaType, "Unsupported Content-Type")
		case mt == "application/json", mt == "application/vnd.openstack.compute+json", mt == "text/plain":
		default:
			return nil, Errorf(http.StatusUnsupportedMediaType, "Unsupported Content-Type")
		}
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, BadRequest("Malformed request body")
	}
	if len(data) > MaxBodyBytes {
		return nil, OverLimit("Request is too large.")
	}
	v, err := schema.Decode(data)
	if err != nil {
		return nil, BadRequest("Malformed request body")
	}
	return v, nil
}

// Validate checks v against s, answering Nova's 400 with jsonschema's first
// error. On legacy /v2, properties the schema does not know are dropped
// instead of rejected, as Nova's v2.0-compatible mount does.
func (r *Request) Validate(s *schema.Schema, v any) error {
	var verr *schema.Error
	if r.Legacy {
		verr = s.ValidateLegacy(v)
	} else {
		verr = s.Validate(v)
	}
	if verr != nil {
		return BadRequest("%s", verr.Error())
	}
	return nil
}

// Body reads the request body and validates it against s.
func Body(c echo.Context, s *schema.Schema) (any, error) {
	v, err := ReadBody(c)
	if err != nil {
		return nil, err
	}
	if err := From(c).Validate(s, v); err != nil {
		return nil, err
	}
	return v, nil
}

// BodyInto reads and validates the body, then decodes it into dst (a struct
// with json tags) for the handler to use.
func BodyInto(c echo.Context, s *schema.Schema, dst any) error {
	v, err := Body(c, s)
	if err != nil {
		return err
	}
	if err := schema.Unmarshal(v, dst); err != nil {
		return BadRequest("Malformed request body")
	}
	return nil
}
