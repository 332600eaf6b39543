package compute

import (
	"sync"

	"minicloud/server/api"
)

// versioned builds a value per microversion on first use: building the
// schemas of all hundred microversions at start cost 66 ms and 12 MB.
type versioned[T any] struct {
	once  []sync.Once
	vals  []T
	build func(minor int) T
}

func newVersioned[T any](build func(minor int) T) *versioned[T] {
	n := api.MaxVersion.Minor + 2
	return &versioned[T]{once: make([]sync.Once, n), vals: make([]T, n), build: build}
}

// at is the value for a microversion, clamped to the known range.
func (v *versioned[T]) at(minor int) T {
	i := min(max(minor, 0), len(v.vals)-1)
	v.once[i].Do(func() { v.vals[i] = v.build(i) })
	return v.vals[i]
}
