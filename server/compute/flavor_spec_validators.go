package compute

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"sync"
)

// Extra spec validation from microversion 2.86: Nova's registry of known
// extra specs (nova/api/validation/extra_specs). A known key must have a
// value of its type; an unknown key inside a namespace the registry knows
// ("hw:", "trait:", ...) is rejected; anything else is accepted as is.

type flavorSpecType int

const (
	flavorSpecStr flavorSpecType = iota
	flavorSpecInt
	flavorSpecBool
)

// flavorSpecRule is one of Nova's ExtraSpecValidators.
type flavorSpecRule struct {
	// name is Nova's name, {param} marking the parameters.
	name string
	// params are the regexes of the parameters, by name, in Go syntax.
	params map[string]string
	typ    flavorSpecType
	// pattern is the value's Python regex as Nova quotes it; re is it in
	// Go syntax (\d is any Unicode digit in Python, as \p{Nd} here).
	pattern, re string
	enum        []string
	min, max    *int64
	// known restricts the last parameter to a set (standard traits and
	// resource classes), which Nova registers one name at a time.
	known map[string]bool

	// nameExpr is the name as a regex, as Nova builds name_regex.
	nameExpr        string
	nameRE, valueRE *regexp.Regexp
}

// compile builds the rule's regexes; every rule is static, so a bad one is
// a programming error caught by the tests.
func (v *flavorSpecRule) compile() *flavorSpecRule {
	expr := regexp.QuoteMeta(v.name)
	for p, re := range v.params {
		expr = strings.Replace(expr, regexp.QuoteMeta("{"+p+"}"), "(?P<"+p+">"+re+")", 1)
	}
	// Nova's names are regexes themselves: "." in hw:numa_cpus.{num} is
	// any character.
	v.nameExpr = strings.ReplaceAll(expr, `\.`, ".")
	v.nameRE = regexp.MustCompile(`^(?:` + v.nameExpr + `)$`)
	if v.re != "" {
		v.valueRE = regexp.MustCompile(`^(?:` + v.re + `)$`)
	}
	return v
}

// namespace is the part of the name regex before the first ':', as Nova
// collects NAMESPACES ("" for a name without one).
func (v *flavorSpecRule) namespace() string {
	ns, _, found := strings.Cut(v.nameExpr, ":")
	if !found {
		return ""
	}
	return ns
}

func (v *flavorSpecRule) matches(name string) bool {
	m := v.nameRE.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	if v.known != nil {
		return v.known[m[len(m)-1]]
	}
	return true
}

// check validates a value: "" when valid, else Nova's message.
func (v *flavorSpecRule) check(value string) string {
	switch v.typ {
	case flavorSpecInt:
		n, ok := flavorPyBigInt(value)
		if !ok {
			return fmt.Sprintf("Validation failed; '%s' is not a valid integer value.", value)
		}
		if v.max != nil && n.Cmp(big.NewInt(*v.max)) > 0 {
			return fmt.Sprintf("Validation failed; '%s' is greater than the max value of '%d'.", n, *v.max)
		}
		if v.min != nil && n.Cmp(big.NewInt(*v.min)) < 0 {
			return fmt.Sprintf("Validation failed; '%s' is less than the min value of '%d'.", n, *v.min)
		}
	case flavorSpecBool:
		if _, ok := flavorBoolFromString(value); !ok {
			return fmt.Sprintf("Validation failed; '%s' is not a valid boolean-like value.", value)
		}
	default:
		switch {
		case v.valueRE != nil:
			if !v.valueRE.MatchString(value) {
				return fmt.Sprintf("Validation failed; '%s' is not of the format '%s'.", value, v.pattern)
			}
		case v.enum != nil:
			for _, e := range v.enum {
				if e == value {
					return ""
				}
			}
			return fmt.Sprintf("Validation failed; '%s' is not one of: %s.", value, strings.Join(v.enum, ", "))
		}
	}
	return ""
}

// flavorPyBigInt is Python's int() of a string.
func flavorPyBigInt(s string) (*big.Int, bool) {
	n, ok := flavorPyInt(s)
	if !ok {
		return nil, false
	}
	if b, ok := new(big.Int).SetString(strings.ReplaceAll(strings.TrimSpace(s), "_", ""), 10); ok {
		return b, true
	}
	return big.NewInt(n), true
}

// flavorSpecRegistry is the registry, in Nova's load order.
type flavorSpecRegistry struct {
	rules      []*flavorSpecRule
	byName     map[string]*flavorSpecRule
	namespaces []*regexp.Regexp
}

func newFlavorSpecRegistry(rules []*flavorSpecRule) *flavorSpecRegistry {
	reg := &flavorSpecRegistry{byName: map[string]*flavorSpecRule{}}
	seen := map[string]bool{}
	for _, r := range rules {
		r.compile()
		reg.rules = append(reg.rules, r)
		reg.byName[r.name] = r
		if ns := r.namespace(); ns != "" && !seen[ns] {
			seen[ns] = true
			reg.namespaces = append(reg.namespaces, regexp.MustCompile(`^(?:`+ns+`)$`))
		}
	}
	return reg
}

