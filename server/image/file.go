package image

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// upload is PUT /v2/images/{id}/file: the data streams to a temporary
// file beside the images, then becomes the image's data in one step
// (queued → saving → active). A failed or interrupted upload leaves the
// image queued and no file.
func (s *Service) upload(c echo.Context) error {
	req := c.Request()
	ct := req.Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); ct == "" || err != nil || mt != "application/octet-stream" {
		shown := ct
		if ct == "" {
			shown = "None"
		} else if err == nil {
			shown = mt
		}
		return unsupportedMedia("Invalid content type %s", shown)
	}
	if v := req.Header.Get("X-Openstack-Image-Size"); v != "" {
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			return api.BadRequest("Invalid or missing image size in request headers.")
		}
	}
	ctx := api.Ctx(c)
	id := c.Param("id")
	if _, err := s.beginSave(ctx, api.From(c).Auth, id); err != nil {
		return err
	}
	b, err := s.receive(ctx, req.Body, maxImageSize)
	if err != nil {
		s.restore(ctx, id)
		var rd errReadData
		if errors.As(err, &rd) {
			api.Logger(ctx).Warn("image upload interrupted", "image", id, "err", err)
			return api.BadRequest("Image upload problem: %s", rd.err)
		}
		return err
	}
	if _, err := s.finish(ctx, id, b); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// download is GET /v2/images/{id}/file: the data with its MD5 in
// Content-MD5, one byte range on request, 204 when the image has none.
func (s *Service) download(c echo.Context) error {
	r := api.From(c)
	var img *store.Image
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) error {
		var member *store.ImageMember
		var err error
		img, member, err = s.load(tx, r.Auth, c.Param("id"))
		if err != nil {
			return err
		}
		if img.Status == store.ImageDeactivated && !isAdmin(r.Auth) {
			return api.Forbidden("The requested image has been deactivated. Image data download is forbidden.")
		}
		return authorize(r.Auth, img, member, "download_image", canDownload(r.Auth, img, member))
	})
	if err != nil {
		return err
	}
	if img.Status != store.ImageActive && img.Status != store.ImageDeactivated {
		return c.NoContent(http.StatusNoContent)
	}
	f, err := os.Open(s.Path(img.ID))
	if errors.Is(err, os.ErrNotExist) {
		return c.NoContent(http.StatusNoContent)
	}
	if err != nil {
		return fmt.Errorf("open image %s: %w", img.ID, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat image %s: %w", img.ID, err)
	}
	size := st.Size()
	offset, length, partial, err := byteRange(c.Request().Header.Get("Range"), size)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/octet-stream")
	if img.Checksum != "" {
		h.Set("Content-MD5", img.Checksum)
	}
	h.Set(echo.HeaderContentLength, strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, offset+length-1, size))
	}
	c.Response().WriteHeader(status)
	if _, err := io.Copy(c.Response(), io.NewSectionReader(f, offset, length)); err != nil {
		r.Log.Warn("image download interrupted", "image", img.ID, "err", err)
	}
	return nil
}

// byteRange reads a single-range Range header the way Glance (through
// webob) does: 400 for several ranges, 416 for one it cannot serve.
func byteRange(header string, size int64) (offset, length int64, partial bool, err error) {
	if header == "" {
		return 0, size, false, nil
	}
	if strings.Contains(header, ",") {
		return 0, 0, false, api.BadRequest("Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.")
	}
	unsatisfiable := func(msg string) error { return api.Errorf(http.StatusRequestedRangeNotSatisfiable, "%s", msg) }
	spec, ok := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !ok {
		return 0, 0, false, unsatisfiable("Invalid Range header.")
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, false, unsatisfiable("Invalid Range header.")
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false, unsatisfiable("Invalid Range header.")
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false, unsatisfiable("Invalid Range header.")
	}
	end := size - 1
	if last != "" {
		e, err := strconv.ParseInt(last, 10, 64)
		if err != nil || e < start {
			return 0, 0, false, unsatisfiable("Invalid Range header.")
		}
		end = min(e, size-1)
	}
	if start >= size {
		return 0, 0, false, unsatisfiable(fmt.Sprintf("Invalid start position in Range header. Start position MUST be in the inclusive range [0, %d].", size-1))
	}
	return start, end - start + 1, true, nil
}
