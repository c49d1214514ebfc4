package daemon

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/felhom/felhom/pve"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The endpoints answer from the loop's state; /metrics passes Prometheus'
// linter and carries the cycle, revision, container, drift, step and PVE
// request metrics.
func TestHTTPStatusHealthMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	inv := testInventory()
	addCT(inv, "pve1", 101)
	addCT(inv, "pve2", 201)
	e := newEnv(t, inv, pve.WithRequestObserver(m.ObserveRequest))
	files := map[string]string{"a.yaml": ctSpec("pve1", 101, "memory: 2G\n"), "b.yaml": ctSpec("pve2", 201, "memory: 2G\ndrift: report\n")}
	e.src.set(files)
	l := e.loop(Options{Metrics: m, Resync: time.Hour})
	srv := httptest.NewServer(l.Handler(reg))
	defer srv.Close()

	if code, _ := get(t, srv.URL+"/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("healthz before Run: %d", code)
	}
	if code, _ := get(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz before the first fetch: %d", code)
	}
	<-e.src.changed // Run's first cycle fetches it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, func() bool { return len(l.Status().Cycles) >= 1 })
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, srv.URL+p); code != http.StatusOK {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}

	// A broken revision shows in /status and the metrics.
	broken := maps.Clone(files)
	broken["a.yaml"] = ctSpec("pve1", 101, "memory: lots\n")
	e.src.set(broken)
	waitFor(t, func() bool { return len(l.Status().Cycles) == 2 })
	if code := post(t, srv.URL+"/containers/201/suspend"); code != http.StatusOK {
		t.Errorf("suspend: %d", code)
	}
	if code := post(t, srv.URL+"/containers/x/suspend"); code != http.StatusBadRequest {
		t.Errorf("suspend x: %d", code)
	}

	code, body := get(t, srv.URL+"/status")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
		t.Fatalf("status: %d %v", code, err)
	}
	if st.Revision != "rev1" || st.Invalid == nil || st.Invalid.Revision != "rev2" || len(st.Invalid.Errors) != 1 ||
		!strings.HasPrefix(st.Invalid.Errors[0], "a.yaml:8:") || len(st.Containers) != 2 || st.Containers[1].State != StateSuspended ||
		st.Containers[0].State != StateSynced || st.Containers[0].LastAppliedRevision != "rev1" || len(st.Cycles) != 2 || st.Cycles[0].Result != ResultInvalid {
		t.Errorf("status: %s", body)
	}

	code, body = get(t, srv.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("metrics: %d", code)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint on /metrics: %v %v", err, problems)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("GatherAndLint: %v %v", err, problems)
	}
	for _, want := range []string{
		`felhom_cycles_total{kind="resync",result="ok"} 1`,
		`felhom_cycles_total{kind="change",result="invalid"} 1`,
		`felhom_revision_info{revision="rev1"} 1`,
		`felhom_revision_invalid 1`,
		`felhom_source_fetches_total{result="success"} 2`,
		`felhom_containers{state="synced"} 1`,
		`felhom_containers{state="suspended"} 1`,
		`felhom_apply_steps_total{action="set-config",status="applied"} 2`,
		`felhom_apply_steps_total{action="snapshot",status="applied"} 2`,
		`felhom_pve_requests_total{code="200",endpoint="/cluster/resources",method="GET"} 1`,
		`felhom_container_drift_fields{name="ct201",policy="report",vmid="201"} 0`,
		`felhom_container_last_reconcile_timestamp_seconds{name="ct101",vmid="101"} 1.7956008e+09`,
		`felhom_daemon_mode_info{mode="apply"} 1`,
		`felhom_cycle_duration_seconds_count{kind="resync"} 1`,
		`felhom_pve_request_duration_seconds_count{endpoint="/nodes/{node}/lxc/{vmid}/config",method="PUT"} 2`,
	} {
		if !strings.Contains(body, want+"\n") && !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}
