package pvesim

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
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
