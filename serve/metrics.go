package serve

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics.
type metrics struct {
	requests    *prometheus.CounterVec   // route, code
	latency     *prometheus.HistogramVec // route
	storeErrors *prometheus.CounterVec   // op
	decoded     *prometheus.CounterVec   // kind of report
	tables      *prometheus.CounterVec   // how a log's table was chosen
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ksym_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ksym_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ksym_store_errors_total", Help: "Store operations that failed (not counting not-found), by operation.",
		}, []string{"op"}),
		decoded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ksym_decoded_reports_total", Help: "Kernel reports decoded, by kind.",
		}, []string{"kind"}),
		tables: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ksym_decode_tables_total", Help: "Logs decoded, by how the table was found: build_id, release, ambiguous, none.",
		}, []string{"match"}),
	}
	reg.MustRegister(m.requests, m.latency, m.storeErrors, m.decoded, m.tables,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
