package compute

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/server/api/schema"
	"minicloud/store"
)

// maxPageSize is Nova's [api] max_limit: the largest page any list answers.
const maxPageSize = 1000

// keypairTimeFormat is how Nova's JSON serializer writes a naive UTC
// datetime.
const keypairTimeFormat = "2006-01-02T15:04:05.000000"

func (s *Service) keypairRoutes(g *echo.Group) {
	g.GET("/os-keypairs", s.listKeypairs)
	g.POST("/os-keypairs", s.createKeypair)
	g.GET("/os-keypairs/:name", s.showKeypair)
	g.DELETE("/os-keypairs/:name", s.deleteKeypair)
}

// minorVersion is the request's 2.x minor version (0 on legacy /v2).
func minorVersion(r *api.Request) int {
	if r.Version.Major > 2 {
		return 1 << 30
	}
	return r.Version.Minor
}

// keypairOwner is whose keypairs a request addresses: the caller, or from
// 2.10 the user named by an admin (user_id). Nova's policy lets admins and
// the owner through.
func keypairOwner(r *api.Request, requested, action string) (string, error) {
	owner := r.Auth.User.ID
	if r.Version.AtLeast(10) && requested != "" {
		owner = requested
	}
	if owner != r.Auth.User.ID && !r.Auth.IsAdmin() {
		return "", api.PolicyForbidden("os_compute_api:os-keypairs:" + action)
	}
	return owner, nil
}

func keypairNotFound(name, userID string) error {
	return api.NotFound("Keypair %s not found for user %s", name, userID)
}

// countKeypairs counts a user's keypairs.
func countKeypairs(tx *store.Tx, userID string) (int, error) {
	n := 0
	err := scanKeypairs(tx, userID, "", func(*store.Keypair) bool { n++; return true })
	return n, err
}

// scanKeypairs calls fn for the user's keypairs in name order, starting
// after the keypair named after ("" for the first), until fn returns false.
func scanKeypairs(tx *store.Tx, userID, after string, fn func(*store.Keypair) bool) error {
	start := store.KeypairUserPrefix(userID)
	if after != "" {
		start = store.KeypairKey(userID, after)
	}
	err := store.Keypairs.Scan(tx, start, func(k *store.Keypair) (bool, error) {
		if k.UserID != userID {
			return false, nil
		}
		return fn(k), nil
	})
	if err != nil {
		return fmt.Errorf("list keypairs of %s: %w", userID, err)
	}
	return nil
}

// keypairRequest is a decoded, validated create body.
type keypairRequest struct {
	Name, Type, PublicKey, UserID string
	Import                        bool
}

func decodeKeypairRequest(body any) keypairRequest {
	kp, _ := body.(*schema.Object).Get("keypair")
	o := kp.(*schema.Object)
	str := func(k string) (string, bool) {
		v, ok := o.Get(k)
		s, _ := v.(string)
		return s, ok
	}
	var req keypairRequest
	name, _ := str("name")
	// Legacy /v2 allows surrounding spaces and strips them.
	req.Name = strings.TrimSpace(name)
	req.Type = keypairSSH
	if t, ok := str("type"); ok {
		req.Type = t
	}
	req.PublicKey, req.Import = str("public_key")
	req.UserID, _ = str("user_id")
	return req
}

// createKeypair is POST /os-keypairs: import a public key, or (before 2.92)
// generate a keypair and answer its private half once.
func (s *Service) createKeypair(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	body, err := api.Body(c, keypairCreateSchema(r.Legacy, minor))
	if err != nil {
		return err
	}
	req := decodeKeypairRequest(body)
	if minor < 2 {
		req.Type = keypairSSH
	}
	owner, err := keypairOwner(r, req.UserID, "create")
	if err != nil {
		return err
	}

	// Key material is checked or made outside the transaction; its error
	// is reported after the quota check, in Nova's order.
	var gen *generatedKey
	var keyErr error
	fingerprint := ""
	now := time.Now().UTC().Truncate(time.Microsecond)
	switch {
	case req.Import:
		fingerprint, keyErr = keypairFingerprint(req.Type, req.PublicKey)
	case req.Type == keypairX509:
		gen, err = generateX509Key(owner, now)
	default:
		gen, err = generateSSHKey()
	}
	if err != nil {
		return fmt.Errorf("create keypair %s: %w", req.Name, err)
	}
	kp := &store.Keypair{UserID: owner, Name: req.Name, Type: req.Type, PublicKey: req.PublicKey, Fingerprint: fingerprint, CreatedAt: now}
	if gen != nil {
		kp.PublicKey, kp.Fingerprint = gen.Public, gen.Fingerprint
	}

	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		used, err := countKeypairs(tx, owner)
		if err != nil {
			return err
		}
		// Nova checks the owner's count against the caller's limits.
		over, err := s.quota.check(tx, quotaRequest{
			ProjectID: r.Auth.ProjectID(), UserID: r.Auth.User.ID,
			Deltas: map[string]int{"key_pairs": 1}, Used: map[string]int{"key_pairs": used},
		})
		if err != nil {
			return err
		}
		if over != nil {
			return api.Forbidden("Quota exceeded, too many key pairs.")
		}
		if keyErr != nil {
			return api.BadRequest("%s", keyErr.Error())
		}
		if store.Keypairs.Has(tx, store.KeypairKey(owner, kp.Name)) {
			return api.Conflict("Key pair '%s' already exists.", kp.Name)
		}
		id, err := tx.NextSeq("keypairs")
		if err != nil {
			return err
		}
		kp.ID = int64(id)
		return store.Keypairs.Insert(tx, kp)
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return err
		}
		return fmt.Errorf("create keypair %s: %w", req.Name, err)
	}

	view := api.Object{}
	if gen != nil {
		view.Add("private_key", gen.Private)
	}
	if minor >= 2 {
		view.Add("type", kp.Type)
	}
	view = append(view, api.Object{
		{"name", kp.Name},
		{"public_key", kp.PublicKey},
		{"fingerprint", kp.Fingerprint},
		{"user_id", kp.UserID},
	}...)
	status := http.StatusOK
	if minor >= 2 {
		status = http.StatusCreated
	}
	return api.JSON(c, status, api.Object{{"keypair", view}})
}

