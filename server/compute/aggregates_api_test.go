package compute_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"minicloud/server/servertest"
	"minicloud/store"
)

// admAggregate creates an aggregate as admin and returns its id.
func admAggregate(t *testing.T, c *servertest.Cloud, name string, zone any) string {
	t.Helper()
	body := map[string]any{"name": name}
	if zone != nil {
		body["availability_zone"] = zone
	}
	r := nova(t, c, http.MethodPost, "/os-aggregates", c.Admin.Token, "", map[string]any{"aggregate": body}).Expect(t, http.StatusOK)
	return admNum(r.At(t, "aggregate", "id"))
}

func admAggAction(t *testing.T, c *servertest.Cloud, id, version string, body any) *servertest.Resp {
	t.Helper()
	return nova(t, c, http.MethodPost, "/os-aggregates/"+id+"/action", c.Admin.Token, version, body)
}

func TestAggregatesLifecycle(t *testing.T) {
	c := servertest.New(t)
	before := time.Now().UTC().Add(-time.Second)

	// Create: 200, no hosts or metadata in the answer, zone null.
	r := nova(t, c, http.MethodPost, "/os-aggregates", c.Admin.Token, "", map[string]any{"aggregate": map[string]any{"name": "agg1"}}).Expect(t, http.StatusOK)
	if got := admKeys(t, r, "aggregate"); got != "id,name,created_at,updated_at,deleted_at,deleted,availability_zone" {
		t.Errorf("create keys %s", got)
	}
	admShape(t, "create", admDecode(t, r), map[string]any{"aggregate": loadNovaSample(t, "os-aggregates/aggregate-post-resp.json").(map[string]any)["aggregate"]})
	id := admNum(r.At(t, "aggregate", "id"))
	created, err := time.Parse("2006-01-02T15:04:05.000000", r.At(t, "aggregate", "created_at").(string))
	if err != nil || created.Before(before) {
		t.Errorf("created_at %v (%v)", created, err)
	}
	for k, want := range map[string]any{"availability_zone": nil, "deleted": false, "deleted_at": nil, "updated_at": nil, "name": "agg1"} {
		if got := r.At(t, "aggregate", k); got != want {
			t.Errorf("create %s = %v, want %v", k, got, want)
		}
	}

	// 2.41 adds the uuid; show, list and every action answer the full view.
	r = nova(t, c, http.MethodPost, "/os-aggregates", c.Admin.Token, "2.41",
		map[string]any{"aggregate": map[string]any{"name": "agg2", "availability_zone": "london"}}).Expect(t, http.StatusOK)
	if got := admKeys(t, r, "aggregate"); got != "id,uuid,name,created_at,updated_at,deleted_at,deleted,availability_zone" {
		t.Errorf("create 2.41 keys %s", got)
	}
	admShape(t, "create 2.41", admDecode(t, r), loadNovaSample(t, "os-aggregates/v2.41/aggregate-post-resp.json"))
	id2 := admNum(r.At(t, "aggregate", "id"))
	if r.At(t, "aggregate", "availability_zone") != "london" {
		t.Errorf("zone: %s", r.Body)
	}

	full := "id,name,hosts,metadata,created_at,updated_at,deleted_at,deleted,availability_zone"
	full241 := "id,uuid,name,hosts,metadata,created_at,updated_at,deleted_at,deleted,availability_zone"
	r = nova(t, c, http.MethodGet, "/os-aggregates/"+id, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if got := admKeys(t, r, "aggregate"); got != full {
		t.Errorf("show keys %s", got)
	}
	if string(r.Body) == "" || !strings.Contains(string(r.Body), `"hosts":[],"metadata":{}`) {
		t.Errorf("empty aggregate: %s", r.Body)
	}
	r = nova(t, c, http.MethodGet, "/os-aggregates/"+id2, c.Admin.Token, "2.41", nil).Expect(t, http.StatusOK)
	if got := admKeys(t, r, "aggregate"); got != full241 {
		t.Errorf("show 2.41 keys %s", got)
	}
	admShape(t, "show 2.41", admDecode(t, r), loadNovaSample(t, "os-aggregates/v2.41/aggregates-get-resp.json"), "show 2.41.aggregate.metadata")

	r = nova(t, c, http.MethodGet, "/os-aggregates", c.Admin.Token, "2.41", nil).Expect(t, http.StatusOK)
	if n := len(admList(t, r, "aggregates")); n != 2 {
		t.Fatalf("list: %s", r.Body)
	}
	admShape(t, "list 2.41", admDecode(t, r), loadNovaSample(t, "os-aggregates/v2.41/aggregates-list-get-resp.json"), "list 2.41.aggregates[0].metadata")

	// Update: rename, set the zone; updated_at is set.
	r = nova(t, c, http.MethodPut, "/os-aggregates/"+id, c.Admin.Token, "",
		map[string]any{"aggregate": map[string]any{"name": "agg1-new", "availability_zone": "paris"}}).Expect(t, http.StatusOK)
	if got := admKeys(t, r, "aggregate"); got != full {
		t.Errorf("update keys %s", got)
	}
	if r.At(t, "aggregate", "name") != "agg1-new" || r.At(t, "aggregate", "availability_zone") != "paris" || r.At(t, "aggregate", "updated_at") == nil {
		t.Errorf("update: %s", r.Body)
	}
	admShape(t, "update", admDecode(t, r), loadNovaSample(t, "os-aggregates/aggregate-update-post-resp.json"), "update.aggregate.metadata")

	// Metadata: set keys, null removes one.
	r = admAggAction(t, c, id, "", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"key": "value", "k2": "v2"}}}).Expect(t, http.StatusOK)
	if got := string(r.Body); !strings.Contains(got, `"metadata":{"availability_zone":"paris","k2":"v2","key":"value"}`) {
		t.Errorf("set_metadata: %s", got)
	}
	admShape(t, "set_metadata", admDecode(t, r), loadNovaSample(t, "os-aggregates/aggregates-metadata-post-resp.json"), "set_metadata.aggregate.metadata")
	r = admAggAction(t, c, id, "", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"k2": nil, "gone": nil}}}).Expect(t, http.StatusOK)
	if got := string(r.Body); !strings.Contains(got, `"metadata":{"availability_zone":"paris","key":"value"}`) {
		t.Errorf("set_metadata null: %s", got)
	}

	// Hosts: add, list, remove.
	r = admAggAction(t, c, id, "", map[string]any{"add_host": map[string]any{"host": "testhost"}}).Expect(t, http.StatusOK)
	if got := string(r.Body); !strings.Contains(got, `"hosts":["testhost"]`) {
		t.Errorf("add_host: %s", got)
	}
	admShape(t, "add_host", admDecode(t, r), loadNovaSample(t, "os-aggregates/aggregates-add-host-post-resp.json"), "add_host.aggregate.metadata")
	r = nova(t, c, http.MethodGet, "/os-aggregates", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if !strings.Contains(string(r.Body), `"name":"agg1-new","hosts":["testhost"]`) {
		t.Errorf("list after add_host: %s", r.Body)
	}
	admFault(t, nova(t, c, http.MethodDelete, "/os-aggregates/"+id, c.Admin.Token, "", nil), 400,
		"Cannot remove host from aggregate "+id+". Reason: Host aggregate is not empty.")
	r = admAggAction(t, c, id, "", map[string]any{"remove_host": map[string]any{"host": "testhost"}}).Expect(t, http.StatusOK)
	if !strings.Contains(string(r.Body), `"hosts":[]`) {
		t.Errorf("remove_host: %s", r.Body)
	}
	admShape(t, "remove_host", admDecode(t, r), loadNovaSample(t, "os-aggregates/aggregates-remove-host-post-resp.json"), "remove_host.aggregate.metadata")

	// Delete: 200, no body; then 404.
	r = nova(t, c, http.MethodDelete, "/os-aggregates/"+id, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if len(r.Body) != 0 {
		t.Errorf("delete body %s", r.Body)
	}
	admFault(t, nova(t, c, http.MethodGet, "/os-aggregates/"+id, c.Admin.Token, "", nil), 404, "Aggregate "+id+" could not be found.")
	// The name is free again.
	admAggregate(t, c, "agg1-new", nil)
}

func TestAggregatesBadInput(t *testing.T) {
	c := servertest.New(t)
	id := admAggregate(t, c, "agg", nil)
	other := admAggregate(t, c, "other", nil)
	long := strings.Repeat("a", 256)
	deny := func(rule string) string {
		return "Policy doesn't allow os_compute_api:os-aggregates:" + rule + " to be performed."
	}
	admRun(t, c, []admCase{
		// Policy: admin only, after the body is valid.
		{name: "list as member", path: "/os-aggregates", token: "member", status: 403, message: deny("index")},
		{name: "show as member", path: "/os-aggregates/" + id, token: "member", status: 403, message: deny("show")},
		{name: "create as member", method: http.MethodPost, path: "/os-aggregates", token: "member",
			body: map[string]any{"aggregate": map[string]any{"name": "x"}}, status: 403, message: deny("create")},
		{name: "update as member", method: http.MethodPut, path: "/os-aggregates/" + id, token: "member",
			body: map[string]any{"aggregate": map[string]any{"name": "x"}}, status: 403, message: deny("update")},
		{name: "delete as member", method: http.MethodDelete, path: "/os-aggregates/" + id, token: "member", status: 403, message: deny("delete")},
		{name: "add_host as member", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "member",
			body: map[string]any{"add_host": map[string]any{"host": "testhost"}}, status: 403, message: deny("add_host")},
		{name: "remove_host as member", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "member",
			body: map[string]any{"remove_host": map[string]any{"host": "testhost"}}, status: 403, message: deny("remove_host")},
		{name: "set_metadata as member", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "member",
			body: map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{}}}, status: 403, message: deny("set_metadata")},
		{name: "images as member", method: http.MethodPost, path: "/os-aggregates/" + id + "/images", token: "member", version: "2.81",
			body: map[string]any{"cache": []any{map[string]any{"id": newTestUUID()}}}, status: 403,
			message: "Policy doesn't allow compute:aggregates:images to be performed."},

		// Names.
		{name: "empty name", method: http.MethodPost, path: "/os-aggregates", token: "admin",
			body: map[string]any{"aggregate": map[string]any{"name": ""}}, status: 400},
		{name: "long name", method: http.MethodPost, path: "/os-aggregates", token: "admin",
			body: map[string]any{"aggregate": map[string]any{"name": long}}, status: 400},
		{name: "spaces around name", method: http.MethodPost, path: "/os-aggregates", token: "admin",
			body: map[string]any{"aggregate": map[string]any{"name": " x "}}, status: 400},
		{name: "existing name", method: http.MethodPost, path: "/os-aggregates", token: "admin",
			body: map[string]any{"aggregate": map[string]any{"name": "agg"}}, status: 409, message: "Aggregate agg already exists."},
		{name: "rename to existing", method: http.MethodPut, path: "/os-aggregates/" + id, token: "admin",
			body: map[string]any{"aggregate": map[string]any{"name": "other"}}, status: 409, message: "Aggregate other already exists."},
		{name: "zone with colon", method: http.MethodPost, path: "/os-aggregates", token: "admin",
			body: map[string]any{"aggregate": map[string]any{"name": "z", "availability_zone": "a:b"}}, status: 400},
		{name: "no name", method: http.MethodPost, path: "/os-aggregates", token: "admin",
			body: map[string]any{"aggregate": map[string]any{"availability_zone": "z"}}, status: 400},
		{name: "extra field", method: http.MethodPost, path: "/os-aggregates", token: "admin",
			body: map[string]any{"aggregate": map[string]any{"name": "z", "hosts": []any{}}}, status: 400},
		{name: "not json", method: http.MethodPost, path: "/os-aggregates", token: "admin", body: "{", status: 400, message: "Malformed request body"},
		{name: "update without fields", method: http.MethodPut, path: "/os-aggregates/" + id, token: "admin",
			body: map[string]any{"aggregate": map[string]any{}}, status: 400},
		{name: "update null zone", method: http.MethodPut, path: "/os-aggregates/" + id, token: "admin",
			body: map[string]any{"aggregate": map[string]any{"availability_zone": nil}}, status: 400,
			message: "Cannot update aggregate " + id + ". Reason: Aggregate agg does not support empty named availability zone."},

		// Ids.
		{name: "show -1", path: "/os-aggregates/-1", token: "admin", status: 404, message: "Aggregate -1 could not be found."},
		{name: "delete -1", method: http.MethodDelete, path: "/os-aggregates/-1", token: "admin", status: 404, message: "Aggregate -1 could not be found."},
		{name: "show huge", path: "/os-aggregates/99999999999999999999999", token: "admin", status: 404,
			message: "Aggregate 99999999999999999999999 could not be found."},
		{name: "show text", path: "/os-aggregates/abc", token: "admin", status: 400, message: "Invalid input received: id must be an integer"},
		{name: "update text", method: http.MethodPut, path: "/os-aggregates/abc", token: "admin",
			body: map[string]any{"aggregate": map[string]any{"name": "x"}}, status: 400, message: "Invalid input received: id must be an integer"},
		{name: "update unknown", method: http.MethodPut, path: "/os-aggregates/999", token: "admin",
			body: map[string]any{"aggregate": map[string]any{"name": "x"}}, status: 404, message: "Aggregate 999 could not be found."},

		// Actions.
		{name: "unknown action", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: map[string]any{"frob": map[string]any{}}, status: 400, message: "There is no such action: frob"},
		{name: "two actions", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body:   map[string]any{"add_host": map[string]any{"host": "testhost"}, "remove_host": map[string]any{"host": "testhost"}},
			status: 400, message: "Malformed request body"},
		{name: "empty action body", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: "", status: 400, message: "Malformed request body"},
		{name: "list action body", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: []any{1}, status: 404},
		{name: "add unknown host", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: map[string]any{"add_host": map[string]any{"host": "nonexist_host"}}, status: 404, message: "Compute host nonexist_host could not be found."},
		{name: "add to unknown aggregate", method: http.MethodPost, path: "/os-aggregates/999/action", token: "admin",
			body: map[string]any{"add_host": map[string]any{"host": "testhost"}}, status: 404, message: "Aggregate 999 could not be found."},
		{name: "add bad host name", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: map[string]any{"add_host": map[string]any{"host": "a b"}}, status: 400},
		{name: "remove absent host", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: map[string]any{"remove_host": map[string]any{"host": "testhost"}}, status: 404, message: "Cannot remove host testhost in aggregate " + id},
		{name: "remove unknown host", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: map[string]any{"remove_host": map[string]any{"host": "nonexist_host"}}, status: 404, message: "Cannot remove host nonexist_host in aggregate " + id},
		{name: "action on text id", method: http.MethodPost, path: "/os-aggregates/x/action", token: "admin",
			body: map[string]any{"add_host": map[string]any{"host": "testhost"}}, status: 400, message: "Invalid input received: id must be an integer"},
		{name: "metadata not a map", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: map[string]any{"set_metadata": map[string]any{"metadata": "x"}}, status: 400},
		{name: "metadata bad key", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"a/b": "x"}}}, status: 400},
		{name: "metadata empty zone", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"availability_zone": ""}}}, status: 400,
			message: "Cannot update metadata of aggregate " + id + ". Reason: Aggregate agg does not support empty named availability zone."},
		{name: "metadata null zone", method: http.MethodPost, path: "/os-aggregates/" + id + "/action", token: "admin",
			body: map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"availability_zone": nil}}}, status: 400},
	})

	// A key differing only in case from a stored one is refused, as the
	// database's case-insensitive key does.
	admAggAction(t, c, other, "", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"Key": "v"}}}).Expect(t, http.StatusOK)
	admFault(t, admAggAction(t, c, other, "", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"key": "v"}}}), 400,
		"Aggregate "+other+" already contain metadata key Key.")

	// A host is in one aggregate once.
	admAggAction(t, c, id, "", map[string]any{"add_host": map[string]any{"host": "testhost"}}).Expect(t, http.StatusOK)
	admFault(t, admAggAction(t, c, id, "", map[string]any{"add_host": map[string]any{"host": "testhost"}}), 409,
		"Aggregate "+id+" already has host testhost.")
}

