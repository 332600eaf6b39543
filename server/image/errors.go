package image

import (
	"errors"
	"fmt"
	"net/http"

	"minicloud/server/api"
)

// Glance's answers for the failures every handler shares. The messages are
// Glance's own (webob renders them under "message").

func imageNotFound(id string) *api.Error {
	return api.NotFound("No image found with ID %s", id)
}

// notAuthorized is the policy layer's 403 for a rule the caller fails on
// an image it can see.
func notAuthorized(rule string) *api.Error {
	return api.Forbidden("You are not authorized to complete %s action.", rule)
}

func readOnly(attr string) *api.Error {
	return api.Forbidden("Attribute '%s' is read-only.", attr)
}

func reserved(attr string) *api.Error {
	return api.Forbidden("Attribute '%s' is reserved.", attr)
}

func badTransition(from, to string) *api.Error {
	return api.Conflict("Image status transition from %s to %s is not allowed", from, to)
}

// schemaError is Glance's 400 for a body the image schema rejects.
func schemaError(reason string) *api.Error {
	return api.BadRequest("Provided object does not match schema 'image': %s", reason)
}

func unsupportedMedia(format string, a ...any) *api.Error {
	return api.Errorf(http.StatusUnsupportedMediaType, format, a...)
}

// IsNotFound reports whether err is the image service's "no such image"
// (unknown, deleted, or not visible to the caller).
func IsNotFound(err error) bool {
	e, ok := api.AsError(err)
	return ok && e.Status == http.StatusNotFound
}

// IsForbidden reports whether err is a policy or protection refusal on an
// image the caller can see.
func IsForbidden(err error) bool {
	e, ok := api.AsError(err)
	return ok && e.Status == http.StatusForbidden
}

// IsConflict reports whether err is a refused status transition.
func IsConflict(err error) bool {
	e, ok := api.AsError(err)
	return ok && e.Status == http.StatusConflict
}

// errGone is returned when an image disappears while its data is written.
var errGone = errors.New("image deleted during upload")

func goneDuringUpload(id string) *api.Error {
	return api.Errorf(http.StatusGone, "Image %s could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.", id)
}

func wrap(op, id string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := api.AsError(err); ok {
		return err
	}
	return fmt.Errorf("%s image %s: %w", op, id, err)
}
