package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves the loop's HTTP endpoints:
//
//	GET  /healthz                    200 while Run runs and no cycle is stuck (DefaultStuck), else 503
//	GET  /readyz                     200 once the source was fetched and PVE answered, else 503
//	GET  /status                     the Status as JSON
//	GET  /metrics                    gatherer's metrics in Prometheus' format
//	POST /reconcile                  Trigger a cycle
//	POST /containers/{vmid}/suspend  Suspend the container (and /resume)
//
// The POST endpoints have no authentication of their own: serve them on
// loopback (the default) or behind a proxy that has.
func (l *Loop) Handler(gatherer prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := l.healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := l.Status()
		switch {
		case st.LastFetch.IsZero():
			http.Error(w, "not ready: the source has not been fetched yet: "+st.FetchError, http.StatusServiceUnavailable)
		case !st.Reachable:
			http.Error(w, "not ready: PVE has not answered yet", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "ok")
		}
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(l.Status())
	})
	if gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("POST /reconcile", func(w http.ResponseWriter, r *http.Request) {
		l.Trigger()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintln(w, "cycle triggered")
	})
	for verb, past := range map[string]string{"suspend": "suspended", "resume": "resumed"} {
		mux.HandleFunc("POST /containers/{vmid}/"+verb, func(w http.ResponseWriter, r *http.Request) {
			vmid, err := strconv.Atoi(r.PathValue("vmid"))
			if err != nil || vmid < 100 {
				http.Error(w, "vmid: want a container id (100 or more)", http.StatusBadRequest)
				return
			}
			l.Suspend(vmid, verb == "suspend")
			l.log.Info("container "+past+" by a command", "vmid", vmid)
			fmt.Fprintf(w, "ct %d %s\n", vmid, past)
		})
	}
	return mux
}

// healthy is nil while Run runs and no cycle has run longer than
// DefaultStuck.
func (l *Loop) healthy() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.st.running {
		return fmt.Errorf("the loop is not running")
	}
	if t := l.st.cycleStart; !t.IsZero() && l.opts.Clock.Now().Sub(t) > DefaultStuck {
		return fmt.Errorf("a cycle has been running since %s", t.Format("2006-01-02T15:04:05Z07:00"))
	}
	return nil
}
