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
	// FailingSince is when the passes started failing, while Err is set.
	FailingSince time.Time
}

func (s *passStatuses) record(origin string, at time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]passStatus{}
	}
	st := passStatus{At: at.UTC(), Err: err}
	if err != nil {
		st.FailingSince = st.At
		if prev, ok := s.m[origin]; ok && prev.Err != nil {
			st.FailingSince = prev.FailingSince
		}
	}
	s.m[origin] = st
}

func (s *passStatuses) get(origin string) (passStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[origin]
	return st, ok
}
