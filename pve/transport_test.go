package pve

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGetRetriedAfterReset(t *testing.T) {
	var hookCalls atomic.Int32
	f := setup(t, WithRequestHook(func(method, tmpl string) {
		if method == "GET" && tmpl == "/nodes/{node}/lxc/{vmid}/status/current" {
			hookCalls.Add(1)
		}
	}))
	var n atomic.Int32
	f.mux.HandleFunc("GET /api2/json/nodes/pve/lxc/100/status/current", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			resetConn(t, w)
			return
		}
		writeData(t, w, map[string]any{"vmid": 100, "status": "running"})
	})
	st, err := f.c.CurrentStatus(context.Background(), "pve", 100)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Running() || n.Load() != 2 {
		t.Errorf("status %+v after %d requests, want 2", st, n.Load())
	}
	if hookCalls.Load() != 2 {
		t.Errorf("hook saw %d requests, want 2 (each attempt counts)", hookCalls.Load())
	}
}

// TestMutationNotRetried: a POST whose connection broke after it was sent
// may have been executed; it is reported, never repeated.
func TestMutationNotRetried(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail func(t *testing.T, w http.ResponseWriter)
	}{
		{"reset", resetConn},
		{"503", func(t *testing.T, w http.ResponseWriter) { writeRaw(t, w, 503, "Service Unavailable", nil) }},
		{"595", func(t *testing.T, w http.ResponseWriter) {
			writeRaw(t, w, 595, "No route to host", []byte(`{"data":null}`))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			var n atomic.Int32
			f.mux.HandleFunc("POST /api2/json/nodes/pve/lxc/100/snapshot", func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				tt.fail(t, w)
			})
			_, err := f.c.CreateSnapshot(context.Background(), "pve", 100, "s1", "")
			if err == nil {
				t.Fatal("no error")
			}
			if n.Load() != 1 {
				t.Errorf("POST sent %d times, want 1", n.Load())
			}
		})
	}
}

func TestGetRetryByStatus(t *testing.T) {
	for _, tt := range []struct {
		code     int
		reason   string
		attempts int32 // until success; 1 means not retried
	}{
		{502, "Bad Gateway", 2},
		{503, "Service Unavailable", 2},
		{504, "Gateway Timeout", 2},
		{595, "Connection refused", 2},
		{596, "Connection timed out", 2},
		{599, "Internal Exception", 2},
		{500, "CT is locked (backup)", 1},
		{500, "Configuration file 'nodes/pve/lxc/100.conf' does not exist", 1},
		{403, "Permission check failed (/vms/100, VM.Audit)", 1},
		{400, "Parameter verification failed.", 1},
	} {
		t.Run(tt.reason, func(t *testing.T) {
			f := setup(t)
			var n atomic.Int32
			f.mux.HandleFunc("GET /api2/json/nodes/pve/lxc/100/config", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					writeRaw(t, w, tt.code, tt.reason, []byte(`{"data":null}`))
					return
				}
				writeData(t, w, map[string]any{"digest": "d"})
			})
			_, err := f.c.Config(context.Background(), "pve", 100, false)
			if got := n.Load(); got != tt.attempts {
				t.Errorf("%d requests, want %d", got, tt.attempts)
			}
			if (tt.attempts == 1) != (err != nil) {
				t.Errorf("err %v", err)
			}
		})
	}
}

