package compute

import (
	"testing"
	"time"
)

// TestParseChangesTime reads ISO 8601 times as oslo does, UTC when no
// zone is given.
func TestParseChangesTime(t *testing.T) {
	tests := map[string]time.Time{
		"2026-03-01T10:01:01.123456Z": time.Date(2026, 3, 1, 10, 1, 1, 123456000, time.UTC),
		"2026-03-01T10:01:01":         time.Date(2026, 3, 1, 10, 1, 1, 0, time.UTC),
		"2026-03-01T12:01:01+02:00":   time.Date(2026, 3, 1, 10, 1, 1, 0, time.UTC),
		"2026-03-01":                  time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		"20260301T100101Z":            time.Date(2026, 3, 1, 10, 1, 1, 0, time.UTC),
		"2026-03-01 10:01:01.5-0130":  time.Date(2026, 3, 1, 11, 31, 1, 500000000, time.UTC),
	}
	for in, want := range tests {
		got, err := parseChangesTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseChangesTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseChangesTime("yesterday"); err == nil {
		t.Error("yesterday parsed")
	}
}
