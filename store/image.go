package store

import "time"

// Image is a Glance image record. Its file lives under data-dir/images/<id>
// once the image is active. Deleted images stay as tombstones (Status
// "deleted") so their ids are never reused, as Glance keeps deleted rows.
type Image struct {
	ID string `json:"id"`
	// Name is nil for an image created without one (Glance shows null).
	Name       *string `json:"name"`
	Status     string  `json:"status"`
	Visibility string  `json:"visibility"`
	Protected  bool    `json:"protected"`
	OSHidden   bool    `json:"os_hidden"`
	// Owner is the owning project's id; "" shows as null.
	Owner string `json:"owner"`
	// DiskFormat and ContainerFormat are "" until set (null in views).
	DiskFormat      string `json:"disk_format,omitempty"`
	ContainerFormat string `json:"container_format,omitempty"`
	MinDisk         int    `json:"min_disk"`
	MinRAM          int    `json:"min_ram"`
	// Size and VirtualSize are nil until data is uploaded (and VirtualSize
	// when the format could not be inspected).
	Size        *int64 `json:"size,omitempty"`
	VirtualSize *int64 `json:"virtual_size,omitempty"`
	// Checksum is the MD5 of the data; OSHashAlgo/OSHashValue the secure
	// hash ("sha512"). Empty until active.
	Checksum    string `json:"checksum,omitempty"`
	OSHashAlgo  string `json:"os_hash_algo,omitempty"`
	OSHashValue string `json:"os_hash_value,omitempty"`
	// Tags keep the order they were added in, without duplicates.
	Tags []string `json:"tags,omitempty"`
	// Properties are the image's custom (extra) properties.
	Properties map[string]string `json:"properties,omitempty"`
	// NullProperties names the custom properties set to null (kernel_id
	// and ramdisk_id allow it); they are not in Properties.
	NullProperties []string   `json:"null_properties,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	DeletedAt      *time.Time `json:"deleted_at,omitempty"`
}

// Image statuses (Glance's).
const (
	ImageQueued      = "queued"
	ImageSaving      = "saving"
	ImageActive      = "active"
	ImageKilled      = "killed"
	ImageDeleted     = "deleted"
	ImageDeactivated = "deactivated"
)

// ImageMember shares an image (visibility "shared") with a project.
type ImageMember struct {
	ImageID string `json:"image_id"`
	// MemberID is the project the image is shared with.
	MemberID string `json:"member_id"`
	// Status is pending, accepted or rejected.
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ImageMemberKey is the primary key of a membership.
func ImageMemberKey(imageID, memberID string) string { return imageID + "\x00" + memberID }

// Image tables. Memberships are indexed by image (an image's member list)
// and by member (the shared images a project can see).
var (
	Images       = NewTable("images", func(i *Image) string { return i.ID })
	ImageMembers = NewTable("image_members",
		func(m *ImageMember) string { return ImageMemberKey(m.ImageID, m.MemberID) },
		Index[ImageMember]{Name: "image", Keys: func(m *ImageMember) []string { return []string{m.ImageID} }},
		Index[ImageMember]{Name: "member", Keys: func(m *ImageMember) []string { return []string{m.MemberID} }})
)
