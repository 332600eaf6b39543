package compute_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"minicloud/server/api"
	"minicloud/server/console/consoletest"
	"minicloud/server/servertest"
	"minicloud/store"
)

// Remote consoles and console auth tokens through the API: shapes per
// microversion, Nova's faults, and the console behind the URL.

// consRecord writes an ACTIVE instance of u's project on the test host
// straight into the store, changed by edit: the state rules are checked on
// such records.
func consRecord(t *testing.T, c *servertest.Cloud, u servertest.User, edit func(*store.Instance)) *store.Instance {
	t.Helper()
	now := time.Now().UTC()
	inst := &store.Instance{
		ID: api.NewUUID(), Name: "cons", Hostname: "cons", ProjectID: u.ProjectID, UserID: u.ID,
		ReservationID: "r-cons0001", Host: "testhost", Node: "testhost", AvailabilityZone: "nova",
		Flavor:  store.InstanceFlavor{FlavorID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1},
		ImageID: api.NewUUID(), VMState: "active", PowerState: 1, CreatedAt: now, UpdatedAt: now, LaunchedAt: &now,
	}
	if edit != nil {
		edit(inst)
	}
	srvSeed(t, c, inst)
	return inst
}

func consFault(t *testing.T, r *servertest.Resp, status int, message string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if _, code, msg := r.Fault(t); code != status || msg != message {
		t.Fatalf("fault %d %q, want %q", code, msg, message)
	}
}

func remoteConsole(protocol, typ string) map[string]any {
	return map[string]any{"remote_console": map[string]any{"protocol": protocol, "type": typ}}
}

var consToken = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

// POST /servers/{id}/remote-consoles answers Nova's shape with a URL of
// Nova's form on this cloud's listener, from 2.6 on.
func TestRemoteConsoleCreate(t *testing.T) {
	c := servertest.New(t)
	inst := consRecord(t, c, c.Member, nil)
	host := strings.TrimPrefix(c.URL, "http://")
	cases := []struct {
		version, protocol, typ string
		url                    *regexp.Regexp
	}{
		{"2.6", "vnc", "novnc", regexp.MustCompile(`^http://` + regexp.QuoteMeta(host) + `/console/vnc_lite\.html\?path=console%2Fwebsockify%3Ftoken%3D` + consToken + `$`)},
		{"2.8", "serial", "serial", regexp.MustCompile(`^ws://` + regexp.QuoteMeta(host) + `/console/serial\?token=` + consToken + `$`)},
		{"2.99", "vnc", "novnc", regexp.MustCompile(`/console/vnc_lite\.html\?path=`)},
		{"latest", "serial", "serial", regexp.MustCompile(`^ws://`)},
	}
	for _, tc := range cases {
		r := nova(t, c, http.MethodPost, "/servers/"+inst.ID+"/remote-consoles", c.Member.Token, tc.version, remoteConsole(tc.protocol, tc.typ)).Expect(t, http.StatusOK)
		if keys := r.Keys(t); fmt.Sprint(keys) != "[remote_console]" {
			t.Errorf("%s: top keys %v", tc.version, keys)
		}
		if keys := r.Keys(t, "remote_console"); fmt.Sprint(keys) != "[protocol type url]" {
			t.Errorf("%s: keys %v, want Nova's protocol, type, url", tc.version, keys)
		}
		if p, ty := r.At(t, "remote_console", "protocol"), r.At(t, "remote_console", "type"); p != tc.protocol || ty != tc.typ {
			t.Errorf("%s: answered %v/%v", tc.version, p, ty)
		}
		if u := r.At(t, "remote_console", "url").(string); !tc.url.MatchString(u) {
			t.Errorf("%s: url %s", tc.version, u)
		}
	}
	// Each request is a new token.
	a := nova(t, c, http.MethodPost, "/servers/"+inst.ID+"/remote-consoles", c.Member.Token, "2.6", remoteConsole("vnc", "novnc")).At(t, "remote_console", "url")
	b := nova(t, c, http.MethodPost, "/servers/"+inst.ID+"/remote-consoles", c.Member.Token, "2.6", remoteConsole("vnc", "novnc")).At(t, "remote_console", "url")
	if a == b {
		t.Error("two console requests got the same URL")
	}
	// An admin may open any project's console.
	nova(t, c, http.MethodPost, "/servers/"+inst.ID+"/remote-consoles", c.Admin.Token, "2.6", remoteConsole("vnc", "novnc")).Expect(t, http.StatusOK)
}

