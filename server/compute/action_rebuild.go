package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/server/instance"
	"minicloud/store"
)

// The rebuild action: reimage the server, optionally renaming it and
// replacing its metadata, key, user data, certificates and hostname. It
// answers 202 with the server (reduced before 2.75), its new adminPass
// and, from 2.57, its user_data.

// rebuildRequest is a validated rebuild before the key pair is resolved.
type rebuildRequest struct {
	req instance.RebuildRequest
	// keyName: set when key_name was given (2.54); nil inside removes it.
	keyName *string
	hasKey  bool
	// generated: the password was made here, not given.
	generated bool
}

func decodeRebuild(r *api.Request, v any) (rebuildRequest, error) {
	var out rebuildRequest
	req := &out.req
	req.ImageID, _ = actionStringField(v, "imageRef")
	if pass, ok := actionStringField(v, "adminPass"); ok {
		req.AdminPass = pass
	} else {
		req.AdminPass, out.generated = actionPassword(), true
	}
	if name, ok := actionStringField(v, "name"); ok {
		// Nova's normalize_name: legacy /v2 allows surrounding spaces.
		name = strings.TrimSpace(name)
		req.Name = &name
	}
	if dc, ok := actionStringField(v, "OS-DCF:diskConfig"); ok {
		req.DiskConfig = dc
	}
	if ip, ok := actionStringField(v, "accessIPv4"); ok {
		req.AccessIPv4 = &ip
	}
	if ip, ok := actionStringField(v, "accessIPv6"); ok {
		req.AccessIPv6 = &ip
	}
	if pe, ok := actionField(v, "preserve_ephemeral"); ok {
		req.PreserveEphemeral, _ = schema.AsBool(pe)
	}
	if md, ok := actionField(v, "metadata"); ok {
		req.Metadata = actionStringMap(md)
	}
	if r.Version.Before(57) {
		if files, ok := actionField(v, "personality"); ok {
			req.Personality = actionPersonality(files)
		}
	}
	if r.Version.AtLeast(19) {
		if d, ok := actionField(v, "description"); ok {
			req.Description = nullableString(d)
		}
	}
	if r.Version.AtLeast(54) {
		if k, ok := actionField(v, "key_name"); ok {
			out.hasKey = true
			if name, isStr := k.(string); isStr {
				out.keyName = &name
			}
		}
	}
	if r.Version.AtLeast(57) {
		if ud, ok := actionField(v, "user_data"); ok {
			req.UserData = nullableString(ud)
		}
	}
	if r.Version.AtLeast(63) {
		if tc, ok := actionField(v, "trusted_image_certificates"); ok {
			certs := actionStrings(tc)
			req.TrustedCerts = &certs
		}
	}
	if r.Version.AtLeast(90) {
		if h, ok := actionStringField(v, "hostname"); ok {
			req.Hostname = &h
		}
	}
	return out, nil
}

func (s *Service) rebuildServer(c echo.Context, r *api.Request, id string, in rebuildRequest) error {
	ctx := api.Ctx(c)
	if _, err := s.actionMemberServer(c, r, id, serverActionPolicy+"rebuild"); err != nil {
		return err
	}
	req := in.req
	if in.hasKey {
		var name *string
		if in.keyName != nil {
			kp, err := s.actionKeypair(ctx, r.Auth.User.ID, *in.keyName)
			if err != nil {
				return err
			}
			name, req.KeyData = &kp.Name, kp.PublicKey
		}
		req.KeyName = &name
	}
	if err := s.actionMetadataQuota(ctx, r, len(req.Metadata), "Maximum number of metadata items exceeds %d"); err != nil {
		return err
	}
	if err := s.actionPersonalityQuota(ctx, r, req.Personality); err != nil {
		return err
	}
	inst, err := s.instances.Rebuild(ctx, caller(r), id, req)
	if err != nil {
		return actionErr(id, "rebuild", err)
	}
	view := s.serverRebuildView(r, inst)
	view.Add("adminPass", req.AdminPass)
	if r.Version.AtLeast(57) {
		var userData any
		if inst.UserData != "" {
			userData = inst.UserData
		}
		view.Add("user_data", userData)
	}
	// Nova's _add_location; webob writes the header name in lower case.
	c.Response().Header()["location"] = []string{r.Self("servers", inst.ID)}
	return api.JSON(c, http.StatusAccepted, api.Object{{"server", view}})
}

