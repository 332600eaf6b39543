package store

// QuotaSet holds quota limit overrides for one scope: a quota class (Nova's
// os-quota-class-sets, "default" being the one that matters), a project, or
// one user within a project. Resources not in Limits fall through to the
// next scope (user → project → class "default" → built-in default).
type QuotaSet struct {
	// Class is set for a quota class; otherwise ProjectID is, with UserID for
	// a per-user override.
	Class     string         `json:"class,omitempty"`
	ProjectID string         `json:"project_id,omitempty"`
	UserID    string         `json:"user_id,omitempty"`
	Limits    map[string]int `json:"limits"`
}

// Key is the record's primary key.
func (q *QuotaSet) Key() string {
	switch {
	case q.Class != "":
		return QuotaClassKey(q.Class)
	case q.UserID != "":
		return QuotaUserKey(q.ProjectID, q.UserID)
	}
	return QuotaProjectKey(q.ProjectID)
}

// QuotaClassKey, QuotaProjectKey and QuotaUserKey are the keys of the three
// kinds of quota set.
func QuotaClassKey(class string) string { return "class/" + class }

// QuotaProjectKey is the key of a project's overrides.
func QuotaProjectKey(projectID string) string { return "project/" + projectID }

// QuotaUserKey is the key of one user's overrides within a project.
func QuotaUserKey(projectID, userID string) string {
	return "user/" + projectID + "/" + userID
}

// QuotaSets holds every quota override. The "project_users" index lists the
// per-user sets of a project.
var QuotaSets = NewTable("quota_sets", (*QuotaSet).Key,
	Index[QuotaSet]{Name: "project_users", Keys: func(q *QuotaSet) []string {
		if q.UserID == "" {
			return nil
		}
		return []string{q.ProjectID}
	}})
