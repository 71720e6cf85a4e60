package approvals

import "time"

// SetNow sets the clock of Summary for a test, and returns a function that
// puts the real one back. (This file is of the package itself, so that the
// tests of package approvals_test can reach the clock.)
func SetNow(f func() time.Time) (restore func()) {
	old := now
	now = f
	return func() { now = old }
}
