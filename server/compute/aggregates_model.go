package compute

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"minicloud/server/api"
	"minicloud/store"
)

// Host aggregates and the availability zones they make, as Nova's
// AggregateAPI and availability_zones module keep them. Every function here
// runs inside the caller's transaction, checks everything first and then
// writes, so a refused request changes nothing.

// aggregateAZKey is the metadata key that makes an aggregate a zone.
const aggregateAZKey = "availability_zone"

// aggregateZone is the aggregate's availability zone (nil when none), as
// Nova's Aggregate.availability_zone property reads it.
func aggregateZone(a *store.Aggregate) any {
	if z, ok := a.Metadata[aggregateAZKey]; ok {
		return z
	}
	return nil
}

// hostZone is the availability zone of a compute host: the zones of the
// aggregates it belongs to (sorted, comma-joined as Nova joins them), or
// the default zone. The server views, the zone lists, os-services and
// os-hosts all read a host's zone through this function.
func (s *Service) hostZone(tx *store.Tx, host string) (string, error) {
	var zones []string
	err := store.Aggregates.ScanIndex(tx, "host", host, func(a *store.Aggregate) (bool, error) {
		if z, ok := a.Metadata[aggregateAZKey]; ok && !slices.Contains(zones, z) {
			zones = append(zones, z)
		}
		return true, nil
	})
	if err != nil {
		return "", fmt.Errorf("zone of host %s: %w", host, err)
	}
	if len(zones) == 0 {
		return s.cfg.Zone, nil
	}
	slices.Sort(zones)
	return strings.Join(zones, ","), nil
}

// serviceZone is the zone a service is listed in: its host's zone for
// nova-compute, the internal zone for the others.
func (s *Service) serviceZone(tx *store.Tx, svc *store.Service) (string, error) {
	if svc.Binary != computeBinary {
		return internalZone, nil
	}
	return s.hostZone(tx, svc.Host)
}

// syncHostZones writes the hosts' zones into their nova-compute service
// records after an aggregate change, so every reader of Service.Zone (the
// zone lists) agrees with the aggregates.
func (s *Service) syncHostZones(tx *store.Tx, hosts ...string) error {
	for _, host := range hosts {
		svc, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(host, computeBinary))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("compute service of %s: %w", host, err)
		}
		zone, err := s.hostZone(tx, host)
		if err != nil {
			return err
		}
		if svc.Zone == zone {
			continue
		}
		svc.Zone = zone
		if err := store.Services.Put(tx, svc); err != nil {
			return fmt.Errorf("set zone of %s: %w", host, err)
		}
	}
	return nil
}

// aggRef is an aggregate id from a URL: its value, and the text as given
// (Nova's not-found messages repeat the text).
type aggRef struct {
	ID  int64
	Raw string
}

// parseAggRef is Nova's utils.validate_integer(id, 'id'): Python's int() of
// the text, else 400. An integer too large for an id names no aggregate.
func parseAggRef(raw string) (aggRef, error) {
	n, ok := pyIntString(raw)
	if !ok {
		return aggRef{}, api.BadRequest("Invalid input received: id must be an integer")
	}
	return aggRef{ID: n, Raw: raw}, nil
}

