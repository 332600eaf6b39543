package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// Creating, updating and deleting flavors (flavor-manage), and the flavors
// a new cloud starts with.

// flavorSpec is a validated flavor create request.
type flavorSpec struct {
	// FlavorID is "" when the caller left it to Nova (a UUID is made).
	FlavorID                                     string
	Name                                         string
	MemoryMB, VCPUs, RootGB, EphemeralGB, SwapMB int64
	RxtxFactor                                   float64
	IsPublic                                     bool
	Description                                  *string
}

// defaultFlavors are Nova's classic flavors, created on first start.
var defaultFlavors = []flavorSpec{
	{FlavorID: "1", Name: "m1.tiny", MemoryMB: 512, RootGB: 1, VCPUs: 1},
	{FlavorID: "2", Name: "m1.small", MemoryMB: 2048, RootGB: 20, VCPUs: 1},
	{FlavorID: "3", Name: "m1.medium", MemoryMB: 4096, RootGB: 40, VCPUs: 2},
	{FlavorID: "4", Name: "m1.large", MemoryMB: 8192, RootGB: 80, VCPUs: 4},
	{FlavorID: "5", Name: "m1.xlarge", MemoryMB: 16384, RootGB: 160, VCPUs: 8},
}

// flavorsBootstrapKey marks that the default flavors were created once, so
// an operator who deletes them does not see them come back.
const flavorsBootstrapKey = "compute/default_flavors_created"

// bootstrapFlavors creates the default flavors on a new cloud, and the
// compute services availability zones are made of.
func (s *Service) bootstrapFlavors(ctx context.Context) error {
	var done bool
	err := s.db.View(ctx, func(tx *store.Tx) error { return tx.GetMeta(flavorsBootstrapKey, &done) })
	if err == nil && done {
		return nil
	}
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		var done bool
		if err := tx.GetMeta(flavorsBootstrapKey, &done); err == nil && done {
			return nil
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := time.Now().UTC().Truncate(time.Second)
		for _, spec := range defaultFlavors {
			spec.IsPublic, spec.RxtxFactor = true, 1.0
			if _, err := insertFlavor(tx, spec, now); err != nil {
				return err
			}
		}
		return tx.PutMeta(flavorsBootstrapKey, true)
	})
	if err != nil {
		return fmt.Errorf("bootstrap flavors: %w", err)
	}
	return nil
}

// decodeFlavorSpec reads a POST /flavors body that passed the schema, the
// way nova.compute.flavors.create converts it.
func decodeFlavorSpec(body any, minor int) (flavorSpec, error) {
	fv, _ := body.(*schema.Object).Get("flavor")
	o := fv.(*schema.Object)
	spec := flavorSpec{RxtxFactor: 1.0, IsPublic: true}
	name, _ := o.Get("name")
	spec.Name = strings.TrimSpace(name.(string))
	if id, ok := o.Get("id"); ok && flavorIDGiven(id) {
		spec.FlavorID = schema.Str(id)
	}
	for _, p := range []struct {
		key, name string
		dst       *int64
	}{
		{"ram", "ram", &spec.MemoryMB},
		{"vcpus", "vcpus", &spec.VCPUs},
		{"disk", "disk", &spec.RootGB},
		{"OS-FLV-EXT-DATA:ephemeral", "ephemeral", &spec.EphemeralGB},
		{"swap", "swap", &spec.SwapMB},
	} {
		v, ok := o.Get(p.key)
		if !ok {
			continue
		}
		n, valid := flavorIntAttr(v)
		if !valid {
			// Nova's validate_integer: int(str(1.0)) fails.
			return spec, api.BadRequest("Invalid input received: %s must be an integer", p.name)
		}
		*p.dst = n
	}
	if v, ok := o.Get("rxtx_factor"); ok && minor < 102 {
		f, valid := schema.AsFloat(v)
		if !valid {
			return spec, api.BadRequest("Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38")
		}
		spec.RxtxFactor = f
	}
	if v, ok := o.Get("os-flavor-access:is_public"); ok {
		spec.IsPublic, _ = schema.AsBool(v)
	}
	if v, ok := o.Get("description"); ok && minor >= 55 && v != nil {
		d := v.(string)
		spec.Description = &d
	}
	return spec, nil
}

