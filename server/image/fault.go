package image

import "minicloud/server/api"

// detailError is a Glance error raised with its text as webob's detail.
func detailError(status int, format string, a ...any) *api.Error {
	e := api.Errorf(status, format, a...)
	e.Type = api.WebobDetail
	return e
}