// actionKeypair is the caller's key pair of that name, or Nova's 400.
func (s *Service) actionKeypair(ctx context.Context, userID, name string) (*store.Keypair, error) {
	var kp *store.Keypair
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		kp, err = store.Keypairs.Get(tx, store.KeypairKey(userID, name))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.BadRequest("Invalid key_name provided.")
	}
	if err != nil {
		return nil, fmt.Errorf("get keypair %s: %w", name, err)
	}
	return kp, nil
}

// actionMetadataQuota is Nova's metadata_items limit check on n items,
// answered with msg (formatted with the limit) as a 403.
func (s *Service) actionMetadataQuota(ctx context.Context, r *api.Request, n int, msg string) error {
	if n == 0 {
		return nil
	}
	var over *quotaOver
	err := s.db.View(ctx, func(tx *store.Tx) error {
		var err error
		over, err = s.quota.check(tx, quotaRequest{ProjectID: r.Auth.ProjectID(), UserID: r.Auth.User.ID,
			Deltas: map[string]int{"metadata_items": n}})
		return err
	})
	if err != nil {
		return fmt.Errorf("check metadata quota: %w", err)
	}
	if over != nil {
		if strings.Contains(msg, "%d") {
			return api.Forbidden(msg, over.Limits["metadata_items"])
		}
		return api.Forbidden("%s", msg)
	}
	return nil
}

// actionPersonalityQuota is Nova's _check_injected_file_quota: the number
// of files, then the longest path and the longest (encoded) content.
func (s *Service) actionPersonalityQuota(ctx context.Context, r *api.Request, files []store.InjectedFile) error {
	if len(files) == 0 {
		return nil
	}
	check := func(deltas map[string]int) (*quotaOver, error) {
		var over *quotaOver
		err := s.db.View(ctx, func(tx *store.Tx) error {
			var err error
			over, err = s.quota.check(tx, quotaRequest{ProjectID: r.Auth.ProjectID(), UserID: r.Auth.User.ID, Deltas: deltas})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("check personality quota: %w", err)
		}
		return over, nil
	}
	over, err := check(map[string]int{"injected_files": len(files)})
	if err != nil {
		return err
	}
	if over != nil {
		return api.Forbidden("Personality file limit exceeded")
	}
	maxPath, maxContent := 0, 0
	for _, f := range files {
		maxPath = max(maxPath, len([]rune(f.Path)))
		maxContent = max(maxContent, len([]rune(f.Contents)))
	}
	over, err = check(map[string]int{"injected_file_path_bytes": maxPath, "injected_file_content_bytes": maxContent})
	if err != nil {
		return err
	}
	if over != nil {
		for _, res := range over.Overs {
			if res == "injected_file_path_bytes" {
				return api.Forbidden("Personality file path exceeds maximum %d", over.Limits[res])
			}
		}
		return api.Forbidden("Personality file content exceeds maximum %d", over.Limits["injected_file_content_bytes"])
	}
	return nil
}

// actionStringMap is a validated metadata object as a map (empty, not
// nil, for {}: it replaces the metadata).
func actionStringMap(v any) map[string]string {
	out := map[string]string{}
	o, ok := v.(*schema.Object)
	if !ok {
		return out
	}
	for _, k := range o.Keys {
		if s, ok := o.Values[k].(string); ok {
			out[k] = s
		}
	}
	return out
}

// actionStrings is a validated list of strings.
func actionStrings(v any) []string {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// actionPersonality is a validated personality list.
func actionPersonality(v any) []store.InjectedFile {
	list, _ := v.([]any)
	out := make([]store.InjectedFile, 0, len(list))
	for _, e := range list {
		path, _ := actionStringField(e, "path")
		contents, _ := actionStringField(e, "contents")
		out = append(out, store.InjectedFile{Path: path, Contents: contents})
	}
	return out
}

// nullableString is a validated string-or-null as a settable field: the
// outer pointer says "given", the inner nil says null.
func nullableString(v any) **string {
	var inner *string
	if s, ok := v.(string); ok {
		inner = &s
	}
	return &inner
}