// Nova's answers to what it refuses, in its order: the body first, then
// the server, the policy, the removed RDP console, the host and task
// state, the console type, and a guest still building.
func TestRemoteConsoleRejects(t *testing.T) {
	c := servertest.New(t)
	ok := consRecord(t, c, c.Member, nil)
	noHost := consRecord(t, c, c.Member, func(i *store.Instance) { i.Host, i.Node, i.VMState, i.TaskState = "", "", "building", "scheduling" })
	building := consRecord(t, c, c.Member, func(i *store.Instance) { i.VMState, i.TaskState, i.PowerState = "building", "spawning", 0 })
	deleting := consRecord(t, c, c.Member, func(i *store.Instance) { i.TaskState = "deleting" })
	migrating := consRecord(t, c, c.Member, func(i *store.Instance) { i.TaskState = "migrating" })
	offloaded := consRecord(t, c, c.Member, func(i *store.Instance) { i.Host, i.Node, i.VMState, i.PowerState = "", "", "shelved_offloaded", 4 })
	reader := c.AddUser(t, "consreader", "consreaders", "reader")
	readers := consRecord(t, c, reader, nil)
	missing := api.NewUUID()
	path := func(id string) string { return "/servers/" + id + "/remote-consoles" }

	cases := []struct {
		name    string
		user    servertest.User
		id      string
		version string
		body    any
		status  int
		message string
	}{
		{"no body", c.Member, ok.ID, "2.6", nil, 400, "None is not of type 'object'"},
		{"no remote_console", c.Member, ok.ID, "2.6", map[string]any{"console": 1}, 400, "'remote_console' is a required property"},
		{"missing type", c.Member, ok.ID, "2.6", map[string]any{"remote_console": map[string]any{"protocol": "vnc"}}, 400, "Invalid input for field/attribute remote_console. Value: {'protocol': 'vnc'}. 'type' is a required property"},
		{"extra field", c.Member, ok.ID, "2.6", map[string]any{"remote_console": map[string]any{"protocol": "vnc", "type": "novnc", "x": 1}}, 400, "Invalid input for field/attribute remote_console. Value: {'protocol': 'vnc', 'type': 'novnc', 'x': 1}. Additional properties are not allowed ('x' was unexpected)"},
		{"unknown protocol", c.Member, ok.ID, "2.6", remoteConsole("telnet", "novnc"), 400, "Invalid input for field/attribute protocol. Value: telnet. 'telnet' is not one of ['vnc', 'spice', 'serial', 'rdp']"},
		{"mks before 2.8", c.Member, ok.ID, "2.7", remoteConsole("mks", "webmks"), 400, "Invalid input for field/attribute protocol. Value: mks. 'mks' is not one of ['vnc', 'spice', 'serial', 'rdp']"},
		{"spice-direct before 2.99", c.Member, ok.ID, "2.98", remoteConsole("spice", "spice-direct"), 400, "Invalid input for field/attribute type. Value: spice-direct. 'spice-direct' is not one of ['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5', 'webmks']"},
		{"bad body on a missing server", c.Member, missing, "2.6", map[string]any{"remote_console": map[string]any{"protocol": "vnc", "type": 1}}, 400, "Invalid input for field/attribute type. Value: 1. 1 is not of type 'string'"},
		{"missing server", c.Member, missing, "2.6", remoteConsole("vnc", "novnc"), 404, "Instance " + missing + " could not be found."},
		{"another project's server", c.Other, ok.ID, "2.6", remoteConsole("vnc", "novnc"), 404, "Instance " + ok.ID + " could not be found."},
		{"reader role", reader, readers.ID, "2.6", remoteConsole("vnc", "novnc"), 403, "Policy doesn't allow os_compute_api:os-remote-consoles to be performed."},
		{"rdp", c.Member, ok.ID, "2.6", remoteConsole("rdp", "rdp-html5"), 400, "Unavailable console type rdp."},
		{"rdp on a server without host", c.Member, noHost.ID, "2.6", remoteConsole("rdp", "rdp-html5"), 400, "Unavailable console type rdp."},
		{"no host yet", c.Member, noHost.ID, "2.6", remoteConsole("vnc", "novnc"), 409, "Instance " + noHost.ID + " is not ready"},
		{"shelved offloaded", c.Member, offloaded.ID, "2.6", remoteConsole("serial", "serial"), 409, "Instance " + offloaded.ID + " is not ready"},
		{"deleting", c.Member, deleting.ID, "2.6", remoteConsole("vnc", "novnc"), 409, "Cannot 'get_vnc_console' instance " + deleting.ID + " while it is in task_state deleting"},
		{"migrating", c.Member, migrating.ID, "2.6", remoteConsole("serial", "serial"), 409, "Cannot 'get_serial_console' instance " + migrating.ID + " while it is in task_state migrating"},
		{"xvpvnc", c.Member, ok.ID, "2.6", remoteConsole("vnc", "xvpvnc"), 400, "Invalid console type xvpvnc"},
		{"vnc with a serial type", c.Member, ok.ID, "2.6", remoteConsole("vnc", "serial"), 400, "Invalid console type serial"},
		{"serial with a vnc type", c.Member, ok.ID, "2.6", remoteConsole("serial", "novnc"), 400, "Invalid console type novnc"},
		{"spice", c.Member, ok.ID, "2.6", remoteConsole("spice", "spice-html5"), 400, "Unavailable console type spice-html5."},
		{"spice-direct", c.Member, ok.ID, "2.99", remoteConsole("spice", "spice-direct"), 400, "Unavailable console type spice-direct."},
		{"mks", c.Member, ok.ID, "2.8", remoteConsole("mks", "webmks"), 400, "Unavailable console type webmks."},
		{"building", c.Member, building.ID, "2.6", remoteConsole("vnc", "novnc"), 409, "Instance " + building.ID + " is not ready"},
		{"type checked before building", c.Member, building.ID, "2.6", remoteConsole("spice", "spice-html5"), 400, "Unavailable console type spice-html5."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			consFault(t, nova(t, c, http.MethodPost, path(tc.id), tc.user.Token, tc.version, tc.body), tc.status, tc.message)
		})
	}
	// Before 2.6 the resource does not exist.
	for _, v := range []string{"", "2.5"} {
		consFault(t, nova(t, c, http.MethodPost, path(ok.ID), c.Member.Token, v, remoteConsole("vnc", "novnc")), 404, "The resource could not be found.")
	}
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2" + path(ok.ID), Token: c.Member.Token, Body: remoteConsole("vnc", "novnc")})
	consFault(t, r, 404, "The resource could not be found.")
}

