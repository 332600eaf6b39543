package store

import (
	"fmt"
	"time"
)

// Aggregate is a host aggregate: a named group of compute hosts with
// metadata. The "availability_zone" metadata key makes its hosts an
// availability zone. ID is Nova's integer id (what the API addresses it
// by); UUID appears from microversion 2.41.
type Aggregate struct {
	ID   int64  `json:"id"`
	UUID string `json:"uuid"`
	Name string `json:"name"`
	// Hosts are compute host names, in the order they were added.
	Hosts     []string          `json:"hosts,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt *time.Time        `json:"updated_at,omitempty"`
}

// AggregateKey is the primary key of an aggregate: its id, zero-padded so
// keys sort in id order (ids are never negative).
func AggregateKey(id int64) string { return fmt.Sprintf("%019d", id) }

// Aggregates holds host aggregates by id, with unique indexes by name and
// uuid and an index by member host.
var Aggregates = NewTable("aggregates", func(a *Aggregate) string { return AggregateKey(a.ID) },
	Index[Aggregate]{Name: "name", Unique: true, Keys: func(a *Aggregate) []string { return []string{a.Name} }},
	Index[Aggregate]{Name: "uuid", Unique: true, Keys: func(a *Aggregate) []string { return []string{a.UUID} }},
	Index[Aggregate]{Name: "host", Keys: func(a *Aggregate) []string { return a.Hosts }},
)