// lookupAggregate finds an aggregate by id (nil when there is none).
func lookupAggregate(tx *store.Tx, ref aggRef) (*store.Aggregate, error) {
	if ref.ID < 0 {
		return nil, nil
	}
	a, err := store.Aggregates.Get(tx, store.AggregateKey(ref.ID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get aggregate %s: %w", ref.Raw, err)
	}
	return a, nil
}

// getAggregate finds an aggregate by id: AggregateNotFound when none.
func getAggregate(tx *store.Tx, ref aggRef) (*store.Aggregate, error) {
	a, err := lookupAggregate(tx, ref)
	if err == nil && a == nil {
		err = api.NotFound("Aggregate %s could not be found.", ref.Raw)
	}
	return a, err
}

// allAggregates lists every aggregate in id order.
func allAggregates(tx *store.Tx) ([]*store.Aggregate, error) {
	all, err := store.Aggregates.All(tx)
	if err != nil {
		return nil, fmt.Errorf("list aggregates: %w", err)
	}
	return all, nil
}

// aggregateNameTaken is Nova's AggregateNameExists check.
func aggregateNameTaken(tx *store.Tx, name string, except int64) error {
	other, err := store.Aggregates.Lookup(tx, "name", name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("find aggregate %q: %w", name, err)
	case other.ID != except:
		return api.Conflict("Aggregate %s already exists.", name)
	}
	return nil
}

// createAggregate is AggregateAPI.create_aggregate: a unique name, and the
// zone as metadata when one is given.
func createAggregate(tx *store.Tx, name, zone string, now time.Time) (*store.Aggregate, error) {
	if err := aggregateNameTaken(tx, name, -1); err != nil {
		return nil, err
	}
	seq, err := tx.NextSeq("aggregates")
	if err != nil {
		return nil, fmt.Errorf("aggregate id: %w", err)
	}
	a := &store.Aggregate{ID: int64(seq), UUID: api.NewUUID(), Name: name, CreatedAt: now}
	if zone != "" {
		a.Metadata = map[string]string{aggregateAZKey: zone}
	}
	if err := store.Aggregates.Insert(tx, a); err != nil {
		return nil, fmt.Errorf("create aggregate %q: %w", name, err)
	}
	return a, nil
}

// aggregateAction names what a refused aggregate change was, for Nova's
// InvalidAggregateAction* messages.
type aggregateAction int

const (
	aggregateAdd aggregateAction = iota
	aggregateRemove
	aggregateRename
	aggregateUpdateMeta
)

// invalidAggregate is Nova's InvalidAggregateAction* for an action:
// status is 400 or 409 depending on the API method that raised it.
func invalidAggregate(status int, action aggregateAction, id int64, reason string) error {
	format := map[aggregateAction]string{
		aggregateAdd:        "Cannot add host to aggregate %d. Reason: %s.",
		aggregateRemove:     "Cannot remove host from aggregate %d. Reason: %s.",
		aggregateRename:     "Cannot update aggregate %d. Reason: %s.",
		aggregateUpdateMeta: "Cannot update metadata of aggregate %d. Reason: %s.",
	}[action]
	return api.Errorf(status, format, id, reason)
}

// pyStrList is Python's repr of a list of strings, as Nova's messages
// print them.
func pyStrList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// checkZoneChange is AggregateAPI.is_safe_to_update_az: a zone given in
// metadata must be non-empty, must not put the hosts in two zones, and
// (when checkInstances) must not move hosts that run instances to another
// zone.
func (s *Service) checkZoneChange(tx *store.Tx, a *store.Aggregate, metadata map[string]*string, hosts []string,
	status int, action aggregateAction, checkInstances bool) error {
	zp, ok := metadata[aggregateAZKey]
	if !ok {
		return nil
	}
	if zp == nil || *zp == "" {
		return invalidAggregate(status, action, a.ID, fmt.Sprintf("Aggregate %s does not support empty named availability zone", a.Name))
	}
	zone := *zp
	if hosts == nil {
		hosts = a.Hosts
	}
	var conflicting []string
	seen := map[int64]bool{}
	for _, h := range hosts {
		err := store.Aggregates.ScanIndex(tx, "host", h, func(other *store.Aggregate) (bool, error) {
			if seen[other.ID] {
				return true, nil
			}
			seen[other.ID] = true
			if z, ok := other.Metadata[aggregateAZKey]; ok && z != zone && other.ID != a.ID {
				conflicting = append(conflicting, z)
			}
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("aggregates of %s: %w", h, err)
		}
	}
	if len(conflicting) > 0 {
		return invalidAggregate(status, action, a.ID, "One or more hosts already in availability zone(s) "+pyStrList(conflicting))
	}
	if current, _ := aggregateZone(a).(string); checkInstances && current != zone {
		for _, h := range hosts {
			n, err := countHostInstances(tx, h)
			if err != nil {
				return err
			}
			if n > 0 {
				return invalidAggregate(status, action, a.ID, "One or more hosts contain instances in this zone")
			}
		}
	}
	return nil
}

// hostZoneFromAggregates is the zone a host gets from its aggregates other
// than skip (and from extra, when not nil), or nil when none gives one: the
// "old" or "new" zone of Nova's move checks.
func hostZoneFromAggregates(tx *store.Tx, host string, skip int64, extra *store.Aggregate) (any, error) {
	var zones []string
	err := store.Aggregates.ScanIndex(tx, "host", host, func(a *store.Aggregate) (bool, error) {
		if z, ok := a.Metadata[aggregateAZKey]; ok && a.ID != skip {
			zones = append(zones, z)
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("aggregates of %s: %w", host, err)
	}
	if extra != nil {
		if z, ok := extra.Metadata[aggregateAZKey]; ok {
			zones = append(zones, z)
		}
	}
	if len(zones) == 0 {
		return nil, nil
	}
	return zones[0], nil
}

// pyNone prints a zone as Nova's messages do: None for no zone.
func pyNone(z any) string {
	if s, ok := z.(string); ok {
		return s
	}
	return "None"
}

// computeHostExists is Nova's lookup of a compute service by host name
// (ComputeHostNotFound when none).
func computeHostExists(tx *store.Tx, host string) (bool, error) {
	_, err := store.Services.Lookup(tx, "host_binary", store.ServiceHostBinaryKey(host, computeBinary))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("compute service of %s: %w", host, err)
	}
	return true, nil
}

// addAggregateHost is AggregateAPI.add_host_to_aggregate.
func (s *Service) addAggregateHost(tx *store.Tx, id aggRef, host string) (*store.Aggregate, error) {
	ok, err := computeHostExists(tx, host)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.NotFound("Compute host %s could not be found.", host)
	}
	a, err := getAggregate(tx, id)
	if err != nil {
		return nil, err
	}
	if err := s.checkZoneChange(tx, a, metadataRefs(a.Metadata), []string{host}, 409, aggregateAdd, false); err != nil {
		return nil, err
	}
	if newZone, ok := a.Metadata[aggregateAZKey]; ok {
		n, err := countHostInstances(tx, host)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			oldZone, err := hostZoneFromAggregates(tx, host, -1, nil)
			if err != nil {
				return nil, err
			}
			if oldZone != any(newZone) {
				return nil, invalidAggregate(409, aggregateAdd, a.ID, zoneMoveMessage("added to", oldZone, newZone, n))
			}
		}
	}
	if slices.Contains(a.Hosts, host) {
		return nil, api.Conflict("Aggregate %d already has host %s.", a.ID, host)
	}
	a.Hosts = append(a.Hosts, host)
	if err := store.Aggregates.Put(tx, a); err != nil {
		return nil, fmt.Errorf("add %s to aggregate %d: %w", host, a.ID, err)
	}
	return a, s.syncHostZones(tx, host)
}

// zoneMoveMessage is Nova's refusal to change the zone of a host that runs
// instances.
func zoneMoveMessage(verb string, from, to any, instances int) string {
	return fmt.Sprintf("The host cannot be %s the aggregate as the availability zone of the host would change "+
		"from '%s' to '%s' but the host already has %d instance(s). Changing the AZ of an existing instance is "+
		"not supported by this action. Move the instances away from this host then try again. If you need to "+
		"move the instances between AZs then you can use shelve_offload and unshelve to achieve this.",
		verb, pyNone(from), pyNone(to), instances)
}

// removeAggregateHost is AggregateAPI.remove_host_from_aggregate; every
// lookup failure is the one 404 Nova's controller answers.
func (s *Service) removeAggregateHost(tx *store.Tx, id aggRef, host string) (*store.Aggregate, error) {
	notFound := api.NotFound("Cannot remove host %s in aggregate %s", host, id.Raw)
	ok, err := computeHostExists(tx, host)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound
	}
	a, err := lookupAggregate(tx, id)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, notFound
	}
	if current, ok := a.Metadata[aggregateAZKey]; ok {
		n, err := countHostInstances(tx, host)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			next, err := hostZoneFromAggregates(tx, host, a.ID, nil)
			if err != nil {
				return nil, err
			}
			if next != any(current) {
				return nil, invalidAggregate(409, aggregateRemove, a.ID, zoneMoveMessage("removed from", current, next, n))
			}
		}
	}
	i := slices.Index(a.Hosts, host)
	if i < 0 {
		return nil, notFound
	}
	a.Hosts = slices.Delete(a.Hosts, i, i+1)
	if err := store.Aggregates.Put(tx, a); err != nil {
		return nil, fmt.Errorf("remove %s from aggregate %d: %w", host, a.ID, err)
	}
	return a, s.syncHostZones(tx, host)
}

