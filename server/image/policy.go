package image

import (
	"minicloud/server/api"
	"minicloud/store"
)

// Glance's default policy (secure RBAC, enforce_new_defaults) together with
// the database layer's visibility check. A nil *api.Credentials is minicloud
// itself (the compute side acting for a request it has already authorized,
// or a local command): it passes every check, like Glance's admin context.

func isAdmin(cred *api.Credentials) bool { return cred == nil || cred.IsAdmin() }

// isReader is "role:reader" (admin and member imply it in tokens).
func isReader(cred *api.Credentials) bool {
	return cred == nil || cred.HasRole("reader") || cred.HasRole("member") || cred.IsAdmin()
}

func isMember(cred *api.Credentials) bool {
	return cred == nil || cred.HasRole("member") || cred.IsAdmin()
}

func ownedBy(cred *api.Credentials, img *store.Image) bool {
	return cred != nil && cred.ProjectID() != "" && img.Owner == cred.ProjectID()
}

// visible is get_image: admin; or a reader whose project owns the image, or
// any project for public and community images, or a member project (any
// member status) of a shared image. member is the caller project's
// membership of img, nil when it has none.
func visible(cred *api.Credentials, img *store.Image, member *store.ImageMember) bool {
	if isAdmin(cred) {
		return true
	}
	if !isReader(cred) {
		return false
	}
	switch {
	case img.Owner == "":
		return true
	case img.Visibility == "public" || img.Visibility == "community":
		return true
	case ownedBy(cred, img):
		return true
	case img.Visibility == "shared" && member != nil:
		return true
	}
	return false
}

// canModify is modify_image, delete_image, upload_image, deactivate and
// reactivate: admin, or a member of the owning project.
func canModify(cred *api.Credentials, img *store.Image) bool {
	return isAdmin(cred) || (isMember(cred) && ownedBy(cred, img))
}

// canDownload is download_image: admin, or a member (not a mere reader) of
// a project that can see the image.
func canDownload(cred *api.Credentials, img *store.Image, member *store.ImageMember) bool {
	return isAdmin(cred) || (isMember(cred) && visible(cred, img, member))
}

// checkVisibility is the extra policy a visibility value brings:
// publicize_image (admin only) and communitize_image (admin or a member of
// the owning project).
func checkVisibility(cred *api.Credentials, owner, visibility string) error {
	switch visibility {
	case "public":
		if !isAdmin(cred) {
			return notAuthorized("publicize_image")
		}
	case "community":
		if !isAdmin(cred) && !(isMember(cred) && cred.ProjectID() == owner) {
			return notAuthorized("communitize_image")
		}
	}
	return nil
}

// authorize answers Glance's way for a rule failing on an image: 404 when
// the caller cannot even see the image, 403 otherwise.
func authorize(cred *api.Credentials, img *store.Image, member *store.ImageMember, rule string, allowed bool) error {
	if allowed {
		return nil
	}
	if !visible(cred, img, member) {
		return imageNotFound(img.ID)
	}
	return notAuthorized(rule)
}
