package compute

import (
	"encoding/json"
	"maps"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// Flavor views per microversion, in the key order of Nova's view builder:
// description from 2.55, extra_specs from 2.61 (when the caller may read
// them), swap an integer from 2.75 ("" for 0 before), rxtx_factor and
// OS-FLV-DISABLED:disabled until 2.101.

// flavorBasicView is one entry of GET /flavors.
func flavorBasicView(r *api.Request, f *store.Flavor) api.Object {
	o := api.Object{
		{"id", f.FlavorID},
		{"name", f.Name},
		{"links", r.Links("flavors", f.FlavorID)},
	}
	if r.Version.AtLeast(55) {
		o.Add("description", flavorDescription(f))
	}
	return o
}

// flavorDetailView is a flavor as show, create, update and GET
// /flavors/detail answer it.
func flavorDetailView(r *api.Request, f *store.Flavor, withSpecs bool) api.Object {
	var swap any = f.SwapMB
	if f.SwapMB == 0 && r.Version.Before(75) {
		swap = ""
	}
	o := api.Object{
		{"id", f.FlavorID},
		{"name", f.Name},
		{"ram", f.MemoryMB},
		{"disk", f.RootGB},
		{"swap", swap},
		{"OS-FLV-EXT-DATA:ephemeral", f.EphemeralGB},
	}
	legacyFields := r.Version.Before(102)
	if legacyFields {
		o.Add("OS-FLV-DISABLED:disabled", f.Disabled)
	}
	o.Add("vcpus", f.VCPUs)
	o.Add("os-flavor-access:is_public", f.IsPublic)
	if legacyFields {
		var rxtx any = ""
		if f.RxtxFactor != 0 {
			rxtx = flavorFloatJSON(f.RxtxFactor)
		}
		o.Add("rxtx_factor", rxtx)
	}
	o.Add("links", r.Links("flavors", f.FlavorID))
	if r.Version.AtLeast(55) {
		o.Add("description", flavorDescription(f))
	}
	if withSpecs {
		specs := map[string]string{}
		maps.Copy(specs, f.ExtraSpecs)
		o.Add("extra_specs", specs)
	}
	return o
}

// flavorDescription is the description as JSON: null when unset.
func flavorDescription(f *store.Flavor) any {
	if f.Description == nil {
		return nil
	}
	return *f.Description
}

// flavorFloatJSON renders a float the way Python's json module does (1.0, not 1).
func flavorFloatJSON(f float64) json.Number { return json.Number(schema.Repr(f)) }

// flavorListView is the body of GET /flavors and /flavors/detail, with the
// next link when the page is full.
func flavorListView(r *api.Request, query map[string][]string, flavors []*store.Flavor, pageSize int, detail, withSpecs bool) api.Object {
	items := make([]api.Object, 0, len(flavors))
	for _, f := range flavors {
		if detail {
			items = append(items, flavorDetailView(r, f, withSpecs))
		} else {
			items = append(items, flavorBasicView(r, f))
		}
	}
	out := api.Object{{"flavors", items}}
	if pageSize > 0 && len(flavors) == pageSize {
		collection := "flavors"
		if detail {
			collection = "flavors/detail"
		}
		out.Add("flavors_links", r.NextLink(collection, query, flavors[len(flavors)-1].FlavorID))
	}
	return out
}

// flavorAccessView is the flavor_access list of a flavor.
func flavorAccessView(f *store.Flavor, projects []string) api.Object {
	items := make([]api.Object, 0, len(projects))
	for _, p := range projects {
		items = append(items, api.Object{{"flavor_id", f.FlavorID}, {"tenant_id", p}})
	}
	return api.Object{{"flavor_access", items}}
}