// validate checks one extra spec: "" when acceptable, else Nova's message.
func (reg *flavorSpecRegistry) validate(name, value string) string {
	if r, ok := reg.byName[name]; ok && r.matches(name) {
		return r.check(value)
	}
	for _, r := range reg.rules {
		if r.matches(name) {
			return r.check(value)
		}
	}
	ns, _, found := strings.Cut(name, ":")
	if !found {
		return ""
	}
	for _, re := range reg.namespaces {
		if re.MatchString(ns) {
			return fmt.Sprintf("Validation failed; extra spec '%s' does not appear to be a valid extra spec.", name)
		}
	}
	return ""
}

// Shared value rules.
const (
	flavorCPUMaskPy = `\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*`
	flavorCPUMaskGo = `\^?\p{Nd}+((-\p{Nd}+)?(,\^?\p{Nd}+(-\p{Nd}+)?)?)*`
	// flavorGroupRE is the request group suffix of resources/trait keys.
	flavorGroupRE = `([a-zA-Z0-9_-]{1,64})?`
)

func flavorSpecInts(min, max *int64) flavorSpecRule {
	return flavorSpecRule{typ: flavorSpecInt, min: min, max: max}
}

func flavorI64(v int64) *int64 { return &v }

// flavorSpecs is Nova's registry of known extra specs, compiled on first
// use: its hundreds of patterns would otherwise cost every start.
var flavorSpecs = sync.OnceValue(func() *flavorSpecRegistry { return newFlavorSpecRegistry(flavorSpecRules()) })