func TestGetRetriesExhausted(t *testing.T) {
	f := setup(t)
	var n atomic.Int32
	f.mux.HandleFunc("GET /api2/json/version", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeRaw(t, w, 503, "Service Unavailable", nil)
	})
	_, err := f.c.Version(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("%v", err)
	}
	if n.Load() != DefaultRetries+1 {
		t.Errorf("%d attempts, want %d", n.Load(), DefaultRetries+1)
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	f := setup(t, WithRetryBackoff(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	f.mux.HandleFunc("GET /api2/json/version", func(w http.ResponseWriter, r *http.Request) {
		cancel()
		writeRaw(t, w, 503, "Service Unavailable", nil)
	})
	_, err := f.c.Version(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}

// TestPerRequestTimeout: a server that never answers is cut off by
// Config.Timeout, and the GET is retried before the error is reported.
func TestPerRequestTimeout(t *testing.T) {
	// Attempts are counted where the client sends them, not where the server
	// sees them: on a busy machine a 20 ms deadline can end an attempt during
	// the TLS handshake, before any handler runs.
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	count := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n.Add(1)
			return next.RoundTrip(r)
		})
	}
	c, err := New(Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret, Timeout: 20 * time.Millisecond, Retries: 1},
		WithHTTPClient(srv.Client()), WithTransportWrapper(count), WithRetryBackoff(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Version(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v, want a deadline error", err)
	}
	if n.Load() != 2 {
		t.Errorf("%d attempts, want 2", n.Load())
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// pinnedClient is a client with its own transport (not httptest's), pinned
// to srv's certificate.
func pinnedClient(t *testing.T, srv *httptest.Server, logs *syncBuffer) *Client {
	t.Helper()
	c, err := New(Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret, Fingerprint: CertFingerprint(srv.Certificate().Raw)},
		WithLogger(testLogger(logs)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// idleServer answers GET /version and POST .../snapshot and reports each
// connection the server sees closed.
func idleServer(t *testing.T, idle time.Duration) (srv *httptest.Server, closed chan struct{}, conns *atomic.Int32) {
	closed = make(chan struct{}, 64)
	conns = new(atomic.Int32)
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			w.Write([]byte(`{"data":{"version":"9.1.2","release":"9.1","repoid":"abcdef12"}}`))
		default:
			w.Write([]byte(`{"data":"UPID:pve:0000377E:19E15146:5F3C0469:vzsnapshot:100:felhom@pve!ci:"}`))
		}
	}))
	srv.Config.IdleTimeout = idle
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			conns.Add(1)
		case http.StateClosed:
			closed <- struct{}{}
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, closed, conns
}

// TestIdleConnectionClosedByServerGet: pveproxy drops idle keep-alive
// connections (after 5 s). A GET sent on a connection the server has just
// closed is re-sent on a fresh one, not reported.
func TestIdleConnectionClosedByServerGet(t *testing.T) {
	srv, closed, conns := idleServer(t, 50*time.Millisecond)
	c := pinnedClient(t, srv, &syncBuffer{})
	for i := range 3 {
		if _, err := c.Version(context.Background()); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		waitClosed(t, closed) // the server closed the idle connection
	}
	if conns.Load() < 3 {
		t.Errorf("%d connections, want one per request", conns.Load())
	}
}

// TestIdleConnectionClosedFirstByClient: a POST cannot be re-sent after its
// connection broke, so the client must never send one on a connection the
// server is about to drop: it closes idle connections first. The real
// numbers are idleConnTimeout (4 s) below pveproxy's 5 s; here the same
// ordering is scaled down (client 10 ms, server 500 ms) and the POST is sent
// after the idle connection is gone.
func TestIdleConnectionClosedFirstByClient(t *testing.T) {
	if idleConnTimeout >= pveproxyIdleTimeout {
		t.Fatalf("idleConnTimeout %v must be below pveproxy's %v", idleConnTimeout, pveproxyIdleTimeout)
	}
	srv, closed, conns := idleServer(t, 500*time.Millisecond)
	c := pinnedClient(t, srv, &syncBuffer{})
	c.http.Transport.(*http.Transport).IdleConnTimeout = 10 * time.Millisecond
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.Version(ctx); err != nil {
			t.Fatalf("round %d: GET: %v", i, err)
		}
		waitClosed(t, closed)
		if _, err := c.CreateSnapshot(ctx, "pve", 100, "s", ""); err != nil {
			t.Fatalf("round %d: POST after an idle period: %v", i, err)
		}
		waitClosed(t, closed)
	}
	if conns.Load() != 6 {
		t.Errorf("%d connections, want 6 (a fresh one after each idle period)", conns.Load())
	}
}

func waitClosed(t *testing.T, closed <-chan struct{}) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not close the idle connection")
	}
}

