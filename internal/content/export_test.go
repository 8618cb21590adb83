package content

import "time"

// SetClock makes s read the time from now, as a replica with its own clock would.
func SetClock(s *Service, now func() time.Time) { s.now = now }