// metadataRefs turns stored metadata into the update form.
func metadataRefs(md map[string]string) map[string]*string {
	out := make(map[string]*string, len(md))
	for k, v := range md {
		out[k] = &v
	}
	return out
}

// applyAggregateMetadata is Aggregate.update_metadata: null removes a key,
// a value sets it. Keys are compared as Nova's database compares them,
// without regard to case: a key that differs only in case from a stored one
// (or another in the same request) is refused.
func applyAggregateMetadata(a *store.Aggregate, updates map[string]*string, order []string) error {
	folded := map[string]string{}
	for k := range a.Metadata {
		folded[strings.ToLower(k)] = k
	}
	for _, k := range order {
		if updates[k] == nil {
			continue
		}
		if have, ok := folded[strings.ToLower(k)]; ok && have != k {
			return api.BadRequest("Aggregate %d already contain metadata key %s.", a.ID, have)
		}
		folded[strings.ToLower(k)] = k
	}
	if a.Metadata == nil {
		a.Metadata = map[string]string{}
	}
	for _, k := range order {
		if v := updates[k]; v == nil {
			delete(a.Metadata, k)
		} else {
			a.Metadata[k] = *v
		}
	}
	if len(a.Metadata) == 0 {
		a.Metadata = nil
	}
	return nil
}