// Before 2.6 the console actions answer {"console": {"type", "url"}}; the
// removed RDP console is a bare 400; from 2.6 the actions are gone.
func TestConsoleActions(t *testing.T) {
	c := servertest.New(t)
	inst := consRecord(t, c, c.Member, nil)
	action := func(version string, body any) *servertest.Resp {
		return nova(t, c, http.MethodPost, "/servers/"+inst.ID+"/action", c.Member.Token, version, body)
	}
	for _, v := range []string{"", "2.1", "2.5"} {
		r := action(v, map[string]any{"os-getVNCConsole": map[string]any{"type": "novnc"}}).Expect(t, http.StatusOK)
		if keys := r.Keys(t, "console"); fmt.Sprint(keys) != "[type url]" || r.At(t, "console", "type") != "novnc" {
			t.Errorf("%s: %s", v, r.Body)
		}
		if u := r.At(t, "console", "url").(string); !strings.Contains(u, "/console/vnc_lite.html?path=console%2Fwebsockify%3Ftoken%3D") {
			t.Errorf("%s: url %s", v, u)
		}
		r = action(v, map[string]any{"os-getSerialConsole": map[string]any{"type": "serial"}}).Expect(t, http.StatusOK)
		if u := r.At(t, "console", "url").(string); !strings.HasPrefix(u, "ws://") || r.At(t, "console", "type") != "serial" {
			t.Errorf("%s: %s", v, r.Body)
		}
	}
	// The legacy /v2 mount has them too.
	r := c.Do(t, servertest.Req{Method: http.MethodPost, Path: "/v2/servers/" + inst.ID + "/action", Token: c.Member.Token,
		Body: map[string]any{"os-getVNCConsole": map[string]any{"type": "novnc"}}}).Expect(t, http.StatusOK)
	if r.At(t, "console", "type") != "novnc" {
		t.Errorf("/v2: %s", r.Body)
	}

	missing := api.NewUUID()
	cases := []struct {
		name    string
		id      string
		body    any
		status  int
		message string
	}{
		{"vnc without type", inst.ID, map[string]any{"os-getVNCConsole": map[string]any{}}, 400, "Invalid input for field/attribute os-getVNCConsole. Value: {}. 'type' is a required property"},
		{"vnc with a bad type", inst.ID, map[string]any{"os-getVNCConsole": map[string]any{"type": "spice-html5"}}, 400, "Invalid input for field/attribute type. Value: spice-html5. 'spice-html5' is not one of ['novnc', 'xvpvnc']"},
		{"xvpvnc", inst.ID, map[string]any{"os-getVNCConsole": map[string]any{"type": "xvpvnc"}}, 400, "Invalid console type xvpvnc"},
		{"spice", inst.ID, map[string]any{"os-getSPICEConsole": map[string]any{"type": "spice-html5"}}, 400, "Unavailable console type spice-html5."},
		{"serial with a bad type", inst.ID, map[string]any{"os-getSerialConsole": map[string]any{"type": "novnc"}}, 400, "Invalid input for field/attribute type. Value: novnc. 'novnc' is not one of ['serial']"},
		{"rdp", inst.ID, map[string]any{"os-getRDPConsole": map[string]any{"type": "rdp-html5"}}, 400, "The server could not comply with the request since\r\nit is either malformed or otherwise incorrect.\r\n"},
		{"rdp with anything", missing, map[string]any{"os-getRDPConsole": "x"}, 400, "The server could not comply with the request since\r\nit is either malformed or otherwise incorrect.\r\n"},
		{"missing server", missing, map[string]any{"os-getVNCConsole": map[string]any{"type": "novnc"}}, 404, "Instance " + missing + " could not be found."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			consFault(t, nova(t, c, http.MethodPost, "/servers/"+tc.id+"/action", c.Member.Token, "2.5", tc.body), tc.status, tc.message)
		})
	}
	if r := action("2.6", map[string]any{"os-getVNCConsole": map[string]any{"type": "novnc"}}); r.Status != http.StatusNotFound {
		t.Errorf("os-getVNCConsole at 2.6: %d %s", r.Status, r.Body)
	}
}