// listKeypairs is GET /os-keypairs, paginated by name from 2.35.
func (s *Service) listKeypairs(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	if err := validateQuery(c, keypairIndexQuery(minor)); err != nil {
		return err
	}
	owner, err := keypairOwner(r, queryFirst(c, "user_id"), "index")
	if err != nil {
		return err
	}
	// Before 2.35 the list is whole (limit -1).
	limit, marker := -1, ""
	paged := minor >= 35
	if paged {
		limit = maxPageSize
		if v, ok := queryLast(c, "limit"); ok {
			if n, err := strconv.Atoi(v); err == nil && n < limit {
				limit = n
			}
		}
		marker, _ = queryLast(c, "marker")
	}

	var keys []*store.Keypair
	err = s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		if marker != "" && !store.Keypairs.Has(tx, store.KeypairKey(owner, marker)) {
			return api.BadRequest("Marker %s could not be found.", marker)
		}
		if limit == 0 {
			return nil
		}
		return scanKeypairs(tx, owner, marker, func(k *store.Keypair) bool {
			keys = append(keys, k)
			return limit < 0 || len(keys) < limit
		})
	})
	if err != nil {
		return err
	}

	items := make([]api.Object, 0, len(keys))
	for _, k := range keys {
		o := api.Object{{"name", k.Name}, {"public_key", k.PublicKey}, {"fingerprint", k.Fingerprint}}
		if minor >= 2 {
			o.Add("type", k.Type)
		}
		items = append(items, api.Object{{"keypair", o}})
	}
	out := api.Object{{"keypairs", items}}
	if paged && limit > 0 && len(keys) == limit {
		out.Add("keypairs_links", r.NextLink("os-keypairs", c.QueryParams(), keys[len(keys)-1].Name))
	}
	return api.JSON(c, http.StatusOK, out)
}

// showKeypair is GET /os-keypairs/{name}.
func (s *Service) showKeypair(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	if err := validateQuery(c, keypairItemQuery(minor)); err != nil {
		return err
	}
	owner, err := keypairOwner(r, queryFirst(c, "user_id"), "show")
	if err != nil {
		return err
	}
	name := pathParam(c, "name")
	var kp *store.Keypair
	err = s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var err error
		kp, err = store.Keypairs.Get(tx, store.KeypairKey(owner, name))
		if errors.Is(err, store.ErrNotFound) {
			return keypairNotFound(name, owner)
		}
		return err
	})
	if err != nil {
		return err
	}
	view := api.Object{
		{"name", kp.Name},
		{"public_key", kp.PublicKey},
		{"fingerprint", kp.Fingerprint},
		{"user_id", kp.UserID},
		{"created_at", kp.CreatedAt.UTC().Format(keypairTimeFormat)},
		{"deleted", false},
		{"deleted_at", nil},
		{"id", kp.ID},
		{"updated_at", nil},
	}
	if minor >= 2 {
		view.Add("type", kp.Type)
	}
	return api.JSON(c, http.StatusOK, api.Object{{"keypair", view}})
}

// deleteKeypair is DELETE /os-keypairs/{name}: 202 before 2.2, 204 after.
func (s *Service) deleteKeypair(c echo.Context) error {
	r := api.From(c)
	minor := minorVersion(r)
	if err := validateQuery(c, keypairItemQuery(minor)); err != nil {
		return err
	}
	owner, err := keypairOwner(r, queryFirst(c, "user_id"), "delete")
	if err != nil {
		return err
	}
	name := pathParam(c, "name")
	err = s.db.Update(api.Ctx(c), func(tx *store.Tx) error {
		err := store.Keypairs.Delete(tx, store.KeypairKey(owner, name))
		if errors.Is(err, store.ErrNotFound) {
			return keypairNotFound(name, owner)
		}
		return err
	})
	if err != nil {
		if _, ok := api.AsError(err); ok {
			return err
		}
		return fmt.Errorf("delete keypair %s of %s: %w", name, owner, err)
	}
	if minor >= 2 {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Blob(http.StatusAccepted, echo.MIMEApplicationJSON, nil)
}
