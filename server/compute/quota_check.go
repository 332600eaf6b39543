package compute

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"minicloud/server/api"
	"minicloud/store"
)

// How the rest of compute uses quotas, always inside the transaction that
// writes what the quota guards:
//
//   - a resource that consumes quota has a counter in newQuotaEngine's
//     table (e.g. "server_groups": countServerGroups); until it has one,
//     its usage is 0.
//   - servers call checkInstanceQuota (instances, cores and ram, with
//     Nova's min_count/max_count arithmetic); other creations call
//     checkQuota with what they add: {"server_groups": 1}.
//   - a check that needs its own message (Nova's "Quota exceeded, too many
//     server groups.") calls s.quota.check and words the *quotaOver
//     itself; usage that depends on more than project and user (a server
//     group's members) goes in quotaRequest.Used.
//   - absolute limits (metadata_items, injected_files, ...) are checked by
//     passing the value itself, or read with quotaLimit.

// checkQuota checks that adding want (resource → amount) stays within the
// quotas of projectID and of userID in it ("" to check the project only),
// counting usage in tx so that the check and the write it guards commit
// together. Over quota it answers Nova's 403: "Quota exceeded for
// instances: Requested 1, but already used 10 of 10 instances".
func (s *Service) checkQuota(tx *store.Tx, projectID, userID string, want map[string]int) error {
	over, err := s.quota.check(tx, quotaRequest{ProjectID: projectID, UserID: userID, Deltas: want})
	if err != nil {
		return err
	}
	if over != nil {
		return api.Forbidden("%s", over.Error())
	}
	return nil
}

// checkInstanceQuota is Nova's check for booting between minCount and
// maxCount servers of a flavor (vcpus, memoryMB each): it returns how many
// fit the instances, cores and ram quotas — maxCount, or fewer but at least
// minCount — or Nova's 403 naming what ran out.
func (s *Service) checkInstanceQuota(tx *store.Tx, projectID, userID string, vcpus, memoryMB, minCount, maxCount int) (int, error) {
	n, err := s.quota.instances(tx, projectID, userID, vcpus, memoryMB, minCount, maxCount)
	var exceeded *quotaExceeded
	if errors.As(err, &exceeded) {
		return 0, api.Forbidden("%s", exceeded.msg)
	}
	return n, err
}

// quotaExceeded is an over-quota failure with Nova's message.
type quotaExceeded struct{ msg string }

func (e *quotaExceeded) Error() string { return e.msg }

// instances is Nova's check_num_instances_quota (see checkInstanceQuota).
func (e *quotaEngine) instances(tx *store.Tx, projectID, userID string, vcpus, memoryMB, minCount, maxCount int) (int, error) {
	for {
		deltas := map[string]int{"instances": maxCount, "cores": maxCount * vcpus, "ram": maxCount * memoryMB}
		over, err := e.check(tx, quotaRequest{ProjectID: projectID, UserID: userID, Deltas: deltas})
		if err != nil {
			return 0, err
		}
		if over == nil {
			return maxCount, nil
		}
		headroom := instanceHeadroom(over, deltas)
		allowed := headroom["instances"]
		if vcpus > 0 {
			allowed = min(allowed, floorDiv(headroom["cores"], vcpus))
		}
		if memoryMB > 0 {
			allowed = min(allowed, floorDiv(headroom["ram"], memoryMB))
		}
		if allowed > 0 && minCount <= allowed && allowed < maxCount {
			maxCount = allowed
			continue
		}
		requested := map[string]string{
			"instances": strconv.Itoa(minCount),
			"cores":     strconv.Itoa(deltas["cores"]),
			"ram":       strconv.Itoa(deltas["ram"]),
		}
		if minCount != maxCount {
			requested["instances"] = strconv.Itoa(minCount) + "-" + strconv.Itoa(maxCount)
		}
		var reqs, used, limits []string
		for _, r := range over.Overs {
			reqs = append(reqs, requested[r])
			used = append(used, strconv.Itoa(over.Limits[r]-headroom[r]))
			limits = append(limits, strconv.Itoa(over.Limits[r]))
		}
		overs := strings.Join(over.Overs, ", ")
		return 0, &quotaExceeded{fmt.Sprintf("Quota exceeded for %s: Requested %s, but already used %s of %s %s",
			overs, strings.Join(reqs, ", "), strings.Join(used, ", "), strings.Join(limits, ", "), overs)}
	}
}

// instanceHeadroom is Nova's get_headroom: what is left of each limit, an
// unlimited cores or ram quota following the instances headroom.
func instanceHeadroom(over *quotaOver, deltas map[string]int) map[string]int {
	h := map[string]int{}
	for r, limit := range over.Limits {
		h[r] = limit - over.Used[r]
	}
	for _, r := range []string{"cores", "ram"} {
		if over.Limits[r] != -1 {
			continue
		}
		if deltas[r] != 0 && deltas["instances"] != 0 {
			h[r] = floorDiv(h["instances"]*deltas[r], deltas["instances"])
		} else {
			h[r] = h["instances"]
		}
	}
	return h
}
