package network

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"minicloud/server/api"
	"minicloud/store"
)

// The frames the collections' handlers share; each collection gives what
// is its own (its rows, its loader and view, its checks and changes).

// rowsFunc reads the rows of a collection the caller may see.
type rowsFunc func(tx *store.Tx, who caller) ([]*row, error)

// viewFunc reads one record the caller may see as its view; a missing or
// hidden one is the resource's NotFound.
type viewFunc func(tx *store.Tx, who caller, id string) (api.Object, error)

// updateFunc applies a PUT's item to the record the path names (in tx),
// checking the caller and the If-Match revision want, and returns the
// record's new view.
type updateFunc func(tx *store.Tx, who caller, it *item, want *int64, ch *changes) (api.Object, error)

// list answers GET on r's collection: the query checked against r's
// attributes, then the rows filtered, sorted and paged. A marker that is
// no row is notFound.
func (s *Service) list(c echo.Context, r *resource, rows rowsFunc, notFound func(string) *Fault) error {
	q, err := parseList(c, r)
	if err != nil {
		return err
	}
	return s.listRows(c, q, r, rows, notFound)
}

// listRows is list once the query is checked: the rows read in one
// transaction and answered a page of.
func (s *Service) listRows(c echo.Context, q *listQuery, r *resource, rows rowsFunc, notFound func(string) *Fault) error {
	who := callerOf(c)
	var all []*row
	if err := s.db.View(api.Ctx(c), func(tx *store.Tx) (err error) {
		all, err = rows(tx, who)
		return err
	}); err != nil {
		return err
	}
	items, links, err := q.page(c, all, notFound)
	if err != nil {
		return err
	}
	return listAnswer(c, r.collection, items, links)
}

// show answers GET on one of r: the view of the record named by the path,
// cut to the fields asked for.
func (s *Service) show(c echo.Context, r *resource, view viewFunc) error {
	who := callerOf(c)
	var v api.Object
	err := s.db.View(api.Ctx(c), func(tx *store.Tx) (err error) {
		v, err = view(tx, who, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{r.name, pick(v, fieldsOf(c))}})
}

// update answers a PUT on one of r: the body and the If-Match revision
// read, then apply committed; 200 with the new view.
func (s *Service) update(c echo.Context, r *resource, apply updateFunc) error {
	who := callerOf(c)
	it, err := s.parseUpdate(c, r, who)
	if err != nil {
		return err
	}
	want, err := ifMatch(c)
	if err != nil {
		return err
	}
	var v api.Object
	err = s.commitLogged(c, func(tx *store.Tx, ch *changes) (err error) {
		v, err = apply(tx, who, it, want, ch)
		return err
	})
	if err != nil {
		return err
	}
	return api.JSON(c, http.StatusOK, api.Object{{r.name, v}})
}

// remove answers a DELETE of a record with a revision: no body, the
// If-Match revision read, then drop committed; 204.
func (s *Service) remove(c echo.Context, drop func(tx *store.Tx, want *int64, ch *changes) error) error {
	if err := noBody(c); err != nil {
		return err
	}
	want, err := ifMatch(c)
	if err != nil {
		return err
	}
	if err := s.commitLogged(c, func(tx *store.Tx, ch *changes) error { return drop(tx, want, ch) }); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// commitLogged is commit for the API: the change is answered even if the
// data plane fails (the failure is logged), as pushLogged does.
func (s *Service) commitLogged(c echo.Context, apply func(tx *store.Tx, ch *changes) error) error {
	ch := newChanges()
	if err := s.db.Update(api.Ctx(c), func(tx *store.Tx) error { return apply(tx, ch) }); err != nil {
		return err
	}
	s.pushLogged(api.Ctx(c), ch)
	return nil
}