func TestAggregatesImages(t *testing.T) {
	c := servertest.New(t)
	id := admAggregate(t, c, "agg", nil)
	// An image of the admin's.
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/image/v2/images", Token: c.Admin.Token,
		Body: map[string]any{"name": "img", "disk_format": "raw", "container_format": "bare"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create image: %d %s", r.Status, r.Body)
	}
	image := r.JSON(t)["id"].(string)
	unknown := newTestUUID()
	admRun(t, c, []admCase{
		{name: "before 2.81", method: http.MethodPost, path: "/os-aggregates/" + id + "/images", token: "admin", version: "2.80",
			body: map[string]any{"cache": []any{map[string]any{"id": image}}}, status: 404, message: "The resource could not be found."},
		{name: "empty list", method: http.MethodPost, path: "/os-aggregates/" + id + "/images", token: "admin", version: "2.81",
			body: map[string]any{"cache": []any{}}, status: 400},
		{name: "not a uuid", method: http.MethodPost, path: "/os-aggregates/" + id + "/images", token: "admin", version: "2.81",
			body: map[string]any{"cache": []any{map[string]any{"id": "x"}}}, status: 400},
		{name: "duplicate", method: http.MethodPost, path: "/os-aggregates/" + id + "/images", token: "admin", version: "2.81",
			body: map[string]any{"cache": []any{map[string]any{"id": image}, map[string]any{"id": image}}}, status: 400,
			message: "Duplicate images in request"},
		{name: "unknown aggregate", method: http.MethodPost, path: "/os-aggregates/999/images", token: "admin", version: "2.81",
			body: map[string]any{"cache": []any{map[string]any{"id": image}}}, status: 404, message: "Aggregate 999 could not be found."},
		{name: "unknown image", method: http.MethodPost, path: "/os-aggregates/" + id + "/images", token: "admin", version: "2.81",
			body: map[string]any{"cache": []any{map[string]any{"id": image}, map[string]any{"id": unknown}}}, status: 400,
			message: "Image " + unknown + " could not be found."},
		{name: "sample request, image not here", method: http.MethodPost, path: "/os-aggregates/" + id + "/images", token: "admin", version: "2.81",
			body: loadNovaSample(t, "os-aggregates/v2.81/aggregate-images-post-req.json"), status: 400},
		{name: "cached", method: http.MethodPost, path: "/os-aggregates/" + id + "/images", token: "admin", version: "2.81",
			body: map[string]any{"cache": []any{map[string]any{"id": image}}}, status: 202},
	})
}

