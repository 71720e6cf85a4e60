package main

import (
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	logserver "github.com/govlog/govlog/log-server"
	"github.com/govlog/govlog/personalities"
)

// logMetrics are a node's own metrics, per log, on its admin listener's
// /metrics, read when scraped:
//
//	govlog_checkpoint_size{log}            entries in the latest published checkpoint
//	govlog_admitted_entries_total{log}     entries this process admitted since it started
//	govlog_search_indexed_entries{log}     entries the search index holds (0 in a process that does not admit)
//
// The search index's lag is govlog_checkpoint_size - govlog_search_indexed_entries.
// The node's gRPC calls are counted and timed beside them (see runNode's
// grpcprom.ServerMetrics).
type logMetrics struct {
	srv  *personalities.Server
	logs map[string]*logserver.Log
}

var (
	checkpointSizeDesc = prometheus.NewDesc("govlog_checkpoint_size", "Entries in the log's latest published checkpoint.", []string{"log"}, nil)
	admittedDesc       = prometheus.NewDesc("govlog_admitted_entries_total", "Entries this process admitted into the log since it started.", []string{"log"}, nil)
	indexedDesc        = prometheus.NewDesc("govlog_search_indexed_entries", "Entries of the log its search index holds (0 in a process that does not admit).", []string{"log"}, nil)
)

func (m logMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- checkpointSizeDesc
	ch <- admittedDesc
	ch <- indexedDesc
}

func (m logMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, name := range slices.Sorted(maps.Keys(m.logs)) {
		_, cp := m.logs[name].Checkpoint()
		ch <- prometheus.MustNewConstMetric(checkpointSizeDesc, prometheus.GaugeValue, float64(cp.Size), name)
		if st, ok := m.srv.Stats(name); ok {
			ch <- prometheus.MustNewConstMetric(admittedDesc, prometheus.CounterValue, float64(st.Admitted), name)
			ch <- prometheus.MustNewConstMetric(indexedDesc, prometheus.GaugeValue, float64(st.Indexed), name)
		}
	}
}
