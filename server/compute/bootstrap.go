package compute

import "context"

// Bootstrap creates what a new cloud starts with: the default flavors, and
// this host's services (again when the host or zone changed).
func (s *Service) Bootstrap(ctx context.Context) error {
	if err := s.bootstrapFlavors(ctx); err != nil {
		return err
	}
	return s.bootstrapServices(ctx)
}
