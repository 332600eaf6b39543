package compute

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"minicloud/server/api"
	"minicloud/store"
)

// Who sees which flavor, and how the rest of compute finds one. Nova's
// flavor query: an admin (role admin) sees every flavor; anyone else public
// flavors and the private ones their project was given access to.

// flavorAccessible reports whether the caller may see f.
func flavorAccessible(tx *store.Tx, cred *api.Credentials, f *store.Flavor) bool {
	if f.IsPublic || cred.IsAdmin() {
		return true
	}
	project := cred.ProjectID()
	return project != "" && store.FlavorAccesses.Has(tx, store.FlavorAccessKey(f.FlavorID, project))
}

// flavorNotFound is Nova's FlavorNotFound as a 404.
func flavorNotFound(id string) error { return api.NotFound("Flavor %s could not be found.", id) }

// visibleFlavor returns the flavor the caller may see under id, or
// FlavorNotFound (404), as common.get_flavor does for every flavor
// sub-resource.
func visibleFlavor(tx *store.Tx, cred *api.Credentials, id string) (*store.Flavor, error) {
	f, err := store.Flavors.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, flavorNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get flavor %s: %w", id, err)
	}
	if !flavorAccessible(tx, cred, f) {
		return nil, flavorNotFound(id)
	}
	return f, nil
}

// anyFlavor returns the flavor under id whoever asks (flavor-manage
// updates and deletes by id alone), or FlavorNotFound (404).
func anyFlavor(tx *store.Tx, id string) (*store.Flavor, error) {
	f, err := store.Flavors.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, flavorNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get flavor %s: %w", id, err)
	}
	return f, nil
}

// flavorProjects lists the projects given access to a flavor, sorted.
func flavorProjects(tx *store.Tx, flavorID string) ([]string, error) {
	prefix := store.FlavorAccessPrefix(flavorID)
	var out []string
	err := store.FlavorAccesses.Scan(tx, prefix, func(a *store.FlavorAccess) (bool, error) {
		if !strings.HasPrefix(store.FlavorAccessKey(a.FlavorID, a.ProjectID), prefix) {
			return false, nil
		}
		out = append(out, a.ProjectID)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list access of flavor %s: %w", flavorID, err)
	}
	sort.Strings(out)
	return out, nil
}

// flavorForCreate resolves the flavorRef of a server create (or any request
// naming a flavor to boot with): an id or a link whose last path segment is
// the id. A flavor the caller may not see, or a disabled one, is Nova's 400
// "Flavor <id> could not be found.".
func (s *Service) flavorForCreate(ctx context.Context, tx *store.Tx, cred *api.Credentials, ref string) (*store.Flavor, error) {
	id := flavorIDFromHref(ref)
	f, err := store.Flavors.Get(tx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !flavorAccessible(tx, cred, f)) {
		api.Logger(ctx).Debug("flavor not found for create", "flavor", id)
		return nil, api.BadRequest("Flavor %s could not be found.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get flavor %s: %w", id, err)
	}
	if f.Disabled {
		// Nova names the internal id here.
		return nil, api.BadRequest("Flavor %d could not be found.", f.ID)
	}
	return f, nil
}

// flavorIDFromHref is Nova's get_id_from_href: the last segment of the
// path of the reference as urlsplit parses it ("1", "http://h/flavors/1"
// and "/v2.1/flavors/1?x=y" all name flavor 1).
func flavorIDFromHref(href string) string {
	rest := href
	// A scheme is letters, digits, "+-." up to a ':', starting with a letter.
	if i := strings.IndexByte(rest, ':'); i > 0 && flavorHrefLetter(rest[0]) {
		scheme := true
		for j := 0; j < i; j++ {
			c := rest[j]
			if !flavorHrefLetter(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
				scheme = false
				break
			}
		}
		if scheme {
			rest = rest[i+1:]
		}
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			return ""
		}
		rest = rest[end:]
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	return rest[strings.LastIndexByte(rest, '/')+1:]
}

func flavorHrefLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
