package compute

import (
	"testing"
	"time"
)

// TestPyFloatRepr: floats are written as Python's repr writes them.
func TestPyFloatRepr(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {1.5, "1.5"}, {2.0 / 3, "0.6666666666666666"},
		{0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.5e-7, "1.5e-07"},
		{123456789012345.0, "123456789012345.0"}, {1e16, "1e+16"}, {1.25e17, "1.25e+17"},
		{-2.5, "-2.5"},
	}
	for _, tt := range tests {
		if got := pyFloatRepr(tt.in); got != tt.want {
			t.Errorf("pyFloatRepr(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if b, _ := usageInt(0).add(usageInt(3)).MarshalJSON(); string(b) != "3" {
		t.Errorf("int sum written %s", b)
	}
	if b, _ := usageInt(2).mul(usageFloat(0.5)).MarshalJSON(); string(b) != "1.0" {
		t.Errorf("int times float written %s", b)
	}
}

// TestUsageHours is Nova's _hours_for over the window's edges.
func TestUsageHours(t *testing.T) {
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	stop := start.Add(4 * time.Hour)
	at := func(h float64) *time.Time { v := start.Add(time.Duration(h * float64(time.Hour))); return &v }
	tests := []struct {
		name               string
		launched, finished *time.Time
		want               float64
		float              bool
	}{
		{"never launched", nil, nil, 0, false},
		{"launched after the window", at(5), nil, 0, false},
		{"terminated before the window", at(-3), at(-1), 0, false},
		{"running through", at(-2), nil, 4, true},
		{"launched inside", at(1), nil, 3, true},
		{"terminated inside", at(-2), at(1.5), 1.5, true},
		{"both inside", at(1), at(2), 1, true},
	}
	for _, tt := range tests {
		got := usageHours(tt.launched, tt.finished, start, stop)
		if got.v != tt.want || got.float != tt.float {
			t.Errorf("%s: %+v, want %v (float %v)", tt.name, got, tt.want, tt.float)
		}
	}
}

// TestParseUsageTime accepts Nova's three layouts only.
func TestParseUsageTime(t *testing.T) {
	for in, ok := range map[string]bool{
		"2026-01-02T03:04:05":        true,
		"2026-01-02T03:04:05.123456": true,
		"2026-01-02 03:04:05.5":      true,
		"2026-01-02 03:04:05":        false,
		"2026-01-02":                 false,
		"2026-01-02T03:04:05Z":       false,
		"yesterday":                  false,
	} {
		if _, got := parseUsageTime(in); got != ok {
			t.Errorf("parseUsageTime(%q) ok = %v, want %v", in, got, ok)
		}
	}
}
