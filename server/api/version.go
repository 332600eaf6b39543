package api

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Version is a compute API microversion. Legacy /v2 requests carry 2.0.
type Version struct{ Major, Minor int }

// The compute API's range. MaxVersion is the newest released Nova maximum.
var (
	MinVersion = Version{2, 1}
	MaxVersion = Version{2, 103}
)

func (v Version) String() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// AtLeast reports v >= 2.minor, the test every per-microversion shape makes.
func (v Version) AtLeast(minor int) bool { return v.Major > 2 || (v.Major == 2 && v.Minor >= minor) }

// Before reports v < 2.minor.
func (v Version) Before(minor int) bool { return !v.AtLeast(minor) }

// Between reports 2.lo <= v <= 2.hi.
func (v Version) Between(lo, hi int) bool { return v.AtLeast(lo) && !v.AtLeast(hi+1) }

func (v Version) less(o Version) bool {
	return v.Major < o.Major || (v.Major == o.Major && v.Minor < o.Minor)
}

var versionRE = regexp.MustCompile(`^([1-9]\d*)\.([1-9]\d*|0)$`)

// Microversion header names.
const (
	HeaderAPIVersion     = "OpenStack-API-Version"
	HeaderNovaAPIVersion = "X-OpenStack-Nova-API-Version"
)

// RequestedVersion reads the microversion a request asks for: the standard
// header wins over the legacy one, none means 2.1. It returns the version
// (for echoing in the answer even when unsupported) and a fault: 400 for a
// malformed value, 406 for one outside the range.
func RequestedVersion(h http.Header) (Version, *Error) {
	raw := ""
	for _, v := range h.Values(HeaderAPIVersion) {
		for _, part := range strings.Split(v, ",") {
			f := strings.Fields(part)
			if len(f) == 2 && strings.EqualFold(f[0], "compute") {
				raw = f[1]
			}
		}
	}
	if raw == "" {
		raw = strings.TrimSpace(h.Get(HeaderNovaAPIVersion))
	}
	if raw == "" {
		return MinVersion, nil
	}
	if strings.EqualFold(raw, "latest") {
		return MaxVersion, nil
	}
	m := versionRE.FindStringSubmatch(raw)
	if m == nil {
		return MinVersion, BadRequest("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", raw)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	v := Version{major, minor}
	if v.less(MinVersion) || MaxVersion.less(v) {
		e := Errorf(http.StatusNotAcceptable, "Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, MinVersion, MaxVersion)
		return v, e
	}
	return v, nil
}

// SetVersionHeaders adds the microversion headers every versioned compute
// answer carries, faults included.
func SetVersionHeaders(h http.Header, v Version) {
	h.Set(HeaderAPIVersion, "compute "+v.String())
	h.Set(HeaderNovaAPIVersion, v.String())
	h.Add("Vary", HeaderAPIVersion)
	h.Add("Vary", HeaderNovaAPIVersion)
}
