package pvesim

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestServerCloseUnusedConnection: a client connection that finished its
// TLS handshake but never sent a request (Go's transport dials such
// connections and parks them) does not hold Close up. http.Server.Shutdown
// waits for a connection in StateNew until it is 5 s old; Close closes it
// at once, so the shutdown is graceful (Close returns nil instead of
// cutting connections at its deadline) and the client sees its connection
// closed. A keep-alive connection that did serve a request is idle and
// closed as well.
func TestServerCloseUnusedConnection(t *testing.T) {
	s, err := New(baseInventory(), WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := s.StartTLS()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srv.CertPEM)
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}

	// A used keep-alive connection, idle now.
	tr := &http.Transport{TLSClientConfig: cfg}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get(srv.URL + "/api2/json/version")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()

	// An unused one: the handshake is done, so the server has accepted it
	// and serves it (state new, waiting for a request).
	unused, err := tls.Dial("tcp", srv.URL[len("https://"):], cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer unused.Close()

	if err := srv.Close(); err != nil {
		t.Fatalf("Close = %v, want a graceful shutdown", err)
	}
	if n, err := unused.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("unused connection: read %d bytes, %v; want it closed", n, err)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServerLogDropsHangUps: clients that connect and hang up during the
// TLS handshake (closed, reset, or closed by Close before they sent
// anything) leave no line in the server's error log, which felhom sim
// prints on stderr; a real handshake failure still does. Close waits for
// every connection's goroutine, so the log is complete when it returns.
func TestServerLogDropsHangUps(t *testing.T) {
	s, err := New(baseInventory(), WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	var logged syncBuffer
	s.serverLog = &logged
	srv, err := s.StartTLS()
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL, "https://")

	// Connects and closes: the server reads EOF.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Connects and resets.
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).SetLinger(0)
	c.Close()
	// Connects and waits: Close closes it.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	// Sends bytes that are no TLS record: a real error, logged. The server
	// logs before it closes, so reading to EOF orders the log line.
	bad, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Write([]byte{0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, bad)
	bad.Close()

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "http: TLS handshake error from") ||
		!strings.Contains(lines[0], "first record does not look like a TLS handshake") {
		t.Fatalf("server log:\n%s\nwant only the line about the bad record", logged.String())
	}
}

func TestHangUpRE(t *testing.T) {
	for _, tc := range []struct {
		line string
		drop bool
	}{
		{"2026/11/25 18:00:00 http: TLS handshake error from 127.0.0.1:5555: EOF\n", true},
		{"2026/11/25 18:00:00 http: TLS handshake error from 127.0.0.1:5555: read tcp 127.0.0.1:8006->127.0.0.1:5555: read: connection reset by peer\n", true},
		{"2026/11/25 18:00:00 http: TLS handshake error from [::1]:5555: read tcp [::1]:8006->[::1]:5555: use of closed network connection\n", true},
		{"2026/11/25 18:00:00 http: TLS handshake error from 127.0.0.1:5555: remote error: tls: bad certificate\n", false},
		{"2026/11/25 18:00:00 http: TLS handshake error from 127.0.0.1:5555: tls: client offered only unsupported versions: []\n", false},
		{"2026/11/25 18:00:00 http: Accept error: accept tcp: too many open files; retrying in 5ms\n", false},
		{"2026/11/25 18:00:00 http: panic serving 127.0.0.1:5555: EOF\n", false},
	} {
		var out bytes.Buffer
		if _, err := (serverLog{w: &out}).Write([]byte(tc.line)); err != nil {
			t.Fatal(err)
		}
		if dropped := out.Len() == 0; dropped != tc.drop {
			t.Errorf("%q: dropped=%v, want %v", tc.line, dropped, tc.drop)
		}
	}
}
