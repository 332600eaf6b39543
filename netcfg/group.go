package netcfg

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
)

// Security group membership is data, not rules: each group that a port's
// rule names as remote group has a named set of its members' IPv4
// addresses in the inet table, and the rule looks the peer up in it. A
// member coming or going is one transaction that adds or deletes that
// address, whatever the number of ports whose rules name the group; their
// chains stay as they are.
//
// The kernel holds a group's set exactly while some port's rule uses it:
// the transaction that installs the first such rule creates the set (with
// the members known by then), the one that removes the last deletes it,
// after the rule. Guests are IPv4-only here and IPv6 rules are not
// installed, so there is no IPv6 set.

// groupSetName is the set of a group's IPv4 members.
func groupSetName(groupID string) string { return "group-" + groupID + "-v4" }

func (h *Host) groupSet(groupID string) *nftables.Set {
	return &nftables.Set{Table: h.inetTable(), Name: groupSetName(groupID), KeyType: nftables.TypeIPAddr}
}

// SetGroup replaces a security group's members. Rules that name the group
// as remote group match the new members from this call on; connections
// tracked for addresses that left are forgotten, so that one the group
// alone allowed stops at its next packet. Only IPv4 addresses matter.
func (h *Host) SetGroup(ctx context.Context, g Group) error {
	if err := g.validate(); err != nil {
		return err
	}
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	members := v4Set(g.Addrs)
	added, removed := addrDiff(h.groups[g.ID], members)
	h.groups[g.ID] = members
	if err := h.syncGroup(g.ID, added, removed); err != nil {
		return fmt.Errorf("security group %s: %w", g.ID, err)
	}
	return nil
}

// DeleteGroup forgets a security group: rules still naming it (until
// their ports are updated) match no one.
func (h *Host) DeleteGroup(ctx context.Context, groupID string) error {
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.mu.Unlock()
	removed, ok := h.groups[groupID]
	if !ok {
		return nil
	}
	delete(h.groups, groupID)
	if err := h.syncGroup(groupID, nil, removed); err != nil {
		return fmt.Errorf("delete security group %s: %w", groupID, err)
	}
	return nil
}

// syncGroup applies a membership change to the group's set, when the
// kernel has one: one transaction with the changed elements only.
func (h *Host) syncGroup(groupID string, added, removed []netip.Addr) error {
	if len(added) == 0 && len(removed) == 0 && h.synced || !h.groupUsed(groupID, "") {
		return nil
	}
	if !h.synced {
		if err := h.fullSync(); err != nil {
			return err
		}
		return h.forgetFlows(removed, true, true)
	}
	if err := h.queueGroupChange(groupID, added, removed); err != nil {
		return err
	}
	if err := h.flush(); err != nil {
		h.log.Warn("nftables: security group update failed, rebuilding the tables", "group", groupID, "err", err)
		if err := h.fullSync(); err != nil {
			return err
		}
	}
	return h.forgetFlows(removed, true, true)
}

func (h *Host) queueGroupChange(groupID string, added, removed []netip.Addr) error {
	s := h.groupSet(groupID)
	if len(added) > 0 {
		if err := h.addElements(s, addrElements(added)); err != nil {
			return err
		}
	}
	if len(removed) > 0 {
		// Added first, so that deleting is idempotent.
		e := addrElements(removed)
		if err := h.addElements(s, e); err != nil {
			return err
		}
		if err := h.deleteElements(s, e); err != nil {
			return err
		}
	}
	return nil
}

// queueGroupSet queues the creation of a group's set with its members.
func (h *Host) queueGroupSet(groupID string) error {
	s := h.groupSet(groupID)
	s.Comment = "security group " + groupID
	return h.addSet(s, addrElements(h.groups[groupID]))
}

// usesGroupSet tells whether the rule, once installed, looks its peer up
// in a group's set (IPv6 rules are not installed).
func (r *Rule) usesGroupSet() bool {
	return r.RemoteGroupID != "" && r.Ethertype != "IPv6"
}

// setGroups are the groups whose sets the port's rules use, sorted.
func (p *portState) setGroups() []string {
	if p == nil || p.NoSecurity {
		return nil
	}
	var out []string
	for i := range p.Rules {
		if r := &p.Rules[i]; r.usesGroupSet() && !slices.Contains(out, r.RemoteGroupID) {
			out = append(out, r.RemoteGroupID)
		}
	}
	slices.Sort(out)
	return out
}

// groupUsed tells whether a port other than exceptPort has a rule using
// the group's set.
func (h *Host) groupUsed(groupID, exceptPort string) bool {
	for _, p := range h.ports {
		if p.ID != exceptPort && slices.Contains(p.setGroups(), groupID) {
			return true
		}
	}
	return false
}

// usedGroups are the groups whose sets the ports' rules use, sorted.
func (h *Host) usedGroups() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range h.ports {
		for _, g := range p.setGroups() {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	slices.Sort(out)
	return out
}

// v4Set is the sorted, duplicate-free IPv4 addresses of addrs.
func v4Set(addrs []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		if a.Is4In6() {
			a = a.Unmap()
		}
		if a.Is4() {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// addrDiff is what going from the sorted old to the sorted new adds and
// removes.
func addrDiff(old, new []netip.Addr) (added, removed []netip.Addr) {
	i, j := 0, 0
	for i < len(old) || j < len(new) {
		switch {
		case j == len(new) || i < len(old) && old[i].Less(new[j]):
			removed = append(removed, old[i])
			i++
		case i == len(old) || new[j].Less(old[i]):
			added = append(added, new[j])
			j++
		default:
			i++
			j++
		}
	}
	return added, removed
}

func addrElements(addrs []netip.Addr) []nftables.SetElement {
	out := make([]nftables.SetElement, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, nftables.SetElement{Key: a.AsSlice()})
	}
	return out
}
