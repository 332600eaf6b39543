package compute_test

import (
	"net/http"
	"strings"
	"testing"

	"minicloud/server/servertest"
)

func TestVersionDocumentsNeedNoToken(t *testing.T) {
	c := servertest.New(t)
	resp := c.Do(t, servertest.Req{Path: "/"}).Expect(t, http.StatusOK)
	want := `{"versions":[{"id":"v2.0","status":"DEPRECATED","version":"","min_version":"","updated":"2025-07-04T12:00:00Z","links":[{"rel":"self","href":"` + c.URL + `/v2/"}]},` +
		`{"id":"v2.1","status":"CURRENT","version":"2.103","min_version":"2.1","updated":"2013-07-23T11:33:21Z","links":[{"rel":"self","href":"` + c.URL + `/v2.1/"}]}]}`
	if string(resp.Body) != want {
		t.Errorf("GET /:\n got %s\nwant %s", resp.Body, want)
	}
	if resp.Header.Get("x-compute-request-id") != "" {
		t.Error("the root document carries no compute request id, as Nova's root pipeline")
	}
	for _, tc := range []struct {
		path, token, id string
		headers         bool
	}{
		{"/v2.1", "", "v2.1", true},
		{"/v2.1/", "", "v2.1", true},
		{"/v2.1/", c.Member.Token, "v2.1", true},
		{"/v2.1/" + c.Member.ProjectID, c.Member.Token, "v2.1", true},
		{"/v2", "", "v2.0", false},
		{"/v2/", "", "v2.0", false},
	} {
		resp := c.Do(t, servertest.Req{Path: tc.path, Token: tc.token}).Expect(t, http.StatusOK)
		var doc struct {
			Version struct {
				ID    string
				Links []struct{ Rel, Href string }
			}
		}
		resp.Decode(t, &doc)
		if doc.Version.ID != tc.id || len(doc.Version.Links) != 2 || doc.Version.Links[0].Rel != "self" {
			t.Errorf("%s: %s", tc.path, resp.Body)
		}
		if got := resp.Header.Get("OpenStack-API-Version") != ""; got != tc.headers {
			t.Errorf("%s: microversion headers present=%v, want %v", tc.path, got, tc.headers)
		}
	}
}

func TestBrowserAtTheRootIsSentToTheUI(t *testing.T) {
	c := servertest.New(t)
	resp := c.Do(t, servertest.Req{Path: "/", Header: http.Header{"Accept": {"text/html,application/xhtml+xml"}}})
	if resp.Status != http.StatusFound {
		t.Fatalf("status %d", resp.Status)
	}
}

func TestMicroversionNegotiation(t *testing.T) {
	c := servertest.New(t)
	for _, tc := range []struct {
		name      string
		header    http.Header
		status    int
		echo      string
		faultKey  string
		faultText string
	}{
		{"none is 2.1", nil, 200, "2.1", "", ""},
		{"legacy header", http.Header{"X-Openstack-Nova-Api-Version": {"2.55"}}, 200, "2.55", "", ""},
		{"standard header", http.Header{"Openstack-Api-Version": {"compute 2.61"}}, 200, "2.61", "", ""},
		{"standard wins", http.Header{"Openstack-Api-Version": {"compute 2.61"}, "X-Openstack-Nova-Api-Version": {"2.3"}}, 200, "2.61", "", ""},
		{"other services ignored", http.Header{"Openstack-Api-Version": {"image 2.5, compute 2.10"}}, 200, "2.10", "", ""},
		{"latest", http.Header{"X-Openstack-Nova-Api-Version": {"latest"}}, 200, "2.103", "", ""},
		{"too new", http.Header{"X-Openstack-Nova-Api-Version": {"2.200"}}, 406, "2.200", "computeFault",
			"Version 2.200 is not supported by the API. Minimum is 2.1 and maximum is 2.103."},
		{"too old", http.Header{"X-Openstack-Nova-Api-Version": {"2.0"}}, 406, "2.0", "computeFault", ""},
		{"other major", http.Header{"X-Openstack-Nova-Api-Version": {"9.99"}}, 406, "9.99", "computeFault", ""},
		{"malformed", http.Header{"X-Openstack-Nova-Api-Version": {"2"}}, 400, "", "badRequest",
			"API Version String 2 is of invalid format. Must be of format MajorNum.MinorNum."},
		{"leading zero", http.Header{"X-Openstack-Nova-Api-Version": {"2.01"}}, 400, "", "badRequest", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.Do(t, servertest.Req{Path: "/v2.1/os-keypairs", Token: c.Member.Token, Header: tc.header})
			resp.Expect(t, tc.status)
			if got := resp.Header.Get("X-OpenStack-Nova-API-Version"); got != tc.echo {
				t.Errorf("legacy header echo %q, want %q", got, tc.echo)
			}
			if tc.echo != "" {
				if got := resp.Header.Get("OpenStack-API-Version"); got != "compute "+tc.echo {
					t.Errorf("standard header echo %q", got)
				}
				if vary := resp.Header.Values("Vary"); len(vary) != 2 || vary[0] != "OpenStack-API-Version" || vary[1] != "X-OpenStack-Nova-API-Version" {
					t.Errorf("Vary: %q", vary)
				}
			}
			if tc.faultKey != "" {
				key, code, msg := resp.Fault(t)
				if key != tc.faultKey || code != tc.status || (tc.faultText != "" && msg != tc.faultText) {
					t.Errorf("fault %s %d %q", key, code, msg)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
					t.Errorf("fault content type %q", ct)
				}
			}
		})
	}
}