// setAggregateMetadata is AggregateAPI.update_aggregate_metadata.
func (s *Service) setAggregateMetadata(tx *store.Tx, id aggRef, updates map[string]*string, order []string, now time.Time) (*store.Aggregate, error) {
	a, err := getAggregate(tx, id)
	if err != nil {
		return nil, err
	}
	if err := s.checkZoneChange(tx, a, updates, nil, 400, aggregateUpdateMeta, true); err != nil {
		return nil, err
	}
	if err := applyAggregateMetadata(a, updates, order); err != nil {
		return nil, err
	}
	a.UpdatedAt = &now
	if err := store.Aggregates.Put(tx, a); err != nil {
		return nil, fmt.Errorf("set metadata of aggregate %d: %w", a.ID, err)
	}
	return a, s.syncHostZones(tx, a.Hosts...)
}

// aggregateChanges is a validated PUT /os-aggregates/{id}: the new name
// and, when present, the zone (nil for null).
type aggregateChanges struct {
	Name    *string
	HasZone bool
	Zone    *string
}

// updateAggregate is AggregateAPI.update_aggregate: rename (unique names)
// and set the zone.
func (s *Service) updateAggregate(tx *store.Tx, id aggRef, u aggregateChanges, now time.Time) (*store.Aggregate, error) {
	a, err := getAggregate(tx, id)
	if err != nil {
		return nil, err
	}
	if u.Name != nil {
		if err := aggregateNameTaken(tx, *u.Name, a.ID); err != nil {
			return nil, err
		}
	}
	if u.HasZone {
		updates := map[string]*string{aggregateAZKey: u.Zone}
		if err := s.checkZoneChange(tx, a, updates, nil, 400, aggregateRename, true); err != nil {
			return nil, err
		}
		if err := applyAggregateMetadata(a, updates, []string{aggregateAZKey}); err != nil {
			return nil, err
		}
	}
	if u.Name != nil {
		a.Name = *u.Name
	}
	a.UpdatedAt = &now
	if err := store.Aggregates.Put(tx, a); err != nil {
		if errors.Is(err, store.ErrExists) && u.Name != nil {
			return nil, api.Conflict("Aggregate %s already exists.", *u.Name)
		}
		return nil, fmt.Errorf("update aggregate %d: %w", a.ID, err)
	}
	return a, s.syncHostZones(tx, a.Hosts...)
}

// deleteAggregate is AggregateAPI.delete_aggregate: only an empty
// aggregate goes.
func deleteAggregate(tx *store.Tx, id aggRef) error {
	a, err := getAggregate(tx, id)
	if err != nil {
		return err
	}
	if len(a.Hosts) > 0 {
		return invalidAggregate(400, aggregateRemove, a.ID, "Host aggregate is not empty")
	}
	if err := store.Aggregates.Delete(tx, store.AggregateKey(a.ID)); err != nil {
		return fmt.Errorf("delete aggregate %d: %w", a.ID, err)
	}
	return nil
}

// removeHostFromAggregates takes a host out of every aggregate (its
// compute service is being deleted).
func (s *Service) removeHostFromAggregates(tx *store.Tx, host string) error {
	var member []*store.Aggregate
	err := store.Aggregates.ScanIndex(tx, "host", host, func(a *store.Aggregate) (bool, error) {
		member = append(member, a)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("aggregates of %s: %w", host, err)
	}
	for _, a := range member {
		a.Hosts = slices.DeleteFunc(a.Hosts, func(h string) bool { return h == host })
		if err := store.Aggregates.Put(tx, a); err != nil {
			return fmt.Errorf("remove %s from aggregate %d: %w", host, a.ID, err)
		}
	}
	return nil
}

// pyIntString reads a string as Python's int() does (surrounding spaces,
// a sign, digits with single underscores between them).
func pyIntString(raw string) (int64, bool) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return 0, false
	}
	neg := false
	switch s[0] {
	case '+', '-':
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false
	}
	s = strings.ReplaceAll(s, "_", "")
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Python's int has no bound: too large is an integer, of nothing.
		return -1, true
	}
	if neg {
		n = -n
	}
	return n, true
}
