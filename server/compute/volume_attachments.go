package compute

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// os-volume_attachments: the volumes in the instance's block device
// mappings. Listing and showing read the instance record; attaching,
// swapping and detaching ask the volume service for the volume first, and
// this cloud has none yet, so every volume named there is unknown (Nova's
// 404 "Volume <id> could not be found.") once the request, the lock and
// the state have passed Nova's checks.

func (s *Service) volumeAttachmentRoutes(g *echo.Group) {
	g.GET("/servers/:id/os-volume_attachments", s.listVolumeAttachments)
	g.POST("/servers/:id/os-volume_attachments", s.attachVolume)
	g.GET("/servers/:id/os-volume_attachments/:volume", s.showVolumeAttachment)
	g.PUT("/servers/:id/os-volume_attachments/:volume", s.updateVolumeAttachment)
	g.DELETE("/servers/:id/os-volume_attachments/:volume", s.detachVolume)
}

// volumeDevicePattern is match_device() of nova/block_device.py.
const volumeDevicePattern = `(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$`

func volumeDeviceSchema() *schema.Schema {
	return &schema.Schema{Type: []string{"string", "null"}, Pattern: volumeDevicePattern}
}

// volumeAttachBody is POST's body: tag from 2.49, delete_on_termination
// from 2.79.
func volumeAttachBody(r *api.Request) *schema.Schema {
	props := []schema.Property{
		{Name: "volumeId", Schema: schema.UUID()},
		{Name: "device", Schema: volumeDeviceSchema()},
	}
	if r.Version.AtLeast(49) {
		props = append(props, schema.Property{Name: "tag", Schema: schema.Tag()})
	}
	if r.Version.AtLeast(79) {
		props = append(props, schema.Property{Name: "delete_on_termination", Schema: schema.Boolean()})
	}
	return volumeAttachmentBody(props)
}

// volumeUpdateBody is PUT's body: volumeId alone before 2.85 (a swap),
// then every attribute of the attachment.
func volumeUpdateBody(r *api.Request) *schema.Schema {
	props := []schema.Property{{Name: "volumeId", Schema: schema.UUID()}}
	if r.Version.AtLeast(85) {
		props = append(props,
			schema.Property{Name: "device", Schema: volumeDeviceSchema()},
			schema.Property{Name: "tag", Schema: schema.Tag()},
			schema.Property{Name: "delete_on_termination", Schema: schema.Boolean()},
			schema.Property{Name: "serverId", Schema: schema.UUID()},
			schema.Property{Name: "id", Schema: schema.UUID()},
		)
	}
	return volumeAttachmentBody(props)
}

func volumeAttachmentBody(props []schema.Property) *schema.Schema {
	return &schema.Schema{
		Type: []string{"object"},
		Properties: []schema.Property{{Name: "volumeAttachment", Schema: &schema.Schema{
			Type:                 []string{"object"},
			Properties:           props,
			Required:             []string{"volumeId"},
			AdditionalProperties: refOf(false),
		}}},
		Required:             []string{"volumeAttachment"},
		AdditionalProperties: refOf(false),
	}
}

// volumeAttachmentsQuery is the list's query: limit and offset, nothing
// else from 2.75.
func volumeAttachmentsQuery(r *api.Request) *schema.Schema {
	return queryParamsSchema(r.Version.AtLeast(75),
		schema.Property{Name: "limit", Schema: nonNegativeIntListParam},
		schema.Property{Name: "offset", Schema: nonNegativeIntListParam})
}

// volumeAttachmentView is one attachment: id (until 2.88), volumeId,
// serverId, device when known, tag (2.70), delete_on_termination (2.79),
// attachment_id and bdm_uuid (2.89).
func volumeAttachmentView(r *api.Request, inst *store.Instance, bd store.BlockDevice) api.Object {
	o := api.Object{}
	if r.Version.Before(89) {
		o.Add("id", bd.VolumeID)
	}
	o.Add("volumeId", bd.VolumeID)
	o.Add("serverId", inst.ID)
	if bd.DeviceName != "" {
		o.Add("device", bd.DeviceName)
	}
	if r.Version.AtLeast(70) {
		o.Add("tag", orNull(bd.Tag))
	}
	if r.Version.AtLeast(79) {
		o.Add("delete_on_termination", bd.DeleteOnTermination)
	}
	if r.Version.AtLeast(89) {
		o.Add("attachment_id", bd.AttachmentID)
		o.Add("bdm_uuid", bd.UUID)
	}
	return o
}

// volumeBDM finds the mapping of a volume on the instance.
func volumeBDM(inst *store.Instance, volumeID string) (store.BlockDevice, bool) {
	i := slices.IndexFunc(inst.BlockDevices, func(b store.BlockDevice) bool { return b.VolumeID != "" && b.VolumeID == volumeID })
	if i < 0 {
		return store.BlockDevice{}, false
	}
	return inst.BlockDevices[i], true
}

// volumeNotFound is the volume service's answer for a volume it does not
// have; with no volume service, every volume.
func volumeNotFound(id string) error {
	return api.NotFound("Volume %s could not be found.", id)
}

// volumeStates are where Nova attaches and detaches volumes.
var volumeStates = []string{instance.Active, instance.Paused, instance.Stopped, instance.Resized,
	instance.SoftDeleted, instance.Shelved, instance.ShelvedOffloaded}

// shelvedBefore220 is Nova's refusal to attach to or detach from a shelved
// server before 2.20.
func shelvedBefore220(r *api.Request, inst *store.Instance, action string) error {
	if (inst.VMState == instance.Shelved || inst.VMState == instance.ShelvedOffloaded) && r.Version.Before(20) {
		return api.Conflict("Cannot '%s' instance %s while it is in vm_state %s", action, inst.ID, inst.VMState)
	}
	return nil
}