func TestFingerprintPinning(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":{"version":"9.1.2","release":"9.1","repoid":"abcdef12"}}`))
	}))
	defer srv.Close()
	right := CertFingerprint(srv.Certificate().Raw)
	wrong := strings.Repeat("AB:", 31) + "AB"
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr error // nil: must succeed
		anyErr  bool
	}{
		{name: "right fingerprint, PVE form", cfg: Config{Fingerprint: right}},
		{name: "right fingerprint, plain lower-case hex", cfg: Config{Fingerprint: strings.ToLower(strings.ReplaceAll(right, ":", ""))}},
		{name: "wrong fingerprint", cfg: Config{Fingerprint: wrong}, wantErr: ErrFingerprintMismatch},
		{name: "CA file", cfg: Config{CAFile: caFile}},
		{name: "system roots refuse a self-signed certificate", cfg: Config{}, anyErr: true},
		{name: "insecure", cfg: Config{Insecure: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			cfg := tt.cfg
			cfg.URL, cfg.TokenID, cfg.TokenSecret = srv.URL, testTokenID, testSecret
			cfg.Retries = 0 // default: a certificate error must not be retried anyway
			var attempts atomic.Int32
			c, err := New(cfg, WithLogger(testLogger(logs)), WithRequestHook(func(string, string) { attempts.Add(1) }))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Version(context.Background())
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("%v, want %v", err, tt.wantErr)
				}
			case tt.anyErr:
				var ce *tls.CertificateVerificationError
				if !errors.As(err, &ce) {
					t.Fatalf("%v, want a certificate verification error", err)
				}
			case err != nil:
				t.Fatal(err)
			}
			if strings.Contains(logs.String(), testSecret) {
				t.Error("secret in log")
			}
			if attempts.Load() != 1 {
				t.Errorf("%d attempts, want 1", attempts.Load())
			}
			if cfg.Insecure != strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("insecure=%v but log:\n%s", cfg.Insecure, logs)
			}
		})
	}
}

// TestConcurrencyLimit: never more than MaxConcurrency requests in flight.
func TestConcurrencyLimit(t *testing.T) {
	const limit, total = 3, 12
	var inFlight, peak atomic.Int32
	arrived := make(chan struct{}, total)
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		arrived <- struct{}{}
		<-release
		inFlight.Add(-1)
		w.Write([]byte(`{"data":[]}`))
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret, MaxConcurrency: limit}, WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for range total {
		wg.Go(func() {
			_, err := c.Nodes(context.Background())
			errs <- err
		})
	}
	// Let requests through one at a time once the limit is reached.
	for range total {
		<-arrived
		if inFlight.Load() > limit {
			t.Fatalf("%d requests in flight, limit %d", inFlight.Load(), limit)
		}
		release <- struct{}{}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if peak.Load() > limit {
		t.Errorf("peak %d requests in flight, limit %d", peak.Load(), limit)
	}
}

// TestRequestHook counts calls per endpoint template.
func TestRequestHook(t *testing.T) {
	var mu sync.Mutex
	counts := map[string]int{}
	f := setup(t, WithRequestHook(func(method, tmpl string) {
		mu.Lock()
		counts[method+" "+tmpl]++
		mu.Unlock()
	}))
	f.mux.HandleFunc("GET /api2/json/nodes/{node}/lxc/{vmid}/pending", func(w http.ResponseWriter, r *http.Request) { writeData(t, w, []any{}) })
	f.mux.HandleFunc("PUT /api2/json/nodes/{node}/lxc/{vmid}/config", func(w http.ResponseWriter, r *http.Request) { writeData(t, w, nil) })
	ctx := context.Background()
	for _, vmid := range []int{100, 101, 102} {
		if _, err := f.c.Pending(ctx, "pve", vmid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.c.SetConfig(ctx, "pve", 100, ConfigChange{Set: map[string]string{"memory": "1"}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"GET /nodes/{node}/lxc/{vmid}/pending": 3, "PUT /nodes/{node}/lxc/{vmid}/config": 1}
	if len(counts) != len(want) || counts["GET /nodes/{node}/lxc/{vmid}/pending"] != 3 || counts["PUT /nodes/{node}/lxc/{vmid}/config"] != 1 {
		t.Errorf("counts %v, want %v", counts, want)
	}
}

// TestPathEscaping: path arguments are escaped, so a name cannot reach
// another endpoint.
func TestPathEscaping(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/api2/json/nodes/pve/lxc/100/snapshot/a%2F..%2Fb" {
			t.Errorf("path %s", r.URL.EscapedPath())
		}
		writeData(t, w, "UPID:pve:0000377E:19E15146:5F3C0469:vzdelsnapshot:100:felhom@pve!ci:")
	})
	if _, err := f.c.DeleteSnapshot(context.Background(), "pve", 100, "a/../b", false); err != nil {
		t.Fatal(err)
	}
}

