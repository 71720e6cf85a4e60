package monitor

import (
	"sync"
	"time"
)

// passStatuses is the outcome of the last pass over each log, for the
// dashboard, which reads it while Run writes it.
type passStatuses struct {
	mu sync.Mutex
	m  map[string]passStatus
}

type passStatus struct {
	At  time.Time
	Err error
}

func (s *passStatuses) record(origin string, at time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]passStatus{}
	}
	s.m[origin] = passStatus{At: at.UTC(), Err: err}
}

func (s *passStatuses) get(origin string) (passStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[origin]
	return st, ok
}
