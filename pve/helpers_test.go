package pve

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testTokenID = "felhom@pve!ci"
	testSecret  = "5f0c1a7e-4b2d-4e8f-9a31-c0ffee5ec7e7"
	testAuth    = "PVEAPIToken=" + testTokenID + "=" + testSecret
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is one test's PVE: a TLS httptest server with its own mux and a
// client that trusts it, logging at debug level to logs.
type fixture struct {
	mux  *http.ServeMux
	srv  *httptest.Server
	c    *Client
	logs *syncBuffer
}

// setup starts a per-test server (no globals). Every request must carry the
// token header, or the server answers 401. When the test ends it checks that
// the secret never reached the log.
func setup(t testing.TB, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{mux: http.NewServeMux(), logs: &syncBuffer{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != testAuth {
			t.Errorf("%s %s: wrong Authorization header", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	f.c = newTestClient(t, f.srv, f.logs, opts...)
	t.Cleanup(func() {
		if strings.Contains(f.logs.String(), testSecret) {
			t.Errorf("the token secret appears in the log:\n%s", f.logs)
		}
	})
	return f
}

func newTestClient(t testing.TB, srv *httptest.Server, logs *syncBuffer, opts ...Option) *Client {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	all := append([]Option{
		WithHTTPClient(srv.Client()),
		WithLogger(logger),
		WithRetryBackoff(time.Millisecond),
		WithTaskPoll(time.Millisecond, 4*time.Millisecond),
	}, opts...)
	c, err := New(Config{URL: srv.URL, TokenID: testTokenID, TokenSecret: testSecret}, all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeData answers {"data": v}.
func writeData(t testing.TB, w http.ResponseWriter, v any) {
	t.Helper()
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if err := json.NewEncoder(w).Encode(map[string]any{"data": v}); err != nil {
		t.Error(err)
	}
}

// writeRaw answers with a hand-made status line, as pveproxy does: the
// reason phrase carries PVE's message (net/http cannot set one).
func writeRaw(t *testing.T, w http.ResponseWriter, code int, reason string, body []byte) {
	t.Helper()
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: %d\r\nConnection: close\r\nServer: pve-api-daemon/3.0\r\n\r\n", code, reason, len(body))
	buf.Write(body)
	if err := buf.Flush(); err != nil {
		t.Error(err)
	}
}

// resetConn drops the connection without an answer, with a TCP RST
// ("connection reset by peer").
func resetConn(t *testing.T, w http.ResponseWriter) {
	t.Helper()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Fatal(err)
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	raw.Close()
}

func unmarshalData(b []byte, v any) error { return json.Unmarshal(b, v) }

func mustUPID(t testing.TB, s string) UPID {
	t.Helper()
	u, err := ParseUPID(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) == "null" {
		return "[]"
	}
	return string(b)
}

func testLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
