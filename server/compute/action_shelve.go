package compute

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
)

// shelve, shelveOffload, unshelve, rescue and unrescue.

const (
	shelvePolicy   = "os_compute_api:os-shelve:"
	rescuePolicy   = "os_compute_api:os-rescue"
	unrescuePolicy = "os_compute_api:os-unrescue"
)

func (s *Service) shelveOffloadServer(c echo.Context, r *api.Request, id string) error {
	if _, err := s.actionServer(c, r, id); err != nil {
		return err
	}
	if err := actionAdmin(r, shelvePolicy+"shelve_offload"); err != nil {
		return err
	}
	if err := s.instances.ShelveOffload(api.Ctx(c), caller(r), id); err != nil {
		return actionErr(id, "shelveOffload", err)
	}
	return actionAccepted(c)
}

// unshelveRequest is a validated unshelve: zone (2.77) is nil when not
// given, and points at nil for availability_zone null (2.91: unpin).
type unshelveRequest struct {
	zone **string
	host string
}

func decodeUnshelve(r *api.Request, v any) (unshelveRequest, error) {
	var out unshelveRequest
	if r.Version.AtLeast(77) {
		if z, ok := actionField(v, "availability_zone"); ok {
			out.zone = nullableString(z)
		}
	}
	if r.Version.AtLeast(91) {
		out.host, _ = actionStringField(v, "host")
	}
	return out, nil
}

func (s *Service) unshelveServer(c echo.Context, r *api.Request, id string, req unshelveRequest) error {
	if _, err := s.actionMemberServer(c, r, id, shelvePolicy+"unshelve"); err != nil {
		return err
	}
	if req.host != "" {
		if err := actionAdmin(r, shelvePolicy+"unshelve_to_host"); err != nil {
			return err
		}
	}
	if err := s.instances.Unshelve(api.Ctx(c), caller(r), id, req.zone, req.host); err != nil {
		return actionErr(id, "unshelve", err)
	}
	return actionAccepted(c)
}

// rescueRequest is a validated rescue; the password is made before the
// server is looked up, as Nova does.
type rescueRequest struct {
	adminPass string
	imageRef  string
}

func decodeRescue(_ *api.Request, v any) (rescueRequest, error) {
	var out rescueRequest
	pass, ok := actionStringField(v, "adminPass")
	if !ok {
		pass = actionPassword()
	}
	out.adminPass = pass
	out.imageRef, _ = actionStringField(v, "rescue_image_ref")
	return out, nil
}

// rescueServer answers 200 {"adminPass": ...}: the password of the rescue
// system.
func (s *Service) rescueServer(c echo.Context, r *api.Request, id string, req rescueRequest) error {
	if _, err := s.actionMemberServer(c, r, id, rescuePolicy); err != nil {
		return err
	}
	pass, err := s.instances.Rescue(api.Ctx(c), caller(r), id, req.imageRef, req.adminPass)
	if err != nil {
		return actionErr(id, "rescue", err)
	}
	if pass == "" {
		pass = req.adminPass
	}
	return api.JSON(c, http.StatusOK, api.Object{{"adminPass", pass}})
}
