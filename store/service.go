package store

import (
	"strconv"
	"time"
)

// Service is one of Nova's services (nova-compute, nova-scheduler,
// nova-conductor) on a host: what os-services lists and what availability
// zones are made of. Services are keyed by UUID (os-services addresses them
// by it from 2.53); ID is the small integer older microversions use.
type Service struct {
	ID     int64  `json:"id"`
	UUID   string `json:"uuid"`
	Binary string `json:"binary"`
	Host   string `json:"host"`
	// Zone is the availability zone the service is in: the compute zone for
	// nova-compute, "internal" for the others.
	Zone           string     `json:"zone"`
	Disabled       bool       `json:"disabled"`
	DisabledReason *string    `json:"disabled_reason,omitempty"`
	ForcedDown     bool       `json:"forced_down"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
}

// ServiceHostBinaryKey is the key of the "host_binary" index: one service
// of a kind per host.
func ServiceHostBinaryKey(host, binary string) string { return host + "\x00" + binary }

// Services holds the compute services by UUID, with unique indexes by
// integer id ("id") and by host and binary ("host_binary").
var Services = NewTable("services", func(s *Service) string { return s.UUID },
	Index[Service]{Name: "id", Unique: true, Keys: func(s *Service) []string { return []string{strconv.FormatInt(s.ID, 10)} }},
	Index[Service]{Name: "host_binary", Unique: true, Keys: func(s *Service) []string { return []string{ServiceHostBinaryKey(s.Host, s.Binary)} }},
)