func flavorSpecRules() []*flavorSpecRule {
	var rules []*flavorSpecRule
	add := func(name string, r flavorSpecRule) {
		r.name = name
		rules = append(rules, &r)
	}
	str := flavorSpecRule{typ: flavorSpecStr}
	boolean := flavorSpecRule{typ: flavorSpecBool}
	enum := func(values ...string) flavorSpecRule { return flavorSpecRule{typ: flavorSpecStr, enum: values} }
	pattern := func(py, goRE string) flavorSpecRule {
		return flavorSpecRule{typ: flavorSpecStr, pattern: py, re: goRE}
	}

	// accel
	add("accel:device_profile", str)

	// aggregate_instance_extra_specs
	r := str
	r.params = map[string]string{"key": `.+`}
	add("aggregate_instance_extra_specs:{key}", r)

	// capabilities
	for _, c := range []string{
		"id", "uuid", "service_id", "host", "vcpus", "memory_mb", "local_gb",
		"vcpus_used", "memory_mb_used", "local_gb_used",
		"hypervisor_type", "hypervisor_version", "hypervisor_hostname",
		"free_ram_mb", "free_disk_gb", "current_workload", "running_vms",
		"disk_available_least", "host_ip", "mapped",
		"cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio",
		"total_usable_ram_mb", "total_usable_disk_gb", "disk_mb_used",
		"free_disk_mb", "vcpus_total", "vcpus_used", "num_instances",
		"num_io_ops", "failed_builds", "aggregates", "cell_uuid", "updated",
	} {
		add("capabilities:"+c, str)
	}
	for _, c := range []string{
		"cpu_info", "metrics", "stats", "numa_topology", "supported_hv_specs",
		"pci_device_pools", "nodename", "pci_stats", "supported_instances", "limits", "instances",
	} {
		r := str
		r.params = map[string]string{"filter": `(:\w+)*`}
		add("capabilities:"+c+"{filter}", r)
	}

	// hw
	add("hw:cpu_realtime", boolean)
	add("hw:cpu_realtime_mask", pattern(`(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*`, `(\^)?\p{Nd}+((-\p{Nd}+)?(,\^?\p{Nd}+(-\p{Nd}+)?)?)*`))
	add("hw:hide_hypervisor_id", boolean)
	add("hw:cpu_policy", enum("dedicated", "shared", "mixed"))
	add("hw:cpu_thread_policy", enum("prefer", "isolate", "require"))
	add("hw:emulator_threads_policy", enum("isolate", "share"))
	add("hw:cpu_dedicated_mask", pattern(flavorCPUMaskPy, flavorCPUMaskGo))
	add("hw:mem_page_size", pattern(`(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)`, `(large|small|any|\p{Nd}+([kKMGT]i?)?(b|bit|B)?)`))
	add("hw:locked_memory", boolean)
	add("hw:numa_nodes", flavorSpecInts(flavorI64(1), nil))
	r = pattern(flavorCPUMaskPy, flavorCPUMaskGo)
	r.params = map[string]string{"num": `\d+`}
	add("hw:numa_cpus.{num}", r)
	r = flavorSpecInts(flavorI64(1), nil)
	r.params = map[string]string{"num": `\d+`}
	add("hw:numa_mem.{num}", r)
	add("hw:pci_numa_affinity_policy", enum("required", "preferred", "legacy", "socket"))
	for _, k := range []string{"cpu_sockets", "cpu_cores", "cpu_threads", "cpu_max_sockets", "cpu_max_cores", "cpu_max_threads"} {
		add("hw:"+k, flavorSpecInts(flavorI64(1), nil))
	}
	add("hw:boot_menu", boolean)
	add("hw:vif_multiqueue_enabled", boolean)
	add("hw:mem_encryption", boolean)
	add("hw:mem_encryption_model", enum("amd-sev", "amd-sev-es", "amd-sev-snp"))
	add("hw:pmem", pattern(`([a-zA-Z0-9_]+(,)?)+`, `([a-zA-Z0-9_]+(,)?)+`))
	add("hw:pmu", boolean)
	add("hw:serial_port_count", flavorSpecInts(flavorI64(0), nil))
	add("hw:tpm_model", enum("tpm-tis", "tpm-crb"))
	add("hw:tpm_version", enum("1.2", "2.0"))
	add("hw:tpm_secret_security", enum("user", "host", "deployment"))
	add("hw:watchdog_action", enum("none", "pause", "poweroff", "reset", "disabled"))
	add("hw:viommu_model", enum("intel", "smmuv3", "virtio", "auto"))
	add("hw:virtio_packed_ring", boolean)
	add("hw:sound_model", enum("sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "virtio"))
	add("hw:usb_model", enum("none", "nec-xhci", "qemu-xhci"))
	add("hw:redirected_usb_ports", flavorSpecInts(flavorI64(0), flavorI64(15)))
	add("hw:ephemeral_encryption", boolean)
	add("hw:ephemeral_encryption_format", enum("plain", "luks", "luksv2"))

	// hw_rng, hw_video
	add("hw_rng:allowed", boolean)
	add("hw_rng:rate_bytes", flavorSpecInts(flavorI64(0), nil))
	add("hw_rng:rate_period", flavorSpecInts(flavorI64(0), nil))
	add("hw_video:ram_max_mb", flavorSpecInts(flavorI64(0), nil))

	// no namespace
	add("hide_hypervisor_id", boolean)
	add("group_policy", enum("isolate", "none"))

	// os
	add("os:secure_boot", enum("disabled", "required"))

	// pci_passthrough
	add("pci_passthrough:alias", pattern(`[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*`,
		`[^:]+:\p{Nd}+(?:[\s\v\x{1c}-\x{1f}\x{85}\p{Z}]*,[\s\v\x{1c}-\x{1f}\x{85}\p{Z}]*[^:]+:\p{Nd}+)*`))

	// quota
	for _, k := range []string{"cpu", "memory", "disk_io", "vif"} {
		add("quota:"+k+"_limit", flavorSpecInts(flavorI64(0), nil))
		add("quota:"+k+"_reservation", flavorSpecInts(nil, nil))
		add("quota:"+k+"_shares_level", enum("custom", "high", "normal", "low"))
		add("quota:"+k+"_shares_share", flavorSpecInts(flavorI64(0), nil))
	}
	add("quota:cpu_shares", flavorSpecInts(flavorI64(0), nil))
	add("quota:cpu_period", flavorSpecInts(flavorI64(0), nil))
	add("quota:cpu_quota", flavorSpecInts(nil, nil))
	for _, stat := range []string{"read", "write", "total"} {
		for _, metric := range []string{"bytes", "iops"} {
			add("quota:disk_"+stat+"_"+metric+"_sec", flavorSpecInts(flavorI64(0), nil))
		}
	}
	for _, stat := range []string{"inbound", "outbound"} {
		for _, metric := range []string{"average", "peak", "burst"} {
			add("quota:vif_"+stat+"_"+metric, flavorSpecInts(flavorI64(0), nil))
		}
	}

	// resources: one rule per standard class in Nova, one here with the set.
	r = flavorSpecInts(nil, nil)
	r.params = map[string]string{"group": flavorGroupRE, "class": `[A-Z0-9_]+`}
	r.known = flavorStandardResourceClasses
	add("resources{group}:{class}", r)
	r = flavorSpecInts(nil, nil)
	r.params = map[string]string{"group": flavorGroupRE, "resource": `[A-Z0-9_]+`}
	add("resources{group}:CUSTOM_{resource}", r)

	// traits, likewise.
	r = enum("required", "forbidden")
	r.params = map[string]string{"group": flavorGroupRE, "trait": `[A-Z0-9_]+`}
	r.known = flavorStandardTraits
	add("trait{group}:{trait}", r)
	r = enum("required", "forbidden")
	r.params = map[string]string{"group": flavorGroupRE, "trait": `[A-Z0-9_]+`}
	add("trait{group}:CUSTOM_{trait}", r)

	// vmware
	add("vmware:hw_version", str)
	add("vmware:storage_policy", str)
	return rules
}
