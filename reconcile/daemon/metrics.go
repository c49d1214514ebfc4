package daemon

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/reconcile"
)

// Metrics are the daemon's Prometheus metrics. The loop keeps them up to
// date (Options.Metrics); ObserveRequest is the PVE client's request
// observer (pve.WithRequestObserver).
type Metrics struct {
	cycles        *prometheus.CounterVec
	cycleDuration *prometheus.HistogramVec
	fetches       *prometheus.CounterVec
	lastFetch     prometheus.Gauge
	revision      *prometheus.GaugeVec
	invalid       prometheus.Gauge
	mode          *prometheus.GaugeVec
	containers    *prometheus.GaugeVec
	drift         *prometheus.GaugeVec
	lastReconcile *prometheus.GaugeVec
	steps         *prometheus.CounterVec
	failures      *prometheus.CounterVec
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	backup        backupMetrics
}

// NewMetrics makes the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		cycles: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "felhom_cycles_total",
			Help: "Reconcile cycles run, by kind (resync, change, retry) and result (ok, failed, invalid, error, idle)."}, []string{"kind", "result"}),
		cycleDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "felhom_cycle_duration_seconds",
			Help: "Duration of reconcile cycles, by kind.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{"kind"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "felhom_source_fetches_total",
			Help: "Fetches of the spec source, by result (success, failure)."}, []string{"result"}),
		lastFetch: prometheus.NewGauge(prometheus.GaugeOpts{Name: "felhom_source_last_success_timestamp_seconds",
			Help: "When the spec source was last fetched successfully, in seconds since the epoch."}),
		revision: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "felhom_revision_info",
			Help: "The source revision in force (the last good one); always 1."}, []string{"revision"}),
		invalid: prometheus.NewGauge(prometheus.GaugeOpts{Name: "felhom_revision_invalid",
			Help: "1 while the source's newest revision does not validate (the last good one stays in force), else 0."}),
		mode: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "felhom_daemon_mode_info",
			Help: "The daemon's mode (apply or plan); always 1."}, []string{"mode"}),
		containers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "felhom_containers",
			Help: "Managed containers by state."}, []string{"state"}),
		drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "felhom_container_drift_fields",
			Help: "Fields changed outside felhom at the container's last plan, by drift policy (revert, report)."}, []string{"vmid", "name", "policy"}),
		lastReconcile: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "felhom_container_last_reconcile_timestamp_seconds",
			Help: "When the container last reached its desired state, in seconds since the epoch."}, []string{"vmid", "name"}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "felhom_apply_steps_total",
			Help: "Apply steps by action and status (applied, unchanged, skipped, failed)."}, []string{"action", "status"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "felhom_container_failures_total",
			Help: "Containers not reconciled in a cycle, by failure kind."}, []string{"kind"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "felhom_pve_requests_total",
			Help: "PVE API requests (each attempt), by method, endpoint path template and HTTP status code (0: no answer)."}, []string{"method", "endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "felhom_pve_request_duration_seconds",
			Help: "Duration of PVE API requests, by method and endpoint path template.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"method", "endpoint"}),
	}
	reg.MustRegister(m.cycles, m.cycleDuration, m.fetches, m.lastFetch, m.revision, m.invalid, m.mode,
		m.containers, m.drift, m.lastReconcile, m.steps, m.failures, m.requests, m.latency)
	m.backup = newBackupMetrics(reg)
	for _, s := range States {
		m.containers.WithLabelValues(string(s))
	}
	return m
}

// ObserveRequest counts one PVE request; hand it to pve.WithRequestObserver.
func (m *Metrics) ObserveRequest(ri pve.RequestInfo) {
	m.requests.WithLabelValues(ri.Method, ri.Endpoint, strconv.Itoa(ri.Status)).Inc()
	m.latency.WithLabelValues(ri.Method, ri.Endpoint).Observe(ri.Duration.Seconds())
}

func (m *Metrics) setMode(mode Mode) {
	m.mode.Reset()
	m.mode.WithLabelValues(string(mode)).Set(1)
}

func (m *Metrics) fetch(err error, now time.Time) {
	if err != nil {
		m.fetches.WithLabelValues("failure").Inc()
		return
	}
	m.fetches.WithLabelValues("success").Inc()
	m.lastFetch.Set(float64(now.UnixNano()) / 1e9)
}

func (m *Metrics) cycle(r CycleRecord) {
	m.cycles.WithLabelValues(string(r.Kind), string(r.Result)).Inc()
	m.cycleDuration.WithLabelValues(string(r.Kind)).Observe(r.Duration.Seconds())
}

func (m *Metrics) applied(res *reconcile.Result) {
	for _, c := range res.Containers {
		for _, s := range c.Steps {
			m.steps.WithLabelValues(s.Step.Action.Token(), string(s.Status)).Inc()
		}
	}
}

func (m *Metrics) failed(f reconcile.Failure) {
	if f == "" {
		f = "plan"
	}
	m.failures.WithLabelValues(string(f)).Inc()
}

// status sets the gauges from the status.
func (m *Metrics) status(st Status) {
	m.revision.Reset()
	if st.Revision != "" {
		m.revision.WithLabelValues(st.Revision).Set(1)
	}
	if st.Invalid != nil {
		m.invalid.Set(1)
	} else {
		m.invalid.Set(0)
	}
	counts := map[State]int{}
	m.drift.Reset()
	m.lastReconcile.Reset()
	for _, c := range st.Containers {
		counts[c.State]++
		id := strconv.Itoa(c.VMID)
		m.drift.WithLabelValues(id, c.Name, c.DriftPolicy).Set(float64(len(c.Drift)))
		if !c.LastReconciled.IsZero() {
			m.lastReconcile.WithLabelValues(id, c.Name).Set(float64(c.LastReconciled.UnixNano()) / 1e9)
		}
	}
	for _, s := range States {
		m.containers.WithLabelValues(string(s)).Set(float64(counts[s]))
	}
}