// flavorIDGiven is Python's truth of the id: null, 0 and 0.0 ask for a
// generated one.
func flavorIDGiven(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return err != nil || f != 0
	}
	return true
}

// flavorIntAttr is int(str(value)) for a size that passed the schema: a
// digit string or an integer literal; a float literal (1.0) is not one.
func flavorIntAttr(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		return schema.AsInt(x)
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return 0, false
		}
		i, ok := new(big.Int).SetString(string(x), 10)
		if !ok || !i.IsInt64() {
			return 0, false
		}
		return i.Int64(), true
	}
	return 0, false
}

// createFlavor stores a new flavor; an id or name already in use is
// Nova's 409.
func (s *Service) createFlavor(ctx context.Context, spec flavorSpec) (*store.Flavor, error) {
	if spec.FlavorID == "" {
		spec.FlavorID = api.NewUUID()
	}
	var f *store.Flavor
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		f, err = insertFlavor(tx, spec, time.Now().UTC().Truncate(time.Second))
		return err
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("create flavor %s: %w", spec.FlavorID, err)
	}
	return f, nil
}

// insertFlavor writes a flavor record with the next internal id.
func insertFlavor(tx *store.Tx, spec flavorSpec, now time.Time) (*store.Flavor, error) {
	if store.Flavors.Has(tx, spec.FlavorID) {
		return nil, api.Conflict("Flavor with ID %s already exists.", spec.FlavorID)
	}
	if _, err := store.Flavors.Lookup(tx, "name", spec.Name); err == nil {
		return nil, api.Conflict("Flavor with name %s already exists.", spec.Name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	seq, err := tx.NextSeq("flavors")
	if err != nil {
		return nil, err
	}
	f := &store.Flavor{
		ID:          int64(seq),
		FlavorID:    spec.FlavorID,
		Name:        spec.Name,
		MemoryMB:    spec.MemoryMB,
		VCPUs:       spec.VCPUs,
		RootGB:      spec.RootGB,
		EphemeralGB: spec.EphemeralGB,
		SwapMB:      spec.SwapMB,
		RxtxFactor:  spec.RxtxFactor,
		IsPublic:    spec.IsPublic,
		Description: spec.Description,
		CreatedAt:   now,
	}
	if err := store.Flavors.Insert(tx, f); err != nil {
		return nil, fmt.Errorf("insert flavor %s: %w", f.FlavorID, err)
	}
	return f, nil
}

// updateFlavorDescription sets a flavor's description (the only field
// 2.55's PUT changes).
func (s *Service) updateFlavorDescription(ctx context.Context, id string, description *string) (*store.Flavor, error) {
	var f *store.Flavor
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		if f, err = anyFlavor(tx, id); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Second)
		f.Description, f.UpdatedAt = description, &now
		return store.Flavors.Put(tx, f)
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("update flavor %s: %w", id, err)
	}
	return f, nil
}

// deleteFlavor removes a flavor with its access grants. Servers keep their
// own copy of the flavor they were built with.
func (s *Service) deleteFlavor(ctx context.Context, id string) error {
	err := s.db.Update(ctx, func(tx *store.Tx) error {
		if _, err := anyFlavor(tx, id); err != nil {
			return err
		}
		projects, err := flavorProjects(tx, id)
		if err != nil {
			return err
		}
		for _, p := range projects {
			if err := store.FlavorAccesses.Delete(tx, store.FlavorAccessKey(id, p)); err != nil {
				return err
			}
		}
		return store.Flavors.Delete(tx, id)
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return err
		}
		return fmt.Errorf("delete flavor %s: %w", id, err)
	}
	return nil
}
