package compute_test

import (
	"testing"

	"minicloud/server/servertest"
	"minicloud/store"
)

const (
	subVolume1     = "a26887c6-c47b-4654-abb5-dfadf7d3f803"
	subVolume2     = "a26887c6-c47b-4654-abb5-dfadf7d3f804"
	subAttachment1 = "b16887c6-c47b-4654-abb5-dfadf7d3f801"
	subBDM1        = "c36887c6-c47b-4654-abb5-dfadf7d3f801"
)

// subBDMs are an image root disk and two volumes, one with an attachment
// record (as the volume service's new attach flow makes) and a tag.
func subBDMs() []store.BlockDevice {
	zero := 0
	return []store.BlockDevice{
		{UUID: "c36887c6-c47b-4654-abb5-dfadf7d3f800", SourceType: "image", DestinationType: "local", BootIndex: &zero, DeviceName: "/dev/vda", ImageID: "70a599e0-31e7-49b7-b260-868f441e862b", DeleteOnTermination: true},
		{UUID: subBDM1, SourceType: "volume", DestinationType: "volume", DeviceName: "/dev/vdb", VolumeID: subVolume1, Tag: "data", AttachmentID: subAttachment1},
		{UUID: "c36887c6-c47b-4654-abb5-dfadf7d3f802", SourceType: "volume", DestinationType: "volume", VolumeID: subVolume2},
	}
}

// TestVolumeAttachmentsViews lists and shows attachments at each
// microversion that changes their shape.
func TestVolumeAttachmentsViews(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, func(i *store.Instance) { i.BlockDevices = subBDMs() })
	base := "/servers/" + inst.ID + "/os-volume_attachments"

	tests := []struct {
		version   string
		count     int
		keys      []string
		keysNoDev []string
	}{
		{"2.1", 2, []string{"id", "volumeId", "serverId", "device"}, []string{"id", "volumeId", "serverId"}},
		{"2.70", 2, []string{"id", "volumeId", "serverId", "device", "tag"}, []string{"id", "volumeId", "serverId", "tag"}},
		{"2.79", 2, []string{"id", "volumeId", "serverId", "device", "tag", "delete_on_termination"}, []string{"id", "volumeId", "serverId", "tag", "delete_on_termination"}},
		{"2.89", 1, []string{"volumeId", "serverId", "device", "tag", "delete_on_termination", "attachment_id", "bdm_uuid"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			r := nova(t, c, "GET", base, u.Token, tt.version, nil).Expect(t, 200)
			if n := len(subList(t, r, "volumeAttachments")); n != tt.count {
				t.Fatalf("%d attachments, want %d: %s", n, tt.count, r.Body)
			}
			expectKeys(t, r, tt.keys, "volumeAttachments", "0")
			if tt.keysNoDev != nil {
				expectKeys(t, r, tt.keysNoDev, "volumeAttachments", "1")
			}
			if str(t, r, "volumeAttachments", "0", "volumeId") != subVolume1 || str(t, r, "volumeAttachments", "0", "serverId") != inst.ID {
				t.Errorf("attachment: %s", r.Body)
			}
			r = nova(t, c, "GET", base+"/"+subVolume1, u.Token, tt.version, nil).Expect(t, 200)
			expectKeys(t, r, tt.keys, "volumeAttachment")
		})
	}
	r := nova(t, c, "GET", base, u.Token, "2.89", nil)
	if str(t, r, "volumeAttachments", "0", "attachment_id") != subAttachment1 || str(t, r, "volumeAttachments", "0", "bdm_uuid") != subBDM1 {
		t.Errorf("2.89 ids: %s", r.Body)
	}
	expectFault(t, nova(t, c, "GET", base+"/"+subVolume2, u.Token, "2.89", nil), 404, "itemNotFound",
		"Instance "+inst.ID+" is not attached to volume "+subVolume2)
	expectFault(t, nova(t, c, "GET", base+"/d26887c6-c47b-4654-abb5-dfadf7d3f809", u.Token, "", nil), 404, "itemNotFound",
		"Instance "+inst.ID+" is not attached to volume d26887c6-c47b-4654-abb5-dfadf7d3f809")

	// Nova pages over every mapping, the root disk included.
	r = nova(t, c, "GET", base+"?limit=2", u.Token, "", nil).Expect(t, 200)
	if n := len(subList(t, r, "volumeAttachments")); n != 1 {
		t.Errorf("limit 2 gave %d volumes, want 1: %s", n, r.Body)
	}
	r = nova(t, c, "GET", base+"?offset=2", u.Token, "", nil).Expect(t, 200)
	if n := len(subList(t, r, "volumeAttachments")); n != 1 || str(t, r, "volumeAttachments", "0", "volumeId") != subVolume2 {
		t.Errorf("offset 2: %s", r.Body)
	}
	nova(t, c, "GET", base+"?foo=1", u.Token, "2.74", nil).Expect(t, 200)
	expectFault(t, nova(t, c, "GET", base+"?foo=1", u.Token, "2.75", nil), 400, "badRequest", "")
	expectFault(t, nova(t, c, "GET", base+"?limit=-1", u.Token, "", nil), 400, "badRequest", "")
	r = nova(t, c, "GET", "/servers/"+subRecord(t, c, u, nil).ID+"/os-volume_attachments", u.Token, "", nil).Expect(t, 200)
	if string(r.Body) != `{"volumeAttachments":[]}` {
		t.Errorf("no volumes: %s", r.Body)
	}
}