// Aggregates with availability_zone metadata are zones: the host's zone
// follows them everywhere zones show, and changes that would move a host
// with instances or put it in two zones are refused.
func TestAggregatesZones(t *testing.T) {
	c := servertest.New(t)
	zoneNames := func() string {
		t.Helper()
		r := nova(t, c, http.MethodGet, "/os-availability-zone", c.Member.Token, "", nil).Expect(t, http.StatusOK)
		var names []string
		for _, z := range admItems(t, r, "availabilityZoneInfo") {
			names = append(names, z["zoneName"].(string))
		}
		return strings.Join(names, ",")
	}
	serviceZone := func() any {
		t.Helper()
		r := nova(t, c, http.MethodGet, "/os-services?binary=nova-compute", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
		return r.At(t, "services", "0", "zone")
	}
	hostZone := func() any {
		t.Helper()
		r := nova(t, c, http.MethodGet, "/os-hosts", c.Admin.Token, "", nil).Expect(t, http.StatusOK)
		for _, h := range admItems(t, r, "hosts") {
			if h["service"] == "compute" {
				return h["zone"]
			}
		}
		return nil
	}
	check := func(want string) {
		t.Helper()
		if got := zoneNames(); got != want {
			t.Errorf("zones %s, want %s", got, want)
		}
		if got := serviceZone(); got != want {
			t.Errorf("compute service zone %v, want %s", got, want)
		}
		if got := hostZone(); got != want {
			t.Errorf("os-hosts zone %v, want %s", got, want)
		}
		r := nova(t, c, http.MethodGet, "/os-availability-zone/"+want, c.Member.Token, "", nil).Expect(t, http.StatusOK)
		if r.At(t, "availabilityZoneInfo", "0", "zoneName") != want {
			t.Errorf("show zone: %s", r.Body)
		}
	}
	check("nova")

	az1 := admAggregate(t, c, "agg-az1", "az1")
	plain := admAggregate(t, c, "agg-plain", nil)
	check("nova") // an aggregate without hosts changes no zone
	admAggAction(t, c, plain, "", map[string]any{"add_host": map[string]any{"host": "testhost"}}).Expect(t, http.StatusOK)
	check("nova")
	admAggAction(t, c, az1, "", map[string]any{"add_host": map[string]any{"host": "testhost"}}).Expect(t, http.StatusOK)
	check("az1")
	admFault(t, nova(t, c, http.MethodGet, "/os-availability-zone/nova", c.Member.Token, "", nil), 404, "Availability zone nova could not be found.")

	// Renaming the zone moves the host (no instances yet).
	nova(t, c, http.MethodPut, "/os-aggregates/"+az1, c.Admin.Token, "", map[string]any{"aggregate": map[string]any{"availability_zone": "az2"}}).Expect(t, http.StatusOK)
	check("az2")
	// A second zone for the same host is refused.
	admFault(t, admAggAction(t, c, plain, "", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"availability_zone": "az3"}}}), 400,
		"Cannot update metadata of aggregate "+plain+". Reason: One or more hosts already in availability zone(s) ['az2'].")
	other := admAggregate(t, c, "agg-az3", "az3")
	admFault(t, admAggAction(t, c, other, "", map[string]any{"add_host": map[string]any{"host": "testhost"}}), 409,
		"Cannot add host to aggregate "+other+". Reason: One or more hosts already in availability zone(s) ['az2'].")
	// The same zone twice is fine.
	nova(t, c, http.MethodPut, "/os-aggregates/"+other, c.Admin.Token, "", map[string]any{"aggregate": map[string]any{"availability_zone": "az2"}}).Expect(t, http.StatusOK)
	admAggAction(t, c, other, "", map[string]any{"add_host": map[string]any{"host": "testhost"}}).Expect(t, http.StatusOK)
	check("az2")
	admAggAction(t, c, other, "", map[string]any{"remove_host": map[string]any{"host": "testhost"}}).Expect(t, http.StatusOK)

	// With an instance on the host, its zone cannot change.
	admInstance(t, c, "testhost", func(i *store.Instance) { i.AvailabilityZone = "az2" })
	admFault(t, nova(t, c, http.MethodPut, "/os-aggregates/"+az1, c.Admin.Token, "", map[string]any{"aggregate": map[string]any{"availability_zone": "az9"}}), 400,
		"Cannot update aggregate "+az1+". Reason: One or more hosts contain instances in this zone.")
	admFault(t, admAggAction(t, c, az1, "", map[string]any{"remove_host": map[string]any{"host": "testhost"}}), 409,
		"Cannot remove host from aggregate "+az1+". Reason: The host cannot be removed from the aggregate as the availability zone "+
			"of the host would change from 'az2' to 'None' but the host already has 1 instance(s). Changing the AZ of an existing "+
			"instance is not supported by this action. Move the instances away from this host then try again. If you need to move "+
			"the instances between AZs then you can use shelve_offload and unshelve to achieve this..") // Nova appends its own period
	admFault(t, admAggAction(t, c, az1, "", map[string]any{"set_metadata": map[string]any{"metadata": map[string]any{"availability_zone": "az9"}}}), 400,
		"Cannot update metadata of aggregate "+az1+". Reason: One or more hosts contain instances in this zone.")
	// Other metadata and renames are fine.
	nova(t, c, http.MethodPut, "/os-aggregates/"+az1, c.Admin.Token, "", map[string]any{"aggregate": map[string]any{"name": "renamed", "availability_zone": "az2"}}).Expect(t, http.StatusOK)
	check("az2")
	// Nothing was half-written by the refused requests.
	r := nova(t, c, http.MethodGet, "/os-aggregates/"+az1, c.Admin.Token, "", nil).Expect(t, http.StatusOK)
	if r.At(t, "aggregate", "availability_zone") != "az2" || r.At(t, "aggregate", "name") != "renamed" {
		t.Errorf("aggregate after refusals: %s", r.Body)
	}
}

// The legacy /v2 mount takes names with surrounding spaces (stripped) and
// drops fields it does not know.
func TestAggregatesLegacyV2(t *testing.T) {
	c := servertest.New(t)
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2/" + c.Admin.ProjectID + "/os-aggregates", Token: c.Admin.Token,
		Body: map[string]any{"aggregate": map[string]any{"name": "  spaced ", "availability_zone": " az ", "extra": 1}}}).Expect(t, http.StatusOK)
	if r.At(t, "aggregate", "name") != "spaced" || r.At(t, "aggregate", "availability_zone") != "az" {
		t.Errorf("legacy create: %s", r.Body)
	}
	if got := admKeys(t, r, "aggregate"); got != "id,name,created_at,updated_at,deleted_at,deleted,availability_zone" {
		t.Errorf("legacy keys %s", got)
	}
}