func (s *Service) listVolumeAttachments(c echo.Context) error {
	r := api.From(c)
	if err := validateQuery(c, volumeAttachmentsQuery(r)); err != nil {
		return err
	}
	inst, err := s.subInstance(c, c.Param("id"))
	if err != nil {
		return err
	}
	offset, limit, err := offsetLimit(c)
	if err != nil {
		return err
	}
	// Nova pages over every mapping, then leaves out those that are not
	// volumes.
	items := []api.Object{}
	for _, bd := range pageSlice(inst.BlockDevices, offset, limit) {
		if bd.VolumeID == "" || (r.Version.AtLeast(89) && bd.AttachmentID == "") {
			continue
		}
		items = append(items, volumeAttachmentView(r, inst, bd))
	}
	return api.JSON(c, http.StatusOK, api.Object{{"volumeAttachments", items}})
}

func (s *Service) showVolumeAttachment(c echo.Context) error {
	r := api.From(c)
	id, volumeID := c.Param("id"), pathParam(c, "volume")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	bd, ok := volumeBDM(inst, volumeID)
	if !ok || (r.Version.AtLeast(89) && bd.AttachmentID == "") {
		return api.NotFound("Instance %s is not attached to volume %s", id, volumeID)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"volumeAttachment", volumeAttachmentView(r, inst, bd)}})
}

// attachVolume is POST: the request, the shelved rule of 2.20, the lock
// and the state, then the volume.
func (s *Service) attachVolume(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, volumeAttachBody(r))
	if err != nil {
		return err
	}
	var req struct {
		Attachment struct {
			VolumeID string `json:"volumeId"`
		} `json:"volumeAttachment"`
	}
	if err := schema.Unmarshal(body, &req); err != nil {
		return api.BadRequest("Malformed request body")
	}
	id := c.Param("id")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:os-volumes-attachments:create"); err != nil {
		return err
	}
	if err := shelvedBefore220(r, inst, "attach_volume"); err != nil {
		return err
	}
	if err := checkLockAndState(r, inst, "attach_volume", volumeStates...); err != nil {
		return err
	}
	return volumeNotFound(req.Attachment.VolumeID)
}

// updateVolumeAttachment is PUT. Before 2.85, and whenever volumeId
// differs from the URL's, it is a swap, which only the volume service may
// ask for; from 2.85 it otherwise updates delete_on_termination, the one
// attribute that may change.
func (s *Service) updateVolumeAttachment(c echo.Context) error {
	r := api.From(c)
	body, err := api.Body(c, volumeUpdateBody(r))
	if err != nil {
		return err
	}
	id, volumeID := c.Param("id"), pathParam(c, "volume")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	o, _ := body.(*schema.Object).Get("volumeAttachment")
	att := o.(*schema.Object)
	newVolume, _ := att.Get("volumeId")
	swap := r.Version.Before(85) || newVolume != volumeID
	if swap && !r.Auth.HasRole("service") {
		return api.PolicyForbidden("os_compute_api:os-volumes-attachments:swap")
	}
	if !swap {
		if err := subWriteAllowed(r, "os_compute_api:os-volumes-attachments:update"); err != nil {
			return err
		}
		if err := s.updateVolumeBDM(c, inst, volumeID, att); err != nil {
			return err
		}
		return c.NoContent(http.StatusAccepted)
	}
	if r.Version.AtLeast(85) {
		if err := s.updateVolumeBDM(c, inst, volumeID, att); err != nil {
			return err
		}
	}
	return volumeNotFound(volumeID)
}

// updateVolumeBDM applies the attributes of a 2.85 PUT to the mapping:
// id, serverId, device and tag may only repeat their values.
func (s *Service) updateVolumeBDM(c echo.Context, inst *store.Instance, volumeID string, att *schema.Object) error {
	bd, ok := volumeBDM(inst, volumeID)
	if !ok {
		return api.NotFound("No volume Block Device Mapping with id %s.", volumeID)
	}
	immutable := []struct {
		key  string
		have any
	}{{"id", volumeID}, {"serverId", inst.ID}, {"device", orNull(bd.DeviceName)}, {"tag", orNull(bd.Tag)}}
	for _, f := range immutable {
		if v, ok := att.Get(f.key); ok && v != f.have {
			return api.BadRequest("The %s property is not mutable", f.key)
		}
	}
	v, ok := att.Get("delete_on_termination")
	if !ok {
		return nil
	}
	del, _ := schema.AsBool(v)
	err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		cur, err := store.Instances.Get(tx, inst.ID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(cur.BlockDevices, func(b store.BlockDevice) bool { return b.VolumeID == volumeID })
		if i < 0 {
			return api.NotFound("No volume Block Device Mapping with id %s.", volumeID)
		}
		cur.BlockDevices[i].DeleteOnTermination = del
		return store.Instances.Put(tx, cur)
	})
	if errors.Is(err, store.ErrNotFound) {
		return api.NotFound("Instance %s could not be found.", inst.ID)
	}
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return err
		}
		return fmt.Errorf("update volume %s of %s: %w", volumeID, inst.ID, err)
	}
	return nil
}

// detachVolume is DELETE: the shelved rule of 2.20, then the volume.
func (s *Service) detachVolume(c echo.Context) error {
	r := api.From(c)
	id, volumeID := c.Param("id"), pathParam(c, "volume")
	inst, err := s.subInstance(c, id)
	if err != nil {
		return err
	}
	if err := subWriteAllowed(r, "os_compute_api:os-volumes-attachments:delete"); err != nil {
		return err
	}
	if err := shelvedBefore220(r, inst, "detach_volume"); err != nil {
		return err
	}
	return volumeNotFound(volumeID)
}
