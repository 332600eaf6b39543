package compute

import (
	"context"
	"errors"
	"fmt"

	"minicloud/server/api"
	"minicloud/store"
)

// The server group a create names through the "group" scheduler hint.

// checkServerGroupHint is Nova's _get_requested_instance_group, before
// anything is written: the group must exist and be the caller's (any
// project's for an admin).
func (s *Service) checkServerGroupHint(ctx context.Context, cred *api.Credentials, groupID string) error {
	if groupID == "" {
		return nil
	}
	return s.db.View(ctx, func(tx *store.Tx) error {
		g, err := store.ServerGroups.Get(tx, groupID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !cred.IsAdmin() && g.ProjectID != cred.ProjectID()) {
			return api.BadRequest("Instance group %s could not be found.", groupID)
		}
		if err != nil {
			return fmt.Errorf("read server group %s: %w", groupID, err)
		}
		return nil
	})
}
