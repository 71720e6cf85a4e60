package witness

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the witness's counters. They exist, unregistered, even
// without a Registerer, so the code never checks for nil.
type metrics struct {
	cosigned      *prometheus.CounterVec
	equivocations *prometheus.CounterVec
	requests      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, witness string) (*metrics, error) {
	m := &metrics{
		cosigned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_witness_cosigned_total",
			Help: "Checkpoints cosigned, by log origin.",
		}, []string{"origin"}),
		equivocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_witness_equivocations_total",
			Help: "New evidence that a log signed two incompatible checkpoints, by log origin. Any increase is an alert.",
		}, []string{"origin"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_witness_add_checkpoint_requests_total",
			Help: "add-checkpoint HTTP requests, by status code.",
		}, []string{"code"}),
	}
	if reg == nil {
		return m, nil
	}
	reg = prometheus.WrapRegistererWith(prometheus.Labels{"witness": witness}, reg)
	for _, c := range []**prometheus.CounterVec{&m.cosigned, &m.equivocations, &m.requests} {
		if err := reg.Register(*c); err != nil {
			// A witness of the same name registered before (a restart in
			// the same process) keeps counting on the same counters.
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return nil, err
			}
			existing, ok := already.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, err
			}
			*c = existing
		}
	}
	return m, nil
}
