package compute

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"minicloud/server/api"
	"minicloud/server/instance"
	"minicloud/server/metadata"
	"minicloud/server/network"
	"minicloud/store"
)

// Networks is what the compute API asks of the network service: Nova's
// network API (nova/network/neutron.py) over minicloud's own.
type Networks interface {
	instance.Networks
	instance.InterfaceNetworks
	ValidateRequests(ctx context.Context, projectID string, admin bool, reqs []instance.NetworkRequest, count int) error
	InstanceNICs(ctx context.Context, inst *store.Instance) ([]store.InstanceNIC, error)
	Port(ctx context.Context, id string) (*store.Port, error)
	AddFloatingIP(ctx context.Context, projectID, instanceID, address, fixedAddress string) error
	RemoveFloatingIP(ctx context.Context, projectID, instanceID, address string) error
	FloatingIPs(ctx context.Context, projectID string) ([]*store.FloatingIP, error)
	AllocateFloatingIP(ctx context.Context, projectID, pool string) (*store.FloatingIP, error)
	ReleaseFloatingIP(ctx context.Context, projectID, id string) error
	SecurityGroupIDs(ctx context.Context, projectID string, names []string) ([]string, error)
	NetworkByName(ctx context.Context, projectID, nameOrID string) (*store.Network, error)
}

// neutronFault is a NeutronError the network API answered.
type neutronFault struct {
	Status  int
	Type    string
	Message string
}

func (f *neutronFault) Error() string {
	return fmt.Sprintf("network API %d %s: %s", f.Status, f.Type, f.Message)
}

// asNeutronFault finds the network's fault in err: an answer of the
// network API, or an error of its Go API.
func asNeutronFault(err error) (*neutronFault, bool) {
	var nf *neutronFault
	if errors.As(err, &nf) {
		return nf, true
	}
	var f *network.Fault
	if errors.As(err, &f) {
		return &neutronFault{Status: f.Status, Type: f.Type, Message: f.Message}, true
	}
	return nil, false
}

// neutron calls the network API in process with the caller's token, as
// Nova's proxies call Neutron: what Neutron lets the caller see and do is
// what the proxy shows and does. path is under /network/v2.0; out, when
// not nil, receives the JSON answer.
func (s *Service) neutron(ctx context.Context, r *api.Request, method, path string, body, out any) error {
	if s.cfg.Neutron == nil || r.Auth == nil {
		return errors.New("no network API")
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("network API %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://localhost/network/v2.0"+path, rd)
	if err != nil {
		return fmt.Errorf("network API %s %s: %w", method, path, err)
	}
	req.Header.Set("X-Auth-Token", r.Auth.TokenID)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.ID != "" {
		req.Header.Set("X-Openstack-Request-Id", r.ID)
	}
	rec := httptest.NewRecorder()
	s.cfg.Neutron.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		var fault struct {
			NeutronError struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"NeutronError"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &fault)
		return &neutronFault{Status: rec.Code, Type: fault.NeutronError.Type, Message: fault.NeutronError.Message}
	}
	if out != nil && rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			return fmt.Errorf("network API %s %s: %w", method, path, err)
		}
	}
	return nil
}

// liveNetwork returns a copy of inst with its NICs and security groups as
// its ports say now (Nova's view of the network info cache, which Neutron
// keeps current): floating IPs associated through the network API show,
// and a port's groups are the server's. Without a network service, or
// when it cannot answer, the record's own.
func (s *Service) liveNetwork(ctx context.Context, inst *store.Instance) *store.Instance {
	if s.net == nil || inst.Deleted {
		return inst
	}
	cp := *inst
	if err := metadata.LiveNetwork(s.db, s.net.InstanceNICs)(ctx, &cp); err != nil {
		api.Logger(ctx).Warn("read the network of a server", "instance", inst.ID, "err", err)
		return inst
	}
	return &cp
}
