package api

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the API's Prometheus collectors. Every label has a bounded set of values:
// route is a registered route template (or "unmatched"), method one of the methods the API
// serves (or "OTHER"), class a status class ("2xx" … "5xx"), code a problem code.
type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	ingested   *prometheus.CounterVec
	problems   *prometheus.CounterVec
	rateLimits *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "server_audit_http_requests_total",
			Help: "HTTP requests by route template, method and status class.",
		}, []string{"route", "method", "class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "server_audit_http_request_duration_seconds",
			Help:    "HTTP request duration by route template and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "server_audit_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "server_audit_ingest_audits_total",
			Help: "Accepted uploads: stored (new audit) or replayed (idempotent retry).",
		}, []string{"outcome"}),
		problems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "server_audit_http_problems_total",
			Help: "Error responses by problem code.",
		}, []string{"code"}),
		rateLimits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "server_audit_rate_limited_total",
			Help: "Requests refused by a rate limit, by scope (ip or token).",
		}, []string{"scope"}),
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.duration, m.inFlight, m.ingested, m.problems, m.rateLimits,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// methodLabel bounds the method label.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}

// classLabel returns "2xx" … "5xx".
func classLabel(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}