// An admin reads what a token opens, from 2.31; before it Nova answers a
// bare 400, and from 2.99 unknown query parameters are refused.
func TestConsoleAuthTokens(t *testing.T) {
	c := servertest.New(t)
	inst := consRecord(t, c, c.Member, nil)
	token := func(protocol, typ string) string {
		u := nova(t, c, http.MethodPost, "/servers/"+inst.ID+"/remote-consoles", c.Member.Token, "2.6", remoteConsole(protocol, typ)).Expect(t, http.StatusOK).At(t, "remote_console", "url").(string)
		return regexp.MustCompile(consToken).FindString(u)
	}
	for _, kind := range [][2]string{{"vnc", "novnc"}, {"serial", "serial"}} {
		tk := token(kind[0], kind[1])
		for _, v := range []string{"2.31", "2.98", "2.99", "latest"} {
			r := nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+tk, c.Admin.Token, v, nil).Expect(t, http.StatusOK)
			if keys := r.Keys(t, "console"); fmt.Sprint(keys) != "[instance_uuid host port internal_access_path]" {
				t.Errorf("%s %s: keys %v", kind[1], v, keys)
			}
			want := fmt.Sprintf(`{"console":{"instance_uuid":"%s","host":"testhost","port":0,"internal_access_path":null}}`, inst.ID)
			if string(r.Body) != want {
				t.Errorf("%s %s: %s, want %s", kind[1], v, r.Body, want)
			}
		}
	}
	tk := token("vnc", "novnc")
	bare := "The server could not comply with the request since\r\nit is either malformed or otherwise incorrect.\r\n"
	consFault(t, nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+tk, c.Admin.Token, "2.30", nil), 400, bare)
	consFault(t, nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+tk, c.Admin.Token, "", nil), 400, bare)
	consFault(t, nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+tk, c.Member.Token, "2.30", nil), 400, bare)
	consFault(t, nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+tk, c.Member.Token, "2.31", nil), 403, "Policy doesn't allow os_compute_api:os-console-auth-tokens to be performed.")
	consFault(t, nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+api.NewUUID(), c.Admin.Token, "2.31", nil), 404, "Token not found")
	consFault(t, nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+tk+"?foo=1", c.Admin.Token, "2.99", nil), 400, "Additional properties are not allowed ('foo' was unexpected)")
	nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+tk+"?foo=1", c.Admin.Token, "2.98", nil).Expect(t, http.StatusOK)

	// A deleted instance's tokens open nothing.
	if err := c.Server.DB().Update(context.Background(), func(tx *store.Tx) error {
		i, err := store.Instances.Get(tx, inst.ID)
		if err != nil {
			return err
		}
		i.Deleted, i.VMState = true, "deleted"
		return store.Instances.Put(tx, i)
	}); err != nil {
		t.Fatal(err)
	}
	consFault(t, nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+tk, c.Admin.Token, "2.31", nil), 404, "Token not found")
}