func TestRequestIDs(t *testing.T) {
	c := servertest.New(t)
	resp := c.Do(t, servertest.Req{Path: "/v2.1/flavors", Token: c.Member.Token})
	a, b := resp.Header.Get("x-openstack-request-id"), resp.Header.Get("x-compute-request-id")
	if !strings.HasPrefix(a, "req-") || len(a) != len("req-")+36 || a != b {
		t.Errorf("request ids %q %q", a, b)
	}
	other := c.Do(t, servertest.Req{Path: "/v2.1/flavors", Token: c.Member.Token}).Header.Get("x-openstack-request-id")
	if other == a {
		t.Error("two requests share an id")
	}
	// Faults carry them too, and other services carry only the OpenStack one.
	if c.Do(t, servertest.Req{Path: "/v2.1/nothing-here", Token: c.Member.Token}).Header.Get("x-compute-request-id") == "" {
		t.Error("404 without a compute request id")
	}
	id := c.Do(t, servertest.Req{Path: "/identity/v3"}).Header
	if id.Get("x-openstack-request-id") == "" || id.Get("x-compute-request-id") != "" {
		t.Errorf("identity headers %v", id)
	}
}

func TestRoutingFaults(t *testing.T) {
	c := servertest.New(t)
	for _, tc := range []struct {
		name   string
		req    servertest.Req
		status int
		key    string
	}{
		{"unknown path", servertest.Req{Path: "/v2.1/nothing-here"}, 404, "itemNotFound"},
		{"unrouted method", servertest.Req{Method: "PATCH", Path: "/v2.1/flavors"}, 404, "itemNotFound"},
		{"project id in the URL", servertest.Req{Path: "/v2.1/{project}/flavors"}, 200, ""},
		{"another project's id in the URL", servertest.Req{Path: "/v2.1/{other}/flavors"}, 400, "badRequest"},
		{"legacy mount with project id", servertest.Req{Path: "/v2/{project}/flavors"}, 200, ""},
		{"unsupported content type", servertest.Req{Method: "POST", Path: "/v2.1/os-keypairs", Body: `{"keypair": {"name": "k"}}`, Header: http.Header{"Content-Type": {"application/xml"}}}, 415, "badMediaType"},
		{"malformed JSON", servertest.Req{Method: "POST", Path: "/v2.1/os-keypairs", Body: `{"keypair": `}, 400, "badRequest"},
		{"empty body", servertest.Req{Method: "POST", Path: "/v2.1/os-keypairs", Body: ``}, 400, "badRequest"},
		{"body too large", servertest.Req{Method: "POST", Path: "/v2.1/os-keypairs", Body: `{"keypair": {"name": "` + strings.Repeat("x", 200000) + `"}}`}, 413, "overLimit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Token = c.Member.Token
			tc.req.Path = strings.NewReplacer("{project}", c.Member.ProjectID, "{other}", c.Other.ProjectID).Replace(tc.req.Path)
			resp := c.Do(t, tc.req).Expect(t, tc.status)
			if tc.key != "" {
				if key, code, _ := resp.Fault(t); key != tc.key || code != tc.status {
					t.Errorf("fault %s %d", key, code)
				}
			}
		})
	}
}

func TestLinksRepeatTheURLsProjectID(t *testing.T) {
	c := servertest.New(t)
	var body struct {
		Flavors []struct{ Links []struct{ Rel, Href string } }
	}
	c.Do(t, servertest.Req{Path: "/v2.1/" + c.Member.ProjectID + "/flavors", Token: c.Member.Token}).Expect(t, 200).Decode(t, &body)
	if len(body.Flavors) == 0 {
		t.Fatal("no flavors")
	}
	l := body.Flavors[0].Links
	if !strings.HasPrefix(l[0].Href, c.URL+"/v2.1/"+c.Member.ProjectID+"/flavors/") || !strings.HasPrefix(l[1].Href, c.URL+"/"+c.Member.ProjectID+"/flavors/") {
		t.Errorf("links %+v", l)
	}
	c.Do(t, servertest.Req{Path: "/v2.1/flavors", Token: c.Member.Token}).Expect(t, 200).Decode(t, &body)
	if l := body.Flavors[0].Links; !strings.HasPrefix(l[0].Href, c.URL+"/v2.1/flavors/") || !strings.HasPrefix(l[1].Href, c.URL+"/flavors/") {
		t.Errorf("links without project id %+v", l)
	}
}