// TestInsecureWarnsWithoutLogger: turning verification off warns even when
// the caller passed no logger: the default logger writes warnings (and only
// warnings) to stderr, here swapped for a buffer. A client whose TLS comes
// from WithHTTPClient does not use Config's TLS settings and does not warn.
func TestInsecureWarnsWithoutLogger(t *testing.T) {
	old := defaultLogOutput
	t.Cleanup(func() { defaultLogOutput = old })

	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeData(t, w, map[string]string{"version": "9.1.2"})
	}))
	defer srv.Close()
	cfg := Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret}
	tests := []struct {
		name     string
		insecure bool
		opts     []Option
		warn     bool
	}{
		{name: "insecure, no logger", insecure: true, warn: true},
		{name: "pinned, no logger", opts: nil},
		{name: "insecure, own HTTP client", insecure: true, opts: []Option{WithHTTPClient(srv.Client())}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := &syncBuffer{}
			defaultLogOutput = buf
			cfg := cfg
			cfg.Insecure = tt.insecure
			if !tt.insecure {
				cfg.Fingerprint = CertFingerprint(srv.Certificate().Raw)
			}
			c, err := New(cfg, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Version(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			if tt.warn != strings.Contains(got, "level=WARN") || tt.warn != strings.Contains(got, "TLS certificate verification is off") {
				t.Errorf("warn=%v, default log output:\n%s", tt.warn, got)
			}
			if strings.Contains(got, "level=DEBUG") || strings.Contains(got, testSecret) {
				t.Errorf("default log output has debug lines or the secret:\n%s", got)
			}
		})
	}
}

// TestRedirectRefused: PVE never redirects an API call, so a redirect is
// refused before the client sends anything to its target: a 302 to plain
// http on the same host would otherwise carry the token in clear (Go keeps
// Authorization on a redirect to the same host name).
func TestRedirectRefused(t *testing.T) {
	var leaked atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		if strings.Contains(r.Header.Get("Authorization"), testSecret) {
			t.Errorf("the token reached %s in clear", r.Host)
		}
		w.Write([]byte(`{"data":{"version":"9.1.1","release":"9.1","repoid":"x"}}`))
	}))
	defer plain.Close()
	for _, code := range []int{http.StatusFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		f := setup(t)
		f.mux.HandleFunc("GET /api2/json/version", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, plain.URL+"/api2/json/version", code)
		})
		_, err := f.c.Version(context.Background())
		if err == nil || !strings.Contains(err.Error(), "redirect") {
			t.Errorf("%d: err %v, want the redirect refused", code, err)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Errorf("%d: error shows the secret: %v", code, err)
		}
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("%d requests followed the redirect", n)
	}
}

// TestRequestObserver: every attempt is reported once it ended, with its
// endpoint template, status (0 when no answer came) and attempt number.
func TestRequestObserver(t *testing.T) {
	var mu sync.Mutex
	var seen []RequestInfo
	f := setup(t, WithRequestObserver(func(ri RequestInfo) {
		mu.Lock()
		seen = append(seen, ri)
		mu.Unlock()
	}))
	var n atomic.Int32
	f.mux.HandleFunc("GET /api2/json/nodes/pve/lxc/100/status/current", func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			resetConn(t, w)
		case 2:
			writeRaw(t, w, 503, "Service Unavailable", nil)
		default:
			writeData(t, w, map[string]any{"vmid": 100, "status": "running"})
		}
	})
	f.mux.HandleFunc("PUT /api2/json/nodes/pve/lxc/101/config", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(t, w, 500, "CT is locked (backup)", nil)
	})
	ctx := context.Background()
	if _, err := f.c.CurrentStatus(ctx, "pve", 100); err != nil {
		t.Fatal(err)
	}
	_, perr := f.c.SetConfig(ctx, "pve", 101, ConfigChange{Set: map[string]string{"memory": "1"}})
	if !errors.Is(perr, ErrLocked) {
		t.Fatalf("SetConfig: %v, want locked", perr)
	}
	type row struct {
		Method, Endpoint string
		Status, Attempt  int
		Failed           bool
	}
	var got []row
	for _, ri := range seen {
		if ri.Duration <= 0 {
			t.Errorf("%+v: no duration", ri)
		}
		got = append(got, row{ri.Method, ri.Endpoint, ri.Status, ri.Attempt, ri.Err != nil})
	}
	const status = "/nodes/{node}/lxc/{vmid}/status/current"
	want := []row{
		{"GET", status, 0, 0, true},
		{"GET", status, 503, 1, true},
		{"GET", status, 200, 2, false},
		{"PUT", "/nodes/{node}/lxc/{vmid}/config", 500, 0, true},
	}
	if len(got) != len(want) {
		t.Fatalf("observed %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if !errors.Is(seen[3].Err, ErrLocked) {
		t.Errorf("the observer's error %v is not the call's", seen[3].Err)
	}
}

