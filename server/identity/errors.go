package identity

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// Keystone's messages for the failures its API reports.

func notFound(kind, id string) *api.Error {
	return api.NotFound("Could not find %s: %s.", kind, id)
}

func denied(action string) *api.Error {
	return api.Forbidden("You are not authorized to perform the requested action: identity:%s.", action)
}

func invalid(field, msg string) *api.Error {
	return api.BadRequest("Invalid input for field '%s': %s", field, msg)
}

func duplicate(kind, name, domainID string) *api.Error {
	return api.Conflict("Conflict occurred attempting to store %s - Duplicate entry found with name %s at domain ID %s.", kind, name, domainID)
}

// getOr404 fetches a record, turning "not found" into Keystone's 404.
func getOr404[T any](tx *store.Tx, t *store.Table[T], kind, id string) (*T, error) {
	v, err := t.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(kind, id)
	}
	return v, err
}

// readJSON decodes a Keystone request body. Keystone ignores properties it
// does not know in most places, so this does too.
func readJSON(c echo.Context, dst any) error {
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, api.MaxBodyBytes+1))
	if err != nil {
		return api.BadRequest("Expecting to find valid JSON in request body.")
	}
	if len(data) > api.MaxBodyBytes {
		return api.Errorf(http.StatusRequestEntityTooLarge, "Request is too large.")
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return api.BadRequest("Expecting to find valid JSON in request body.")
	}
	return nil
}

// listLinks is the "links" object of every Keystone collection.
func listLinks(self string) api.Object {
	return api.Object{{"self", self}, {"previous", nil}, {"next", nil}}
}

func selfLink(href string) api.Object { return api.Object{{"self", href}} }

// v3URL is the absolute URL of a path under /identity/v3.
func v3URL(r *api.Request, path string) string { return r.BaseURL + "/identity/v3" + path }