// The whole way, as Tempest's test_novnc and a browser go: a server on the
// fake driver, a console URL from the API, the noVNC page, the websocket
// upgrade and RFB through the proxy to the guest's display; a bad token
// gets nothing; the serial console answers what is typed.
func TestConsoleEndToEnd(t *testing.T) {
	c := servertest.New(t)
	// Booted through the API, so that the fake driver runs its guest; the
	// name makes the hostname its login prompt shows.
	id := boot(t, c, c.Member.Token, bootImage(t, c, "cons-image"), "name", "console vm")
	for _, v := range []string{"2.1", "2.6"} {
		var consoleURL string
		if v == "2.1" {
			r := nova(t, c, http.MethodPost, "/servers/"+id+"/action", c.Member.Token, v, map[string]any{"os-getVNCConsole": map[string]any{"type": "novnc"}}).Expect(t, http.StatusOK)
			consoleURL = r.At(t, "console", "url").(string)
		} else {
			r := nova(t, c, http.MethodPost, "/servers/"+id+"/remote-consoles", c.Member.Token, v, remoteConsole("vnc", "novnc")).Expect(t, http.StatusOK)
			consoleURL = r.At(t, "remote_console", "url").(string)
		}
		resp, err := http.Get(consoleURL)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET %s: %d", v, consoleURL, resp.StatusCode)
		}
		if err := consoletest.CheckNoVNCHTML(string(page)); err != nil {
			t.Fatalf("%s: %v", v, err)
		}

		ws, err := consoletest.Dial(consoleURL, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.CheckUpgrade(); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if err := ws.CheckRFB(); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		ws.Close()

		bad, _ := consoletest.BadToken(consoleURL)
		ws, err = consoletest.Dial(bad, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if data := ws.ReceiveFrame(); data != nil {
			t.Fatalf("%s: a bad token got %q", v, data)
		}
		ws.Close()
	}

	// The serial console URL is the websocket itself.
	r := nova(t, c, http.MethodPost, "/servers/"+id+"/remote-consoles", c.Member.Token, "2.6", remoteConsole("serial", "serial")).Expect(t, http.StatusOK)
	serialURL := r.At(t, "remote_console", "url").(string)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, serialURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte("\r")); err != nil {
		t.Fatal(err)
	}
	var got string
	for !strings.Contains(got, "login: ") {
		typ, p, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("serial console after %q: %v", got, err)
		}
		if typ != websocket.MessageText {
			t.Fatalf("serial console sent a %v message", typ)
		}
		got += string(p)
	}
	if !strings.Contains(got, "console-vm login: ") {
		t.Errorf("serial console shows %q", got)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// The token names the server, and the admin API agrees.
	tk := regexp.MustCompile(consToken).FindString(serialURL)
	r = nova(t, c, http.MethodGet, "/os-console-auth-tokens/"+url.PathEscape(tk), c.Admin.Token, "2.31", nil).Expect(t, http.StatusOK)
	if r.At(t, "console", "instance_uuid") != id {
		t.Errorf("token shows %s", r.Body)
	}
}
