package api

import (
	"math"
	"testing"
)

// TestPyJSON checks the encoder against what Python's json.dumps writes.
func TestPyJSON(t *testing.T) {
	type named []Field // another package's ordered object
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"object keeps insertion order, Python separators", Object{{"b", 1}, {"a", true}, {"c", nil}}, `{"b": 1, "a": true, "c": null}`},
		{"an object type of another package", named{{"k", named{{"n", int64(2)}}}}, `{"k": {"n": 2}}`},
		{"maps sorted by key", map[string]any{"z": "1", "a": []string{"x"}}, `{"a": ["x"], "z": "1"}`},
		{"floats as Python's repr", []float64{1, 2.5, 0.1, 1e16, 1.5e-7}, `[1.0, 2.5, 0.1, 1e+16, 1.5e-07]`},
		{"non-ASCII and surrogates", "é😀", `"\u00e9\ud83d\ude00"`},
		{"empty containers", Object{{"o", Object{}}, {"l", []any{}}}, `{"o": {}, "l": []}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PyJSON(tt.in)
			if err != nil || string(got) != tt.want {
				t.Errorf("PyJSON = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), struct{}{}, Object{{"c", make(chan int)}}} {
		if got, err := PyJSON(bad); err == nil {
			t.Errorf("PyJSON(%T) = %s, want an error", bad, got)
		}
	}
}
