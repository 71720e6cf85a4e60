package personalities

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrOverQuota: the signing agency submitted more than its quota allows;
// retry later. RESOURCE_EXHAUSTED, as DESIGN.md asks.
var ErrOverQuota = errors.New("over quota")

// Quota limits how many statements one agency may submit, across all logs:
// a token bucket of Burst statements, refilled at PerSecond. It keeps one
// agency's runaway script from taking the admission capacity of all the
// others. The statements a log writes itself (guarantee releases) are not
// counted. The zero Quota sets no limit.
type Quota struct {
	PerSecond float64
	// Burst is how many may come at once; default PerSecond rounded up.
	Burst int
}

// Default quotas, which `govlog serve` and `govlog dev` apply unless their
// config says otherwise: an agency's statements, across all logs; and
// statements no agency signs (ballots, a recipient's feedback, a citizen's
// grant), per client address. Far above what one agency's clerks or one
// citizen need, far below what takes a server's admission capacity.
var (
	DefaultAgencyQuota  = Quota{PerSecond: 500, Burst: 1000}
	DefaultAddressQuota = Quota{PerSecond: 50, Burst: 100}
)

// quotas holds one token bucket per agency, created at its first
// statement. Agencies are the registry's, so the map is bounded by it.
type quotas struct {
	// noun names what a bucket is for, in errors ("agency").
	noun     string
	q        Quota
	mu       sync.Mutex
	buckets  map[string]*rate.Limiter
	disabled bool
}

func newQuotas(noun string, q Quota) *quotas {
	if q.PerSecond <= 0 {
		return &quotas{disabled: true}
	}
	if q.Burst <= 0 {
		q.Burst = max(1, int(q.PerSecond+0.999))
	}
	return &quotas{noun: noun, q: q, buckets: map[string]*rate.Limiter{}}
}

// take spends one of agency's tokens at now, or says when to retry. The
// returned refund gives the token back: for a statement that turns out to
// be a duplicate, which costs the log nothing (anyone may resubmit an
// agency's public entries, and that must not use up its quota).
func (qs *quotas) take(agency string, now time.Time) (refund func(), err error) {
	if qs.disabled {
		return func() {}, nil
	}
	qs.mu.Lock()
	b, ok := qs.buckets[agency]
	if !ok {
		b = rate.NewLimiter(rate.Limit(qs.q.PerSecond), qs.q.Burst)
		qs.buckets[agency] = b
	}
	qs.mu.Unlock()
	if r := b.ReserveN(now, 1); r.OK() && r.DelayFrom(now) == 0 {
		return func() { r.CancelAt(now) }, nil
	} else if r.OK() {
		r.CancelAt(now) // not now: give the reservation back
	}
	wait := time.Duration(float64(time.Second) / qs.q.PerSecond).Round(time.Millisecond)
	return nil, fmt.Errorf("%w: %s %s may submit %g statements a second (bursts of %d); retry in %s",
		ErrOverQuota, qs.noun, agency, qs.q.PerSecond, qs.q.Burst, wait)
}
