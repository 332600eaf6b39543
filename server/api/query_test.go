package api

import (
	"slices"
	"testing"
)

func TestQueryParams(t *testing.T) {
	var got []string
	for k, v := range QueryParams("b=2&&a=1&b=%31+x&bad=%zz&flag&c=") {
		got = append(got, k+":"+v)
	}
	want := []string{"b:2", "a:1", "b:1 x", "flag:", "c:"}
	if !slices.Equal(got, want) {
		t.Errorf("QueryParams = %q, want %q", got, want)
	}
}
