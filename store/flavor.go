package store

import "time"

// Flavor is a compute flavor: the size of a server (Nova's flavors table,
// with its extra specs). Flavors are keyed by FlavorID, the id the API
// shows; ID is Nova's internal integer id, which breaks ties when lists are
// sorted and appears in a few of Nova's messages.
type Flavor struct {
	ID          int64   `json:"id"`
	FlavorID    string  `json:"flavorid"`
	Name        string  `json:"name"`
	MemoryMB    int64   `json:"memory_mb"`
	VCPUs       int64   `json:"vcpus"`
	RootGB      int64   `json:"root_gb"`
	EphemeralGB int64   `json:"ephemeral_gb"`
	SwapMB      int64   `json:"swap"`
	RxtxFactor  float64 `json:"rxtx_factor"`
	// VCPUWeight is never set through the API; nil is Nova's NULL.
	VCPUWeight *int64 `json:"vcpu_weight,omitempty"`
	Disabled   bool   `json:"disabled"`
	IsPublic   bool   `json:"is_public"`
	// Description is nil for none (null in views).
	Description *string           `json:"description"`
	ExtraSpecs  map[string]string `json:"extra_specs,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   *time.Time        `json:"updated_at,omitempty"`
}

// FlavorAccess lets a project use a private flavor.
type FlavorAccess struct {
	FlavorID  string `json:"flavorid"`
	ProjectID string `json:"project_id"`
}

// FlavorAccessKey is the primary key of an access grant. NUL cannot occur
// in a flavor id, so one flavor's grants sort together.
func FlavorAccessKey(flavorID, projectID string) string { return flavorID + "\x00" + projectID }

// FlavorAccessPrefix starts every key of the flavor's grants.
func FlavorAccessPrefix(flavorID string) string { return flavorID + "\x00" }

var (
	// Flavors holds every flavor by flavor id; names are unique.
	Flavors = NewTable("flavors", func(f *Flavor) string { return f.FlavorID },
		Index[Flavor]{Name: "name", Unique: true, Keys: func(f *Flavor) []string { return []string{f.Name} }},
	)
	// FlavorAccesses holds the grants of private flavors, by flavor then
	// project, with an index by project.
	FlavorAccesses = NewTable("flavor_access", func(a *FlavorAccess) string { return FlavorAccessKey(a.FlavorID, a.ProjectID) },
		Index[FlavorAccess]{Name: "project", Keys: func(a *FlavorAccess) []string { return []string{a.ProjectID} }},
	)
)
