package compute

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// resize, confirmResize and revertResize. The API resolves the new flavor;
// the manager checks the lock and state, the same flavor and a zero disk,
// then runs the API's checks in the transaction that accepts the resize
// (the flavor found and enabled, the image's minimums, the cores and ram
// quota of an upsize), in Nova's order.

// resizeRequest is a validated resize.
type resizeRequest struct {
	// flavorID is flavorRef as Nova's str() makes it: no href parsing.
	flavorID   string
	diskConfig string
}

func decodeResize(_ *api.Request, v any) (resizeRequest, error) {
	var out resizeRequest
	if f, ok := actionField(v, "flavorRef"); ok {
		switch x := f.(type) {
		case string:
			out.flavorID = x
		default:
			out.flavorID = fmt.Sprint(x)
		}
	}
	out.diskConfig, _ = actionStringField(v, "OS-DCF:diskConfig")
	return out, nil
}

func (s *Service) resizeServer(c echo.Context, r *api.Request, id string, req resizeRequest) error {
	ctx := api.Ctx(c)
	inst, err := s.actionMemberServer(c, r, id, serverActionPolicy+"resize")
	if err != nil {
		return err
	}
	flavor, lookupErr := s.resizeFlavor(ctx, r, req.flavorID)
	if lookupErr != nil {
		// Nova looks the flavor up after the lock and state checks: ask
		// the manager with the current size under the requested id, and
		// refuse in its check.
		flavor = resizeTarget{InstanceFlavor: inst.Flavor}
		flavor.FlavorID = req.flavorID
	}
	err = s.instances.ResizeWithCheck(ctx, caller(r), id, flavor.InstanceFlavor, req.diskConfig, func(tx *store.Tx, cur *store.Instance) error {
		if err := checkAutoDiskConfig(cur, req.diskConfig); err != nil {
			return err
		}
		if lookupErr != nil {
			return lookupErr
		}
		if flavor.Disabled {
			return api.BadRequest("Flavor %s could not be found.", req.flavorID)
		}
		if err := s.upsizeQuota(tx, cur, &cur.Flavor, &flavor.InstanceFlavor); err != nil {
			return err
		}
		return checkFlavorForImage(cur, &flavor.InstanceFlavor)
	})
	if err != nil {
		return actionErr(id, "resize", err)
	}
	return actionAccepted(c)
}

// checkAutoDiskConfig is Nova's _check_auto_disk_config: AUTO is refused
// when the server's image disables automatic disk resizing.
func checkAutoDiskConfig(inst *store.Instance, diskConfig string) error {
	if diskConfig != "AUTO" {
		return nil
	}
	raw, ok := inst.SystemMetadata["image_auto_disk_config"]
	if !ok {
		return nil
	}
	if enabled, valid := schema.AsBool(raw); valid && !enabled {
		return api.BadRequest("Requested image %s has automatic disk resizing disabled.", inst.ImageID)
	}
	return nil
}

// resizeTarget is the flavor a resize asks for, with whether it is
// disabled (Nova refuses a disabled flavor only when it is a change).
type resizeTarget struct {
	store.InstanceFlavor
	Disabled bool
}

// resizeFlavor finds the flavor of a resize as the caller may see it:
// flavorRef is an id here, never a link.
func (s *Service) resizeFlavor(ctx context.Context, r *api.Request, flavorID string) (resizeTarget, error) {
	var out resizeTarget
	err := s.db.View(ctx, func(tx *store.Tx) error {
		f, err := store.Flavors.Get(tx, flavorID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !flavorAccessible(tx, r.Auth, f)) {
			return api.BadRequest("Flavor %s could not be found.", flavorID)
		}
		if err != nil {
			return fmt.Errorf("get flavor %s: %w", flavorID, err)
		}
		out = resizeTarget{InstanceFlavor: instanceFlavor(f), Disabled: f.Disabled}
		return nil
	})
	return out, err
}

// upsizeQuota is Nova's _check_quota_for_upsize: the growth in cores and
// ram from one flavor to the other must fit the quotas of the server's
// project and user.
func (s *Service) upsizeQuota(tx *store.Tx, inst *store.Instance, from, to *store.InstanceFlavor) error {
	deltas := map[string]int{}
	if d := to.VCPUs - from.VCPUs; d > 0 {
		deltas["cores"] = int(d)
	}
	if d := to.MemoryMB - from.MemoryMB; d > 0 {
		deltas["ram"] = int(d)
	}
	if len(deltas) == 0 {
		return nil
	}
	return s.checkQuota(tx, inst.ProjectID, inst.UserID, deltas)
}

// checkFlavorForImage is the part of Nova's _validate_flavor_image_nostatus
// a resize can fail: the image's min_ram, and its min_disk against a
// flavor with a root disk, as recorded in system metadata at boot.
func checkFlavorForImage(inst *store.Instance, f *store.InstanceFlavor) error {
	if minRAM, err := strconv.ParseInt(inst.SystemMetadata["image_min_ram"], 10, 64); err == nil && f.MemoryMB < minRAM {
		return api.BadRequest("Flavor's memory is too small for requested image.")
	}
	if inst.IsVolumeBacked() || f.RootGB == 0 {
		return nil
	}
	if minDisk, err := strconv.ParseInt(inst.SystemMetadata["image_min_disk"], 10, 64); err == nil && f.RootGB < minDisk {
		return api.BadRequest("Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is %d bytes, minimum size is %d bytes.",
			f.RootGB<<30, minDisk<<30)
	}
	return nil
}

func (s *Service) confirmResize(c echo.Context, r *api.Request, id string) error {
	if _, err := s.actionMemberServer(c, r, id, serverActionPolicy+"confirm_resize"); err != nil {
		return err
	}
	if err := s.instances.ConfirmResize(api.Ctx(c), caller(r), id); err != nil {
		return actionErr(id, "confirmResize", err)
	}
	// 204 for compatibility, though the work is asynchronous (Nova's note).
	return c.Blob(204, echo.MIMEApplicationJSON, nil)
}

func (s *Service) revertResize(c echo.Context, r *api.Request, id string) error {
	if _, err := s.actionMemberServer(c, r, id, serverActionPolicy+"revert_resize"); err != nil {
		return err
	}
	// Reverting to a larger old flavor takes quota back (Nova's
	// _check_quota_for_upsize with is_revert).
	err := s.instances.RevertResizeWithCheck(api.Ctx(c), caller(r), id, func(tx *store.Tx, cur *store.Instance) error {
		if cur.OldFlavor == nil {
			return nil
		}
		return s.upsizeQuota(tx, cur, &cur.Flavor, cur.OldFlavor)
	})
	if err != nil {
		return actionErr(id, "revertResize", err)
	}
	return actionAccepted(c)
}
