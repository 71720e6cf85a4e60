package personalities

// PendingAdmissions returns how many statements wait to be taken into a
// batch by the admitter of log, so a test can line statements up in one
// batch deterministically.
func PendingAdmissions(s *Server, log string) int {
	if t := s.logs[log].admitter.term.Load(); t != nil {
		return len(t.in)
	}
	return 0
}
