package api

import "testing"

func TestWebobAcceptOffer(t *testing.T) {
	tests := map[string]string{
		"":                                  "text/html",
		"*/*":                               "text/html",
		"application/json":                  "application/json",
		"application/json, */*;q=0.5":       "application/json",
		"text/*":                            "text/html",
		"text/html;q=0.2, application/json": "application/json",
		"text/plain":                        "",
		"application/xml":                   "",
	}
	for accept, want := range tests {
		if got := acceptOffer(accept); got != want {
			t.Errorf("Accept %q: %q, want %q", accept, got, want)
		}
	}
}