// TestVolumeAttachmentsChanges checks attach, update and detach: Nova's
// validation, lock and state rules, then the volume service's answer (no
// such volume: this cloud has no volume service yet).
func TestVolumeAttachmentsChanges(t *testing.T) {
	c := servertest.New(t)
	u := c.Member
	inst := subRecord(t, c, u, func(i *store.Instance) { i.BlockDevices = subBDMs() })
	locked := subRecord(t, c, u, func(i *store.Instance) { i.Locked = true })
	building := subRecord(t, c, u, func(i *store.Instance) { i.VMState, i.LaunchedAt = "building", nil })
	shelved := subRecord(t, c, u, func(i *store.Instance) { i.VMState = "shelved" })
	base := "/servers/" + inst.ID + "/os-volume_attachments"
	vol := "e26887c6-c47b-4654-abb5-dfadf7d3f805"
	att := func(a map[string]any) map[string]any { return map[string]any{"volumeAttachment": a} }

	tests := []struct {
		name, method, path, version string
		body                        any
		status                      int
		key, message                string
	}{
		{"attach unknown volume", "POST", base, "", att(map[string]any{"volumeId": vol}), 404, "itemNotFound", "Volume " + vol + " could not be found."},
		{"attach at 2.101", "POST", base, "2.101", att(map[string]any{"volumeId": vol, "tag": "t", "delete_on_termination": true}), 404, "itemNotFound", "Volume " + vol + " could not be found."},
		{"attach with device", "POST", base, "", att(map[string]any{"volumeId": vol, "device": "/dev/vdc"}), 404, "itemNotFound", ""},
		{"bad device", "POST", base, "", att(map[string]any{"volumeId": vol, "device": "vdc"}), 400, "badRequest",
			"Invalid input for field/attribute device. Value: vdc. 'vdc' does not match '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'"},
		{"volumeId not a uuid", "POST", base, "", att(map[string]any{"volumeId": "x"}), 400, "badRequest", "Invalid input for field/attribute volumeId. Value: x. 'x' is not a 'uuid'"},
		{"no volumeId", "POST", base, "", att(map[string]any{}), 400, "badRequest", "Invalid input for field/attribute volumeAttachment. Value: {}. 'volumeId' is a required property"},
		{"tag before 2.49", "POST", base, "2.48", att(map[string]any{"volumeId": vol, "tag": "t"}), 400, "badRequest",
			"Invalid input for field/attribute volumeAttachment. Value: {'tag': 't', 'volumeId': '" + vol + "'}. Additional properties are not allowed ('tag' was unexpected)"},
		{"delete_on_termination before 2.79", "POST", base, "2.78", att(map[string]any{"volumeId": vol, "delete_on_termination": true}), 400, "badRequest", ""},
		{"bad delete_on_termination", "POST", base, "2.79", att(map[string]any{"volumeId": vol, "delete_on_termination": "maybe"}), 400, "badRequest", ""},
		{"attach locked", "POST", "/servers/" + locked.ID + "/os-volume_attachments", "", att(map[string]any{"volumeId": vol}), 409, "conflictingRequest", "Instance " + locked.ID + " is locked"},
		{"attach building", "POST", "/servers/" + building.ID + "/os-volume_attachments", "", att(map[string]any{"volumeId": vol}), 409, "conflictingRequest",
			"Cannot 'attach_volume' instance " + building.ID + " while it is in vm_state building"},
		{"attach shelved before 2.20", "POST", "/servers/" + shelved.ID + "/os-volume_attachments", "2.19", att(map[string]any{"volumeId": vol}), 409, "conflictingRequest",
			"Cannot 'attach_volume' instance " + shelved.ID + " while it is in vm_state shelved"},
		{"attach shelved from 2.20", "POST", "/servers/" + shelved.ID + "/os-volume_attachments", "2.20", att(map[string]any{"volumeId": vol}), 404, "itemNotFound", ""},
		{"swap before 2.85", "PUT", base + "/" + subVolume1, "2.84", att(map[string]any{"volumeId": vol}), 403, "forbidden",
			"Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed."},
		{"swap from 2.85", "PUT", base + "/" + subVolume1, "2.85", att(map[string]any{"volumeId": vol}), 403, "forbidden", ""},
		{"update a device before 2.85", "PUT", base + "/" + subVolume1, "2.84", att(map[string]any{"volumeId": subVolume1, "device": "/dev/vdb"}), 400, "badRequest", ""},
		{"update unknown attachment", "PUT", base + "/" + vol, "2.85", att(map[string]any{"volumeId": vol}), 404, "itemNotFound", "No volume Block Device Mapping with id " + vol + "."},
		{"update tag", "PUT", base + "/" + subVolume1, "2.85", att(map[string]any{"volumeId": subVolume1, "tag": "other"}), 400, "badRequest", "The tag property is not mutable"},
		{"update device", "PUT", base + "/" + subVolume1, "2.85", att(map[string]any{"volumeId": subVolume1, "device": "/dev/vdz"}), 400, "badRequest", "The device property is not mutable"},
		{"update serverId", "PUT", base + "/" + subVolume1, "2.85", att(map[string]any{"volumeId": subVolume1, "serverId": locked.ID}), 400, "badRequest", "The serverId property is not mutable"},
		{"update id", "PUT", base + "/" + subVolume1, "2.85", att(map[string]any{"volumeId": subVolume1, "id": vol}), 400, "badRequest", "The id property is not mutable"},
		{"detach", "DELETE", base + "/" + subVolume1, "", nil, 404, "itemNotFound", "Volume " + subVolume1 + " could not be found."},
		{"detach shelved before 2.20", "DELETE", "/servers/" + shelved.ID + "/os-volume_attachments/" + vol, "2.19", nil, 409, "conflictingRequest", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFault(t, nova(t, c, tt.method, tt.path, u.Token, tt.version, tt.body), tt.status, tt.key, tt.message)
		})
	}

	// From 2.85 the attachment's own values may be repeated and
	// delete_on_termination changed.
	r := nova(t, c, "PUT", base+"/"+subVolume1, u.Token, "2.85", att(map[string]any{
		"volumeId": subVolume1, "id": subVolume1, "serverId": inst.ID, "device": "/dev/vdb", "tag": "data", "delete_on_termination": "yes",
	})).Expect(t, 202)
	if len(r.Body) != 0 {
		t.Errorf("202 with a body: %s", r.Body)
	}
	if !stored(t, c, inst.ID).BlockDevices[1].DeleteOnTermination {
		t.Error("delete_on_termination not saved")
	}
	r = nova(t, c, "GET", base+"/"+subVolume1, u.Token, "2.79", nil).Expect(t, 200)
	if r.At(t, "volumeAttachment", "delete_on_termination") != true {
		t.Errorf("show after update: %s", r.Body)
	}
	reader := subReader(t, c)
	mine := subRecord(t, c, reader, func(i *store.Instance) { i.BlockDevices = subBDMs() })
	expectFault(t, nova(t, c, "PUT", "/servers/"+mine.ID+"/os-volume_attachments/"+subVolume1, reader.Token, "2.85", att(map[string]any{"volumeId": subVolume1})), 403, "forbidden",
		"Policy doesn't allow os_compute_api:os-volumes-attachments:update to be performed.")
}