// countingTransport counts the requests it passes on.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestTransportWrapperKeepsPin: a wrapped transport sees every request and
// the pinned fingerprint still decides: the right pin connects, a wrong one
// is refused through the wrapper too.
func TestTransportWrapperKeepsPin(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":{"version":"9.1.2","release":"9.1","repoid":"abcdef12"}}`))
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name string
		pin  string
		want error
	}{
		{"right pin", CertFingerprint(srv.Certificate().Raw), nil},
		{"wrong pin", strings.Repeat("AB:", 31) + "AB", ErrFingerprintMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ct := &countingTransport{}
			c, err := New(Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret, Fingerprint: tt.pin, Retries: -1},
				WithLogger(testLogger(&syncBuffer{})),
				WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper {
					tr, ok := rt.(*http.Transport)
					if !ok || tr.TLSClientConfig == nil || tr.TLSClientConfig.VerifyConnection == nil {
						t.Errorf("wrapper got %T without the pinned TLS config", rt)
					}
					ct.next = rt
					return ct
				}))
			if err != nil {
				t.Fatal(err)
			}
			v, err := c.Version(context.Background())
			if tt.want == nil && (err != nil || v.Version != "9.1.2") {
				t.Fatalf("Version: %+v, %v", v, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Version: %v, want %v", err, tt.want)
			}
			if ct.n.Load() != 1 {
				t.Errorf("the wrapper saw %d requests, want 1", ct.n.Load())
			}
		})
	}
}

// TestNodeConcurrencyLimit: never more than NodeConcurrency requests in
// flight to one node, while another node is served at the same time.
func TestNodeConcurrencyLimit(t *testing.T) {
	const perNode, each = 2, 6
	var mu sync.Mutex
	inFlight := map[string]int{}
	arrived := make(chan string, 2*each)
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		node := strings.Split(strings.TrimPrefix(r.URL.Path, "/api2/json/nodes/"), "/")[0]
		mu.Lock()
		inFlight[node]++
		mu.Unlock()
		arrived <- node
		<-release
		mu.Lock()
		inFlight[node]--
		mu.Unlock()
		w.Write([]byte(`{"data":[]}`))
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret, MaxConcurrency: 5, NodeConcurrency: perNode}, WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for range each {
		for _, node := range []string{"a", "b"} {
			wg.Go(func() {
				_, err := c.Storages(context.Background(), node)
				errs <- err
			})
		}
	}
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		for node, n := range inFlight {
			if n > perNode {
				t.Fatalf("%d requests in flight to node %s, limit %d", n, node, perNode)
			}
		}
	}
	// The first 2*perNode (under the total of 5) arrive with none released:
	// both nodes are served at once, each up to its bound.
	got := map[string]int{}
	for range 2 * perNode {
		got[<-arrived]++
	}
	check()
	if got["a"] != perNode || got["b"] != perNode {
		t.Fatalf("first arrivals %v, want %d per node", got, perNode)
	}
	for range 2*each - 2*perNode {
		release <- struct{}{}
		<-arrived
		check()
	}
	for range 2 * perNode {
		release <- struct{}{}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
