// Package metrics owns keyless's Prometheus collectors, registered on an injected
// registry (never the global one) so tests and several servers in one process do not
// collide.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxTrackedSubjects bounds the memory used to count distinct subjects per provider.
const maxTrackedSubjects = 100_000

// Metrics implements exchange.Observer.
type Metrics struct {
	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	subjects  *prometheus.GaugeVec
	commitN   prometheus.Histogram
	commitDur prometheus.Histogram

	mu   sync.Mutex
	seen map[string]map[string]struct{}
}

// New registers keyless's collectors on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyless_decisions_total",
			Help: "Exchange and impersonation decisions by dialect, method, provider, outcome and reason.",
		}, []string{"dialect", "method", "provider", "outcome", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "keyless_decision_duration_seconds",
			Help:    "Decision latency including the audit commit.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"dialect", "method", "outcome"}),
		subjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "keyless_distinct_subjects",
			Help: "Distinct google.subject values seen per provider since start (capped); a fast-growing count signals subject churn.",
		}, []string{"provider"}),
		commitN: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "keyless_audit_commit_events",
			Help:    "Audit events per group commit (events sharing one fsync).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		commitDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "keyless_audit_commit_duration_seconds",
			Help:    "Latency of one audit group commit, fsync included.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .5},
		}),
		seen: map[string]map[string]struct{}{},
	}
	reg.MustRegister(m.decisions, m.latency, m.subjects, m.commitN, m.commitDur)
	return m
}

// Decision records one decision.
func (m *Metrics) Decision(dialect, method, provider, outcome, reason string, d time.Duration) {
	m.decisions.WithLabelValues(dialect, method, provider, outcome, reason).Inc()
	m.latency.WithLabelValues(dialect, method, outcome).Observe(d.Seconds())
}

// AuditCommit records one audit group commit (audit.WriterOptions.OnCommit).
func (m *Metrics) AuditCommit(n int, d time.Duration) {
	m.commitN.Observe(float64(n))
	m.commitDur.Observe(d.Seconds())
}

// Subject records a subject seen for provider.
func (m *Metrics) Subject(provider, subject string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := m.seen[provider]
	if set == nil {
		set = map[string]struct{}{}
		m.seen[provider] = set
	}
	if _, ok := set[subject]; ok || len(set) >= maxTrackedSubjects {
		return
	}
	set[subject] = struct{}{}
	m.subjects.WithLabelValues(provider).Set(float64(len(set)))
}

// GaugeFunc registers a gauge computed at scrape time (audit queue depth, JWKS age).
func GaugeFunc(reg prometheus.Registerer, name, help string, f func() float64) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}
